import type { Command } from 'commander';
import { MeshError } from '../../../src/errors/index.ts';
import type { DebugStats, NodeAnswer } from '../../../src/index.ts';
import type { Cli } from '../context.ts';
import { parseDuration } from '../options.ts';
import { print } from '../print.ts';

interface Row {
  node: string;
  address: string;
  version: string;
  /** Wall-clock start, ISO. */
  started?: string;
  uptimeS?: number;
  rssBytes?: number;
  served?: number;
  callsPerS?: number;
  errors?: Record<string, number>;
  p50Ms?: number;
  p99Ms?: number;
  error?: string;
}

const ms = (v: number | undefined): string => (v === undefined ? '-' : v < 10 ? `${v.toFixed(2)}ms` : `${v.toFixed(0)}ms`);

/**
 * `micromesh stats SERVICE` (Go Micro's `micro stats`): `Debug.Stats` of
 * every node, asked twice `--interval` apart so calls per second are the
 * calls served in between. Exit code 1 when a node did not answer.
 */
export function register(program: Command, cli: Cli): void {
  program.command('stats').description('per node of SERVICE: started, uptime, memory, calls/s, errors by code, recent p50/p99').argument('<service>')
    .option('--interval <duration>', 'time between the two samples calls/s is computed from', parseDuration, 1000)
    .action((name: string, o: { interval: number }) => cli.withMesh(async ({ view, service: svc }) => {
      const { callNodes } = await import('../../../src/mesh/nodes.ts');
      const sample = (): Promise<NodeAnswer<DebugStats>[]> => callNodes<DebugStats>(svc.client, view.registry, [name], 'Debug.Stats', { timeoutMs: 2000 });
      const first = await sample();
      if (first.length === 0) throw new MeshError('SERVICE_NOT_FOUND', `no service "${name}" in the mesh`);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, o.interval));
      const second = await sample();
      const seconds = (Date.now() - t0) / 1000;
      const before = new Map(first.map((a) => [a.node, a.result]));
      const now = Date.now();
      const rows: Row[] = second.map((a): Row => {
        const base = { node: a.node, address: a.address, version: a.version };
        const s = a.result;
        if (s === undefined) return { ...base, error: a.error ? `${a.error.code}: ${a.error.detail}` : 'no answer' };
        const b = before.get(a.node);
        return {
          ...base,
          started: new Date(now - s.uptimeMs).toISOString(),
          uptimeS: Math.round(s.uptimeMs / 1000),
          rssBytes: s.rssBytes,
          served: s.served,
          callsPerS: b === undefined ? undefined : Math.max(0, (s.served - b.served) / seconds),
          errors: s.errors,
          p50Ms: s.latencyMs.count > 0 ? s.latencyMs.p50 : undefined,
          p99Ms: s.latencyMs.count > 0 ? s.latencyMs.p99 : undefined,
        };
      });
      print(cli.flags().json, rows, () => [['NODE', 'VERSION', 'STARTED', 'UPTIME', 'RSS', 'CALLS/S', 'ERRORS', 'P50', 'P99'], ...rows.map((r) => (r.error !== undefined
        ? [r.node, r.version, '-', '-', '-', '-', r.error, '-', '-']
        : [r.node, r.version, r.started!, `${r.uptimeS}s`, `${Math.round(r.rssBytes! / 1048576)}MB`, r.callsPerS === undefined ? '-' : r.callsPerS.toFixed(1),
          Object.entries(r.errors ?? {}).map(([c, n]) => `${c}:${n}`).join(',') || '0', ms(r.p50Ms), ms(r.p99Ms)]))]);
      if (rows.some((r) => r.error !== undefined)) process.exitCode = 1;
    }));
}
