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
  /** Other content types naming this codec (`application/x-protobuf`). */
  readonly aliases?: readonly string[];
  /**
   * How this codec carries messages that have a type (an endpoint's
   * protobuf schema): `binary` writes the type's own encoding (protobuf),
   * so a value without a type has no form in it and endpoints without types
   * can't be served in it (UNSUPPORTED_CODEC); without it the codec carries
   * the type's JSON form.
   */
  readonly binary?: boolean;
  /**
   * Codecs whose framing carries per-call state (JSON-RPC's `id`): a fresh
   * copy per call and side, so a response echoes its own request.
   */
  perCall?(endpoint: string, side: 'client' | 'server'): Codec;
}

/**
 * A message type: the schema a typed endpoint's request or response has
 * (a protobuf message, adapted by `micromesh/proto`). Library-agnostic, so
 * the core never loads a protobuf runtime itself.
 */
export interface MessageType<T = unknown> {
  /** Fully qualified name, `greeter.v1.HelloRequest`. */
  readonly typeName: string;
  /** The binary encoding (protobuf wire format) of a message or of its init shape. */
  toBinary(value: unknown): Uint8Array;
  /** Parses the binary encoding; unknown fields are kept. */
  fromBinary(bytes: Uint8Array): T;
  /** The canonical JSON form (proto3 JSON mapping) of a message or of its init shape. */
  toJson(value: unknown): unknown;
  /** Parses the JSON form. */
  fromJson(json: unknown): T;
}

/** The message types of one endpoint's two sides. */
export interface EndpointTypes {
  request: MessageType;
  response: MessageType;
}

/** The set of codecs a client or server understands. */
export interface Codecs {
  /** Content type used when the caller names none. */
  readonly defaultContentType: string;
  /** The codec for `contentType` (or an alias); throws MeshError `UNSUPPORTED_CODEC` naming the supported ones. */
  get(contentType: string): Codec;
  /** Whether `contentType` is supported. */
  has(contentType: string): boolean;
  /** Every supported content type (aliases not included). */
  list(): string[];
}
