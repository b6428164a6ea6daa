import { MeshError, type ServiceClient } from '../index.ts';
import { JSON_TYPE, decodeBody, parseJson, rpcBody, type Invoker } from '../http/index.ts';

/**
 * What the dashboard changes, left out in read-only mode: calls (`/rpc`,
 * micro web's call form endpoint), server streams as Server-Sent Events
 * (`/api/stream`, stopped by closing it), and publishing (`/api/publish`).
 */

export interface ActionsOptions {
  invoker: Invoker;
  client: ServiceClient;
  exposes: (service: string, endpoint: string) => boolean;
}

const TOPIC = /^[\w.:/$-]{1,256}$/;

export function registerActions(o: ActionsOptions): void {
  const http = o.invoker.http;
  const id = http.deps.errorId;
  const check = (service: string, endpoint: string): void => {
    if (!o.exposes(service, endpoint)) throw new MeshError('NOT_FOUND', `${service} ${endpoint} is not exposed`, { id });
  };
  http.install((app) => {
    app.post('/rpc', (req, reply) => {
      const { target, request } = rpcBody(req, id);
      check(target.service, target.endpoint);
      return o.invoker.unary(req, reply, target, request);
    });
    app.get('/api/stream', (req, reply) => {
      const q = req.query as { service?: string; endpoint?: string; request?: string; address?: string };
      if (typeof q.service !== 'string' || q.service === '') throw new MeshError('BAD_REQUEST', '"service" is required', { id });
      if (typeof q.endpoint !== 'string' || !/^[\w-]+\.[\w-]+$/.test(q.endpoint)) throw new MeshError('BAD_REQUEST', '"endpoint" is required, as Handler.Method', { id });
      check(q.service, q.endpoint);
      const request = q.request === undefined || q.request.trim() === '' ? {} : parseJson(q.request);
      return o.invoker.sse(req, reply, { service: q.service, endpoint: q.endpoint, address: q.address }, request);
    });
    app.post('/api/publish', async (req, reply) => {
      const body = decodeBody(req.body as Buffer | undefined, req.headers['content-type']) as { topic?: unknown; message?: unknown } | null;
      const topic = body?.topic;
      if (typeof topic !== 'string' || !TOPIC.test(topic)) {
        throw new MeshError('BAD_REQUEST', `topic must be 1 to 256 letters, digits, '.', ':', '/', '_', '$' or '-', got ${JSON.stringify(topic ?? '')}`, { id });
      }
      // JSON, so subscribers in any language can read what the dashboard sent.
      await o.client.publish(topic, body?.message ?? null, { contentType: JSON_TYPE });
      return reply.code(202).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ topic }));
    });
  });
}
