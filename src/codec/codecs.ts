import { MeshError } from '../errors/index.ts';
import { CborCodec } from './cbor.ts';
import { JsonCodec } from './json.ts';
import type { Codec, Codecs } from './types.ts';

/** A content-type → codec table. The first codec given is the default. */
export class CodecSet implements Codecs {
  private readonly byType = new Map<string, Codec>();
  readonly defaultContentType: string;

  constructor(codecs: Codec[]) {
    if (codecs.length === 0) throw new MeshError('INVALID_CONFIG', 'codecs: at least one codec is required');
    for (const c of codecs) this.byType.set(c.contentType, c);
    this.defaultContentType = codecs[0]!.contentType;
  }

  get(contentType: string): Codec {
    const c = this.byType.get(contentType);
    if (c === undefined) {
      throw new MeshError('UNSUPPORTED_CONTENT_TYPE',
        `unsupported content type "${contentType}"; supported: ${this.list().join(', ')}`);
    }
    return c;
  }

  has(contentType: string): boolean {
    return this.byType.has(contentType);
  }

  list(): string[] {
    return [...this.byType.keys()];
  }
}

/** CBOR (default) and JSON. */
export function defaultCodecs(): CodecSet {
  return new CodecSet([new CborCodec(), new JsonCodec()]);
}
