import type { FastifyReply, FastifyRequest } from 'fastify';
import { toMeshError, type CallOptions, type Client, type ClientStream, type Filter } from '../index.ts';
import { CBOR_TYPE, JSON_TYPE, encodeBody, responseFormat } from './body.ts';
import { errorBody } from './errors.ts';
import { headersToMetadata, requestTimeoutMs } from './metadata.ts';
import type { HttpServer } from './server.ts';
import { SseWriter } from './sse.ts';

/** What an HTTP request resolved to. */
export interface CallTarget {
  service: string;
  endpoint: string;
  filters?: Filter[] | undefined;
  /** Pins one node, `host:port` (micro's `/rpc` `address`). */
  address?: string | undefined;
}

/**
 * Turns HTTP requests into calls through the public Client: the deadline
 * from the `Timeout` header, metadata from the allowed headers, the call
 * cancelled when the client goes away, the answer in the request's format.
 */
export class Invoker {
  readonly http: HttpServer;
  readonly client: Client;
  private readonly gone = new WeakMap<object, AbortSignal>();

  constructor(http: HttpServer, client: Client) {
    this.http = http;
    this.client = client;
  }

  /** Call options of a request; `stream` calls get a deadline only when the request asks for one. */
  options(req: FastifyRequest, target: CallTarget, signal: AbortSignal, stream = false): CallOptions {
    const c = this.http.deps.config;
    const asked = requestTimeoutMs(req.headers, c.maxCallTimeoutMs);
    return {
      timeoutMs: asked ?? (stream ? undefined : c.callTimeoutMs),
      metadata: headersToMetadata(req.headers, this.http.headerRules, req.id, req.ip),
      select: target.filters === undefined ? undefined : { filters: target.filters },
      address: target.address,
      signal,
    };
  }

  /** A unary call answered as one HTTP response. */
  async unary(req: FastifyRequest, reply: FastifyReply, target: CallTarget, request: unknown): Promise<FastifyReply> {
    const signal = this.connectionSignal(req);
    const format = responseFormat(req.headers['content-type'], req.headers.accept);
    try {
      // The call travels in the answer's format: a JSON answer then holds only JSON values and is re-encoded as is.
      const opts = this.options(req, target, signal);
      opts.contentType = format === 'json' ? JSON_TYPE : CBOR_TYPE;
      const res = await this.client.call(target.service, target.endpoint, request, opts);
      const body = encodeBody(res, format, true);
      return reply.code(200).header('content-type', body.contentType).send(body.bytes);
    } catch (err) {
      return this.http.sendError(reply, toMeshError(err, this.http.deps.errorId), req);
    }
  }

  /**
   * Fires when the client's connection closes: a call still in flight for it
   * is cancelled. One per connection, not per request (keep-alive
   * connections carry thousands), and HTTP/1.1 answers a connection's
   * requests in order, so whatever is in flight on it is the client's.
   */
  private connectionSignal(req: FastifyRequest): AbortSignal {
    const socket = req.raw.socket;
    let signal = this.gone.get(socket);
    if (signal === undefined) {
      const ctl = new AbortController();
      socket.once('close', () => ctl.abort());
      this.gone.set(socket, (signal = ctl.signal));
    }
    return signal;
  }

  /**
   * A server stream as Server-Sent Events: one `data:` event per message
   * (JSON), then `event: end`, or `event: error` with the error body. The
   * next message is pulled only after the last was written out, so the
   * stream's flow control reaches back to the handler.
   */
  async sse(req: FastifyRequest, reply: FastifyReply, target: CallTarget, request: unknown): Promise<void> {
    let stream: ClientStream;
    try {
      stream = await this.client.stream(target.service, target.endpoint, request, this.options(req, target, this.connectionSignal(req), true));
    } catch (err) {
      this.http.sendError(reply, toMeshError(err, this.http.deps.errorId), req);
      return;
    }
    const out = new SseWriter(reply, this.http.deps.clock);
    const forget = this.http.track({ close: () => out.end() });
    void out.closed.then(() => stream.cancel('client went away'));
    try {
      for await (const msg of stream) {
        if (!(await out.send(encodeBody(msg, 'json').bytes as string))) break;
      }
      await out.send('{}', 'end');
    } catch (err) {
      await out.send(JSON.stringify(errorBody(toMeshError(err, this.http.deps.errorId))), 'error');
    } finally {
      forget();
      out.end();
    }
  }
}
