import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONTENT_TYPE_HEADER, MeshError, type Broker } from '../index.ts';
import { headersToMetadata } from './metadata.ts';
import type { HttpServer } from './server.ts';

/** Topics HTTP may publish to. */
const TOPIC = /^[\w.:/-]{1,256}$/;

/**
 * Publishes a request's body through the broker as it came (bytes and
 * content type untouched, so subscribers in any language decode it), the
 * allowed headers as message metadata, and answers 202 `{topic}` once the
 * broker took it. micro api's event handler and the sidecar's `/broker`.
 */
export async function publishBody(http: HttpServer, broker: Broker, topic: string | undefined, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (topic === undefined || !TOPIC.test(topic)) {
    throw new MeshError('BAD_REQUEST', `topic must be 1 to 256 letters, digits, '.', ':', '/', '_' or '-', got ${JSON.stringify(topic ?? '')}`, { id: http.deps.errorId });
  }
  const body = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
  const headers = headersToMetadata(req.headers, http.headerRules, req.id, req.ip);
  headers[CONTENT_TYPE_HEADER] = req.headers['content-type'] ?? 'application/octet-stream';
  await broker.publish(topic, new Uint8Array(body.buffer, body.byteOffset, body.byteLength), { headers });
  return reply.code(202).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ topic }));
}

/** micro api's event handler: `POST <path>/<topic>` publishes the body (publishBody). */
export function registerEvents(http: HttpServer, broker: Broker, path: string): void {
  const base = path.replace(/\/+$/, '');
  http.install((app) => app.post(`${base}/*`, (req, reply) => {
    const topic = decodeURIComponent((req.params as { '*': string })['*']).replace(/\/+$/, '');
    return publishBody(http, broker, topic, req, reply);
  }));
}
