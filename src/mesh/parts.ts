import type { Clock, Random } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import { DirectBroker } from '../pubsub/direct.ts';
import { MemoryBroker } from '../pubsub/memory.ts';
import type { Broker } from '../pubsub/types.ts';
import type { NatsBrokerOptions } from '../pubsub/nats.ts';
import type { ClientMiddleware } from '../rpc/types.ts';
import { DeferredBroker } from './broker.ts';
import { LazyRegistry } from '../registry/lazy.ts';
import type { Registry } from '../registry/types.ts';
import type { MeshNode } from './node.ts';
import type { BrokerParts, MeshOptions, ServiceOptions } from './types.ts';

/**
 * Turns "no such service" into "no mesh found" when this node knows no
 * other member: the problem is discovery (no mDNS peer, no seed), not the
 * service name.
 */
export function noMeshFound(node: MeshNode, o: MeshOptions): ClientMiddleware {
  return (next) => (call) => next(call).catch((err: unknown) => {
    if (err instanceof MeshError && err.code === 'SERVICE_NOT_FOUND' && node.peerCount() === 0) {
      const how = [o.mdns === false ? 'mDNS is off' : 'mDNS found no peer', o.join?.length ? `no seed answered (${o.join.join(', ')})` : 'no seeds given'];
      throw new MeshError('NO_MESH_FOUND', `no mesh found looking for "${call.service}": this node knows no other member (${how.join('; ')})`, { id: 'micromesh.client' });
    }
    throw err;
  });
}

/** The service's broker: the one given, or one built (at start) from a name or a factory. */
export function resolveBroker(o: ServiceOptions, onMesh: boolean, parts: () => BrokerParts, clock: Clock, random: Random, logger: Logger): Broker {
  const b = o.broker ?? (onMesh ? 'direct' : 'memory');
  if (typeof b === 'object' && 'nats' in b && typeof (b as Partial<Broker>).publish !== 'function') {
    const nats = (b as { nats: NatsBrokerOptions }).nats;
    // The NATS client loads only for services that choose it, at start.
    return new DeferredBroker('nats', async () => new (await import('../pubsub/nats.ts')).NatsBroker({ ...nats, clock, random, logger: logger.child({ component: 'broker' }) }));
  }
  if (typeof b === 'object') return b as Broker;
  if (b === 'memory') return new MemoryBroker({ clock, random, logger });
  if (typeof b === 'function') return new DeferredBroker('custom', () => b(parts()));
  if (b !== 'direct' && b !== 'gossip') throw new MeshError('INVALID_CONFIG', `service.broker must be a Broker, a factory, { nats: {...} }, or one of direct, gossip, memory; got ${JSON.stringify(b)}`);
  if (!onMesh) throw new MeshError('INVALID_CONFIG', `service.broker "${b}" needs the mesh (mesh is off): use "memory" or a broker instance`);
  return new DeferredBroker(b, async () => {
    const p = parts();
    if (p.membership === undefined) throw new MeshError('NOT_RUNNING', `the ${b} broker needs the mesh membership; start the service`);
    const opts = { membership: p.membership, client: p.client, server: p.server, clock, random, logger };
    if (b === 'direct') return new DirectBroker(opts);
    // The gossip broker's code (and libp2p, at its start) loads only for services that choose it.
    const { GossipBroker } = await import('../pubsub/gossip/broker.ts');
    return new GossipBroker({ ...opts, dataDir: p.dataDir, listenHost: p.host });
  });
}

/** A registry built from configuration (`{ etcd: {...} }`), which the service then owns and closes; its code loads on first use. */
export function ownedRegistry(r: ServiceOptions['registry'], clock: Clock, random: Random, logger: Logger): LazyRegistry | undefined {
  if (r === undefined || typeof (r as Partial<Registry>).getService === 'function') return undefined;
  if (typeof r === 'object' && 'etcd' in r) {
    const etcd = r.etcd;
    return new LazyRegistry('etcd', async () => new (await import('../registry/etcd.ts')).EtcdRegistry({ ...etcd, clock, random, logger: logger.child({ component: 'registry' }) }));
  }
  throw new MeshError('INVALID_CONFIG', 'service.registry must be a Registry or { etcd: {...} }');
}
