import {
  create, fromBinary, fromJson, isMessage, toBinary, toJson,
  type DescMessage, type JsonValue, type MessageInitShape, type MessageShape,
} from '@bufbuild/protobuf';
import type { MessageType } from '../index.ts';

/**
 * A protobuf message (a protoc-gen-es schema, `HelloRequestSchema`) as a
 * micromesh message type. Handlers may return init shapes (plain objects):
 * they are made messages before encoding. The JSON form is the proto3 JSON
 * mapping with every field present (`alwaysEmitImplicit`), so JSON clients
 * see zeros and empty strings rather than missing keys; parsing it rejects
 * unknown fields, as Go's jsonpb does. Binary parsing keeps unknown fields
 * and writes them back.
 */
export function protoType<Desc extends DescMessage>(schema: Desc): MessageType<MessageShape<Desc>> {
  const message = (v: unknown): MessageShape<Desc> => {
    if (isMessage(v, schema)) return v;
    // create() would quietly make an empty message of anything else (a string, another message type).
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`expected ${schema.typeName}, got ${Array.isArray(v) ? 'an array' : typeof v}`);
    if (isMessage(v)) throw new Error(`expected ${schema.typeName}, got ${v.$typeName}`);
    return create(schema, v as MessageInitShape<Desc>);
  };
  return Object.freeze({
    typeName: schema.typeName,
    toBinary: (v: unknown) => toBinary(schema, message(v)),
    // A copy: bytes fields are views into the input, the transport's read buffer (a Node Buffer).
    fromBinary: (bytes: Uint8Array) => fromBinary(schema, new Uint8Array(bytes)),
    toJson: (v: unknown) => toJson(schema, message(v), { alwaysEmitImplicit: true }),
    fromJson: (json: unknown) => fromJson(schema, json as JsonValue),
  });
}
