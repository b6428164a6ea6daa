import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelectorConfig } from '../../../src/selector/config.ts';
import { DefaultSelector } from '../../../src/selector/selector.ts';
import { MemoryRegistry } from '../../../src/registry/memory.ts';
import { MeshError } from '../../../src/errors/index.ts';

test('selector config defaults', () => {
  assert.deepEqual(parseSelectorConfig(undefined), {
    strategy: 'random', failureThreshold: 1, ejectBaseMs: 1000, ejectMaxMs: 30_000, ejectJitter: 0.2,
    ewmaAlpha: 0.3, latencyFloorMs: 1, cacheTtlMs: 1000, staleCacheMs: 300_000, maxServices: 1024, slowStartMs: 5000,
  });
  assert.equal(parseSelectorConfig({ failureThreshold: undefined }).failureThreshold, 1);
});

test('invalid selector config names the field, the allowed range and the value', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ failureThreshold: 0 }, /selector\.failureThreshold must be an integer in \[1, 1000\], got 0/],
    [{ ejectBaseMs: 1.5 }, /selector\.ejectBaseMs must be an integer in \[1, 3600000\], got 1.5/],
    [{ ejectBaseMs: 5000, ejectMaxMs: 1000 }, /selector\.ejectMaxMs must be ≥ selector\.ejectBaseMs, got 1000/],
    [{ ejectJitter: 2 }, /selector\.ejectJitter must be a number in \[0, 1\], got 2/],
    [{ ewmaAlpha: 0 }, /selector\.ewmaAlpha must be a number in \(0, 1\], got 0/],
    [{ cacheTtlMs: -1 }, /selector\.cacheTtlMs must be an integer in \[0, 600000\], got -1/],
    [{ strategy: 'fastest' }, /selector\.strategy must be one of random, roundRobin, leastLatency, got "fastest"/],
    [{ ejectionMs: 5 }, /selector\.ejectionMs is not a known setting/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => parseSelectorConfig(input as never), (err: unknown) => {
      assert.ok(err instanceof MeshError);
      assert.equal(err.code, 'INVALID_CONFIG');
      assert.match(err.detail, re);
      return true;
    }, JSON.stringify(input));
  }
  assert.throws(() => new DefaultSelector({ registry: new MemoryRegistry(), options: { maxServices: 0 } }), { code: 'INVALID_CONFIG' });
});
