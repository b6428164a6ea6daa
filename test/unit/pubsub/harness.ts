// In-process networks of peer brokers for tests: real RPC over TCP on
// 127.0.0.1 (one server, client and session pool per node) and a
// MemoryMembershipNetwork as the peer view.
import { SystemClock } from '../../../src/clock/system.ts';
import { defaultCodecs } from '../../../src/codec/index.ts';
import { silentLogger } from '../../../src/log/index.ts';
import { MemoryMembershipNetwork, type MemoryMembership } from '../../../src/membership/memory.ts';
import { RpcClient } from '../../../src/rpc/client.ts';
import { resolveRpcConfig } from '../../../src/rpc/config.ts';
import { SessionPool } from '../../../src/rpc/pool.ts';
import { CallScope } from '../../../src/rpc/scope.ts';
import { RpcServer } from '../../../src/rpc/server.ts';
import { createRpcStats } from '../../../src/rpc/stats.ts';
import type { Selector } from '../../../src/selector/types.ts';
import { TcpTransport } from '../../../src/transport/tcp.ts';

const noSelector: Selector = {
  select: () => Promise.reject(new Error('brokers call by address')),
  mark() {},
  reset() {},
  close() {},
};

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
  const config = resolveRpcConfig({});
  const stats = createRpcStats();
  const scope = new CallScope();
  const codecs = defaultCodecs();
  const transport = new TcpTransport({ clock });
  const pool = new SessionPool({ transport, clock, logger: silentLogger, config, stats });
  const server = new RpcServer({ name: id, address: '127.0.0.1:0', transport, pool, codecs, clock, logger: silentLogger, stats, scope, config });
  const client = new RpcClient({ pool, selector: noSelector, codecs, clock, scope, config, stats });
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
