import { ScalarType, type DescEnum, type DescField, type DescMessage } from '@bufbuild/protobuf';
import type { JsonSchema } from '../index.ts';

/** Well-known types whose JSON form is not an object of their fields (proto3 JSON mapping). */
const WELL_KNOWN: Record<string, JsonSchema> = {
  'google.protobuf.Timestamp': { type: 'string', format: 'date-time' },
  'google.protobuf.Duration': { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?s$' },
  'google.protobuf.FieldMask': { type: 'string' },
  'google.protobuf.Struct': { type: 'object' },
  'google.protobuf.Value': {},
  'google.protobuf.ListValue': { type: 'array' },
  'google.protobuf.Any': { type: 'object', properties: { '@type': { type: 'string' } } },
  'google.protobuf.Empty': { type: 'object' },
  'google.protobuf.BoolValue': { type: 'boolean' },
  'google.protobuf.StringValue': { type: 'string' },
  'google.protobuf.BytesValue': { type: 'string', contentEncoding: 'base64' },
  'google.protobuf.Int32Value': { type: 'integer' },
  'google.protobuf.UInt32Value': { type: 'integer' },
  'google.protobuf.Int64Value': { type: ['string', 'integer'], format: 'int64' },
  'google.protobuf.UInt64Value': { type: ['string', 'integer'], format: 'uint64' },
  'google.protobuf.FloatValue': { type: 'number' },
  'google.protobuf.DoubleValue': { type: 'number' },
};

/**
 * The JSON Schema (draft 2020-12) of a message's JSON form: what JSON and
 * CBOR callers send and get back, published with the endpoint so the
 * dashboard, the CLI and the gateway can show and build requests. Messages
 * used more than once or recursively go to `$defs`.
 */
export function jsonSchemaOf(desc: DescMessage): JsonSchema {
  const defs: Record<string, JsonSchema> = {};
  const root = messageSchema(desc, defs, new Set([desc.typeName]));
  const out: JsonSchema = { $schema: 'https://json-schema.org/draft/2020-12/schema', title: desc.typeName, ...root };
  if (Object.keys(defs).length > 0) out.$defs = defs;
  return out;
}

function messageSchema(desc: DescMessage, defs: Record<string, JsonSchema>, path: Set<string>): JsonSchema {
  const known = WELL_KNOWN[desc.typeName];
  if (known !== undefined) return { ...known };
  const properties: Record<string, JsonSchema> = {};
  for (const f of desc.fields) properties[f.jsonName] = fieldSchema(f, defs, path);
  return { type: 'object', properties, additionalProperties: false };
}

/** A nested message: inline the first time on a path, a `$ref` when it recurses. */
function messageRef(desc: DescMessage, defs: Record<string, JsonSchema>, path: Set<string>): JsonSchema {
  if (WELL_KNOWN[desc.typeName] !== undefined) return { ...WELL_KNOWN[desc.typeName] };
  if (path.has(desc.typeName)) {
    defs[desc.typeName] ??= {};
    return { $ref: `#/$defs/${desc.typeName}` };
  }
  const inner = new Set(path).add(desc.typeName);
  const s = messageSchema(desc, defs, inner);
  if (defs[desc.typeName] !== undefined) defs[desc.typeName] = s;
  return s;
}

function fieldSchema(f: DescField, defs: Record<string, JsonSchema>, path: Set<string>): JsonSchema {
  switch (f.fieldKind) {
    case 'scalar': return scalarSchema(f.scalar);
    case 'enum': return enumSchema(f.enum);
    case 'message': return messageRef(f.message, defs, path);
    case 'list': {
      const item = f.listKind === 'scalar' ? scalarSchema(f.scalar) : f.listKind === 'enum' ? enumSchema(f.enum) : messageRef(f.message, defs, path);
      return { type: 'array', items: item };
    }
    case 'map': {
      const value = f.mapKind === 'scalar' ? scalarSchema(f.scalar) : f.mapKind === 'enum' ? enumSchema(f.enum) : messageRef(f.message, defs, path);
      return { type: 'object', additionalProperties: value };
    }
  }
}

function enumSchema(e: DescEnum): JsonSchema {
  return { type: ['string', 'integer'], enum: [...e.values.map((v) => v.name), ...e.values.map((v) => v.number)] };
}

function scalarSchema(t: ScalarType): JsonSchema {
  switch (t) {
    case ScalarType.STRING: return { type: 'string' };
    case ScalarType.BOOL: return { type: 'boolean' };
    case ScalarType.BYTES: return { type: 'string', contentEncoding: 'base64' };
    case ScalarType.DOUBLE: case ScalarType.FLOAT: return { type: 'number' };
    // 64-bit integers are strings in proto3 JSON (numbers are accepted on input).
    case ScalarType.INT64: case ScalarType.SINT64: case ScalarType.SFIXED64: return { type: ['string', 'integer'], format: 'int64' };
    case ScalarType.UINT64: case ScalarType.FIXED64: return { type: ['string', 'integer'], format: 'uint64' };
    case ScalarType.UINT32: case ScalarType.FIXED32: return { type: 'integer', minimum: 0, maximum: 4294967295 };
    default: return { type: 'integer', minimum: -2147483648, maximum: 2147483647 };
  }
}
