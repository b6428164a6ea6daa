// `update`: single pieces of news in a converged cluster. --updates members,
// chosen at random, each publish new metadata (64 bytes, a registry digest's
// size), --update-every apart; each is timed until 100 % of the other
// members have it. This is the "one update reaches everyone" figure.
import { newsKey } from '../observe.ts';
import type { Sim } from '../sim.ts';
import { coldStart, drain } from './join.ts';

const META_BYTES = 64;

export async function update(sim: Sim): Promise<void> {
  const o = sim.o;
  await sim.build(['update', 'alive', 'dead']);
  await sim.converge({ coldStart, drain });
  await sim.run(o.warmupMs ?? 10_000);
  sim.beginMeasure();
  const authors = sim.random.shuffle([...sim.hosts]).slice(0, Math.min(o.updates, o.nodes));
  for (const h of authors) {
    const meta = new Uint8Array(META_BYTES);
    for (let i = 0; i < META_BYTES; i++) meta[i] = sim.random.int(256);
    const version = h.node.member(h.name)!.metaVersion + 1;
    sim.observer.expect(newsKey(h.name, version), sim.now, sim.hosts.filter((x) => x !== h).map((x) => x.name));
    h.node.setMetadata(meta);
    await sim.run(o.updateEveryMs);
  }
  await sim.runUntil(() => sim.observer.allNewsDone(), 120_000);
  sim.endMeasure();
  sim.extra.updates = authors.length;
}
