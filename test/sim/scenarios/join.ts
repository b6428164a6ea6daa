// `join`: the cold start. N fresh nodes join through a few seeds, in batches
// (a seed serves at most maxConcurrentPushPulls joins at once, so a real
// deployment staggers too), and the run lasts until every node sees all N,
// then until every gossip queue has drained. Also the `--bootstrap join`
// start of the other scenarios (coldStart, then drain).
import { SWIM_PORT } from '../cluster.ts';
import { newsKey } from '../observe.ts';
import { heapUsed, type Sim } from '../sim.ts';

/** Longest the cold start may take (simulated) before the run gives up. */
const CONVERGE_LIMIT_MS = 600_000;
const DRAIN_LIMIT_MS = 300_000;

/**
 * Joins every built node through the first `joinSeeds` of them and runs
 * until one membership. With `track`, times how long each join takes to be
 * known by every member. Returns [converged at, join failures].
 */
export async function coldStart(sim: Sim, track = false): Promise<{ convergedMs: number | null; failures: number }> {
  const o = sim.o;
  const names = sim.hosts.map((h) => h.name);
  const seeds = sim.hosts.slice(0, o.joinSeeds).map((h) => `${h.name}:${SWIM_PORT}`);
  const t0 = sim.now;
  let failures = 0;
  let pending = 0;
  const join = (i: number): void => {
    const h = sim.hosts[i]!;
    if (track) sim.observer.expect(newsKey(h.name), sim.now, names.filter((n) => n !== h.name));
    pending++;
    h.node.join(seeds).catch(() => {
      failures++;
      // The mesh would retry at its next re-join; here, at once, through the other seeds.
      return h.node.join(seeds).catch(() => failures++);
    }).finally(() => pending--);
  };
  // The seeds find each other first, then the rest come in batches.
  for (let i = 1; i < Math.min(o.joinSeeds, o.nodes); i++) join(i);
  if (track) sim.observer.expect(newsKey(names[0]!), t0, names.slice(1));
  // With --join-every 0, every batch starts at once.
  for (let next = o.joinSeeds; next < o.nodes;) {
    if (o.joinEveryMs > 0) await sim.run(o.joinEveryMs);
    for (let b = 0; b < o.joinBatch && next < o.nodes; b++) join(next++);
  }
  const ok = await sim.runUntil(() => pending === 0 && everyoneSeesAll(sim), CONVERGE_LIMIT_MS, sim.coarseCheckMs);
  return { convergedMs: ok ? sim.now - t0 : null, failures };
}

/** Runs until no node has anything left to gossip; returns whether that happened. */
export function drain(sim: Sim): Promise<boolean> {
  return sim.runUntil(() => sim.hosts.every((h) => h.node.stats().queuedBroadcasts === 0), DRAIN_LIMIT_MS, 1000);
}

/** Each node sees N live members (cheap: liveCount only). */
function everyoneSeesAll(sim: Sim): boolean {
  const n = sim.o.nodes;
  return sim.hosts.every((h) => h.node.liveCount() === n);
}

export async function join(sim: Sim): Promise<void> {
  await sim.build(['join', 'dead']);
  const before = heapUsed();
  sim.beginMeasure();
  const t0 = sim.now;
  const { convergedMs, failures } = await coldStart(sim, true);
  sim.convergeMs = convergedMs;
  sim.extra.join_failures = failures;
  // The cold start's cost does not end at convergence: the retransmissions run on.
  sim.extra.drained_ms = (await drain(sim)) ? sim.now - t0 : null;
  sim.endMeasure();
  const n = sim.o.nodes;
  sim.heapBytesPerMember = Math.max(0, heapUsed() - before) / (n * (n - 1));
  sim.extra.packets = sim.cluster.packets.stats().sent;
}
