// `stall`: --stall-fraction of the members stop running now and then for
// --stall-ms (1–5 s), about every --stall-every (10 s), as under long GC
// pauses or CPU starvation; see stall.ts for what a stall does. Nobody
// fails, so every death is a false positive: about a stalled member (slow,
// but alive) or about a healthy one (accused by a slow member). The CLI runs
// it with Lifeguard on and off on the same seed and reports the ratio.
// --stall-mode lag makes the episodes slow instead of stopped: timers run,
// input is handled --lag-ms late.
import type { SimHost } from '../cluster.ts';
import type { Sim } from '../sim.ts';
import { coldStart, drain } from './join.ts';

export async function stall(sim: Sim): Promise<void> {
  const o = sim.o;
  await sim.build(['dead']);
  await sim.converge({ coldStart, drain });
  await sim.run(o.warmupMs ?? 10_000);
  const count = Math.max(1, Math.round(o.stallFraction * o.nodes));
  const slow = sim.random.shuffle([...sim.hosts]).slice(0, count);
  for (const h of slow) sim.observer.slow.add(h.name);
  const clock = sim.cluster.clock;
  const end = sim.now + (o.durationMs ?? 600_000);
  // Each slow member's stalls run on the simulator's own timers (the base clock, which a stall does not hold).
  const schedule = (h: SimHost, delayMs: number): void => {
    clock.setTimeout(() => {
      if (clock.now() >= end) return;
      if (o.stallMode === 'lag') h.lag(o.lagMs);
      else h.stall();
      const length = o.stallMinMs + sim.random.next() * (o.stallMaxMs - o.stallMinMs);
      clock.setTimeout(() => {
        if (o.stallMode === 'lag') h.unlag();
        else h.resume();
        schedule(h, o.stallEveryMs * (0.5 + sim.random.next()));
      }, length);
    }, delayMs);
  };
  for (const h of slow) schedule(h, sim.random.next() * o.stallEveryMs);
  sim.beginMeasure();
  await sim.run(end - sim.now);
  // Let the suspicions the last stalls caused run their course (the last stall may still be under way).
  await sim.run(o.stallMaxMs + (o.stallMode === 'lag' ? o.lagMs : 0) + sim.maxSuspicionMs() + 10_000);
  sim.endMeasure();
  sim.extra.stall_mode = o.stallMode;
  if (o.stallMode === 'lag') sim.extra.lag_ms = o.lagMs;
  sim.extra.stalled_members = count;
  sim.extra.stalls = slow.reduce((n, h) => n + h.gate.stalls, 0);
  sim.extra.stalled_ms_per_member = Math.round(slow.reduce((n, h) => n + h.gate.stalledMs, 0) / count);
  sim.extra.late_probes = sim.hosts.reduce((n, h) => n + h.node.stats().lateProbes, 0);
  sim.extra.healthy_refutations = sim.hosts.filter((h) => !sim.observer.slow.has(h.name)).reduce((n, h) => n + h.node.stats().refutations, 0);
}
