import type { FastifyReply } from 'fastify';
import { CONTENT_TYPE_HEADER, MeshError, type Broker, type BrokerMessage, type Codecs } from '../index.ts';
import { SseWriter, jsonSafe, type HttpServer } from '../http/index.ts';
import type { MeshModel } from './model.ts';

/**
 * The dashboard's live streams, as Server-Sent Events: `/api/live` (the
 * mesh snapshot, then batches of member changes, log lines and registry
 * bumps) and `/api/tail?topic=` (messages of a topic pattern as they are
 * published). Both write through SseWriter, so a reader that stops reading
 * is dropped rather than buffered without bound.
 */

export interface LiveOptions {
  http: HttpServer;
  model: MeshModel;
  broker: Broker;
  codecs: Codecs;
  /** Messages of a tail waiting to be written before the tail drops them (a slow browser). */
  tailBacklog: number;
  /** Bytes of a message body shown in the tail; longer ones are cut with a note. */
  tailBodyBytes: number;
}

/** Topic patterns a tail may name (the broker's own grammar checks the rest). */
const PATTERN = /^[\w.:/$*>-]{1,256}$/;

export function registerLive(o: LiveOptions): void {
  o.http.install((app) => {
    app.get('/api/live', async (_req, reply) => {
      const out = new SseWriter(reply, o.http.deps.clock);
      const forget = o.http.track({ close: () => out.end() });
      // Batches that arrive while a write waits for the socket queue up here; a reader that falls far behind starts over.
      const queue: string[] = [];
      let writing = false;
      const write = async (): Promise<void> => {
        if (writing) return;
        writing = true;
        while (queue.length > 0 && !out.isClosed) await out.send(queue.shift()!, 'batch');
        writing = false;
      };
      const unsubscribe = o.model.subscribe((batch) => {
        if (queue.length >= 1000) {
          out.end();
          return;
        }
        queue.push(JSON.stringify(batch));
        void write();
      });
      void out.closed.then(() => {
        unsubscribe();
        forget();
      });
      await out.send(JSON.stringify(o.model.snapshot()), 'snapshot');
      void write();
    });

    app.get('/api/tail', async (req, reply) => {
      const topic = (req.query as { topic?: string }).topic;
      if (typeof topic !== 'string' || !PATTERN.test(topic)) {
        throw new MeshError('BAD_REQUEST', `topic must be a topic or pattern (letters, digits, . : / - _ $ and the wildcards * >), got ${JSON.stringify(topic ?? '')}`, { id: o.http.deps.errorId });
      }
      await tail(o, reply, topic);
    });
  });
}

async function tail(o: LiveOptions, reply: FastifyReply, topic: string): Promise<void> {
  const stopped = new AbortController();
  // Subscribe first: a bad pattern is answered as an error, not as an empty stream.
  const pending: BrokerMessage[] = [];
  let dropped = 0;
  let wake: (() => void) | undefined;
  const sub = await o.broker.subscribe(topic, (m) => {
    if (pending.length >= o.tailBacklog) dropped++;
    else pending.push(m);
    wake?.();
  }, { signal: stopped.signal });
  const out = new SseWriter(reply, o.http.deps.clock);
  const forget = o.http.track({ close: () => out.end() });
  void out.closed.then(() => {
    stopped.abort();
    wake?.();
  });
  try {
    await out.send(JSON.stringify({ topic }), 'subscribed');
    while (!out.isClosed) {
      if (pending.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      if (dropped > 0) {
        await out.send(JSON.stringify({ dropped }), 'dropped');
        dropped = 0;
      }
      await out.send(JSON.stringify(show(o, pending.shift()!), jsonSafe), 'message');
    }
  } finally {
    forget();
    await sub.unsubscribe();
  }
}

/** A message as the tail shows it: decoded when its content type is one the service speaks, else its size and a hex prefix. */
function show(o: LiveOptions, m: BrokerMessage): unknown {
  const type = m.headers[CONTENT_TYPE_HEADER] ?? 'application/octet-stream';
  const base = { id: m.id, topic: m.topic, at: o.http.deps.clock.wallTime(), contentType: type, bytes: m.body.length, headers: m.headers };
  if (m.body.length > o.tailBodyBytes) return { ...base, note: `body of ${m.body.length} bytes not shown (over ${o.tailBodyBytes})` };
  const codecType = type.split(';')[0]!.trim();
  if (o.codecs.has(codecType)) {
    try {
      return { ...base, body: o.codecs.get(codecType).decode(m.body) };
    } catch {
      return { ...base, note: `undecodable ${codecType} body` };
    }
  }
  if (codecType.startsWith('text/')) return { ...base, body: new TextDecoder().decode(m.body) };
  return { ...base, hex: Buffer.from(m.body.subarray(0, 64)).toString('hex') };
}

