import type { Command } from 'commander';
import { MeshError } from '../../../src/errors/index.ts';
import { INTERNAL_SERVICE } from '../../../src/rpc/internal.ts';
import { SIDECAR_APP_METADATA, SIDECAR_HEALTH, SIDECAR_SERVICE, type AppHealthReport } from '../../../src/sidecar/names.ts';
import type { Cli } from '../context.ts';
import { print } from '../print.ts';

interface Row {
  node: string;
  address: string;
  version: string;
  status: string;
  error?: string;
  /** Set on the rows of an app behind a sidecar: its name (the node is the sidecar's). */
  app?: string;
  reason?: string;
  checkedAtMs?: number;
}

const failure = (err: unknown): string => (err instanceof MeshError ? `${err.code}: ${err.detail}` : String(err));

/**
 * `micromesh health SERVICE`: Debug.Health on every node of the service,
 * and, for an app behind sidecars, the app's health as each sidecar last
 * saw it (`$mesh Sidecar.Health`), found through the sidecars' companion
 * records, so a critical app that is out of the registry still shows.
 * Exit code 1 unless every node is ok and every app passing.
 */
export function register(program: Command, cli: Cli): void {
  program.command('health').description('call Debug.Health on every node of SERVICE, and ask its sidecars how the app is').argument('<service>')
    .action((name: string) => cli.withMesh(async ({ view, service: svc }) => {
      const nodes = (await view.registry.getService(name)).flatMap((s) => s.nodes.map((n) => ({ version: s.version, ...n })));
      const sidecars = (await view.registry.getService(SIDECAR_SERVICE)).flatMap((s) => s.nodes)
        .filter((n) => n.metadata[SIDECAR_APP_METADATA] === name);
      if (nodes.length === 0 && sidecars.length === 0) throw new MeshError('SERVICE_NOT_FOUND', `no service "${name}" in the mesh`);
      const call = <T>(service: string, endpoint: string, address: string) => svc.client.call<T>(service, endpoint, {}, { address, timeoutMs: 2000, retries: 0 });
      const rows: Row[] = await Promise.all([
        ...nodes.map(async (n): Promise<Row> => {
          try {
            const r = await call<{ status: string }>(name, 'Debug.Health', n.address);
            return { node: n.id, address: n.address, version: n.version, status: r.status };
          } catch (err) {
            return { node: n.id, address: n.address, version: n.version, status: 'error', error: failure(err) };
          }
        }),
        ...sidecars.map(async (n): Promise<Row> => {
          const row = { node: n.id, address: n.address, version: '', app: name };
          try {
            const r = await call<AppHealthReport>(INTERNAL_SERVICE, SIDECAR_HEALTH.endpoint, n.address);
            return { ...row, status: r.status, reason: r.reason, checkedAtMs: r.checkedAtMs };
          } catch (err) {
            return { ...row, status: 'error', error: failure(err) };
          }
        }),
      ]);
      print(cli.flags().json, rows, () => [['NODE', 'ADDRESS', 'VERSION', 'STATUS'], ...rows.map((r) => [
        r.app === undefined ? r.node : `app via ${r.node}`, r.address, r.version || '-',
        r.error ? `${r.status} (${r.error})` : r.reason ? `${r.status} (${r.reason})` : r.status,
      ])]);
      if (rows.some((r) => r.status !== (r.app === undefined ? 'ok' : 'passing'))) process.exitCode = 1;
    }));
}
