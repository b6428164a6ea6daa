// The case on a virtual LAN of three hosts: two greeter replicas and a client with 64 calls in flight
// (2 s call timeout); one replica's link cut (every packet dropped both ways by nftables: no RST, no FIN) for 10 s.
// Goal: zero failed calls, no 250 ms window with zero completions after the first 500 ms, p99 latency over the run
// ≤ 2× the fault-free p99 plus the detection bound (rpc.silenceSuspectMs, 200 ms).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { VirtualLan, netnsGate, type VirtualHost } from '../support/netns.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { CLI } from '../support/cli.ts';

const netns = await netnsGate();
const LOAD = fileURLToPath(new URL('./fixtures/load-client.ts', import.meta.url));
let lan: VirtualLan;
const procs: JsonLinesProcess[] = [];
before(async () => {
  if (!netns.ready()) return;
  lan = await VirtualLan.create({ hosts: 3, prefix: 'mmsilent' });
});
after(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await lan?.destroy();
});

async function replica(host: VirtualHost, join?: string): Promise<string> {
  const p = new JsonLinesProcess(host.spawn(process.execPath, [CLI, '--interface', 'eth0', '--no-mdns', ...(join ? ['--join', join] : []), 'run', '--demo']), host.name);
  procs.push(p);
  return (await p.waitFor((m) => typeof m.gossip === 'string', 20_000, `${host.name} start`)).gossip as string;
}

test('one replica\'s link cut for 10 s under 64 calls in flight: no failed call, no stall', { skip: netns.skip, timeout: 120_000 }, async (t) => {
  const seed = await replica(lan.host(0));
  await replica(lan.host(1), seed);
  const cutAt = 3000;
  const client = new JsonLinesProcess(lan.host(2).spawnNode(LOAD, [seed, JSON.stringify({ replicas: 2, seconds: 16, cutAtMs: cutAt })]), 'load');
  procs.push(client);
  await client.waitFor((m) => m.ready === true, 30_000, 'the client to see both replicas');
  await new Promise((r) => setTimeout(r, cutAt));
  // The link "cut": host 1 partitioned from the others (nftables drops every packet between them, silently).
  await lan.partition([[lan.host(0), lan.host(2)], [lan.host(1)]]);
  await new Promise((r) => setTimeout(r, 10_000));
  await lan.heal();
  const result = (await client.waitFor((m) => m.figures !== undefined, 30_000, 'the figures')).figures as {
    calls: number; failed: number; longestGapMs: number; p99Ms: number; faultFreeP99Ms: number;
  };
  t.diagnostic(JSON.stringify(result));
  assert.equal(result.failed, 0, JSON.stringify(result));
  assert.ok(result.longestGapMs < 250, JSON.stringify(result));
  assert.ok(result.p99Ms <= 2 * result.faultFreeP99Ms + 200, JSON.stringify(result));
});
