// SwimMembership over real SWIM nodes (UDP + TCP on 127.0.0.1, short timers)
// with RPC servers for record fetches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSwimNode } from '../../../src/swim/node.ts';
import type { SwimNode } from '../../../src/swim/types.ts';
import { UdpNetwork } from '../../../src/transport/udp.ts';
import { TcpTransport } from '../../../src/transport/tcp.ts';
import { SwimMembership } from '../../../src/membership/swim.ts';
import { fetchRecordsOver, serveRecord } from '../../../src/mesh/records.ts';
import { MeshRegistry } from '../../../src/registry/mesh.ts';
import { silentLogger } from '../../../src/log/index.ts';
import { makePeer, type Peer } from '../../support/rpc-peer.ts';
import { registryCompliance } from '../../compliance/registry.ts';
import { membershipCompliance, type MemberSpec } from '../../compliance/membership.ts';
import type { Membership } from '../../../src/membership/types.ts';

interface MemberPeer { swim: SwimNode; rpc: Peer; membership: SwimMembership }
interface MeshPeer extends MemberPeer { registry: MeshRegistry }

async function memberPeer(name: string, maxRecordBytes?: number): Promise<MemberPeer> {
  const rpc = makePeer(new TcpTransport(), { name });
  await rpc.server.start();
  const swim = createSwimNode({
    name, bindAddress: '127.0.0.1:0', packets: new UdpNetwork(), streams: new TcpTransport(), profile: 'local',
    config: { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, pushPullIntervalMs: 2000 },
  });
  await swim.start();
  const membership = new SwimMembership({ swim, fetchRecord: fetchRecordsOver(rpc.client), rpcAddress: rpc.server.address!, logger: silentLogger, maxRecordBytes });
  serveRecord(rpc.server, membership);
  return { swim, rpc, membership };
}

async function peer(name: string): Promise<MeshPeer> {
  const p = await memberPeer(name);
  return { ...p, registry: new MeshRegistry({ membership: p.membership }) };
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('records travel inline or by fetch, services appear everywhere, and a stopped node vanishes', async () => {
  const peers = [await peer('n0'), await peer('n1'), await peer('n2')];
  for (const p of peers.slice(1)) await p.swim.join([peers[0]!.swim.address]);
  // n1's record is small (inline in SWIM metadata); n2's is large (fetched over RPC).
  await peers[1]!.registry.register({ name: 'small', version: '1', metadata: {}, endpoints: [], nodes: [{ id: 'n1', address: peers[1]!.rpc.server.address!, metadata: {} }] });
  const endpoints = Array.from({ length: 40 }, (_, i) => ({ name: `Big.Endpoint${i}`, metadata: { doc: 'x'.repeat(20) } }));
  await peers[2]!.registry.register({ name: 'big', version: '2', metadata: {}, endpoints, nodes: [{ id: 'n2', address: peers[2]!.rpc.server.address!, metadata: {} }] });
  await until(async () => (await peers[0]!.registry.getService('small')).length === 1 && (await peers[0]!.registry.getService('big')).length === 1, 'services on n0');
  assert.equal((await peers[0]!.registry.getService('big'))[0]!.endpoints.length, 40);
  assert.ok(peers[0]!.rpc.stats.get('callsSucceeded') >= 1 || peers[0]!.rpc.stats.get('callsStarted') >= 1, 'n0 fetched the big record over RPC');
  // A graceful leave removes n2's services everywhere.
  await peers[2]!.swim.leave();
  await until(async () => (await peers[0]!.registry.getService('big')).length === 0 && (await peers[1]!.registry.getService('big')).length === 0, 'big gone');
  for (const p of peers) {
    p.registry.close();
    p.membership.close();
    await p.swim.stop();
    await p.rpc.stop();
  }
});

test('a node bound to all interfaces announces the given host with its bound port', async () => {
  const swim = createSwimNode({ name: 'wild', bindAddress: '0.0.0.0:0', advertiseAddress: '127.0.0.1:0', packets: new UdpNetwork(), streams: new TcpTransport(), profile: 'local' });
  await swim.start();
  assert.match(swim.address, /^127\.0\.0\.1:\d+$/);
  assert.notEqual(swim.address, '127.0.0.1:0');
  await swim.stop();
});

// The registry compliance suite, against the mesh registry on a real SWIM node.
registryCompliance('mesh on SWIM', {
  setup: async () => {
    const p = await peer(`compliance-${Math.random().toString(16).slice(2, 8)}`);
    return {
      registry: p.registry,
      teardown: async () => {
        p.registry.close();
        p.membership.close();
        await p.swim.stop();
        await p.rpc.stop();
      },
    };
  },
});

// The membership compliance suite over real SWIM nodes: a crash is a stop
// without a leave (SWIM finds the node dead), a graceful stop is SWIM's leave.
const MAX_RECORD_BYTES = 64 * 1024;

membershipCompliance('SWIM', {
  capabilities: { disseminates: true, joins: true, leaves: true, detectsCrash: true, maxRecordBytes: MAX_RECORD_BYTES },
  setup: async (specs) => {
    const live = new Map<Membership, MemberPeer>();
    const close = async (p: MemberPeer): Promise<void> => {
      live.delete(p.membership);
      p.membership.close();
      await p.swim.stop();
      await p.rpc.stop();
    };
    let seed: string | undefined;
    const join = async (s: MemberSpec): Promise<Membership> => {
      const p = await memberPeer(s.id, MAX_RECORD_BYTES);
      live.set(p.membership, p);
      for (const [k, v] of Object.entries(s.data ?? {})) p.membership.setLocal(k, v);
      if (seed === undefined) seed = p.swim.address;
      else await p.swim.join([seed]);
      return p.membership;
    };
    const members: Membership[] = [];
    for (const s of specs) members.push(await join(s));
    return {
      members,
      join,
      leave: async (m) => {
        const p = live.get(m)!;
        await p.swim.leave();
        await close(p);
      },
      crash: async (m) => close(live.get(m)!),
      teardown: async () => {
        for (const p of [...live.values()]) await close(p);
      },
    };
  },
});
