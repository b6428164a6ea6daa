// `loss`: a converged cluster left alone for a simulated hour (--duration)
// at --loss on every link (TCP handshakes pay it too). Nothing fails, so any
// death is a false positive; suspicions show how often the probe paths all
// lost a packet, and traffic is the idle cost per node.
import type { Sim } from '../sim.ts';
import { coldStart, drain } from './join.ts';

export async function loss(sim: Sim): Promise<void> {
  const o = sim.o;
  await sim.build(['dead']);
  await sim.converge({ coldStart, drain });
  // Past the first push-pull of every node (its first one falls at a random
  // point of the unscaled interval), so traffic is measured in steady state.
  await sim.run(o.warmupMs ?? 30_000);
  sim.beginMeasure();
  await sim.run(o.durationMs ?? 3_600_000);
  sim.endMeasure();
  sim.extra.live_at_end = sim.hosts.filter((h) => h.node.liveCount() === o.nodes).length;
  const end = sim.heapNowPerMember();
  sim.extra.heap_end_bytes_per_member = end === null ? null : Math.round(end);
}
