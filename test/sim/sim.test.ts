// The simulator's scenarios on small clusters with fixed seeds, asserting
// protocol properties (convergence, detection by everyone, no false deaths,
// one membership after a partition, determinism), never timings. Each runs
// the scenario exactly as `npm run sim` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions, type SimOptions } from './options.ts';
import { runOnce, simulate } from './run.ts';

function options(...argv: string[]): SimOptions {
  const o = parseOptions(argv);
  assert.notEqual(o, 'help');
  return o as SimOptions;
}

test('join: a cold start through three seeds converges, every join reaches every member, nobody dies', async () => {
  const r = await runOnce(options('--scenario', 'join', '--nodes', '40', '--join-batch', '10', '--seed', '3'), 3);
  assert.notEqual(r.convergeMs, null, 'every node saw all 40');
  assert.equal(r.disseminate.length, 40, 'each join known by every other member');
  assert.equal(r.extra.join_failures, 0);
  assert.equal(r.falsePositives, 0);
});

test('loss: at 10 % packet loss no healthy member is declared dead, though some are suspected', async () => {
  const r = await runOnce(options('--scenario', 'loss', '--nodes', '40', '--loss', '0.1', '--duration', '5m', '--seed', '5'), 5);
  assert.equal(r.falsePositives, 0);
  assert.ok(r.suspicions > 0, 'the loss was felt: suspicions were started and refuted');
  assert.equal(r.extra.live_at_end, 40, 'everyone sees everyone at the end');
});

test('crash: a crashed process, and 10 % of crashed hosts, are declared dead by every member', async () => {
  const proc = await runOnce(options('--scenario', 'crash', '--nodes', '30', '--seed', '7'), 7);
  assert.equal(proc.undetected, 0);
  assert.equal(proc.detectDead.length, 29, 'by each of the 29 others');
  assert.ok(Number(proc.extra.refused_deaths) >= 1, 'a refused port is proof');
  assert.equal(proc.falsePositives, 0);
  const host = await runOnce(options('--scenario', 'crash', '--nodes', '30', '--host', '--crash-fraction', '0.1', '--loss', '0.05', '--seed', '8'), 8);
  assert.equal(host.undetected, 0);
  assert.equal(host.deadEverywhere.length, 3);
  assert.equal(host.extra.refused_deaths, 0, 'nothing refuses on a dead host: only suspicion can detect it');
  assert.equal(host.falsePositives, 0);
});

test('partition: split past the reap time, then healed by the periodic re-join, ends as one membership', async () => {
  const r = await runOnce(options('--scenario', 'partition', '--nodes', '20', '--reap', '--seed', '11'), 11);
  assert.equal(r.extra.split_reached, true, 'each side forgot the other');
  assert.notEqual(r.convergeMs, null, 'one membership again');
  assert.equal(r.falsePositives, 0, 'nobody on its own side, nor after the heal, was declared dead');
});

test('partition: healed before the reap time (each side still remembers the other as dead), ends as one membership', async () => {
  const r = await runOnce(options('--scenario', 'partition', '--nodes', '20', '--seed', '12'), 12);
  assert.ok(Number(r.extra.remembered_across_at_heal) > 0);
  assert.notEqual(r.convergeMs, null);
  assert.equal(r.falsePositives, 0);
});

test('restart: a rolling restart ends as one membership, each new life known alive by all, no false death', async () => {
  const r = await runOnce(options('--scenario', 'restart', '--nodes', '20', '--restarts', '3', '--restart-gap', '3s', '--seed', '13'), 13);
  assert.notEqual(r.convergeMs, null);
  assert.equal(r.disseminate.length, 3);
  assert.equal(r.falsePositives, 0);
});

test('stall: members stalling for less than the suspicion timeout kill nobody, with Lifeguard on or off', async () => {
  const o = options('--scenario', 'stall', '--nodes', '30', '--stall-ms', '500-3000', '--duration', '2m', '--seed', '17');
  const { runs } = await simulate(o);
  assert.deepEqual(runs.map((r) => r.lifeguard), [true, false], 'on, then off, on the same seed');
  for (const r of runs) {
    assert.ok(Number(r.extra.stalls) > 0);
    assert.equal(r.falsePositivesHealthy, 0, `lifeguard ${r.lifeguard}: no healthy member declared dead`);
  }
});

test('stall --stall-mode lag: slow members hearing everything 10 s late convict healthy members only without Lifeguard', async () => {
  const o = options('--scenario', 'stall', '--nodes', '30', '--stall-mode', 'lag', '--lag-ms', '10s', '--duration', '2m', '--seed', '19');
  const { runs } = await simulate(o);
  const [on, off] = runs as [(typeof runs)[0], (typeof runs)[0]];
  assert.equal(on.extra.stall_mode, 'lag');
  assert.ok(off.suspicions > on.suspicions, 'the slow members accuse less under Lifeguard (health score, nacks)');
  assert.equal(on.falsePositivesHealthy, 0, 'Lifeguard: lone accusations wait long enough for the late refutation');
  assert.ok(off.falsePositivesHealthy > 0, 'plain SWIM: a fixed timeout shorter than the lag convicts healthy members');
});

test('determinism: the same seed gives the same event log and figures; another seed does not', async () => {
  const o = options('--scenario', 'crash', '--nodes', '25', '--host', '--loss', '0.1', '--seed', '21');
  const [a, b, c] = [await runOnce(o, 21), await runOnce(o, 21), await runOnce(o, 22)];
  const figures = (r: typeof a) => ({ ...r, wallMs: 0, bootstrapWallMs: 0, heapBytesPerMember: 0 });
  assert.deepEqual(figures(a), figures(b));
  assert.notEqual(a.digest, c.digest);
});

test('options: a bad value names its option and range; unknown options and misplaced ones are refused', () => {
  assert.throws(() => parseOptions(['--loss', '1.5']), /--loss must be a number in \[0, 0\.99\], got "1.5"/);
  assert.throws(() => parseOptions(['--nodes', '10.5']), /--nodes must be an integer/);
  assert.throws(() => parseOptions(['--scenario', 'nope']), /--scenario must be one of join, crash/);
  assert.throws(() => parseOptions(['--duration', '5 minutes']), /--duration must be a duration/);
  assert.throws(() => parseOptions(['--frobnicate']), /frobnicate/);
  assert.throws(() => parseOptions(['--scenario', 'loss', '--host']), /--host applies to --scenario crash only/);
  assert.throws(() => parseOptions(['--scenario', 'stall', '--stall-mode', 'slow']), /--stall-mode must be one of stop, lag/);
  assert.throws(() => parseOptions(['--scenario', 'crash', '--lag-ms', '5s']), /--lag-ms applies to --scenario stall only/);
  assert.deepEqual(options('--seeds', '3..5').seeds, [3, 4, 5]);
  assert.deepEqual(options('--seed', '7', '--runs', '2').seeds, [7, 8]);
  assert.equal(options('--duration', '10m').durationMs, 600_000);
});
