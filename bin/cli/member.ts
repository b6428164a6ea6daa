// The long-running toolkit commands (api, sidecar, web) each join the mesh as
// a member of their own: one place builds that member from the global flags.
import { InvalidArgumentError, Option } from 'commander';
import type { MeshOptions, Service, ServiceOptions } from '../../src/mesh/types.ts';
import { tryParseHostPort } from '../../src/net/address.ts';
import type { Cli } from './context.ts';
import type { MeshFlags } from './options.ts';

export interface MemberOptions extends Omit<ServiceOptions, 'address' | 'mesh'> {
  /** RPC port (0: any). */
  port: number;
  /** SWIM port, UDP and TCP (0: any). */
  gossipPort: number;
  /** Mesh options besides those the global flags give (profile, swim...). */
  mesh?: Partial<MeshOptions>;
}

/**
 * A service as the global flags describe it: on the mesh (seeds, cluster,
 * keys, mDNS, interface), or listed in etcd (`--registry etcd://…`: no SWIM,
 * no mDNS), publishing through the mesh brokers or NATS (`--broker nats://…`).
 */
export async function createMember(cli: Cli, o: MemberOptions): Promise<Service> {
  const { createService } = await import('../../src/mesh/service.ts');
  const m = cli.mesh();
  const host = m.host ?? '0.0.0.0';
  const { port, gossipPort, mesh, ...options } = o;
  const onMesh = m.registry.kind === 'mesh';
  return createService({
    ...options,
    address: `${host}:${port}`,
    logger: o.logger ?? await cli.logger(),
    ...serviceBackends(m),
    mesh: onMesh ? { cluster: m.cluster, join: m.seeds, keys: m.keys, mdns: m.mdns, gossipAddress: `${host}:${gossipPort}`, ...mesh } : false,
  });
}

/**
 * The registry and broker options the flags choose. Off the mesh the mesh
 * brokers cannot run: without NATS, messages stay in the process (the
 * publish and subscribe commands refuse that; see pubsubChoice).
 */
export function serviceBackends(m: MeshFlags): Pick<ServiceOptions, 'registry' | 'broker'> {
  const registry = m.registry.kind === 'etcd' ? { etcd: { hosts: m.registry.hosts } } : undefined;
  const broker = m.broker.kind === 'nats' ? { nats: { servers: m.broker.servers } } : registry === undefined ? m.broker.kind : 'memory';
  return { ...(registry !== undefined ? { registry } : {}), broker };
}

/** `--admin-address host:port` (or `:port`): the node's admin HTTP port; a command adds it and passes `adminOf(o)` on. */
export function adminAddressOption(): Option {
  return new Option('--admin-address <host:port>', 'serve /metrics, /health/live, /health/ready, /debug/stats and /v1/prometheus/targets here (default: off)')
    .argParser((text: string) => {
      if (tryParseHostPort(text.startsWith(':') ? `0.0.0.0${text}` : text) === undefined) {
        throw new InvalidArgumentError(`must be host:port or :port with port in [0, 65535], got "${text}"`);
      }
      return text;
    });
}

/** `--data-dir <path>`: where the node keeps its key/value store (and the gossip broker's key) across restarts. */
export const DATA_DIR_FLAGS = '--data-dir <path>';
export const DATA_DIR_HELP = 'keep this node\'s copy of the key/value store (and the gossip broker\'s key) here across restarts';

/** The `admin` service option from `--admin-address`. */
export function adminOf(o: { adminAddress?: string }): Pick<ServiceOptions, 'admin'> {
  return o.adminAddress === undefined ? {} : { admin: { address: o.adminAddress } };
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
