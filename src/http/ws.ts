import type { FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { CborCodec, toMeshError, type ClientStream, type MeshError, type StreamKind } from '../index.ts';
import { parseJson } from './body.ts';
import type { CallTarget, Invoker } from './calls.ts';
import { errorBody } from './errors.ts';

/**
 * Calls over a WebSocket. Text frames carry JSON, binary frames CBOR (or
 * every frame, with the `cbor` subprotocol); answers go in the format of
 * the last frame received.
 * - client or bidi streams: each frame is a message, an empty frame ends
 *   the client's side (JSON and CBOR values are never empty; a WebSocket
 *   has no half-close), each response is a frame;
 * - server streams: the query (or else the first frame) is the request;
 * - unary endpoints: the query is the one request, or else each frame is a
 *   request, answered in order.
 * Backpressure both ways: reading pauses while a message waits for stream
 * credit, and the next response is pulled only once the socket is below the
 * high-water mark. Closing the socket cancels the call. A failure is sent
 * as `{"error": {id, code, detail, status}}`, then the socket closes (1011).
 */

const cbor = new CborCodec();


export function bridgeWebSocket(inv: Invoker, socket: WebSocket, req: FastifyRequest, target: CallTarget, kind: StreamKind | undefined, query: Record<string, unknown>): void {
  new WsBridge(inv, socket, req, target, kind, query).run();
}

class WsBridge {
  private readonly abort = new AbortController();
  private binary: boolean;
  private readonly inbox: unknown[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  /** The client sent its end-of-input frame. */
  private inputEnded = false;
  private readonly forget: () => void;
  private readonly inv: Invoker;
  private readonly socket: WebSocket;
  private readonly req: FastifyRequest;
  private readonly target: CallTarget;
  private readonly kind: StreamKind | undefined;
  private readonly query: Record<string, unknown>;

  constructor(inv: Invoker, socket: WebSocket, req: FastifyRequest, target: CallTarget, kind: StreamKind | undefined, query: Record<string, unknown>) {
    this.inv = inv;
    this.socket = socket;
    this.req = req;
    this.target = target;
    this.kind = kind;
    this.query = query;
    this.binary = socket.protocol === 'cbor';
    this.forget = inv.http.track({ close: () => socket.close(1001, 'server shutting down') });
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('close', () => this.closed());
    socket.on('error', () => this.closed());
  }

  run(): void {
    const work = this.kind === 'client' || this.kind === 'bidi' ? this.duplex()
      : this.kind === 'server' ? this.serverStream()
        : this.unary();
    work.then(() => this.socket.close(1000), (err: unknown) => this.fail(toMeshError(err, this.inv.http.deps.errorId)))
      .finally(() => this.forget());
  }

  private receive(data: RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (this.inputEnded) return; // nothing counts after the end of input
    if (bytes.length === 0) {
      this.inputEnded = true;
      this.wake?.();
      return;
    }
    try {
      this.binary = isBinary || this.socket.protocol === 'cbor';
      this.inbox.push(this.binary ? cbor.decode(bytes) : parseJson(bytes.toString('utf8')));
    } catch (err) {
      this.fail(toMeshError(err, this.inv.http.deps.errorId), 1007);
      return;
    }
    // Flow control: hold the socket while messages wait for the call to take them.
    if (this.inbox.length >= 16) this.socket.pause();
    this.wake?.();
  }

  private closed(): void {
    this.ended = true;
    this.abort.abort();
    this.wake?.();
  }

  /** The next message from the client; undefined once it closed. */
  private async next(): Promise<unknown> {
    while (this.inbox.length === 0) {
      if (this.inputEnded || this.ended || this.socket.readyState !== this.socket.OPEN) return undefined;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
    const msg = this.inbox.shift();
    if (this.inbox.length < 8 && this.socket.isPaused) this.socket.resume();
    return msg;
  }

  private async duplex(): Promise<void> {
    const stream = await this.inv.client.stream<unknown, unknown>(this.target.service, this.target.endpoint, undefined, this.inv.options(this.req, this.target, this.abort.signal, true));
    const pump = (async () => {
      for (let msg = await this.next(); msg !== undefined; msg = await this.next()) await stream.send(msg, { signal: this.abort.signal });
      stream.end();
    })();
    pump.catch(() => stream.cancel('client went away'));
    await this.drain(stream);
  }

  private async serverStream(): Promise<void> {
    const request = Object.keys(this.query).length > 0 ? this.query : await this.next();
    if (request === undefined) return;
    const stream = await this.inv.client.stream(this.target.service, this.target.endpoint, request, this.inv.options(this.req, this.target, this.abort.signal, true));
    await this.drain(stream);
  }

  /** With a query: one call, its answer, a clean close. Without: each frame is a request. */
  private async unary(): Promise<void> {
    if (Object.keys(this.query).length > 0) {
      await this.send(await this.inv.client.call(this.target.service, this.target.endpoint, this.query, this.inv.options(this.req, this.target, this.abort.signal)));
      return;
    }
    for (let msg = await this.next(); msg !== undefined; msg = await this.next()) {
      const res = await this.inv.client.call(this.target.service, this.target.endpoint, msg, this.inv.options(this.req, this.target, this.abort.signal));
      await this.send(res);
    }
  }

  /** Sends every response, pulling the next only when the socket has room. */
  private async drain(stream: ClientStream): Promise<void> {
    this.abort.signal.addEventListener('abort', () => stream.cancel('client went away'), { once: true });
    for await (const msg of stream) {
      if (this.ended) break;
      await this.send(msg);
    }
  }

  private send(value: unknown): Promise<boolean> {
    const data = this.binary ? cbor.encode(value ?? null) : JSON.stringify(value ?? null);
    return sendFrame(this.socket, data, this.binary, this.inv.http.deps.config.streamHighWaterBytes);
  }

  private fail(err: MeshError, code = 1011): void {
    closeWithError(this.socket, err, code, this.binary);
    this.closed();
  }
}

/**
 * Sends one frame. Resolves at once while the socket's buffer is below
 * `hwm` (keeping the pipe full), else once the frame is written: the caller
 * pulls its next message only then. False when the socket is gone.
 */
export function sendFrame(socket: WebSocket, data: string | Uint8Array, binary: boolean, hwm: number): Promise<boolean> {
  if (socket.readyState !== socket.OPEN) return Promise.resolve(false);
  return new Promise((resolve) => {
    socket.send(data, { binary }, (err) => resolve(err === undefined || err === null ? socket.readyState === socket.OPEN : false));
    if (socket.bufferedAmount < hwm) resolve(true);
  });
}

/** Sends `{"error": {id, code, detail, status}}` (CBOR when `binary`), then closes with `code`, the error code as reason. */
export function closeWithError(socket: WebSocket, err: MeshError, code: number, binary = false): void {
  if (socket.readyState !== socket.OPEN) return;
  const body = { error: errorBody(err) };
  socket.send(binary ? cbor.encode(body) : JSON.stringify(body));
  socket.close(code, err.code.slice(0, 120));
}
