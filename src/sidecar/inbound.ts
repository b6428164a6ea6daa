import { MeshError, type Clock, type EndpointSchemas, type HandlerContext, type Metadata } from '../index.ts';
import { decodeBody, encodeBody, formatOf, metadataToHeaders, type HeaderRules } from '../http/index.ts';
import { appPath } from './config.ts';
import type { AppEndpoint } from './describe.ts';
import { exchange } from './exchange.ts';

/**
 * Mesh calls in, HTTP out: a call to the app's service `Foo.Bar` becomes
 * `POST http://APP/Foo/Bar` (the path template), JSON both ways, the call's
 * metadata as headers, its remaining deadline as `Timeout`, its signal
 * aborting the request. The app's answer comes back as the call's result,
 * or as an error with a stable code.
 */

export interface ForwardOptions {
  /** The app's service name. */
  app: string;
  appAddress: string;
  pathTemplate: string;
  /** Which metadata keys travel as plain headers, and the prefix of the rest. */
  headers: HeaderRules;
  /** Largest response body read from the app, bytes. */
  bodyLimitBytes: number;
  /** Deadline of a request when the caller set none, ms. */
  callTimeoutMs: number;
  clock: Clock;
}

export type Forward = (endpoint: string, request: unknown, ctx: HandlerContext) => Promise<unknown>;

/** How much of an error body becomes the error's detail, characters. */
const DETAIL_CHARS = 512;

export function forwarder(o: ForwardOptions): Forward {
  return async (endpoint, request, ctx) => {
    const what = `app "${o.app}" ${endpoint}`;
    const remaining = ctx.deadline === undefined ? o.callTimeoutMs : Math.max(1, Math.ceil(ctx.deadline - o.clock.now()));
    const body = encodeBody(request, 'json');
    const res = await exchange({
      method: 'POST',
      url: `http://${o.appAddress}${appPath(o.pathTemplate, o.app, endpoint)}`,
      headers: {
        ...metadataToHeaders(ctx.metadata, o.headers),
        'content-type': body.contentType,
        accept: 'application/json',
        timeout: `${remaining}ms`,
      },
      body: body.bytes,
      timeoutMs: remaining,
      signal: ctx.signal,
      limitBytes: o.bodyLimitBytes,
      what,
      errorId: o.app,
    }, o.clock);
    if (res.status >= 200 && res.status < 300) return decodeAnswer(res.body, res.contentType, what, o.app);
    throw appError(res.status, res.body, what, o.app);
  };
}

/** A 2xx body: JSON (whatever the app says its type is) or CBOR; empty is null. */
function decodeAnswer(body: Buffer, contentType: string | undefined, what: string, id: string): unknown {
  if (body.length === 0) return null;
  try {
    return decodeBody(body, formatOf(contentType) === 'cbor' ? contentType : 'application/json');
  } catch (err) {
    throw new MeshError('PROTOCOL_ERROR', `${what} answered with ${(err as MeshError).detail}`, { id });
  }
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED',
  408: 'TIMEOUT', 409: 'CONFLICT', 413: 'PAYLOAD_TOO_LARGE', 429: 'TOO_MANY_REQUESTS', 503: 'UNAVAILABLE', 504: 'TIMEOUT',
};

/**
 * The error of a non-2xx answer: the app's own `{id, code, detail, status}`
 * as is, else a code from the status (other 4xx BAD_REQUEST, other 5xx
 * INTERNAL, anything else PROTOCOL_ERROR) with the body as its detail.
 */
export function appError(status: number, body: Buffer, what: string, id: string): MeshError {
  const text = body.toString('utf8');
  const own = wireError(text);
  if (own !== undefined) return new MeshError(own.code, own.detail, { id: own.id ?? id, status: own.status ?? status });
  const code = CODE_BY_STATUS[status] ?? (status >= 400 && status < 500 ? 'BAD_REQUEST' : status >= 500 && status < 600 ? 'INTERNAL' : 'PROTOCOL_ERROR');
  const trimmed = text.trim();
  const detail = trimmed === '' ? `${what} answered HTTP ${status}`
    : trimmed.length > DETAIL_CHARS ? `${trimmed.slice(0, DETAIL_CHARS)}… (${trimmed.length} characters)` : trimmed;
  return new MeshError(code, detail, { id, status: code === 'PROTOCOL_ERROR' ? undefined : status });
}

function wireError(text: string): { id?: string; code: string; detail: string; status?: number } | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof v?.code !== 'string' || !/^[A-Za-z][\w.-]{0,63}$/.test(v.code) || typeof v.detail !== 'string') return undefined;
  const status = typeof v.status === 'number' && Number.isInteger(v.status) && v.status >= 400 && v.status <= 599 ? v.status : undefined;
  return { id: typeof v.id === 'string' ? v.id : undefined, code: v.code, detail: v.detail.slice(0, 4 * DETAIL_CHARS), status };
}

/** A handler's methods (one per endpoint, all forwarded), their registry metadata and schemas, for `service.handle`. */
export interface AppHandler {
  methods: object;
  metadata: Record<string, Metadata>;
  schemas: Record<string, EndpointSchemas>;
}

/** Groups endpoints by handler name: `Foo.Bar`, `Foo.Baz` → handler `Foo` with methods Bar and Baz. */
export function appHandlers(endpoints: readonly AppEndpoint[], forward: Forward): Map<string, AppHandler> {
  const out = new Map<string, AppHandler>();
  for (const e of endpoints) {
    const [handler, method] = e.name.split('.') as [string, string];
    let h = out.get(handler);
    // No prototype: a method named like an Object.prototype member is still just a method.
    if (h === undefined) {
      out.set(handler, (h = {
        methods: Object.create(null) as object,
        metadata: Object.create(null) as Record<string, Metadata>,
        schemas: Object.create(null) as Record<string, EndpointSchemas>,
      }));
    }
    Object.defineProperty(h.methods, method, {
      value: (request: unknown, ctx: HandlerContext) => forward(e.name, request, ctx), enumerable: true,
    });
    h.metadata[method] = { ...e.metadata };
    if (e.schemas !== undefined) h.schemas[method] = e.schemas;
  }
  return out;
}
