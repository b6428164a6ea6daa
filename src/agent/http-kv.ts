import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MeshError, type KeyValueStore, type KvEntry } from '../index.ts';
import { jitteredWaitMs, parseBlocking } from './blocking.ts';
import { AGENT_ERROR_ID, checkDc, checkToken, clientGone, flag, param, sendJson, type AgentApi } from './http-context.ts';

/**
 * Consul's `/v1/kv` over the mesh's key/value store (service.kv): GET with
 * `recurse`, `keys` (+ `separator`), `raw`, blocking `index`/`wait` with
 * X-Consul-Index the highest ModifyIndex under the key; PUT (raw body,
 * `flags`) answering `true`; DELETE (`recurse`). A missing key is 404, as
 * in Consul. `cas` is passed to the store: a failed check answers `false`
 * as in Consul; the mesh store, eventually consistent, refuses it (501
 * NOT_IMPLEMENTED) with the way to get it (etcd) rather than faking it.
 * `acquire`/`release` (Consul's sessions) are refused on every store.
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
  const refuseLocks = (req: FastifyRequest): void => {
    for (const p of ['acquire', 'release']) {
      if (param(req, p) !== undefined) {
        throw new MeshError('NOT_IMPLEMENTED', `?${p} needs Consul's sessions, which micromesh does not have (on any store); for locks use etcd directly (docs/kv.md)`, { id: AGENT_ERROR_ID });
      }
    }
  };
  /** `?cas=N` as a number; a failed check answers `false`, as Consul does (an eventually consistent store refuses it: 501). */
  const casOf = (req: FastifyRequest): number | undefined => {
    const cas = param(req, 'cas');
    if (cas === undefined) return undefined;
    if (!/^\d{1,16}$/.test(cas)) throw new MeshError('BAD_REQUEST', `cas must be an unsigned integer, got "${cas}"`, { id: AGENT_ERROR_ID });
    return Number(cas);
  };
  const conflictIsFalse = async (reply: FastifyReply, write: () => Promise<unknown>): Promise<FastifyReply> => {
    try {
      await write();
    } catch (err) {
      if (err instanceof MeshError && err.code === 'CONFLICT') return sendJson(reply, false);
      throw err;
    }
    return sendJson(reply, true);
  };

  const get = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const key = keyOf(req);
    const recurse = flag(req, 'recurse');
    const keysOnly = param(req, 'keys') !== undefined;
    const q = parseBlocking({ index: param(req, 'index'), wait: param(req, 'wait') });
    checkDc(api, req);
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
    refuseLocks(req);
    const raw = req.body as Buffer | undefined;
    const flags = param(req, 'flags');
    if (flags !== undefined && !/^\d{1,16}$/.test(flags)) throw new MeshError('BAD_REQUEST', `flags must be an unsigned integer, got "${flags}"`, { id: AGENT_ERROR_ID });
    const cas = casOf(req);
    return conflictIsFalse(reply, () => kv.put(keyOf(req), raw === undefined ? new Uint8Array() : new Uint8Array(raw), { flags: flags === undefined ? 0 : Number(flags), cas }));
  });

  const remove = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    checkToken(api, req);
    refuseLocks(req);
    const cas = casOf(req);
    return conflictIsFalse(reply, () => kv.delete(keyOf(req), { recurse: flag(req, 'recurse'), cas }));
  };
  app.delete('/v1/kv', remove);
  app.delete('/v1/kv/*', remove);
}

/** The prefix's index, after waiting (blocking query) until it passes `q.index`, the wait runs out, or the client leaves. */
async function waitFor(api: AgentApi, req: FastifyRequest, kv: KeyValueStore, key: string, q: { index: number; waitMs: number }): Promise<number> {
  if (q.index === 0) return kv.index(key);
  const gone = clientGone(api, req);
  const timer = api.clock.setTimeout(gone.abort, jitteredWaitMs(q, api.random));
  try {
    return await kv.waitIndex(key, q.index, { signal: gone.signal });
  } finally {
    api.clock.clearTimeout(timer);
    gone.release();
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

