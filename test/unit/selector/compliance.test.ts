// The selector compliance suite against the default selector with each
// strategy, and against the mesh's ReportingSelector wrapping it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultSelector } from '../../../src/selector/selector.ts';
import { ReportingSelector } from '../../../src/mesh/selector.ts';
import { MemoryMembershipNetwork } from '../../../src/membership/memory.ts';
import { MeshError } from '../../../src/errors/index.ts';
import { selectorCompliance } from '../../compliance/selector.ts';
import { fixture, three } from './fixture.ts';

for (const strategy of ['random', 'roundRobin', 'leastLatency'] as const) {
  selectorCompliance(`default (${strategy})`, { make: (p) => new DefaultSelector({ ...p, options: { strategy } }) });
}
selectorCompliance('reporting (over default)', {
  make: (p) => new ReportingSelector(new DefaultSelector(p), () => new MemoryMembershipNetwork().join('self')),
});

// What only the wrapper does: refused and reset connections go to the failure detector.
test('reporting selector: refused and lost connections are reported to the membership; other outcomes are not', async () => {
  const f = await fixture(three());
  const self = new MemoryMembershipNetwork().join('self');
  const holder: { membership?: typeof self } = {};
  const s = new ReportingSelector(f.selector, () => holder.membership);
  const fail = async (code?: string): Promise<string> => {
    const n = (await s.select('greeter'))();
    s.mark('greeter', n, code === undefined ? { latencyMs: 1 } : { error: new MeshError(code, 'x') });
    s.reset();
    return n.id;
  };
  await fail('CONNECTION_REFUSED'); // no membership yet: nothing to tell, nothing thrown
  holder.membership = self;
  const refused = await fail('CONNECTION_REFUSED');
  const lost = await fail('CONNECTION_LOST');
  for (const code of [undefined, 'TIMEOUT', 'UNAVAILABLE', 'BAD_REQUEST']) await fail(code);
  assert.deepEqual(self.unreachableReports, [{ id: refused, refused: true }, { id: lost, refused: false }]);
  s.close();
});
