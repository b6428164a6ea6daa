// The silence watch in virtual time: probe, report, end; quiet counted from the last byte or from when calls began.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../../src/clock/virtual.ts';
import { SilenceWatch } from '../../../src/rpc/silence.ts';
import { resolveRpcConfig } from '../../../src/rpc/config.ts';
import { MeshError } from '../../../src/errors/index.ts';

function rig(pending = 1) {
  const clock = new VirtualClock();
  const log: string[] = [];
  const host = {
    pending, closed: false,
    isClosed: () => host.closed,
    pendingCalls: () => host.pending,
    ping: () => log.push(`ping@${clock.now()}`),
    silent: (on: boolean) => log.push(`${on ? 'silent' : 'heard'}@${clock.now()}`),
    dead: (q: number) => log.push(`dead@${clock.now()}:${q}`),
  };
  const w = new SilenceWatch(host, clock, { silenceProbeMs: 100, silenceSuspectMs: 250, silenceTimeoutMs: 2000 });
  return { clock, log, host, w };
}

test('a silent peer with calls waiting: ping at 100 ms, reported silent at 250 ms, connection ended at 2 s', async () => {
  const { clock, log, w } = rig();
  await clock.advance(5000);
  assert.deepEqual(log, [], 'nothing before a call is opened');
  w.watch();
  await clock.advance(3000);
  assert.deepEqual(log, ['ping@5100', 'silent@5250', 'dead@7000:2000']);
});

test('a peer that answers is never reported: any byte resets the quiet', async () => {
  const { clock, log, w } = rig();
  w.watch();
  for (let t = 0; t < 20; t++) {
    await clock.advance(90);
    w.heard(clock.now());
  }
  assert.deepEqual(log, []);
  // A slow handler but a live peer: it answers the ping, so the watch goes on pinging and never reports.
  for (let t = 0; t < 10; t++) {
    await clock.advance(120);
    w.heard(clock.now());
  }
  assert.ok(log.every((l: string) => l.startsWith('ping@')), log.join());
});

test('speaking again clears the report; no calls waiting ends the watch quietly', async () => {
  const { clock, log, host, w } = rig();
  w.watch();
  await clock.advance(300);
  assert.deepEqual(log, ['ping@100', 'silent@250']);
  w.heard(clock.now());
  assert.equal(log.at(-1), 'heard@300');
  host.pending = 0;
  await clock.advance(5000);
  assert.equal(log.filter((l) => l.startsWith('dead')).length, 0);
  // Watching again counts quiet from then, not from the last byte long ago.
  host.pending = 1;
  w.watch();
  await clock.advance(99);
  assert.equal(log.filter((l) => l.startsWith('ping')).length, 1);
});

test('the silence settings are validated in order, with the fields named', () => {
  assert.equal(resolveRpcConfig().silenceSuspectMs, 200);
  assert.throws(() => resolveRpcConfig({ silenceSuspectMs: 5000 }), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_CONFIG' && /silenceSuspectMs \(5000\) < rpc\.silenceTimeoutMs \(2000\)/.test(e.detail));
  assert.equal(resolveRpcConfig({ silenceProbeMs: 0 }).silenceProbeMs, 0);
});

test('a check that fires late (this process was paused) looks again after the waiting input instead of blaming the peer', () => {
  // A hand-cranked clock: timers run only when fired, at whatever time it says then.
  let now = 0;
  let pending: (() => void) | undefined;
  const clock = {
    now: () => now, wallTime: () => now, sleep: () => Promise.resolve(),
    setTimeout: (fn: () => void) => { pending = fn; return {} as never; }, clearTimeout: () => { pending = undefined; },
  } as unknown as VirtualClock;
  const log: string[] = [];
  const host = {
    isClosed: () => false, pendingCalls: () => 1, ping: () => log.push('ping'),
    silent: (on: boolean) => log.push(on ? 'silent' : 'heard'), dead: () => log.push('dead'),
  };
  const w = new SilenceWatch(host, clock, { silenceProbeMs: 100, silenceSuspectMs: 200, silenceTimeoutMs: 2000 });
  w.watch();
  now = 400; // the check due at 100 runs at 400: we were paused
  pending!();
  assert.deepEqual(log, [], 'put off, not judged');
  w.heard(401); // the peer's bytes, read in the same turn
  now = 402;
  pending!();
  assert.deepEqual(log, []);
  // A peer that really is silent is still caught: the next late check is judged.
  now = 1000;
  pending!();
  now = 1001;
  pending!();
  assert.deepEqual(log, ['ping'], 'quiet long enough: a ping, not yet a verdict');
  now = 1102;
  pending!();
  assert.deepEqual(log, ['ping', 'silent'], 'no answer 100 ms after the ping');
});

test('a far peer (its smallest round trip 150 ms) is judged 4 round trips after the ping, not at the setting', async () => {
  const { clock, log, w } = rig();
  w.observeRtt(400);
  w.observeRtt(150); // the smallest counts: a sample stretched by our own pause does not
  w.watch();
  await clock.advance(5000);
  // ping at 100; silent at 100 + max(150, 4 × 150); ended at 100 + max(1900, 600 + 1750).
  assert.deepEqual(log, ['ping@100', 'silent@700', 'dead@2450:2450']);
});

test('an answered ping is a round-trip sample; a near peer keeps the settings', async () => {
  const { clock, log, w } = rig();
  w.watch();
  await clock.advance(100);
  await clock.advance(80);
  w.heard(clock.now()); // answered 80 ms after the ping
  w.watch();
  await clock.advance(5000);
  // Quiet from 180: ping at 280, silent at 280 + max(150, 320) = 600, ended at 280 + max(1900, 320 + 1750).
  assert.deepEqual(log, ['ping@100', 'ping@280', 'silent@600', 'dead@2350:2170']);
  const near = rig();
  near.w.observeRtt(0.3);
  near.w.watch();
  await near.clock.advance(3000);
  assert.deepEqual(near.log, ['ping@100', 'silent@250', 'dead@2000:2000']);
});
