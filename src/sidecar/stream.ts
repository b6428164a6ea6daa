import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { MeshError } from '../index.ts';
import { SseWriter, closeWithError, encodeBody, errorBody, httpStatus, sendFrame, type HttpServer } from '../http/index.ts';

/**
 * A stream of JSON events to a client that watches (registry changes,
 * broker messages), over Server-Sent Events or a WebSocket alike. `send`
 * resolves once the event is written or the socket has room, so a slow
 * client slows whoever produces the events instead of growing memory.
 */
export interface EventSink {
  /** Writes one event; false once the client is gone. */
  send(value: unknown): Promise<boolean>;
  /** Reports a failure to the client and ends the stream. */
  fail(err: MeshError): void;
  /** Fires when the client goes away or the stream ends. */
  readonly closed: Promise<void>;
  /** Idempotent. */
  end(): void;
}

/** Whether a plain request asks for Server-Sent Events. */
export function wantsEvents(req: FastifyRequest): boolean {
  return req.headers.accept?.includes('text/event-stream') === true;
}

/** JSON text of an event (bytes as base64, bigints as strings). */
const json = (value: unknown): string => encodeBody(value, 'json').bytes as string;

export function sseSink(http: HttpServer, reply: FastifyReply): EventSink {
  const out = new SseWriter(reply, http.deps.clock);
  const forget = http.track({ close: () => out.end() });
  const closed = out.closed.then(forget);
  return {
    send: (value) => out.send(json(value)),
    fail: (err) => {
      void out.send(JSON.stringify(errorBody(err)), 'error').finally(() => out.end());
    },
    closed,
    end: () => out.end(),
  };
}

export function wsSink(http: HttpServer, socket: WebSocket): EventSink {
  const hwm = http.deps.config.streamHighWaterBytes;
  const forget = http.track({ close: () => socket.close(1001, 'server shutting down') });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve())).then(forget);
  // An error closes the socket; the listener keeps it from being thrown.
  socket.on('error', () => {});
  return {
    send: (value) => sendFrame(socket, json(value), false, hwm),
    // 1008 (policy): the request was wrong; 1011: the server failed.
    fail: (err) => closeWithError(socket, err, httpStatus(err) < 500 ? 1008 : 1011),
    closed,
    end: () => {
      if (socket.readyState === socket.OPEN) socket.close(1000);
    },
  };
}
