import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Clock, TimerHandle } from '../index.ts';

/**
 * A Server-Sent Events response (text/event-stream), written by hand: the
 * format is four field names. Writes wait for the socket to drain past the
 * high-water mark, so a slow reader slows whoever produces the events
 * instead of growing memory; a comment line every `heartbeatMs` keeps idle
 * proxies from closing the connection.
 */
export class SseWriter {
  private readonly res: ServerResponse;
  private readonly clock: Clock;
  private heartbeat: TimerHandle | undefined;
  private ended = false;
  /** Fires when the client goes away or end() is called. */
  readonly closed: Promise<void>;

  constructor(reply: FastifyReply, clock: Clock, heartbeatMs = 15_000) {
    this.res = reply.raw;
    this.clock = clock;
    reply.hijack();
    // Headers fastify already set (CORS, request id) go out with ours.
    const headers: Record<string, string | number | string[]> = {};
    for (const [k, val] of Object.entries(reply.getHeaders())) if (val !== undefined) headers[k] = val as string | number | string[];
    this.res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
    this.closed = new Promise((resolve) => this.res.once('close', () => {
      this.ended = true;
      this.clock.clearTimeout(this.heartbeat);
      resolve();
    }));
    const beat = (): void => {
      if (this.ended) return;
      this.res.write(': ping\n\n');
      this.heartbeat = this.clock.setTimeout(beat, heartbeatMs);
    };
    this.heartbeat = this.clock.setTimeout(beat, heartbeatMs);
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Writes one event; resolves once the socket can take more (false if the client is gone). */
  async send(data: string, event?: string): Promise<boolean> {
    if (this.ended) return false;
    let frame = event !== undefined ? `event: ${event}\n` : '';
    for (const line of data.split('\n')) frame += `data: ${line}\n`;
    if (this.res.write(`${frame}\n`)) return true;
    await Promise.race([new Promise((r) => this.res.once('drain', r)), this.closed]);
    return !this.ended;
  }

  /** Ends the response. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.clock.clearTimeout(this.heartbeat);
    this.res.end();
  }
}
