// A replica that goes silent (SIGSTOP: no RST, no FIN) gets no new calls once SWIM suspects it, long before it is
// declared dead; when it answers again (SIGCONT) it refutes and gets calls again. Real processes on loopback.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createService, silentLogger } from 'micromesh';
import { CLI } from '../support/cli.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';

// Fast probes and a long suspicion (20 × 200 ms × log10 N, at least 4 s) so the suspect window is wide enough to test.
const SWIM = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, suspicionMult: 20 };
const procs: JsonLinesProcess[] = [];
after(() => {
  for (const p of procs) {
    p.child.kill('SIGCONT');
    p.child.kill('SIGKILL');
  }
});

async function replica(name: string, join?: string): Promise<{ proc: JsonLinesProcess; gossip: string; id: string }> {
  const proc = new JsonLinesProcess(spawn(process.execPath, [
    CLI, '--no-mdns', '--interface', 'lo', ...(join ? ['--join', join] : []), 'run', '--demo', '--profile', 'local', '--swim', JSON.stringify(SWIM),
  ], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  procs.push(proc);
  const line = await proc.waitFor((m) => typeof m.gossip === 'string', 20_000, `${name} start`);
  return { proc, gossip: line.gossip as string, id: line.id as string };
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  for (let t = 0; t < ms; t += 20) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('a suspected replica gets no new calls; back alive, it gets them again', { timeout: 90_000 }, async () => {
  const a = await replica('greeter-a');
  const b = await replica('greeter-b', a.gossip);
  const client = createService({
    name: 'caller', address: '127.0.0.1:0', logger: silentLogger,
    mesh: { mdns: false, join: [a.gossip], profile: 'local', swim: SWIM },
  });
  await client.start();
  after(() => client.stop());
  await until(async () => (await client.registry.getService('greeter')).flatMap((s) => s.nodes).length === 2, 'both replicas listed');
  const state = (id: string) => client.mesh!.swim.members().find((m) => m.id === id)?.state;
  const hello = () => client.client.call('greeter', 'Greeter.Hello', { name: 'Ada' }, { timeoutMs: 400, retries: 0 });

  b.proc.child.kill('SIGSTOP');
  await until(() => state(b.id) === 'suspect', 'b suspected');
  // Suspected, not dead: still listed, but every call goes to a (no retries, a short timeout: one call to b would fail).
  assert.equal((await client.registry.getService('greeter')).flatMap((s) => s.nodes).length, 2);
  for (let i = 0; i < 60; i++) await hello();
  assert.equal(state(b.id), 'suspect', 'b was suspect throughout');

  b.proc.child.kill('SIGCONT');
  await until(() => state(b.id) === 'alive', 'b alive again');
  const served = async () => ((await client.client.call('greeter', 'Debug.Stats', {}, { address: (await client.registry.getService('greeter')).flatMap((s) => s.nodes).find((n) => n.id === b.id)!.address })) as { served: number }).served;
  const before = await served();
  // Back from suspicion, b is in slow start (a share rising from 10 % over 5 s), so keep calling until it gets one.
  await until(async () => {
    for (let i = 0; i < 20; i++) await hello();
    return (await served()) > before;
  }, 'b gets calls again');
});
