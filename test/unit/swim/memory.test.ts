// Per-member memory: what a node keeps about each member must not keep the
// packet it learned it from alive. Measured with a forced GC (exposed at
// run time), against a bound far from both outcomes: a detached record
// costs a few hundred bytes, a record pinning its packet over a kilobyte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SeededRandom } from '../../../src/clock/index.ts';
import { Counters } from '../../../src/metrics/counters.ts';
import { resolveSwimConfig } from '../../../src/swim/config.ts';
import { MemberRecord } from '../../../src/swim/members.ts';
import { Membership, type MembershipEffects } from '../../../src/swim/state.ts';
import { SWIM_COUNTERS, type SwimCounter } from '../../../src/swim/stats.ts';
import { SwimWire, type SwimMessage } from '../../../src/swim/wire.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test('members learned from gossip packets do not pin the packets (ids and addresses are detached from the decoded text)', () => {
  const wire = new SwimWire();
  const fx: MembershipEffects = { broadcast: () => {}, event: () => {}, suspicionChanged: () => {}, conflict: () => {}, refuted: () => {} };
  const s = new Membership(resolveSwimConfig('lan'), new MemberRecord('me', 'me:1', 1, new Uint8Array(0), 0, 0), new SeededRandom(1), wire,
    fx, new Counters<SwimCounter>(SWIM_COUNTERS));
  const name = (i: number): string => `node-${String(i).padStart(11, '0')}`;
  // Packets of 20 alive messages each, as a cold start's gossip carries them;
  // this node learns one new member from each (it already knows the others).
  const n = 3000;
  const packet = (p: number): Uint8Array => {
    const msgs: Uint8Array[] = [];
    for (let j = 0; j < 20; j++) {
      const i = (p - j + n) % n;
      msgs.push(wire.alive(name(i), 5, `${name(i)}:7946`, new Uint8Array(0), 0));
    }
    return Buffer.concat(msgs);
  };
  const before = heap();
  for (let p = 0; p < n; p++) {
    const out: SwimMessage[] = [];
    wire.decodeSequence(packet(p), out);
    for (const m of out) if (m.type === 4) s.onAlive(m, 0);
  }
  const perMember = (heap() - before) / n;
  assert.equal(s.table.size, n + 1);
  assert.ok(perMember < 600, `${Math.round(perMember)} bytes per member`);
});
