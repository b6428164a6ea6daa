// In-process networks of peer brokers for tests: real RPC over TCP on
// 127.0.0.1 (one server, client and session pool per node) and a
// MemoryMembershipNetwork as the peer view.
import { MemoryMembershipNetwork, type MemoryMembership } from '../../../src/membership/memory.ts';
import type { RpcClient } from '../../../src/rpc/client.ts';
import type { SessionPool } from '../../../src/rpc/pool.ts';
import type { RpcServer } from '../../../src/rpc/server.ts';
import { TcpTransport } from '../../../src/transport/tcp.ts';
import { SystemClock } from '../../../src/clock/system.ts';
import { makePeer } from '../../support/rpc-peer.ts';

export interface RpcNode {
  id: string;
  membership: MemoryMembership;
  server: RpcServer;
  client: RpcClient;
  pool: SessionPool;
  address: string;
  stop(): Promise<void>;
}

/** Starts an RPC node on 127.0.0.1 and joins it to `net` with its address under `rpc`. */
export async function rpcNode(net: MemoryMembershipNetwork, id: string): Promise<RpcNode> {
  const clock = new SystemClock();
  const { server, client, pool } = makePeer(new TcpTransport({ clock }), { name: id, clock });
  await server.start();
  const membership = net.join(id, { rpc: server.address! });
  return {
    id, membership, server, client, pool, address: server.address!,
    async stop() {
      await server.stop({ drainTimeoutMs: 100 });
      await pool.close();
    },
  };
}

/** Resolves once every node's view of every other node has that node's current record version. */
export async function converged(net: MemoryMembershipNetwork, limitMs = 10_000): Promise<void> {
  const start = performance.now();
  for (;;) {
    await new Promise((r) => setImmediate(r));
    const nodes = [...net.nodes.values()];
    const ok = nodes.every((a) => nodes.every((b) => a === b || a.member(b.localId)?.version === b.local().version));
    if (ok) return;
    if (performance.now() - start > limitMs) throw new Error('membership did not converge');
    await new Promise((r) => setTimeout(r, 2));
  }
}
