import { MeshError, STREAM_METADATA, type Clock, type EndpointSchemas, type Logger, type Metadata } from '../index.ts';
import { parseJson } from '../http/index.ts';
import { ENDPOINT_NAME } from './config.ts';
import { exchange } from './exchange.ts';
import { DESCRIBE_PATH } from './names.ts';

/**
 * The app's self-description, `GET /.well-known/micromesh`:
 *
 *   {"endpoints": [{"name": "Foo.Bar", "metadata": {"http": "POST /foo"}, "request": {"type": "object", ...}}, {"name": "Foo.Baz"}]}
 *
 * Names are `Handler.Method`; metadata (optional, string values) is
 * published with the endpoint, e.g. routes for the API gateway; `request`
 * and `response` (optional) are JSON Schemas: the sidecar validates requests
 * before forwarding them, and both are published. Asked again until the app
 * answers, since it may start after its sidecar.
 */

export interface AppEndpoint {
  name: string;
  metadata: Metadata;
  /** JSON Schemas the app declared; absent when none. */
  schemas?: EndpointSchemas;
}

/** Largest describe document read, bytes. */
const DESCRIBE_LIMIT_BYTES = 1 << 20;
/** Each attempt waits this long for an answer, ms. */
const ATTEMPT_TIMEOUT_MS = 2000;
/** Pauses between attempts grow from the first to the last, ms. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;

export interface DescribeOptions {
  app: string;
  appAddress: string;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * Asks the app for its endpoints until it answers. An answer that is not a
 * description (404, malformed) fails at once: retrying would not fix it.
 */
export async function describeApp(o: DescribeOptions): Promise<AppEndpoint[]> {
  const what = `app "${o.app}" ${DESCRIBE_PATH}`;
  const url = `http://${o.appAddress}${DESCRIBE_PATH}`;
  let delay = RETRY_MIN_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await exchange({
        method: 'GET', url, headers: { accept: 'application/json' }, timeoutMs: ATTEMPT_TIMEOUT_MS, signal: o.signal,
        limitBytes: DESCRIBE_LIMIT_BYTES, what, errorId: 'micromesh.sidecar',
      }, o.clock);
      if (res.status >= 200 && res.status < 300) return parseDescription(res.body.toString('utf8'), what);
      if (res.status < 500) {
        throw new MeshError('NOT_FOUND', `${what} answered HTTP ${res.status}; serve the description there or give the endpoints (--endpoints)`, { id: 'micromesh.sidecar' });
      }
      if (attempt === 1 || attempt % 10 === 0) o.logger.warn('waiting for the app to describe itself', { status: res.status, attempt });
    } catch (err) {
      // Not up yet (refused, or not answering): retried. Anything else is final.
      if (!(err instanceof MeshError) || !(err.code === 'UNAVAILABLE' || err.code === 'TIMEOUT')) throw err;
      if (attempt === 1 || attempt % 10 === 0) o.logger.warn('waiting for the app to describe itself', { error: err.detail, attempt });
    }
    await o.clock.sleep(delay, o.signal);
    delay = Math.min(RETRY_MAX_MS, delay * 2);
  }
}

/** Validates a describe document; PROTOCOL_ERROR naming what is wrong. */
export function parseDescription(text: string, what = 'describe document'): AppEndpoint[] {
  const bad = (detail: string): MeshError => new MeshError('PROTOCOL_ERROR', `${what}: ${detail}`, { id: 'micromesh.sidecar' });
  let doc: unknown;
  try {
    doc = parseJson(text);
  } catch (err) {
    throw bad((err as MeshError).detail);
  }
  const list = (doc as { endpoints?: unknown } | null)?.endpoints;
  if (!Array.isArray(list) || list.length === 0) throw bad('expected {"endpoints": [{"name": "Handler.Method", "metadata": {...}}, ...]} with at least one endpoint');
  const out = new Map<string, AppEndpoint>();
  for (const e of list as { name?: unknown; metadata?: unknown; request?: unknown; response?: unknown }[]) {
    const name = e?.name;
    if (typeof name !== 'string' || !ENDPOINT_NAME.test(name)) throw bad(`endpoint name must be Handler.Method (not Debug.*), got ${JSON.stringify(name)}`);
    const metadata: Metadata = {};
    if (e.metadata !== undefined) {
      if (e.metadata === null || typeof e.metadata !== 'object' || Array.isArray(e.metadata)) throw bad(`${name}: metadata must be an object of strings`);
      for (const [k, val] of Object.entries(e.metadata)) {
        if (typeof val !== 'string') throw bad(`${name}: metadata.${k} must be a string`);
        // The sidecar forwards unary calls only: a stream flag would send streams it cannot carry.
        if (k !== STREAM_METADATA) metadata[k] = val;
      }
    }
    const schemas: EndpointSchemas = {};
    for (const side of ['request', 'response'] as const) {
      const s = e[side];
      if (s === undefined) continue;
      if (s === null || typeof s !== 'object' || Array.isArray(s)) throw bad(`${name}: ${side} must be a JSON Schema object`);
      schemas[side] = s as Record<string, unknown>;
    }
    out.set(name, schemas.request || schemas.response ? { name, metadata, schemas } : { name, metadata });
  }
  return [...out.values()];
}
