// What the mesh layer (src/mesh/node.ts) adds on top of SWIM that the
// scenarios need, modelled rather than run: every node re-joins, every
// rejoinIntervalMs × [0.75, 1.25), the seeds it does not currently see live.
// That periodic re-join is what heals a partition once both sides have
// forgotten each other.
import type { SimHost } from './cluster.ts';
import { SWIM_PORT } from './cluster.ts';
import type { Sim } from './sim.ts';

/** Starts the re-join loop on every current host; seeds are host names. Returns how many joins were attempted. */
export function startRejoinLoops(sim: Sim, seeds: readonly string[], intervalMs: number): { attempts: number } {
  const clock = sim.cluster.clock;
  const counter = { attempts: 0 };
  const loop = (h: SimHost): void => {
    clock.setTimeout(() => {
      if (h.down) return;
      const targets = seeds.filter((s) => s !== h.name && !isLive(h, s)).map((s) => `${s}:${SWIM_PORT}`);
      if (targets.length > 0) {
        counter.attempts++;
        h.node.join(targets).catch(() => {});
      }
      loop(h);
    }, intervalMs * (0.75 + 0.5 * sim.random.next()));
  };
  for (const h of sim.hosts) loop(h);
  return counter;
}

function isLive(h: SimHost, id: string): boolean {
  const s = h.stateOf(id);
  return s === 'alive' || s === 'suspect';
}
