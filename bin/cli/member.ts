// The long-running toolkit commands (api, sidecar, web) each join the mesh as
// a member of their own: one place builds that member from the global flags.
import type { MeshOptions, Service, ServiceOptions } from '../../src/mesh/types.ts';
import type { Cli } from './context.ts';

export interface MemberOptions extends Omit<ServiceOptions, 'address' | 'mesh'> {
  /** RPC port (0: any). */
  port: number;
  /** SWIM port, UDP and TCP (0: any). */
  gossipPort: number;
  /** Mesh options besides those the global flags give (profile, swim...). */
  mesh?: Partial<MeshOptions>;
}

/** A service on the mesh the global flags describe (seeds, cluster, keys, mDNS, interface), bound to the flags' host. */
export async function createMember(cli: Cli, o: MemberOptions): Promise<Service> {
  const { createService } = await import('../../src/mesh/service.ts');
  const m = cli.mesh();
  const host = m.host ?? '0.0.0.0';
  const { port, gossipPort, mesh, ...options } = o;
  return createService({
    ...options,
    address: `${host}:${port}`,
    logger: o.logger ?? await cli.logger(),
    mesh: { cluster: m.cluster, join: m.seeds, keys: m.keys, mdns: m.mdns, gossipAddress: `${host}:${gossipPort}`, ...mesh },
  });
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
