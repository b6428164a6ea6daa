import { MeshError, isMeshError } from '../errors/index.ts';
import type { Codec, EndpointTypes, MessageType } from './types.ts';

/** Which end of a call a binding serves: a server decodes requests and encodes responses, a client the reverse. */
export type Side = 'client' | 'server';

/**
 * A codec bound to one endpoint and side: what a call encodes and decodes
 * with. With message types, the codec carries typed messages: a `binary`
 * codec (protobuf) as the type's own encoding, the others as its JSON form
 * (proto3 JSON mapping), so every codec gives the same data. Resolved once
 * per route; `forCall` adds the per-call copy JSON-RPC needs.
 */
export class CodecBinding {
  private readonly shared: Codec | undefined;
  private readonly codec: Codec;
  private readonly endpoint: string;
  private readonly types: EndpointTypes | undefined;
  private readonly side: Side;

  constructor(codec: Codec, endpoint: string, types: EndpointTypes | undefined, side: Side) {
    this.codec = codec;
    this.endpoint = endpoint;
    this.types = types;
    this.side = side;
    this.shared = codec.perCall === undefined ? this.wrap(codec) : undefined;
  }

  /** Whether this codec can carry the endpoint's messages (protobuf needs types). */
  static supports(codec: Codec, types: EndpointTypes | undefined): boolean {
    return types !== undefined || codec.binary !== true;
  }

  forCall(): Codec {
    return this.shared ?? this.wrap(this.codec.perCall!(this.endpoint, this.side));
  }

  private wrap(c: Codec): Codec {
    const t = this.types;
    if (t === undefined) return c;
    return this.side === 'client' ? new TypedCodec(c, t.request, t.response) : new TypedCodec(c, t.response, t.request);
  }
}

/** Typed messages through `inner`: encodes `out` values, decodes `into` values. */
class TypedCodec implements Codec {
  readonly contentType: string;
  private readonly inner: Codec;
  private readonly out: MessageType;
  private readonly into: MessageType;

  constructor(inner: Codec, out: MessageType, into: MessageType) {
    this.contentType = inner.contentType;
    this.inner = inner;
    this.out = out;
    this.into = into;
  }

  encode(value: unknown): Uint8Array {
    const t = this.out;
    try {
      return this.inner.binary === true ? t.toBinary(value ?? {}) : this.inner.encode(t.toJson(value ?? {}));
    } catch (err) {
      throw failed(err, 'ENCODE_FAILED', `cannot encode ${t.typeName}`, 500);
    }
  }

  decode(bytes: Uint8Array): unknown {
    const t = this.into;
    try {
      if (this.inner.binary === true) return t.fromBinary(bytes);
      // An empty body is the default message, as in protobuf.
      return t.fromJson(this.inner.decode(bytes) ?? {});
    } catch (err) {
      throw failed(err, 'DECODE_FAILED', `malformed ${t.typeName}`, 400);
    }
  }
}

/** A MeshError from the inner codec passes as is; a schema library's error gets the code and the type's name. */
export function failed(err: unknown, code: 'ENCODE_FAILED' | 'DECODE_FAILED', what: string, status: number): MeshError {
  if (isMeshError(err)) return err;
  return new MeshError(code, `${what}: ${err instanceof Error ? err.message : String(err)}`, { status, cause: err });
}
