import type { Command } from 'commander';
import type { Cli } from '../context.ts';
import { MeshError } from '../../../src/errors/index.ts';
import { print } from '../print.ts';

/** `micromesh members`: the SWIM view of a mesh node, dead and left members included. */
export function register(program: Command, cli: Cli): void {
  program.command('members').description('list the mesh members: id, address, state, incarnation').action(() => cli.withMesh(async ({ view }) => {
    if (cli.mesh().registry.kind !== 'mesh') throw new MeshError('INVALID_CONFIG', 'members is the mesh\'s SWIM view: with --registry etcd there is none (services lists what etcd holds)');
    const rows = view.members.map((m) => ({ id: m.id, address: m.address, state: m.state, incarnation: m.incarnation }));
    print(cli.flags().json, rows, () => [['ID', 'ADDRESS', 'STATE', 'INCARNATION'], ...rows.map((r) => [r.id, r.address, r.state, String(r.incarnation)])]);
  }));
}
