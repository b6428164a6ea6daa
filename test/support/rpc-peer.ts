// Builds an RPC server and a by-address client over any stream transport, for tests and benches.
import { SystemClock } from '../../src/clock/system.ts';
import type { Clock } from '../../src/clock/types.ts';
import { defaultCodecs } from '../../src/codec/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import { resolveRpcConfig, type RpcConfig } from '../../src/rpc/config.ts';
import { SessionPool } from '../../src/rpc/pool.ts';
import { CallScope } from '../../src/rpc/scope.ts';
import { RpcServer } from '../../src/rpc/server.ts';
import { createRpcStats, type RpcStats } from '../../src/rpc/stats.ts';
import type { ClientMiddleware } from '../../src/rpc/types.ts';
import type { Selector } from '../../src/selector/types.ts';
import type { Transport } from '../../src/transport/types.ts';

/** A selector that always fails: tests here call by address. */
const noSelector: Selector = {
  select: () => Promise.reject(new Error('no selector in this test')),
  mark() {},
  reset() {},
  close() {},
};

export interface Peer {
  pool: SessionPool;
  server: RpcServer;
  client: RpcClient;
  stats: RpcStats;
  scope: CallScope;
  config: RpcConfig;
  stop(): Promise<void>;
}

export function makePeer(transport: Transport, opts: {
  name?: string; address?: string; clock?: Clock; config?: Partial<RpcConfig>; selector?: Selector; middleware?: ClientMiddleware[];
  onSilence?: (address: string, silent: boolean) => void;
} = {}): Peer {
  const clock = opts.clock ?? new SystemClock();
  const config = resolveRpcConfig(opts.config);
  const stats = createRpcStats();
  const scope = new CallScope();
  const codecs = defaultCodecs();
  const pool = new SessionPool({ transport, clock, logger: silentLogger, config, stats, onSilence: opts.onSilence });
  const server = new RpcServer({ name: opts.name ?? 'greeter', address: opts.address ?? '127.0.0.1:0', transport, pool, codecs, clock, logger: silentLogger, stats, scope, config });
  const client = new RpcClient({ pool, selector: opts.selector ?? noSelector, codecs, clock, scope, config, stats, middleware: opts.middleware });
  return {
    pool, server, client, stats, scope, config,
    async stop() {
      await server.stop();
      await pool.close();
    },
  };
}
