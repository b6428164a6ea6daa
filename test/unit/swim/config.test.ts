import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveSwimConfig, SWIM_PROFILES } from '../../../src/swim/config.ts';
import { MeshError } from '../../../src/errors/index.ts';

const invalid = (re: RegExp) => (err: unknown) => err instanceof MeshError && err.code === 'INVALID_CONFIG' && re.test(err.detail);

test('profiles start from memberlist LAN / WAN / Local values', () => {
  const { lan, wan, local } = SWIM_PROFILES;
  assert.deepEqual(
    [lan.probeIntervalMs, lan.probeTimeoutMs, lan.indirectChecks, lan.suspicionMult, lan.suspicionMaxTimeoutMult, lan.retransmitMult,
      lan.gossipIntervalMs, lan.gossipNodes, lan.gossipToTheDeadMs, lan.pushPullIntervalMs, lan.streamTimeoutMs, lan.awarenessMaxMultiplier,
      lan.maxPacketBytes, lan.metaMaxBytes],
    [1000, 500, 3, 4, 6, 4, 200, 3, 30_000, 30_000, 10_000, 8, 1400, 512]);
  assert.deepEqual(
    [wan.probeIntervalMs, wan.probeTimeoutMs, wan.suspicionMult, wan.gossipIntervalMs, wan.gossipNodes, wan.gossipToTheDeadMs,
      wan.pushPullIntervalMs, wan.streamTimeoutMs],
    [5000, 3000, 6, 500, 4, 60_000, 60_000, 30_000]);
  assert.deepEqual(
    [local.probeTimeoutMs, local.indirectChecks, local.suspicionMult, local.retransmitMult, local.gossipIntervalMs,
      local.gossipToTheDeadMs, local.pushPullIntervalMs, local.streamTimeoutMs],
    [200, 1, 3, 2, 100, 15_000, 15_000, 1000]);
  assert.equal(lan.refusedAsDead, true);
  assert.equal(local.refusedAsDead, true);
  assert.equal(wan.refusedAsDead, false, 'the refused fast path is off across WANs');
  assert.ok(Object.isFrozen(lan));
});

test('resolveSwimConfig applies overrides, ignores undefined ones, and freezes the result', () => {
  const cfg = resolveSwimConfig('local', { probeIntervalMs: 500, gossipNodes: undefined });
  assert.equal(cfg.probeIntervalMs, 500);
  assert.equal(cfg.gossipNodes, 3);
  assert.ok(Object.isFrozen(cfg));
  assert.equal(resolveSwimConfig().probeTimeoutMs, 500, 'lan by default');
});

test('invalid values name the field, the allowed range and the value', () => {
  assert.throws(() => resolveSwimConfig('lan', { probeIntervalMs: 5 }), invalid(/swim\.probeIntervalMs must be an integer in \[10, 600000\], got 5/));
  assert.throws(() => resolveSwimConfig('lan', { indirectChecks: 2.5 }), invalid(/swim\.indirectChecks must be an integer in \[0, 16\]/));
  assert.throws(() => resolveSwimConfig('lan', { refusedAsDead: 'yes' as unknown as boolean }), invalid(/swim\.refusedAsDead must be true or false/));
  assert.throws(() => resolveSwimConfig('lan', { clusterName: 'x'.repeat(65) }), invalid(/swim\.clusterName must be a string of at most 64 bytes/));
  assert.throws(() => resolveSwimConfig('lan', { probeTimeoutMs: 2000 }), invalid(/swim\.probeTimeoutMs must be in \[1, probeIntervalMs = 1000\], got 2000/));
  assert.throws(() => resolveSwimConfig('lan', { metaMaxBytes: 1200 }), invalid(/swim\.metaMaxBytes must be in \[0, maxPacketBytes − 400 = 1000\]/));
  assert.throws(() => resolveSwimConfig('lan', { probeIntervalMS: 1 } as never), invalid(/swim\.probeIntervalMS is not a known setting/));
  assert.throws(() => resolveSwimConfig('fast' as never), invalid(/swim\.profile must be one of lan, wan, local/));
});
