// `restart`: a rolling restart. One member after another (--restarts, never
// the three seeds) stops (a process exit: its port refuses; --graceful: it
// leaves first), stays down --down-ms, and a new process with the same name,
// and so a new, higher incarnation, starts on the same host and joins
// through the seeds, as the mesh does at start. The next one goes
// --restart-gap later. Figures: how long each new life takes to be known
// alive by every other member (disseminate), the time until one membership
// after the last restart (converge), and false positives (a death about a new
// life or about a member never restarted).
import type { SimHost } from '../cluster.ts';
import { SWIM_PORT } from '../cluster.ts';
import type { Sim } from '../sim.ts';
import { coldStart, drain } from './join.ts';

interface NewLife {
  readonly host: SimHost;
  readonly incarnation: number;
  readonly startMs: number;
  readonly waiting: Set<SimHost>;
}

export async function restart(sim: Sim): Promise<void> {
  const o = sim.o;
  await sim.build(['dead']);
  await sim.converge({ coldStart, drain });
  await sim.run(o.warmupMs ?? 10_000);
  const order = sim.random.shuffle(sim.hosts.map((_, i) => i));
  const seeds = order.slice(0, 3).map((i) => `${sim.hosts[i]!.name}:${SWIM_PORT}`);
  const targets = order.slice(3, 3 + o.restarts);
  const lives: NewLife[] = [];
  // Polled every step: when each member sees the new life alive.
  const poll = (): void => {
    for (const l of lives) {
      if (l.waiting.size === 0) continue;
      for (const h of l.waiting) {
        if (h.down) l.waiting.delete(h);
        else {
          const m = h.node.member(l.host.name);
          if (m !== undefined && m.state === 'alive' && m.incarnation >= l.incarnation) l.waiting.delete(h);
        }
      }
      if (l.waiting.size === 0) sim.disseminate.push(sim.now - l.startMs);
    }
  };
  const step = async (ms: number): Promise<void> => {
    const end = sim.now + ms;
    while (sim.now < end) {
      await sim.run(Math.min(o.stepMs, end - sim.now));
      poll();
    }
  };
  sim.beginMeasure();
  let lastStart = sim.now;
  for (const i of targets) {
    const old = sim.hosts[i]!;
    const oldIncarnation = old.node.member(old.name)!.incarnation;
    const observers = sim.live().filter((h) => h !== old).map((h) => h.name);
    if (o.graceful) {
      await sim.drive(old.node.leave());
      old.down = true;
    } else await sim.cluster.crashProcess(old.name);
    sim.observer.failed(old.name, sim.now, oldIncarnation, observers);
    await step(o.downMs);
    sim.observer.recovered(old.name); // detection of the old life is not what this scenario times
    const h = await sim.start(i);
    lastStart = sim.now;
    lives.push({ host: h, incarnation: h.node.member(h.name)!.incarnation, startMs: sim.now, waiting: new Set(sim.live().filter((x) => x !== h)) });
    h.node.join(seeds).catch(() => {
      sim.extra.join_failures = Number(sim.extra.join_failures ?? 0) + 1;
    });
    if (i !== targets[targets.length - 1]) await step(o.restartGapMs);
  }
  const done = await sim.runUntil(() => {
    poll();
    return lives.every((l) => l.waiting.size === 0) && sim.oneMembership();
  }, 300_000, sim.coarseCheckMs);
  sim.convergeMs = done ? sim.now - lastStart : null;
  sim.endMeasure();
  sim.extra.restarts = targets.length;
  sim.extra.graceful = o.graceful;
}
