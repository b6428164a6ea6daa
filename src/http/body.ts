import { CborCodec, MeshError } from '../index.ts';
import { jsonErrorOffset, lineColumn } from './json-error.ts';

/**
 * Request bodies in, response bodies out. JSON (the default, and every
 * `+json` type) or CBOR (`application/cbor`), answered in kind; a body in
 * any other type is refused with 415 rather than guessed at.
 */

export const JSON_TYPE = 'application/json';
export const CBOR_TYPE = 'application/cbor';

export type Format = 'json' | 'cbor';

const cbor = new CborCodec();
const id = 'micromesh.http';

/** The format of a Content-Type (parameters ignored); undefined when it is neither JSON nor CBOR. */
export function formatOf(contentType: string | undefined): Format | undefined {
  if (contentType === undefined || contentType === '') return 'json';
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  if (base === CBOR_TYPE) return 'cbor';
  if (base === JSON_TYPE || base.endsWith('+json') || base === 'application/json-rpc' || base === 'text/json') return 'json';
  return undefined;
}

/** The response format a request wants: its body's, or CBOR when it accepts only that. */
export function responseFormat(contentType: string | undefined, accept: string | undefined): Format {
  if (formatOf(contentType) === 'cbor') return 'cbor';
  return accept !== undefined && accept.includes(CBOR_TYPE) && !accept.includes('json') ? 'cbor' : 'json';
}

/** Parses a JSON body; a syntax error is BAD_REQUEST naming the offset, line and column. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const at = jsonErrorOffset(text);
    const near = JSON.stringify(text.slice(Math.max(0, at - 10), at + 10));
    throw new MeshError('BAD_REQUEST', `malformed JSON at position ${at} (${lineColumn(text, at)}) near ${near}`, { id });
  }
}

/** Decodes a request body (a Buffer from the body parser); an empty body is undefined. */
export function decodeBody(body: Buffer | undefined, contentType: string | undefined): unknown {
  if (body === undefined || body.length === 0) return undefined;
  const format = formatOf(contentType);
  if (format === undefined) {
    throw new MeshError('UNSUPPORTED_CONTENT_TYPE', `content type "${contentType}" is not supported here; send ${JSON_TYPE} or ${CBOR_TYPE}`, { id });
  }
  if (format === 'cbor') {
    try {
      return cbor.decode(body);
    } catch (err) {
      throw new MeshError('BAD_REQUEST', `malformed CBOR body: ${(err as Error).message}`, { id });
    }
  }
  return parseJson(body.toString('utf8'));
}

/**
 * Encodes a response value in `format`; `undefined` becomes JSON `null` (an
 * HTTP body must say something). `jsonOnly`: the value holds nothing JSON
 * lacks (it was decoded from JSON), so no replacer runs.
 */
export function encodeBody(value: unknown, format: Format, jsonOnly = false): { bytes: Buffer | string; contentType: string } {
  if (format === 'cbor') {
    const b = cbor.encode(value ?? null);
    return { bytes: Buffer.from(b.buffer, b.byteOffset, b.byteLength), contentType: CBOR_TYPE };
  }
  let text: string | undefined;
  try {
    text = jsonOnly ? JSON.stringify(value ?? null) : JSON.stringify(value ?? null, jsonSafe);
  } catch (err) {
    throw new MeshError('ENCODE_FAILED', `response cannot be encoded as JSON: ${(err as Error).message}`, { id });
  }
  return { bytes: text ?? 'null', contentType: `${JSON_TYPE}; charset=utf-8` };
}

/** JSON.stringify's replacer for values CBOR carries that JSON does not: bytes as base64, bigints as strings, Maps as objects. */
export function jsonSafe(this: Record<string, unknown>, key: string, v: unknown): unknown {
  const raw = this[key]; // before toJSON: a Buffer would otherwise arrive as {type, data}
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Map) return Object.fromEntries(v);
  return v;
}

/** Merges path parameters and the query into a request (body wins over the query, path parameters over both). */
export function mergeRequest(body: unknown, query: Record<string, unknown> | undefined, params: Record<string, string> | undefined): unknown {
  const hasQuery = query !== undefined && Object.keys(query).length > 0;
  const hasParams = params !== undefined && Object.keys(params).length > 0;
  if (body === undefined) return hasQuery || hasParams ? { ...query, ...params } : {};
  if (!hasParams && !hasQuery) return body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    if (hasParams) throw new MeshError('BAD_REQUEST', 'a route with path parameters needs an object body (the parameters are merged into it)', { id });
    return body;
  }
  return { ...query, ...(body as object), ...params };
}

/** The subprotocol answered: `cbor` or `json` when offered, else the first offered (a proxied app's own). */
export function chooseProtocol(offered: Set<string>): string | false {
  if (offered.has('cbor')) return 'cbor';
  if (offered.has('json')) return 'json';
  const [first] = offered;
  return first ?? false;
}
