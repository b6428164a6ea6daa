import type { Command } from 'commander';
import { MeshError } from '../../../src/errors/index.ts';
import type { Cli } from '../context.ts';
import { print } from '../print.ts';

/** `micromesh health SERVICE`: Debug.Health on every node of the service; exit code 1 unless all are ok. */
export function register(program: Command, cli: Cli): void {
  program.command('health').description('call Debug.Health on every node of SERVICE').argument('<service>')
    .action((name: string) => cli.withMesh(async ({ view, service: svc }) => {
      const nodes = (await view.registry.getService(name)).flatMap((s) => s.nodes.map((n) => ({ version: s.version, ...n })));
      if (nodes.length === 0) throw new MeshError('SERVICE_NOT_FOUND', `no service "${name}" in the mesh`);
      const rows = await Promise.all(nodes.map(async (n) => {
        try {
          const r = await svc.client.call<{ status: string }>(name, 'Debug.Health', {}, { address: n.address, timeoutMs: 2000, retries: 0 });
          return { node: n.id, address: n.address, version: n.version, status: r.status };
        } catch (err) {
          return { node: n.id, address: n.address, version: n.version, status: 'error', error: err instanceof MeshError ? `${err.code}: ${err.detail}` : String(err) };
        }
      }));
      print(cli.flags().json, rows, () => [['NODE', 'ADDRESS', 'VERSION', 'STATUS'], ...rows.map((r) => [r.node, r.address, r.version, r.error ? `${r.status} (${r.error})` : r.status])]);
      if (rows.some((r) => r.status !== 'ok')) process.exitCode = 1;
    }));
}
