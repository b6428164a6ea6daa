import { toMeshError, type MeshError } from '../errors/index.ts';
import type { Registry } from '../registry/types.ts';
import type { Client } from '../rpc/types.ts';

/** One node's answer to `callNodes`: its result, or the error it (or the call) ended with. */
export interface NodeAnswer<T = unknown> {
  service: string;
  version: string;
  node: string;
  address: string;
  result?: T;
  error?: MeshError;
}

export interface CallNodesOptions {
  /** Each node's call gives up after this long, ms. Default 2000. */
  timeoutMs?: number;
  /** Calls in flight at once. Default 16. */
  concurrency?: number;
  request?: unknown;
  signal?: AbortSignal;
}

/**
 * Calls `endpoint` on every node of the named services, pinned by address
 * (no retries, no load balancing): what `micromesh health`, the dashboard's
 * stats and the bot's `health`/`stats` do with `Debug.Health` and
 * `Debug.Stats`. A node that fails is an answer with its error, in order.
 */
export async function callNodes<T = unknown>(client: Client, registry: Registry, services: readonly string[], endpoint: string,
  opts: CallNodesOptions = {}): Promise<NodeAnswer<T>[]> {
  const targets: NodeAnswer<T>[] = [];
  for (const name of services) {
    for (const s of await registry.getService(name, { signal: opts.signal })) {
      for (const n of s.nodes) targets.push({ service: s.name, version: s.version, node: n.id, address: n.address });
    }
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const t = targets[next++]!;
      try {
        t.result = await client.call<T>(t.service, endpoint, opts.request ?? {}, { address: t.address, timeoutMs: opts.timeoutMs ?? 2000, retries: 0, signal: opts.signal });
      } catch (err) {
        t.error = toMeshError(err, 'micromesh.client');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, targets.length) }, worker));
  return targets;
}
