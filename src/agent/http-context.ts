import type { FastifyReply, FastifyRequest } from 'fastify';
import { MeshError, type Clock, type Random } from '../index.ts';
import type { HttpServer } from '../http/index.ts';
import { parseBlocking, type Blocking } from './blocking.ts';
import { scopeIndex } from './catalog.ts';
import type { LocalServices } from './local.ts';
import type { CatalogSnapshot } from './types.ts';

/** What the agent's routes share. */
export interface AgentApi {
  http: HttpServer;
  blocking: Blocking;
  current: () => CatalogSnapshot;
  /** The catalog must be rebuilt now (after a write), before the answer. */
  refresh: () => Promise<void>;
  local: LocalServices;
  /** This agent's node (a mesh member id) and its Consul names. */
  self: { id: string; nodeName: string; address: string; gossip: string; datacenter: string; version: string };
  /** Live members for /v1/agent/members and /v1/status/peers. */
  members: () => { id: string; name: string; host: string; port: number; state: 'alive' | 'suspect' | 'dead' | 'left' }[];
  /** Writes need this token when set. */
  token: string | undefined;
  clock: Clock;
  random: Random;
}

export const AGENT_ERROR_ID = 'micromesh.agent';

export type Query = Record<string, string | string[] | undefined>;

/** A query parameter's last value (Consul takes one), or undefined. */
export function param(req: FastifyRequest, name: string): string | undefined {
  const v = (req.query as Query)[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** Every value of a repeatable parameter (`tag`). */
export function params(req: FastifyRequest, name: string): string[] {
  const v = (req.query as Query)[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Consul's boolean flags: present with no value, or any value but `false`/`0`. */
export function flag(req: FastifyRequest, name: string): boolean {
  const v = param(req, name);
  return v !== undefined && v !== 'false' && v !== '0';
}

/** `dc` other than ours: Consul answers 500 "No path to datacenter"; the mesh knows one. */
export function checkDc(api: AgentApi, req: FastifyRequest): void {
  const dc = param(req, 'dc');
  if (dc !== undefined && dc !== '' && dc !== api.self.datacenter) {
    throw new MeshError('NOT_FOUND', `No path to datacenter "${dc}" (this mesh is "${api.self.datacenter}")`, { id: AGENT_ERROR_ID });
  }
}

/**
 * Answers a blocking endpoint: waits on `scope` past the client's index
 * (the request's close ends the wait), then sends `body(snap)` as JSON with
 * X-Consul-Index and the headers Consul's clients parse.
 */
export async function blockingAnswer(api: AgentApi, req: FastifyRequest, reply: FastifyReply, scope: string, body: (snap: CatalogSnapshot) => unknown): Promise<FastifyReply> {
  checkDc(api, req);
  const q = parseBlocking({ index: param(req, 'index'), wait: param(req, 'wait') });
  const gone = clientGone(api, req);
  try {
    const snap = await api.blocking.wait(scope, q, gone.signal);
    return sendJson(reply, body(snap), scopeIndex(snap, scope));
  } finally {
    gone.release();
  }
}

/**
 * What ends a blocking wait besides its own timer: the client leaving, or
 * the server stopping (blocked requests then answer at once). `abort()`
 * ends it too; `release()` when the wait is over.
 */
export function clientGone(api: AgentApi, req: FastifyRequest): { signal: AbortSignal; abort(): void; release(): void } {
  const c = new AbortController();
  const abort = (): void => c.abort();
  req.raw.once('close', abort);
  const forget = api.http.track({ close: abort });
  return {
    signal: c.signal,
    abort,
    release: () => {
      forget();
      req.raw.off('close', abort);
    },
  };
}

export function sendJson(reply: FastifyReply, body: unknown, index?: number): FastifyReply {
  if (index !== undefined) reply.header('x-consul-index', String(Math.max(1, index)));
  return reply.header('x-consul-knownleader', 'true').header('x-consul-lastcontact', '0')
    .header('content-type', 'application/json').send(JSON.stringify(body ?? null));
}

/** Writes need the ACL token when one is set: `X-Consul-Token`, `Authorization: Bearer`, or `?token=`. */
export function checkToken(api: AgentApi, req: FastifyRequest): void {
  if (api.token === undefined) return;
  const auth = req.headers.authorization;
  const given = (req.headers['x-consul-token'] as string | undefined)
    ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined) ?? param(req, 'token');
  if (given === undefined || given === '') throw new MeshError('FORBIDDEN', 'Permission denied: this agent needs an ACL token for writes (X-Consul-Token)', { id: AGENT_ERROR_ID });
  if (!timingSafeEqual(given, api.token)) throw new MeshError('FORBIDDEN', 'ACL not found', { id: AGENT_ERROR_ID });
}

/** Compares without an early exit, so the token cannot be guessed byte by byte from timings. */
function timingSafeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i % Math.max(1, x.length)] ?? 0) ^ (y[i % Math.max(1, y.length)] ?? 0);
  return diff === 0;
}
