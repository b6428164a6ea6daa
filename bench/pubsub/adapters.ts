// The systems the pubsub benchmark compares, behind one small interface.
import { SystemClock } from '../../src/clock/system.ts';
import { DirectBroker } from '../../src/pubsub/direct.ts';
import { GossipBroker } from '../../src/pubsub/gossip/broker.ts';
import { NatsBroker } from '../../src/pubsub/nats.ts';
import type { Broker } from '../../src/pubsub/types.ts';
import { TcpTransport } from '../../src/transport/tcp.ts';
import { RemoteMembership } from '../../test/pubsub/remote-membership.ts';
import { makePeer } from '../../test/support/rpc-peer.ts';

export type System = 'nats' | 'nats-queue' | 'gossipsub-stock' | 'micromesh-gossip' | 'micromesh-direct' | 'micromesh-nats' | 'micromesh-nats-queue';

/** Rows whose subscribers form one queue group (each message goes to one of them). */
export const isQueue = (s: System): boolean => s.endsWith('-queue');
/** Rows that need a nats-server (with JetStream for micromesh-nats). */
export const usesNats = (s: System): boolean => s === 'nats' || s === 'nats-queue' || s.startsWith('micromesh-nats');

export interface Config {
  system: System;
  role: 'pub' | 'sub';
  /** Index of this process (0 = publisher). */
  index: number;
  subscribers: number;
  inflight: number;
  warmup: number;
  seconds: number;
  /** The publisher's ack-channel port. */
  ackPort: number;
  /** nats, micromesh-nats: the server port. */
  natsPort?: number;
  /** gossipsub-stock: every process's libp2p port, by index. */
  libp2pPorts?: number[];
  /** micromesh: the membership coordinator. */
  coordinator?: string;
}

export interface Adapter {
  publish(data: Uint8Array): void | Promise<void>;
  subscribe(onMessage: (data: Uint8Array) => void): Promise<void>;
  stop(): Promise<void>;
}

const TOPIC = 'bench';

export async function makeAdapter(cfg: Config): Promise<Adapter> {
  switch (cfg.system) {
    case 'nats': case 'nats-queue': return nats(cfg);
    case 'micromesh-nats': case 'micromesh-nats-queue': return micromeshNats(cfg);
    case 'gossipsub-stock': return stockGossipsub(cfg);
    default: return micromesh(cfg);
  }
}

async function nats(cfg: Config): Promise<Adapter> {
  const { connect } = await import('nats');
  const nc = await connect({ servers: `127.0.0.1:${cfg.natsPort}` });
  return {
    publish: (data) => nc.publish(TOPIC, data),
    async subscribe(onMessage) {
      nc.subscribe(TOPIC, { queue: isQueue(cfg.system) ? 'bench' : undefined, callback: (_err, msg) => onMessage(msg.data) });
      await nc.flush();
    },
    stop: () => nc.close(),
  };
}

/** micromesh's NatsBroker: core NATS for broadcast, JetStream (PubAck, explicit acks) for the queue group. */
async function micromeshNats(cfg: Config): Promise<Adapter> {
  const broker = new NatsBroker({ servers: `nats://127.0.0.1:${cfg.natsPort}` });
  await broker.start();
  const headers = { 'content-type': 'application/octet-stream' };
  const queue = isQueue(cfg.system) ? 'bench' : undefined;
  if (cfg.role === 'pub' && queue !== undefined) {
    // The publisher learns of the group from the server; wait for it, or the first probes skip JetStream.
    while (broker.stats().queueGroups === 0) await new Promise((r) => setTimeout(r, 20));
  }
  return {
    publish: (data) => broker.publish(TOPIC, data, { headers }),
    async subscribe(onMessage) {
      await broker.subscribe(TOPIC, (m) => onMessage(m.body), { queue });
    },
    async stop() {
      if (process.env.BENCH_STATS) console.error(cfg.role, JSON.stringify(broker.stats()));
      await broker.stop();
    },
  };
}

/** libp2p + gossipsub with gossipsub's own defaults (signed messages); every process dials those started before it. */
async function stockGossipsub(cfg: Config): Promise<Adapter> {
  const [{ createLibp2p }, { tcp }, { noise }, { yamux }, { identify }, { gossipsub }, { multiaddr }] = await Promise.all([
    import('libp2p'), import('@libp2p/tcp'), import('@chainsafe/libp2p-noise'), import('@libp2p/yamux'),
    import('@libp2p/identify'), import('@libp2p/gossipsub'), import('@multiformats/multiaddr'),
  ]);
  const ports = cfg.libp2pPorts!;
  const node = await createLibp2p({
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${ports[cfg.index]}`] },
    transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gossipsub() },
  });
  const dialAll = async (): Promise<void> => {
    for (let i = 0; i < ports.length; i++) {
      if (i === cfg.index) continue;
      for (;;) {
        try {
          await node.dial(multiaddr(`/ip4/127.0.0.1/tcp/${ports[i]}`));
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  };
  void dialAll();
  if (cfg.role === 'pub') node.services.pubsub.subscribe(TOPIC); // join the mesh, as the other rows' publishers do
  return {
    publish: (data) => node.services.pubsub.publish(TOPIC, data).then(() => {}),
    async subscribe(onMessage) {
      node.services.pubsub.addEventListener('message', (e) => {
        if (e.detail.topic === TOPIC) onMessage(e.detail.data);
      });
      node.services.pubsub.subscribe(TOPIC);
    },
    stop: async () => { await node.stop(); },
  };
}

/** A micromesh node: RPC server + client, the bench membership, and the direct or gossip broker. */
async function micromesh(cfg: Config): Promise<Adapter> {
  const clock = new SystemClock();
  const id = `${cfg.role}${cfg.index}`;
  const { server, client, pool } = makePeer(new TcpTransport({ clock }), { name: id, clock });
  await server.start();
  const membership = await RemoteMembership.connect(cfg.coordinator!, id, { rpc: server.address! });
  const opts = { membership, client, server };
  const broker: Broker = cfg.system === 'micromesh-gossip' ? new GossipBroker(opts) : new DirectBroker(opts);
  await broker.start();
  // What client.publish adds to every message: the codec's content type.
  const headers = { 'content-type': 'application/octet-stream' };
  return {
    publish: (data) => broker.publish(TOPIC, data, { headers }),
    async subscribe(onMessage) {
      await broker.subscribe(TOPIC, (m) => onMessage(m.body));
    },
    async stop() {
      // BENCH_STATS=1 prints each node's broker counters (batches, drops...) when it stops.
      if (process.env.BENCH_STATS) console.error(cfg.role, JSON.stringify((broker as DirectBroker).stats()));
      await broker.stop();
      await server.stop({ drainTimeoutMs: 100 });
      await pool.close();
    },
  };
}
