/**
 * micromesh/proto: protobuf contracts. Message types and service
 * definitions from protoc-gen-es schemas, and what the code
 * protoc-gen-micromesh generates builds on.
 */
export { protoType } from './message-type.ts';
export { protoService } from './service.ts';
export { jsonSchemaOf } from './json-schema.ts';
export { ProtoClientBase, type ProtoClientOptions } from './client.ts';
export { PROTOBUF_CONTENT_TYPE } from '../index.ts';
