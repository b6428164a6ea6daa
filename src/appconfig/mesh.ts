/**
 * `mesh(service.kv, 'test/server')`: config kept in the mesh's key/value
 * store, Go Micro's consul source. The keys under `prefix/` form a tree
 * (`test/server/db/port` → `{ db: { port } }`); a key exactly at `prefix`
 * may hold a whole JSON or YAML document (how the consul source is usually
 * fed), which the keys under it refine.
 */
import { MeshError, type KeyValueStore } from '../index.ts';
import { isPlainObject, TreeBuilder } from './merge.ts';
import { ID, parseDocument, parseKvValue, utf8 } from './parse.ts';
import type { ConfigSource, ConfigTree, SourceWatchContext } from './types.ts';

/** What the source needs of a store: any KeyValueStore (`service.kv`, MemoryKv) has it. */
export type ConfigKv = Pick<KeyValueStore, 'name' | 'scope' | 'list' | 'watch'>;

export interface MeshSourceOptions {
  /** No key at or under the prefix reads as `{}` instead of failing. */
  optional?: boolean;
  /** What the source reads as while no key is at or under the prefix (implies optional). */
  default?: ConfigTree;
  /** Wait before watching again after the store's watch failed. Default 1000 ms. */
  rewatchMs?: number;
}

export function mesh(kv: ConfigKv, prefix: string, opts: MeshSourceOptions = {}): ConfigSource {
  if (kv === null || typeof kv !== 'object' || typeof kv.list !== 'function' || typeof kv.watch !== 'function') {
    throw new MeshError('INVALID_ARGUMENT', 'mesh(kv, prefix): kv must be a key/value store such as service.kv', { id: ID });
  }
  const root = typeof prefix === 'string' ? prefix.replace(/\/+$/, '') : '';
  if (root.length === 0) throw new MeshError('INVALID_ARGUMENT', 'mesh(kv, prefix): prefix must be a non-empty key such as "test/server"', { id: ID });
  if (opts.default !== undefined && !isPlainObject(opts.default)) {
    throw new MeshError('INVALID_ARGUMENT', `mesh(kv, ${JSON.stringify(root)}): default must be a plain object of settings`, { id: ID });
  }
  const name = `mesh ${root}`;
  const under = root + '/';
  const mine = (key: string) => key === root || key.startsWith(under);

  return {
    name,
    async load(signal) {
      const entries = (await kv.list(root, { signal })).filter((e) => mine(e.key));
      const out = new TreeBuilder();
      if (entries.length === 0) {
        if (opts.default !== undefined) out.merge(opts.default, () => `mesh default for ${root}`);
        else if (opts.optional !== true) {
          throw new MeshError('NOT_FOUND', `mesh config ${root}: no such key in the key/value store of ${kv.scope}, at or under ${root}/; ` +
            `write one with \`micromesh kv put ${root}/<setting> <value>\`, or pass { optional: true } or { default }`, { id: ID });
        }
        return out.snapshot();
      }
      // Sorted by key: the document at `root` first, then shallower keys before the deeper ones that refine them.
      for (const e of [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
        const origin = `mesh key ${e.key}`;
        const text = utf8(e.value);
        if (e.key === root) {
          out.merge(parseDocument(text, `mesh key ${root}`, 'yaml'), () => origin);
          continue;
        }
        const path = e.key.slice(under.length).split('/');
        // `a/b/` with nothing in it is a Consul folder marker, not a setting.
        if (path.some((s) => s.length === 0)) continue;
        out.set(path, parseKvValue(text), origin);
      }
      return out.snapshot();
    },

    watch(ctx) {
      void follow(kv, root, mine, ctx, opts.rewatchMs ?? 1000);
    },
  };
}

/** Signals every change at or under `root` until the config closes; a failed watch is reported and re-opened. */
async function follow(kv: ConfigKv, root: string, mine: (key: string) => boolean, ctx: SourceWatchContext, rewatchMs: number): Promise<void> {
  while (!ctx.signal.aborted) {
    try {
      const watcher = kv.watch(root, { signal: ctx.signal });
      const stop = () => watcher.stop();
      ctx.signal.addEventListener('abort', stop, { once: true });
      try {
        for await (const ev of watcher) if (mine(ev.type === 'put' ? ev.entry.key : ev.key)) ctx.changed();
      } finally {
        ctx.signal.removeEventListener('abort', stop);
      }
      if (ctx.signal.aborted) return;
      ctx.logger.warn('mesh config watch ended; watching again', { prefix: root });
    } catch (err) {
      if (ctx.signal.aborted) return;
      ctx.error(new MeshError('UNAVAILABLE', `mesh config ${root}: watching the key/value store failed: ${(err as Error).message}`, { id: ID, cause: err }));
    }
    try {
      await ctx.clock.sleep(rewatchMs, ctx.signal);
    } catch {
      return;
    }
    // Changes while no watch was open are caught by reloading once.
    ctx.changed();
  }
}
