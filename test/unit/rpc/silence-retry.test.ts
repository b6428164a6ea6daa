// Two of three replicas fall silent at once (a partition): calls cancelled on one silent peer are retried, and a
// retry that lands on the other silent peer is cancelled there too; those attempts do not use up the caller's
// retries, so with the default of one retry every call still succeeds on the replica that answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../../src/errors/index.ts';
import { MemoryRegistry } from '../../../src/registry/memory.ts';
import { DefaultSelector } from '../../../src/selector/selector.ts';
import { MemoryNetwork } from '../../../src/transport/memory.ts';
import type { DialOptions, Socket, SocketHandlers, Transport } from '../../../src/transport/types.ts';
import { makePeer } from '../../support/rpc-peer.ts';

/** A client transport whose connections to `frozen` hosts go silent: nothing in, nothing out, no close. */
function freezable(inner: Transport, frozen: Set<string>): Transport {
  const hostOf = (address: string): string => address.slice(0, address.lastIndexOf(':'));
  return Object.assign(Object.create(inner) as Transport, {
    dial: async (address: string, opts?: DialOptions): Promise<Socket> => {
      const s = await inner.dial(address, opts);
      const silent = (): boolean => frozen.has(hostOf(address));
      return {
        get localAddress() { return s.localAddress; },
        get remoteAddress() { return s.remoteAddress; },
        get closed() { return s.closed; },
        attach: (h: SocketHandlers) => s.attach({ ...h, data: (chunk) => { if (!silent()) h.data(chunk); } }),
        write: (chunk: Uint8Array) => (silent() ? true : s.write(chunk)),
        end: () => s.end(),
        destroy: (err?: Error) => s.destroy(err),
      };
    },
  });
}

test('two replicas silent at once: every call succeeds on the third, none fails for running out of retries', { timeout: 30_000 }, async () => {
  const net = new MemoryNetwork();
  const registry = new MemoryRegistry();
  const servers = [];
  for (const host of ['a', 'b', 'c']) {
    const p = makePeer(net.transport(host), { name: 'greeter', address: `${host}:0` });
    p.server.handle('Greeter', { Hello: () => ({ from: host }) });
    await p.server.start();
    servers.push(p);
  }
  await registry.register({ name: 'greeter', version: '1', metadata: {}, endpoints: [],
    nodes: servers.map((p, i) => ({ id: 'abc'[i]!, address: p.server.address!, metadata: {} })) });
  const selector = new DefaultSelector({ registry, options: { strategy: 'roundRobin', slowStartMs: 0 } });
  const frozen = new Set<string>();
  const client = makePeer(freezable(net.transport('caller'), frozen), {
    name: 'caller', address: 'caller:0', selector, onSilence: (address, silent) => selector.suspect(address, silent),
  });
  const hello = () => client.client.call('greeter', 'Greeter.Hello', {}, { timeoutMs: 2000 }) as Promise<{ from: string }>;
  // Connections to all three are open and used before the partition.
  const warm = await Promise.all(Array.from({ length: 30 }, hello));
  assert.deepEqual(new Set(warm.map((r) => r.from)), new Set(['a', 'b', 'c']));
  frozen.add('b');
  frozen.add('c');
  const outcomes = await Promise.all(Array.from({ length: 60 }, () => hello().then((r) => r.from, (e: unknown) => (e instanceof MeshError ? e.code : String(e)))));
  assert.deepEqual(outcomes.filter((o) => o !== 'a'), [], 'every call answered by a');
  assert.ok(client.stats.get('silentPeers') >= 1, 'the silence watch gave up on a silent peer');
  selector.close();
  frozen.clear();
  await client.stop();
  for (const p of servers) await p.stop();
});
