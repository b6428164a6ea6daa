import type { Command } from 'commander';
import type { ServiceRecord } from '../../../src/index.ts';
import type { Cli } from '../context.ts';
import { print } from '../print.ts';

/** `micromesh services`: every service in the mesh, with its versions and node count. */
export function register(program: Command, cli: Cli): void {
  program.command('services').description('list the services in the mesh').action(() => cli.withMesh(async ({ view }) => {
    const byName = new Map<string, ServiceRecord[]>();
    for (const s of await view.registry.listServices()) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
    const rows = [...byName].sort(([a], [b]) => a.localeCompare(b)).map(([name, ss]) => ({
      name, versions: ss.map((s) => s.version).sort(), nodes: ss.reduce((n, s) => n + s.nodes.length, 0),
    }));
    print(cli.flags().json, rows, () => [['NAME', 'VERSIONS', 'NODES'], ...rows.map((r) => [r.name, r.versions.join(','), String(r.nodes)])]);
  }));
}
