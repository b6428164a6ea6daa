// `partition`: the network splits a converged cluster in two
// (--partition-fraction on one side), stays split until each side has
// declared the other dead (or, with --reap, until each side has forgotten
// the other: past deadReapMs), or for --partition-ms, then heals. The nodes
// run the mesh's periodic re-join through three seeds of the larger side
// (mesh.ts); the run ends when every node sees all N alive again:
// `converge_ms` from the heal. Deaths across the split before the cluster is
// one again are expected; so is such a verdict reaching the member's own side
// after the heal, before the member refutes it (counted as
// `stale_deaths_at_heal`: memberlist believes a dead message from anyone).
// Any other death is a false positive.
import type { SimHost } from '../cluster.ts';
import { startRejoinLoops } from '../mesh.ts';
import type { Sim } from '../sim.ts';
import { coldStart, drain } from './join.ts';

export async function partition(sim: Sim): Promise<void> {
  const o = sim.o;
  await sim.build(['dead']);
  await sim.converge({ coldStart, drain });
  await sim.run(o.warmupMs ?? 10_000);
  const order = sim.random.shuffle([...sim.hosts]);
  const small = order.slice(0, Math.max(1, Math.round(o.partitionFraction * o.nodes)));
  const large = order.slice(small.length);
  const side = new Map<string, number>();
  for (const h of small) side.set(h.name, 1);
  for (const h of large) side.set(h.name, 0);
  const seeds = large.slice(0, 3).map((h) => h.name);
  const rejoins = startRejoinLoops(sim, seeds, o.rejoinMs);
  // Deaths across the split are expected, and remembered: the same verdict
  // arriving after the heal (before its member refutes) is stale, not false.
  let phase: 'whole' | 'split' | 'healing' = 'whole';
  const verdicts = new Set<string>();
  sim.observer.judge = (observer, member, incarnation) => {
    const key = `${member}@${incarnation}`;
    // Until the cluster is one again, a verdict across the split is the split's doing.
    if (phase !== 'whole' && side.get(observer) !== side.get(member)) {
      verdicts.add(key);
      return 'expected';
    }
    return phase === 'healing' && verdicts.has(key) ? 'stale' : 'false';
  };
  sim.beginMeasure();
  sim.cluster.packets.partition([small.map((h) => h.name), large.map((h) => h.name)]);
  phase = 'split';
  const t0 = sim.now;
  // Each host's view: members of its own side, members live, members known at all.
  const counts = (h: SimHost): { own: number; live: number; known: number } => {
    const s = h.node.stats();
    return { own: side.get(h.name) === 1 ? small.length : large.length, live: s.alive + s.suspect, known: s.alive + s.suspect + s.dead + s.left };
  };
  const limit = sim.maxSuspicionMs() + sim.hosts[0]!.node.config.deadReapMs + 300_000;
  let split: boolean;
  if (o.partitionMs !== undefined) {
    await sim.run(o.partitionMs);
    split = true;
  } else if (o.reap) {
    split = await sim.runUntil(() => sim.hosts.every((h) => counts(h).known === counts(h).own), limit, 1000);
  } else {
    split = await sim.runUntil(() => sim.hosts.every((h) => counts(h).live === counts(h).own), limit, 250);
  }
  // Members still remembered (as dead) across the split when it heals: 0 with --reap.
  sim.extra.remembered_across_at_heal = sim.hosts.reduce((n, h) => n + counts(h).known - counts(h).own, 0);
  sim.extra.partition_ms = sim.now - t0;
  sim.extra.split_reached = split;
  sim.cluster.packets.heal();
  phase = 'healing';
  const healedAt = sim.now;
  const joined = await sim.runUntil(() => sim.oneMembership(), o.rejoinMs * 1.25 + 300_000, sim.coarseCheckMs);
  phase = 'whole';
  sim.extra.stale_deaths_at_heal = sim.observer.staleDeaths;
  sim.convergeMs = joined ? sim.now - healedAt : null;
  // A while as one cluster, where any death would be false.
  await sim.run(10_000);
  sim.endMeasure();
  sim.extra.reaped = o.reap;
  sim.extra.sides = `${small.length}/${large.length}`;
  sim.extra.rejoin_attempts = rejoins.attempts;
}
