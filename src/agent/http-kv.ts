import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MeshError, type KeyValueStore, type KvEntry } from '../index.ts';
import { parseBlocking } from './blocking.ts';
import { AGENT_ERROR_ID, checkToken, flag, param, sendJson, type AgentApi } from './http-context.ts';

/**
 * Consul's `/v1/kv` over the mesh's key/value store (service.kv): GET with
 * `recurse`, `keys` (+ `separator`), `raw`, blocking `index`/`wait` with
 * X-Consul-Index the highest ModifyIndex under the key; PUT (raw body,
 * `flags`) answering `true`; DELETE (`recurse`). A missing key is 404, as
 * in Consul. `cas`, `acquire` and `release` need a linearizable store,
 * which an eventually consistent mesh is not: they are refused (501
 * NOT_IMPLEMENTED) with the way to get them, not faked.
 */
export function registerKvRoutes(app: FastifyInstance, api: AgentApi, kv: KeyValueStore, valueMaxBytes: number): void {
  // From the raw URL: the router ignores trailing slashes, and in a key prefix (`app/`) the slash matters.
  const keyOf = (req: FastifyRequest): string => {
    const path = req.url.split('?')[0]!.replace(/^\/v1\/kv\/?/, '');
    try {
      return decodeURIComponent(path);
    } catch {
      throw new MeshError('BAD_REQUEST', 'the key is not valid percent-encoding', { id: AGENT_ERROR_ID });
    }
  };
  const refuseLinearizable = (req: FastifyRequest): void => {
    for (const p of ['cas', 'acquire', 'release']) {
      if (param(req, p) !== undefined) {
        throw new MeshError('NOT_IMPLEMENTED', `?${p} needs linearizable storage, which the mesh's eventually consistent key/value store is not; run the service on etcd (--registry etcd://...) for check-and-set and locks (docs/kv.md)`, { id: AGENT_ERROR_ID });
      }
    }
  };

  const get = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const key = keyOf(req);
    const recurse = flag(req, 'recurse');
    const keysOnly = param(req, 'keys') !== undefined;
    const q = parseBlocking({ index: param(req, 'index'), wait: param(req, 'wait') });
    const dc = param(req, 'dc');
    if (dc !== undefined && dc !== '' && dc !== api.self.datacenter) throw new MeshError('NOT_FOUND', `No path to datacenter "${dc}"`, { id: AGENT_ERROR_ID });
    const index = await waitFor(api, req, kv, key, q);
    const entries = recurse || keysOnly ? await kv.list(key) : [await kv.get(key)].filter((e): e is KvEntry => e !== undefined);
    reply.header('x-consul-index', String(index));
    if (entries.length === 0) return reply.code(404).header('x-consul-knownleader', 'true').send('');
    if (keysOnly) return sendJson(reply, keyList(entries, key, param(req, 'separator') ?? ''), index);
    if (param(req, 'raw') !== undefined && !recurse) {
      return reply.header('content-type', 'text/plain; charset=utf-8').header('x-content-type-options', 'nosniff').send(Buffer.from(entries[0]!.value));
    }
    return sendJson(reply, entries.map(entryJson), index);
  };
  app.get('/v1/kv', get);
  app.get('/v1/kv/*', get);

  app.put('/v1/kv/*', { bodyLimit: valueMaxBytes + 1 }, async (req, reply) => {
    checkToken(api, req);
    refuseLinearizable(req);
    const raw = req.body as Buffer | undefined;
    const flags = param(req, 'flags');
    if (flags !== undefined && !/^\d{1,16}$/.test(flags)) throw new MeshError('BAD_REQUEST', `flags must be an unsigned integer, got "${flags}"`, { id: AGENT_ERROR_ID });
    await kv.put(keyOf(req), raw === undefined ? new Uint8Array() : new Uint8Array(raw), { flags: flags === undefined ? 0 : Number(flags) });
    return sendJson(reply, true);
  });

  const remove = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    checkToken(api, req);
    refuseLinearizable(req);
    await kv.delete(keyOf(req), { recurse: flag(req, 'recurse') });
    return sendJson(reply, true);
  };
  app.delete('/v1/kv', remove);
  app.delete('/v1/kv/*', remove);
}

/** The prefix's index, after waiting (blocking query) until it passes `q.index`, the wait runs out, or the client leaves. */
async function waitFor(api: AgentApi, req: FastifyRequest, kv: KeyValueStore, key: string, q: { index: number; waitMs: number }): Promise<number> {
  if (q.index === 0) return kv.index(key);
  const done = new AbortController();
  const timer = api.clock.setTimeout(() => done.abort(), q.waitMs + Math.floor(api.random.next() * (q.waitMs / 16)));
  const onClose = (): void => done.abort();
  req.raw.once('close', onClose);
  const forget = api.http.track({ close: onClose });
  try {
    return await kv.waitIndex(key, q.index, { signal: done.signal });
  } finally {
    api.clock.clearTimeout(timer);
    req.raw.off('close', onClose);
    forget();
  }
}

/** Consul's KVPair: Value in base64, null when empty. */
function entryJson(e: KvEntry) {
  return {
    LockIndex: 0, Key: e.key, Flags: e.flags, Value: e.value.length === 0 ? null : Buffer.from(e.value).toString('base64'),
    CreateIndex: e.createIndex, ModifyIndex: e.modifyIndex,
  };
}

/** `?keys`: every key, or with a separator, each key up to and including the first separator after the prefix (once). */
function keyList(entries: readonly KvEntry[], prefix: string, separator: string): string[] {
  if (separator === '') return entries.map((e) => e.key);
  const out = new Set<string>();
  for (const e of entries) {
    const at = e.key.indexOf(separator, prefix.length);
    out.add(at < 0 ? e.key : e.key.slice(0, at + separator.length));
  }
  return [...out];
}

