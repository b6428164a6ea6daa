import { Encoder } from 'cbor-x';
import { MeshError } from '../errors/index.ts';
import type { Codec } from './types.ts';

/**
 * CBOR through cbor-x (RFC 8949), the default codec: compact, binary-safe and
 * about as fast as JSON here. Record extensions are off, so every message is
 * self-contained standard CBOR that any CBOR library can read.
 */
export class CborCodec implements Codec {
  readonly contentType = 'application/cbor';
  private readonly cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

  encode(value: unknown): Uint8Array {
    try {
      return this.cbor.encode(value);
    } catch (err) {
      throw new MeshError('ENCODE_FAILED', `cannot encode value as CBOR: ${(err as Error).message}`, { status: 500, cause: err });
    }
  }

  decode(bytes: Uint8Array): unknown {
    if (bytes.length === 0) return undefined;
    try {
      return this.cbor.decode(bytes);
    } catch (err) {
      throw new MeshError('DECODE_FAILED', `malformed CBOR: ${(err as Error).message}`, { status: 400, cause: err });
    }
  }
}
