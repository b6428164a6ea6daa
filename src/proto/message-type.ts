import {
  ScalarType, create, fromBinary, fromJson, isMessage, toBinary, toJson,
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
  const bytesIn = hasBytes(schema, new Set());
  return Object.freeze({
    typeName: schema.typeName,
    toBinary: (v: unknown) => toBinary(schema, message(v)),
    fromBinary: bytesIn ? (bytes: Uint8Array) => fromBinary(schema, copy(bytes)) : (bytes: Uint8Array) => fromBinary(schema, bytes),
    toJson: (v: unknown) => toJson(schema, message(v), { alwaysEmitImplicit: true }),
    fromJson: (json: unknown) => fromJson(schema, json as JsonValue),
  });
}

/**
 * A plain Uint8Array copy, for types with bytes fields: those are views into
 * the input, which is the transport's read buffer (a Node Buffer), and would
 * keep all of it alive. Types without any skip it (an allocation over 64
 * bytes costs about as much as decoding a small message).
 */
function copy(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

/** Whether a message, or one it contains, has a bytes field. */
function hasBytes(desc: DescMessage, seen: Set<string>): boolean {
  if (seen.has(desc.typeName)) return false;
  seen.add(desc.typeName);
  for (const f of desc.fields) {
    if ((f.fieldKind === 'scalar' || (f.fieldKind === 'list' && f.listKind === 'scalar') || (f.fieldKind === 'map' && f.mapKind === 'scalar')) && f.scalar === ScalarType.BYTES) return true;
    const inner = f.fieldKind === 'message' ? f.message : (f.fieldKind === 'list' && f.listKind === 'message') || (f.fieldKind === 'map' && f.mapKind === 'message') ? f.message : undefined;
    if (inner !== undefined && hasBytes(inner, seen)) return true;
  }
  return false;
}
