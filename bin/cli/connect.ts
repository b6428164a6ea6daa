// How client commands reach the mesh: a read-only look (no member is added,
// so nothing is left behind), then calls over a client-only service.
import { SystemClock, SystemRandom } from '../../src/clock/index.ts';
import type { Logger } from '../../src/log/types.ts';
import { createService } from '../../src/mesh/service.ts';
import { readMesh, type MeshView } from '../../src/mesh/snapshot.ts';
import type { Service } from '../../src/mesh/types.ts';
import { TcpTransport } from '../../src/transport/tcp.ts';
import type { TlsOptions } from '../../src/transport/tls.ts';
import { JsonCodec } from '../../src/codec/json.ts';
import { MeshError } from '../../src/errors/index.ts';
import { LIBP2P_KEY, SUBS_KEY } from '../../src/membership/keys.ts';
import { decodeLibp2p } from '../../src/pubsub/gossip/peers.ts';
import type { BrokerChoice, MeshFlags } from './options.ts';

export interface Connected {
  view: MeshView;
  /** A client-only service whose registry is the mesh as read. */
  service: Service;
}

/** `tls`: calls (not the read of the members, which gossip's own keys cover) go over mutual TLS. */
export async function connect(m: MeshFlags, logger: Logger, tls?: TlsOptions): Promise<Connected> {
  const clock = new SystemClock();
  const plain = new TcpTransport({ clock });
  const transport = tls === undefined ? plain : new TcpTransport({ clock, tls });
  if (m.registry.kind === 'etcd') {
    // etcd is the registry: read it (through the registry's watched cache); there is no SWIM view.
    const service = createService({ name: 'micromesh-cli', mesh: false, registry: { etcd: { hosts: m.registry.hosts } }, broker: 'memory', transport, logger, clock });
    return { view: { seed: m.registry.hosts.join(','), members: [], records: [], registry: service.registry }, service };
  }
  // Calls (and record fetches) go through a service that never starts: it joins nothing.
  const fetcher = createService({ name: 'micromesh-cli', mesh: false, transport, logger, clock });
  try {
    const view = await readMesh({
      seeds: m.seeds, mdns: m.mdns, cluster: m.cluster, keys: m.keys,
      streams: plain, client: fetcher.client, clock, random: new SystemRandom(), logger,
    });
    await fetcher.stop();
    const service = createService({ name: 'micromesh-cli', mesh: false, registry: view.registry, transport, logger, clock });
    return { view, service };
  } catch (err) {
    await fetcher.stop();
    throw err;
  }
}

export interface PublishOnce {
  /** Which broker the services use (ServiceOptions.broker); the CLI must publish the same way. */
  broker: BrokerChoice;
  metadata: Record<string, string>;
  timeoutMs: number;
  /** Interface the gossip broker's libp2p node listens on (it only dials out). */
  host: string;
}

/**
 * Publishes one message to the mesh as read, without joining it, and waits
 * until every copy was sent (and every queue-group copy acknowledged).
 * direct: straight to the subscribing nodes. gossip: first waits until
 * gossipsub knows every member whose record lists the message's gossip
 * topic, then floods it to them. Returns how many nodes subscribe.
 */
export async function publishOnce(view: MeshView, svc: Service, topic: string, message: unknown, o: PublishOnce): Promise<number | undefined> {
  if (o.broker.kind === 'nats') return publishNats(o.broker.servers, topic, message, o);
  if (view.members.length === 0 && view.records.length === 0) {
    throw new MeshError('INVALID_CONFIG', `without the mesh, publishing needs NATS: --broker nats://host:port (the ${o.broker.kind} broker rides on the mesh)`);
  }
  const { StaticMembership } = await import('../../src/membership/static.ts');
  const membership = new StaticMembership(`micromesh-cli-${process.pid}`, view.records);
  const deps = { membership, client: svc.client, server: svc.server };
  const end = Date.now() + o.timeoutMs;
  const waitFor = async (pending: () => number, what: string): Promise<void> => {
    while (pending() > 0) {
      if (Date.now() > end) throw new MeshError('TIMEOUT', `${pending()} ${what} after ${o.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  // Only `publish` needs a broker: loaded here, so other commands never load their code.
  const gossip = o.broker.kind === 'gossip' ? new (await import('../../src/pubsub/gossip/broker.ts')).GossipBroker({ ...deps, listenHost: o.host }) : undefined;
  const broker = gossip ?? new (await import('../../src/pubsub/direct.ts')).DirectBroker(deps);
  await broker.start();
  try {
    if (gossip !== undefined) await waitFor(() => gossip.missingSubscribers(topic).length, 'gossip subscribers not reached yet');
    const codec = new JsonCodec();
    await broker.publish(topic, codec.encode(message), { headers: { ...o.metadata, 'content-type': codec.contentType } });
    await waitFor(() => broker.stats().held, 'copies of the message still undelivered');
    await gossip?.sent();
    return view.records.filter((r) => r.data[SUBS_KEY] !== undefined || gossipTopics(r.data[LIBP2P_KEY]).length > 0).length;
  } finally {
    await broker.stop();
  }
}

/** Publishes through NATS (the broker's own at-least-once for queue groups); subscribers are NATS's to count, so undefined. */
async function publishNats(servers: string[], topic: string, message: unknown, o: PublishOnce): Promise<undefined> {
  const { NatsBroker } = await import('../../src/pubsub/nats.ts');
  const broker = new NatsBroker({ servers, publishTimeoutMs: o.timeoutMs });
  await broker.start();
  try {
    const codec = new JsonCodec();
    await broker.publish(topic, codec.encode(message), { headers: { ...o.metadata, 'content-type': codec.contentType } });
  } finally {
    await broker.stop();
  }
  return undefined;
}

function gossipTopics(raw: unknown): string[] {
  return decodeLibp2p(raw)?.t ?? [];
}
