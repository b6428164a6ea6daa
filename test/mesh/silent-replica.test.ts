// The weak case on loopback: one of two replicas goes silent (SIGSTOP: no RST, no FIN) under 64 calls in
// flight with a 2 s call timeout. The client's silence watch steers new calls away within a fraction of a second and
// ends the silent connection, so its calls are retried on the other replica: no call fails, and completions never stop
// for long. SWIM keeps its LAN profile (it suspects after a probe round or two); the RPC layer does not wait for it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createService, silentLogger, MeshError } from 'micromesh';
import { CLI } from '../support/cli.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';

const procs: JsonLinesProcess[] = [];
after(() => {
  for (const p of procs) {
    p.child.kill('SIGCONT');
    p.child.kill('SIGKILL');
  }
});

async function replica(name: string, join?: string): Promise<{ proc: JsonLinesProcess; gossip: string }> {
  const proc = new JsonLinesProcess(spawn(process.execPath, [
    CLI, '--no-mdns', '--interface', 'lo', ...(join ? ['--join', join] : []), 'run', '--demo',
  ], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  procs.push(proc);
  const line = await proc.waitFor((m) => typeof m.gossip === 'string', 20_000, `${name} start`);
  return { proc, gossip: line.gossip as string };
}

test('a replica silent for 3 s under 64 calls in flight: no failed call, completions keep coming', { timeout: 90_000 }, async (t) => {
  const a = await replica('greeter-a');
  const b = await replica('greeter-b', a.gossip);
  const client = createService({ name: 'load', address: '127.0.0.1:0', logger: silentLogger, mesh: { mdns: false, join: [a.gossip] } });
  await client.start();
  after(() => client.stop());
  for (let i = 0; i < 500 && (await client.registry.getService('greeter')).flatMap((s) => s.nodes).length < 2; i++) await new Promise((r) => setTimeout(r, 20));

  const t0 = performance.now();
  const done: number[] = [];
  const latencies: number[] = [];
  const failures: string[] = [];
  let running = true;
  const worker = async (): Promise<void> => {
    while (running) {
      const s = performance.now();
      try {
        await client.client.call('greeter', 'Greeter.Hello', { name: 'Ada' }, { timeoutMs: 2000 });
        done.push(performance.now() - t0);
        latencies.push(performance.now() - s);
      } catch (err) {
        failures.push(err instanceof MeshError ? err.code : String(err));
      }
    }
  };
  const workers = Array.from({ length: 64 }, worker);
  await new Promise((r) => setTimeout(r, 1500));
  const stopAt = performance.now() - t0;
  b.proc.child.kill('SIGSTOP');
  await new Promise((r) => setTimeout(r, 3000));
  b.proc.child.kill('SIGCONT');
  await new Promise((r) => setTimeout(r, 2000));
  running = false;
  await Promise.all(workers);

  // The longest stretch without a completed call, after the first 500 ms.
  let gap = 0;
  for (let i = 1; i < done.length; i++) if (done[i - 1]! > 500) gap = Math.max(gap, done[i]! - done[i - 1]!);
  latencies.sort((x, y) => x - y);
  const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
  const figures = { calls: done.length, failed: failures.length, codes: [...new Set(failures)], longestGapMs: Math.round(gap), p99Ms: Math.round(p99), maxMs: Math.round(latencies.at(-1)!), silencedAtMs: Math.round(stopAt) };
  t.diagnostic(JSON.stringify(figures));
  assert.deepEqual(failures, [], JSON.stringify(figures));
  // A stall would be ~2 s (the call timeout); the watch gives up on a silent peer's calls at 200 ms.
  assert.ok(gap < 1000, JSON.stringify(figures));
});
