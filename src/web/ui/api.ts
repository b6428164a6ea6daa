/** The dashboard's JSON API and SSE streams, from the browser. */

export interface WireError { id?: string; code: string; detail: string; status: number }

/** An answer that is an error body (`{id, code, detail, status}`), or a transport failure as `UNAVAILABLE`. */
export class ApiError extends Error {
  readonly error: WireError;
  constructor(error: WireError) {
    super(`${error.code}: ${error.detail}`);
    this.error = error;
  }
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as Partial<WireError> & { error?: WireError };
    const e = body.error ?? body;
    if (typeof e.code === 'string') return new ApiError({ id: e.id, code: e.code, detail: e.detail ?? '', status: e.status ?? res.status });
  } catch {
    // Not our error body (a proxy's page): reported below with the status.
  }
  return new ApiError({ code: `HTTP_${res.status}`, detail: text.slice(0, 300), status: res.status });
}

async function request(path: string, init?: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError({ code: 'UNAVAILABLE', detail: `the dashboard could not be reached: ${String(err)}`, status: 503 });
  }
  if (!res.ok) throw await failure(res);
  return res;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await (await request(path, { signal, headers: { accept: 'application/json' } })).json()) as T;
}

/**
 * Requests started before the app renders (main.tsx starts the one the first
 * page needs while the rest boots); the first view takes its answer once.
 */
const early = new Map<string, Promise<unknown>>();

export function prefetch(path: string): void {
  const p = getJson(path);
  p.catch(() => {}); // Taken (and reported) by the view; unhandled until then.
  early.set(path, p);
}

export function prefetched<T>(path: string): Promise<T> | undefined {
  const p = early.get(path);
  early.delete(path);
  return p as Promise<T> | undefined;
}

export async function postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const res = await request(path, { method: 'POST', signal, headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as T;
}

export interface SseEvent { event: string; data: string }

/**
 * Reads a Server-Sent Events response with fetch (not EventSource, which
 * hides the error body of a refused request): calls `onEvent` per event
 * until the stream ends or `signal` aborts. Rejects with the server's error.
 */
export async function readSse(path: string, onEvent: (e: SseEvent) => void, signal: AbortSignal): Promise<void> {
  const res = await request(path, { signal, headers: { accept: 'text/event-stream' } });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
        }
        if (data.length > 0) onEvent({ event, data: data.join('\n') });
      }
    }
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  } finally {
    reader.releaseLock();
  }
}

// ---------------------------------------------------------------- data shapes

export interface Info { node: string; service: string; readOnly: boolean }
export interface ServiceSummary { name: string; versions: string[]; nodes: number; endpoints: number }
export type JsonSchema = Record<string, unknown>;
export interface EndpointView {
  name: string;
  stream: 'unary' | 'server' | 'client' | 'bidi';
  metadata: Record<string, string>;
  request?: JsonSchema;
  response?: JsonSchema;
  /** Set when the schemas are too large to ride in the registry: fetch them from `/api/schema`. */
  schemaRef?: string;
}
export interface NodeView { id: string; address: string; metadata: Record<string, string> }
export interface VersionView { version: string; metadata: Record<string, string>; nodes: NodeView[]; endpoints: EndpointView[] }
export interface ServiceDetail { name: string; versions: VersionView[] }
export interface TopicView { pattern: string; match?: 'pattern' | 'first-token' | 'all'; subscribers: { node: string; queue?: string; services?: string[] }[] }
export interface NodeCall<T> { service: string; version: string; node: string; address: string; result?: T; error?: WireError }
