// Real multicast-dns sockets in one process, on the loopback interface only
// (IP_MULTICAST_IF 127.0.0.1, IP TTL 1, bound to the group address rather
// than 0.0.0.0), on a non-default port: nothing reaches a real interface.
// Multi-host behaviour is tested inside network namespaces (test/netns/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { MdnsDiscovery, type MdnsConfig, type MdnsEvent } from '../../../src/mdns/index.ts';
import { MeshError } from '../../../src/errors/index.ts';
import { discoveryCompliance } from '../../compliance/discovery.ts';

const LOOPBACK: Partial<MdnsConfig> = {
  port: 15353, interfaces: ['127.0.0.1'], bindAddress: '224.0.0.251', multicastTtl: 1, loopback: true,
  // Our own service type per test process, so concurrent runs never see each other.
  serviceType: `_mml${process.pid % 1_000_000}._udp.local`,
  browseIntervalMs: 500, announceTtlS: 2, startupIntervalMs: 100,
};

function node(id: string, config: Partial<MdnsConfig> = {}): MdnsDiscovery {
  return new MdnsDiscovery({
    cluster: 'loop', config: { ...LOOPBACK, ...config },
    announce: { nodeId: id, gossipAddress: '127.0.0.1:7946', rpcAddress: '127.0.0.1:8080', protocolVersion: 1 },
  });
}

function next(d: MdnsDiscovery, pred: (e: MdnsEvent) => boolean, timeoutMs = 5000): Promise<MdnsEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; stats ${JSON.stringify(d.stats())}`)), timeoutMs);
    const off = d.on('*', (e) => {
      if (!pred(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

test('mdns loopback: two discoveries in one process find each other over real sockets and say goodbye', async (t) => {
  const a = node('a');
  const b = node('b');
  t.after(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });
  const found = next(a, (e) => e.type === 'peer' && e.peer.nodeId === 'b');
  await a.start();
  await b.start();
  const e = await found;
  assert.equal(e.peer.gossipAddress, '127.0.0.1:7946');
  assert.equal(e.peer.via, '127.0.0.1');
  assert.equal(e.peer.source, '127.0.0.1');
  const gone = next(a, (x) => x.type === 'expired' && x.peer.nodeId === 'b');
  await b.stop();
  const bye = await gone;
  assert.equal(bye.type === 'expired' && bye.reason, 'goodbye');
  assert.equal(a.stats().malformedPackets, 0);
});

test('mdns loopback: a port held without SO_REUSEADDR fails start with MDNS_UNAVAILABLE', async (t) => {
  const holder = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  await new Promise<void>((resolve) => holder.bind(0, '224.0.0.251', resolve));
  t.after(() => holder.close());
  const d = node('x', { port: holder.address().port });
  await assert.rejects(d.start(), (err: unknown) => err instanceof MeshError && err.code === 'MDNS_UNAVAILABLE' && /EADDRINUSE/.test(err.detail));
  assert.equal(d.running, false);
  await d.stop();
});

// The Discovery compliance suite over real sockets. Each LAN gets its own
// service type, so tests (and concurrent runs) never hear each other; real
// multicast cannot silence one node, so TTL expiry is left to the memory LAN.
let lans = 0;
discoveryCompliance('mdns over loopback multicast', {
  canSilence: false,
  setup: async () => {
    const serviceType = `_mmc${process.pid % 1_000_000}-${++lans}._udp.local`;
    const made: MdnsDiscovery[] = [];
    return {
      make: ({ cluster, announce }) => {
        const d = new MdnsDiscovery({ cluster, announce, config: { ...LOOPBACK, serviceType } });
        made.push(d);
        return d;
      },
      step: () => new Promise((r) => setTimeout(r, 10)),
      teardown: async () => {
        await Promise.all(made.map((d) => d.stop()));
      },
    };
  },
});
