import type { Command } from 'commander';
import { MeshError } from '../../../src/errors/index.ts';
import type { Cli } from '../context.ts';
import { print } from '../print.ts';

/** `micromesh service NAME`: one service's versions, endpoints and nodes (Go Micro's `micro get service`). */
export function register(program: Command, cli: Cli): void {
  program.command('service').description('show one service: versions, endpoints, nodes').argument('<name>')
    .action((name: string) => cli.withMesh(async ({ view }) => {
      const versions = await view.registry.getService(name);
      if (versions.length === 0) throw new MeshError('SERVICE_NOT_FOUND', `no service "${name}" in the mesh (ask "micromesh services")`);
      print(cli.flags().json, versions, () => versions.flatMap((s) => [
        [`${s.name} ${s.version}`, ''],
        ...s.endpoints.map((e) => ['  endpoint', `${e.name}${Object.keys(e.metadata).length ? ` ${JSON.stringify(e.metadata)}` : ''}`]),
        ...s.nodes.map((n) => ['  node', `${n.id} ${n.address}`]),
      ]));
    }));
}
