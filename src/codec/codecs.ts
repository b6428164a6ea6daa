import { MeshError } from '../errors/index.ts';
import { CborCodec } from './cbor.ts';
import { JsonCodec } from './json.ts';
import { JsonRpcCodec } from './json-rpc.ts';
import { ProtobufCodec } from './protobuf.ts';
import type { Codec, Codecs } from './types.ts';

/** A content-type → codec table (aliases included). The first codec given is the default. */
export class CodecSet implements Codecs {
  private readonly byType = new Map<string, Codec>();
  private readonly names: string[] = [];
  readonly defaultContentType: string;

  constructor(codecs: Codec[]) {
    if (codecs.length === 0) throw new MeshError('INVALID_CONFIG', 'codecs: at least one codec is required');
    for (const c of codecs) {
      this.names.push(c.contentType);
      this.byType.set(c.contentType, c);
      for (const a of c.aliases ?? []) this.byType.set(a, c);
    }
    this.defaultContentType = codecs[0]!.contentType;
  }

  get(contentType: string): Codec {
    const c = this.byType.get(contentType);
    if (c === undefined) {
      throw new MeshError('UNSUPPORTED_CODEC', `unsupported content type "${contentType}"; supported: ${this.list().join(', ')}`);
    }
    return c;
  }

  has(contentType: string): boolean {
    return this.byType.has(contentType);
  }

  list(): string[] {
    return [...this.names];
  }
}

/** CBOR (default), JSON, protobuf (for endpoints with a message type) and JSON-RPC 2.0. */
export function defaultCodecs(): CodecSet {
  return new CodecSet([new CborCodec(), new JsonCodec(), new ProtobufCodec(), new JsonRpcCodec()]);
}
