import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { CONTENT_TYPE_HEADER, MeshError, toMeshError, type Broker, type BrokerMessage, type Subscription } from '../index.ts';
import { decodeBody, formatOf, headersToMetadata, publishBody, type HttpServer } from '../http/index.ts';
import { queryParam } from './registry-routes.ts';
import { sseSink, wantsEvents, wsSink, type EventSink } from './stream.ts';

/**
 * micro sidecar's `/broker`:
 * - `POST /broker?topic=T` publishes the body as it came (bytes and content
 *   type, so subscribers in any language decode it), the allowed headers as
 *   metadata; 202 once the broker took it;
 * - `GET /broker?topic=T[&queue=Q]` with `Accept: text/event-stream`, or a
 *   WebSocket upgrade, subscribes: each message arrives as
 *   `{topic, metadata, body}`, body decoded for JSON and CBOR, else base64
 *   with `"encoding": "base64"`. Leaving unsubscribes. The next message is
 *   taken only once the last was written, so a slow reader holds back its
 *   deliveries (in a queue group, a message it could not take goes to
 *   another member).
 */

const ID = 'micromesh.sidecar';
/** Subscriptions may use NATS wildcards (`*`, `>`) and read dead letters (`$dead-letter.`). */
const SUBSCRIBE_TOPIC = /^[\w.:/*>$-]{1,256}$/;
const QUEUE = /^[\w.:-]{1,128}$/;

export function registerBrokerRoutes(http: HttpServer, broker: Broker): void {
  const publish = (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => publishBody(http, broker, queryParam(req, 'topic'), req, reply);

  const subscribe = async (open: () => EventSink, req: FastifyRequest): Promise<void> => {
    // Subscribed before the stream opens: a client that saw it open misses no message.
    let opened!: (sink: EventSink) => void;
    const sinkReady = new Promise<EventSink>((resolve) => (opened = resolve));
    let sub: Subscription;
    try {
      const { topic, queue } = subscription(req);
      sub = await broker.subscribe(topic, async (msg) => {
        // Thrown, not swallowed: the broker counts it, and a queue group redelivers elsewhere.
        if (!(await (await sinkReady).send(asEvent(msg)))) throw new MeshError('UNAVAILABLE', 'the subscriber went away', { id: ID });
      }, { queue });
    } catch (err) {
      open().fail(toMeshError(err, ID));
      return;
    }
    const sink = open();
    opened(sink);
    await sink.closed;
    await sub.unsubscribe().catch(() => {});
  };

  http.installWs((app) => {
    app.post('/broker', publish);
    app.route({
      method: 'GET',
      url: '/broker',
      handler: (req, reply) => {
        if (!wantsEvents(req)) throw new MeshError('BAD_REQUEST', 'subscribe with Accept: text/event-stream or a WebSocket upgrade; publish with POST', { id: ID });
        return subscribe(() => sseSink(http, reply), req);
      },
      wsHandler: (socket: WebSocket, req) => {
        publishFrames(http, broker, socket, req);
        void subscribe(() => wsSink(http, socket), req);
      },
    });
  });
}

/**
 * As micro's sidecar did: frames the client sends on a subscription socket
 * are published to its topic (one without wildcards), with the upgrade
 * request's Content-Type (default text/plain for text frames,
 * application/octet-stream for binary) and allowed headers as metadata.
 * One at a time: reading pauses while the broker takes a frame.
 */
function publishFrames(http: HttpServer, broker: Broker, socket: WebSocket, req: FastifyRequest): void {
  const topic = queryParam(req, 'topic');
  socket.on('message', (data, isBinary) => {
    if (topic === undefined || /[*>]/.test(topic)) {
      http.log.warn('broker-ws-publish', 'frame on a wildcard subscription dropped: it names no topic to publish to', { topic });
      return;
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const headers = headersToMetadata(req.headers, http.headerRules, req.id, req.ip);
    headers[CONTENT_TYPE_HEADER] = req.headers['content-type'] ?? (isBinary ? 'application/octet-stream' : 'text/plain');
    socket.pause();
    broker.publish(topic, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { headers })
      .catch((err: unknown) => http.log.warn('broker-ws-publish', 'publishing a frame failed', { topic, error: String(err) }))
      .finally(() => socket.resume());
  });
}

function subscription(req: FastifyRequest): { topic: string; queue: string | undefined } {
  const topic = queryParam(req, 'topic');
  const queue = queryParam(req, 'queue');
  if (topic === undefined || !SUBSCRIBE_TOPIC.test(topic)) {
    throw new MeshError('BAD_REQUEST', `?topic= must be 1 to 256 letters, digits, '.', ':', '/', '_', '-' or wildcards (*, >), got ${JSON.stringify(topic ?? '')}`, { id: ID });
  }
  if (queue !== undefined && !QUEUE.test(queue)) throw new MeshError('BAD_REQUEST', `?queue= must be 1 to 128 letters, digits, '.', ':', '_' or '-', got ${JSON.stringify(queue)}`, { id: ID });
  return { topic, queue };
}

/** A message as the subscriber reads it: the body decoded when its content type is JSON or CBOR, else base64. */
export function asEvent(msg: BrokerMessage): { topic: string; metadata: Record<string, string>; body: unknown; encoding?: 'base64' } {
  const bytes = Buffer.from(msg.body.buffer, msg.body.byteOffset, msg.body.byteLength);
  const type = msg.headers['content-type'];
  // Without a content type the bytes could be anything: never guessed at.
  if (type !== undefined && type !== '' && formatOf(type) !== undefined) {
    try {
      return { topic: msg.topic, metadata: { ...msg.headers }, body: decodeBody(bytes, type) ?? null };
    } catch {
      // Not what its content type says: passed on as bytes.
    }
  }
  return { topic: msg.topic, metadata: { ...msg.headers }, body: bytes.toString('base64'), encoding: 'base64' };
}
