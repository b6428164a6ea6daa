import { MeshError } from '../errors/index.ts';
import { KV_DELETE, KV_GET, KV_PUT, KV_WAIT } from '../rpc/internal.ts';
import type { HandlerContext, Server } from '../rpc/types.ts';
import type { KeyValueStore, KvEntry } from './types.ts';

/**
 * The store's operations for clients that are not members (the CLI, tools):
 * `$mesh Kv.Get|Put|Delete|Wait` on any node, answered from and written
 * through that node's store, with its durability. Entries travel as
 * `[key, value, flags, createIndex, modifyIndex]`.
 */

export type WireEntry = [string, Uint8Array, number, number, number];

export const toWireEntry = (e: KvEntry): WireEntry => [e.key, e.value, e.flags, e.createIndex, e.modifyIndex];

export function fromWireEntry(w: unknown): KvEntry {
  if (!Array.isArray(w) || w.length !== 5 || typeof w[0] !== 'string' || !(w[1] instanceof Uint8Array) || !w.slice(2).every((n) => Number.isInteger(n))) {
    throw new MeshError('PROTOCOL_ERROR', 'malformed key/value entry from the node', { id: 'micromesh.kv' });
  }
  return { key: w[0], value: new Uint8Array(w[1]), flags: w[2], createIndex: w[3], modifyIndex: w[4] };
}

export interface GetRequest { k: string; p?: boolean }
export interface GetAnswer { e: WireEntry[]; i: number }
export interface PutRequest { k: string; v: Uint8Array; f?: number; c?: number }
export interface DeleteRequest { k: string; r?: boolean; c?: number }
export interface WaitRequest { p: string; a: number }

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string') throw new MeshError('BAD_REQUEST', `${what} must be a string`, { id: 'micromesh.kv' });
  return v;
};

export function serveKv(server: Server, kv: KeyValueStore): void {
  server.handleInternal(KV_GET.handler, {
    [KV_GET.method]: async (r: GetRequest, ctx: HandlerContext): Promise<GetAnswer> => {
      const key = str(r?.k, 'k');
      const opts = { signal: ctx.signal };
      const entries = r.p === true ? await kv.list(key, opts) : [await kv.get(key, opts)].filter((e): e is KvEntry => e !== undefined);
      return { e: entries.map(toWireEntry), i: await kv.index(key, opts) };
    },
  });
  server.handleInternal(KV_PUT.handler, {
    [KV_PUT.method]: async (r: PutRequest, ctx: HandlerContext): Promise<WireEntry> => {
      if (!(r?.v instanceof Uint8Array)) throw new MeshError('BAD_REQUEST', 'v must be bytes', { id: 'micromesh.kv' });
      return toWireEntry(await kv.put(str(r.k, 'k'), new Uint8Array(r.v), { flags: r.f ?? 0, cas: r.c ?? undefined, signal: ctx.signal }));
    },
  });
  server.handleInternal(KV_DELETE.handler, {
    [KV_DELETE.method]: async (r: DeleteRequest, ctx: HandlerContext) => ({ n: await kv.delete(str(r?.k, 'k'), { recurse: r.r === true, cas: r.c ?? undefined, signal: ctx.signal }) }),
  });
  server.handleInternal(KV_WAIT.handler, {
    [KV_WAIT.method]: async (r: WaitRequest, ctx: HandlerContext) => ({ i: await kv.waitIndex(str(r?.p, 'p'), Number(r.a) || 0, { signal: ctx.signal }) }),
  });
}
