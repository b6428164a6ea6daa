import { Encoder } from 'cbor-x';
import { MeshError } from '../errors/index.ts';
import type { Codec } from './types.ts';

/** cbor-x's decode takes an end offset as well; its typings leave it out. */
interface DecodeUpTo {
  decode(bytes: Uint8Array, end: number): unknown;
}

/** Messages up to this size are decoded from a reused scratch buffer (see `decode`). */
const SCRATCH_BYTES = 8 * 1024;

/**
 * CBOR through cbor-x (RFC 8949), the default codec: compact, binary-safe and
 * about as fast as JSON here. Record extensions are off, so every message is
 * self-contained standard CBOR that any CBOR library can read.
 */
export class CborCodec implements Codec {
  readonly contentType = 'application/cbor';
  private readonly cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
  /** Decodes the scratch copies; copies byte strings out, since the scratch is overwritten by the next message. */
  private readonly copying: DecodeUpTo = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, copyBuffers: true });
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

  encode(value: unknown): Uint8Array {
    try {
      return this.cbor.encode(value);
    } catch (err) {
      throw new MeshError('ENCODE_FAILED', `cannot encode value as CBOR: ${(err as Error).message}`, { status: 500, cause: err });
    }
  }

  /**
   * cbor-x builds a DataView for every source buffer and stores it on that
   * buffer, which costs more than decoding a small message. Messages arrive as
   * fresh views of a read chunk, so a small one is copied into a scratch
   * buffer that keeps its DataView; `end` bounds the read, and an over-read
   * fails as truncated input like it would on the original bytes.
   */
  decode(bytes: Uint8Array): unknown {
    const n = bytes.length;
    if (n === 0) return undefined;
    try {
      if (n > SCRATCH_BYTES) return this.cbor.decode(bytes);
      this.scratch.set(bytes, 0);
      return this.copying.decode(this.scratch, n);
    } catch (err) {
      throw new MeshError('DECODE_FAILED', `malformed CBOR: ${(err as Error).message}`, { status: 400, cause: err });
    }
  }
}
