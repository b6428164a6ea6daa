import { MeshError, type Clock } from '../index.ts';

/**
 * One HTTP request to the app (calls, health checks, the describe
 * document) through the global fetch (undici), bounded three ways: a
 * deadline on the injected Clock, the caller's signal, and a body limit.
 * Every failure becomes a typed error: a misbehaving app is the app's
 * problem, never the sidecar's.
 */

export interface AppRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Give up after this long: TIMEOUT. */
  timeoutMs: number;
  /** The caller's signal (a call's cancel or deadline, a start being aborted). */
  signal?: AbortSignal;
  /** Largest response body read; larger is PAYLOAD_TOO_LARGE. 0: the body is not wanted (read and dropped). */
  limitBytes: number;
  /** What this request is, for error details: `app "shop" Foo.Bar`. */
  what: string;
  /** `id` of the errors raised here. */
  errorId: string;
}

export interface AppResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

export async function exchange(req: AppRequest, clock: Clock): Promise<AppResponse> {
  const ctl = new AbortController();
  let timedOut = false;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, req.timeoutMs);
  const onAbort = (): void => ctl.abort();
  req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (req.signal?.aborted) throw req.signal.reason;
    const res = await fetch(req.url, {
      method: req.method, headers: req.headers, body: req.body, signal: ctl.signal, redirect: 'manual',
    });
    const body = await readBody(res, req);
    return { status: res.status, contentType: res.headers.get('content-type') ?? undefined, body };
  } catch (err) {
    if (err instanceof MeshError && err.code === 'PAYLOAD_TOO_LARGE') throw err;
    if (timedOut) throw new MeshError('TIMEOUT', `${req.what}: no answer within ${req.timeoutMs} ms`, { id: req.errorId });
    if (req.signal?.aborted) throw aborted(req.signal.reason, req.errorId);
    throw new MeshError('UNAVAILABLE', `${req.what} failed: ${networkCause(err)}`, { id: req.errorId, cause: err });
  } finally {
    clock.clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
  }
}

/** Bytes of an unwanted body (limitBytes 0) read and dropped, so the connection can be reused; more closes it. */
const DISCARD_BYTES = 65536;

/** Reads the body up to the limit, refusing early when Content-Length already says it is too large. */
async function readBody(res: Response, req: AppRequest): Promise<Buffer> {
  if (res.body === null) return Buffer.alloc(0);
  const discard = req.limitBytes === 0;
  const limit = discard ? DISCARD_BYTES : req.limitBytes;
  const tooLarge = (): MeshError => new MeshError('PAYLOAD_TOO_LARGE', `${req.what}: response body exceeds ${limit} bytes (bodyLimitBytes)`, { id: req.errorId });
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await res.body.cancel().catch(() => {});
    if (discard) return Buffer.alloc(0);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early cancels the stream, which closes the connection.
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > limit) {
      if (discard) break;
      throw tooLarge();
    }
    if (!discard) chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The signal's reason when it is a typed error (the server's TIMEOUT or CANCELLED), else CANCELLED. */
function aborted(reason: unknown, id: string): MeshError {
  if (reason instanceof MeshError) return reason;
  return new MeshError('CANCELLED', 'aborted before the app answered', { id, cause: reason });
}

/** `connection refused (ECONNREFUSED)` rather than undici's `fetch failed`. */
function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown; errors?: { code?: unknown }[] } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : typeof cause?.errors?.[0]?.code === 'string' ? cause.errors[0].code : undefined;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused', ECONNRESET: 'connection reset', EHOSTUNREACH: 'host unreachable',
    ENOTFOUND: 'host not found', UND_ERR_SOCKET: 'connection closed', UND_ERR_CLOSED: 'connection closed',
  };
  if (code !== undefined) return `${words[code] ?? 'network error'} (${code})`;
  const message = typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err);
  return message;
}
