import { MeshError } from '../errors/index.ts';
import type { Codec } from './types.ts';

/** JSON (UTF-8), for curl, browsers and other languages. `undefined` travels as an empty body. */
export class JsonCodec implements Codec {
  readonly contentType = 'application/json';
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  encode(value: unknown): Uint8Array {
    if (value === undefined) return new Uint8Array(0);
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw new MeshError('ENCODE_FAILED', `cannot encode value as JSON: ${(err as Error).message}`, { status: 500, cause: err });
    }
    // A function or a symbol has no JSON form (stringify gives undefined): refuse rather than send nothing.
    if (text === undefined) throw new MeshError('ENCODE_FAILED', `cannot encode a ${typeof value} as JSON`, { status: 500 });
    return this.encoder.encode(text);
  }

  decode(bytes: Uint8Array): unknown {
    if (bytes.length === 0) return undefined;
    try {
      return JSON.parse(this.decoder.decode(bytes));
    } catch (err) {
      throw new MeshError('DECODE_FAILED', `malformed JSON: ${(err as Error).message}`, { status: 400, cause: err });
    }
  }
}
