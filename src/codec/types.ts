/**
 * A Codec turns message values into bytes and back, keyed by content type
 * (Go Micro's codec.Marshaler). The server answers in the request's content
 * type, so a JSON client gets JSON back from a service that prefers CBOR.
 */
export interface Codec {
  /** MIME type this codec speaks, e.g. `application/cbor`. */
  readonly contentType: string;
  /** Encodes a value. Throws MeshError `ENCODE_FAILED` if the value can't be represented. */
  encode(value: unknown): Uint8Array;
  /** Decodes bytes. Throws MeshError `DECODE_FAILED` on malformed input; never crashes. */
  decode(bytes: Uint8Array): unknown;
}

/** The set of codecs a client or server understands. */
export interface Codecs {
  /** Content type used when the caller names none. */
  readonly defaultContentType: string;
  /** The codec for `contentType`; throws MeshError `UNSUPPORTED_CONTENT_TYPE` naming the supported ones. */
  get(contentType: string): Codec;
  /** Whether `contentType` is supported. */
  has(contentType: string): boolean;
  /** Every supported content type. */
  list(): string[];
}
