// `crash`: one node (or --crash-fraction of them) fails at one instant of a
// converged cluster. A process crash by default: the node stops, its host
// stays up and refuses connections to its port (the refused fast path can
// prove it). With --host, the host goes down: nothing answers, dials time
// out, and only the suspicion path can detect it.
import type { Sim } from '../sim.ts';
import { coldStart, drain } from './join.ts';

export async function crash(sim: Sim): Promise<void> {
  const o = sim.o;
  await sim.build(['suspect', 'dead']);
  await sim.converge({ coldStart, drain });
  // A random instant relative to the probe loops' phases.
  await sim.run((o.warmupMs ?? 10_000) + sim.random.int(1000));
  const count = o.crashFraction > 0 ? Math.max(1, Math.round(o.crashFraction * o.nodes)) : 1;
  const victims = sim.random.shuffle([...sim.hosts]).slice(0, count);
  const gone = new Set(victims);
  const observers = sim.hosts.filter((h) => !gone.has(h)).map((h) => h.name);
  sim.beginMeasure();
  const t0 = sim.now;
  for (const v of victims) sim.observer.failed(v.name, t0, v.node.member(v.name)!.incarnation, observers);
  await Promise.all(victims.map((v) => (o.host ? sim.cluster.crashHost(v.name) : sim.cluster.crashProcess(v.name))));
  // Bound: the longest suspicion plus two minutes for the first probe and
  // gossip; whoever has not declared the victim dead by then is `undetected`.
  const limit = sim.maxSuspicionMs() + 120_000;
  await sim.runUntil(() => sim.observer.allDetected(), limit);
  sim.endMeasure();
  sim.extra.victims = count;
  sim.extra.crash = o.host ? 'host' : 'process';
  sim.extra.refused_deaths = sim.hosts.reduce((n, h) => n + h.node.stats().refusedDeaths, 0);
}
