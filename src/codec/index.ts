export type { Codec, Codecs, EndpointTypes, MessageType } from './types.ts';
export { CborCodec } from './cbor.ts';
export { JsonCodec } from './json.ts';
export { ProtobufCodec, PROTOBUF_CONTENT_TYPE } from './protobuf.ts';
export { JsonRpcCodec, JSON_RPC_CONTENT_TYPE } from './json-rpc.ts';
export { CodecSet, defaultCodecs } from './codecs.ts';
export { CodecBinding, type Side } from './bind.ts';
