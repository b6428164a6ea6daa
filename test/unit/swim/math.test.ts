import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  pushPullScaleMs, remainingSuspicionMs, retransmitLimit, suspicionConfirmationsWanted, suspicionTimeoutMs,
} from '../../../src/swim/math.ts';
import { Awareness } from '../../../src/swim/awareness.ts';
import { Suspicion } from '../../../src/swim/suspicion.ts';

test('suspicionTimeoutMs reproduces memberlist (log10 N, truncated to thousandths) for the three profiles', () => {
  // [N, LAN (mult 4, 1 s), WAN (mult 6, 5 s), local (mult 3, 1 s)] from swim.md §1.3.
  const table: [number, number, number, number][] = [
    [1, 4000, 30_000, 3000],
    [10, 4000, 30_000, 3000],
    [32, 6020, 45_150, 4515],
    [100, 8000, 60_000, 6000],
    [1000, 12_000, 90_000, 9000],
    [10_000, 16_000, 120_000, 12_000],
  ];
  for (const [n, lan, wan, local] of table) {
    assert.equal(suspicionTimeoutMs(4, n, 1000), lan, `lan N=${n}`);
    assert.equal(suspicionTimeoutMs(6, n, 5000), wan, `wan N=${n}`);
    assert.equal(suspicionTimeoutMs(3, n, 1000), local, `local N=${n}`);
  }
  assert.equal(suspicionTimeoutMs(4, 0, 1000), 4000, 'N below 1 counts as 1');
});

test('retransmitLimit is ceil(mult × log10(N + 1)) + mult: never below memberlist, no cliff below each power of ten', () => {
  const table: [number, number, number][] = [
    // [N, mult 4, mult 2]
    [1, 6, 3], [9, 8, 4], [10, 9, 5], [50, 11, 6], [99, 12, 6], [100, 13, 7], [999, 16, 8], [1000, 17, 9], [9999, 20, 10],
  ];
  for (const [n, four, two] of table) {
    assert.equal(retransmitLimit(4, n), four, `mult 4 N=${n}`);
    assert.equal(retransmitLimit(2, n), two, `mult 2 N=${n}`);
  }
  for (let n = 1; n <= 20_000; n++) {
    const memberlist = 4 * Math.ceil(Math.log10(n + 1));
    assert.ok(retransmitLimit(4, n) > memberlist, `N=${n}: more than memberlist's ${memberlist}`);
    assert.ok(retransmitLimit(4, n) >= retransmitLimit(4, n - 1), `N=${n}: never falls as N grows`);
  }
});

test('pushPullScaleMs grows the interval with log2 N above 32 members', () => {
  const table: [number, number][] = [
    [1, 30_000], [32, 30_000], [33, 60_000], [64, 60_000], [65, 90_000], [128, 90_000], [129, 120_000],
    [256, 120_000], [257, 150_000], [512, 150_000], [513, 180_000], [1024, 180_000], [1025, 210_000],
    [2048, 210_000], [4096, 240_000], [10_000, 300_000],
  ];
  for (const [n, ms] of table) assert.equal(pushPullScaleMs(30_000, n), ms, `N=${n}`);
});

test('remainingSuspicionMs: memberlist worked values (min 2 s, max 30 s, k = 3)', () => {
  // [confirmations, elapsed ms, expected remaining ms]
  const table: [number, number, number][] = [
    [0, 0, 30_000],
    [1, 0, 16_000],
    [2, 0, 7810],
    [3, 0, 2000],
    [1, 2000, 14_000],
    [2, 3000, 4810],
    [3, 4000, -2000],
    [4, 5000, -3000], // more than k never goes below the minimum
  ];
  for (const [n, elapsed, want] of table) assert.equal(remainingSuspicionMs(n, 3, elapsed, 2000, 30_000), want, `n=${n} elapsed=${elapsed}`);
});

test('remainingSuspicionMs: dogpile values (min 500 ms, max 1 s, k = 3) and k = 0', () => {
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => remainingSuspicionMs(n, 3, 0, 500, 1000)), [1000, 750, 603, 500, 500]);
  assert.equal(remainingSuspicionMs(0, 0, 100, 500, 1000), 400, 'k = 0 runs at the minimum');
});

test('suspicionConfirmationsWanted is suspicionMult − 2, and 0 in clusters too small to confirm', () => {
  assert.equal(suspicionConfirmationsWanted(4, 100), 2);
  assert.equal(suspicionConfirmationsWanted(6, 100), 4);
  assert.equal(suspicionConfirmationsWanted(3, 100), 1);
  assert.equal(suspicionConfirmationsWanted(4, 4), 2);
  assert.equal(suspicionConfirmationsWanted(4, 3), 0);
  assert.equal(suspicionConfirmationsWanted(1, 100), 0);
});

test('Awareness: deltas clamp to 0 .. max − 1 and scale timeouts by score + 1', () => {
  const a = new Awareness(8);
  assert.equal(a.applyDelta(-1), 0, 'never below 0');
  assert.equal(a.applyDelta(3), 3, 'missed nacks add up');
  assert.equal(a.scaleMs(1000), 4000);
  assert.equal(a.applyDelta(10), 7, 'never above max − 1');
  assert.equal(a.scaleMs(1000), 8000, 'LAN probe interval stretches to at most 8 s');
  assert.equal(a.applyDelta(-1), 6, 'a successful probe lowers it by one');
  const off = new Awareness(1);
  assert.equal(off.applyDelta(5), 0, 'multiplier 1 disables it');
});

test('Suspicion: starts at max, each new independent confirmer shrinks it, repeats and the accuser do not', () => {
  const s = new Suspicion('accuser', 3, 2000, 30_000, 1000);
  assert.equal(s.deadlineMs, 31_000);
  assert.equal(s.confirm('accuser', 1000), false, 'the accuser is not a confirmation');
  assert.equal(s.confirm('b', 3000), true);
  assert.equal(s.deadlineMs, 1000 + 16_000);
  assert.equal(s.confirm('b', 3500), false, 'the same confirmer counts once');
  assert.equal(s.confirm('c', 4000), true);
  assert.equal(s.deadlineMs, 1000 + 7810);
  assert.equal(s.confirm('d', 5000), true);
  assert.equal(s.deadlineMs, 1000 + 2000, 'k confirmations reach the minimum');
  assert.equal(s.confirm('e', 5000), false, 'confirmations past k are not counted');
  assert.equal(s.confirmations, 3);
  const k0 = new Suspicion('a', 0, 4000, 24_000, 0);
  assert.equal(k0.deadlineMs, 4000, 'with k = 0 the timer runs at the minimum');
  assert.equal(k0.confirm('b', 10), false);
});
