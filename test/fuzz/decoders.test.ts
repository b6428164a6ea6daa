import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inputs } from './mutate.ts';
import { TARGETS, type FuzzTarget } from './targets.ts';

/** Runs per target in the normal suite; `npm run fuzz` throws a million at each. */
const RUNS = 3000;

/** The property every decoder keeps: no throw outside its contract, and its encoders' output accepted. */
function holds(t: FuzzTarget, input: Uint8Array): boolean {
  try {
    t.run(input);
  } catch (err) {
    if (!t.accepts(err)) throw err;
  }
  return true;
}

for (const t of TARGETS) {
  test(`${t.name}: its encoders' output is accepted, every seed decodes without throwing`, () => {
    assert.equal(t.run(t.seeds[0]!), 'accepted');
    for (const seed of t.seeds) assert.ok(holds(t, seed));
  });

  test(`${t.name}: mutated and random inputs never throw outside the contract`, async () => {
    let n = 0;
    // Yields now and then: decoders defer work (the RPC writer flushes on nextTick), which would pile up otherwise.
    await fc.assert(fc.asyncProperty(inputs(t.seeds), async (input) => {
      if (++n % 200 === 0) await new Promise(setImmediate);
      return holds(t, input);
    }), { numRuns: RUNS, seed: 20 });
  });
}
