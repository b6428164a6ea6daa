// Measures, with real processes on 127.0.0.1 and the LAN profile: how long a
// concurrent join takes to be seen by all; how long a SIGKILLed node takes to
// be declared dead by every other node; and, for a node SIGSTOPped until
// everyone declared it dead, how long after SIGCONT everyone sees it alive
// again. Prints one JSON object.
//   npx tsx test/swim/measure-sigkill.ts [nodes=10] [runs=5]
// Not part of `npm test` (it measures; tests assert behaviour).
import { eventually, startCluster } from './procs.ts';

const n = Number(process.argv[2] ?? 10);
const runs = Number(process.argv[3] ?? 5);
const killMs: number[] = [];
const firstMs: number[] = [];
const joinMs: number[] = [];
const resumeMs: number[] = [];

for (let run = 0; run < runs; run++) {
  const t0 = Date.now();
  const nodes = await startCluster(n, { profile: 'lan' }, `r${run}n`);
  const ready = Date.now();
  try {
    const all = nodes.map((p) => p.name);
    await eventually(() => nodes.every((p) => all.every((id) => p.lastState(id) === 'alive' || p.lines.some((l) => l.ev === 'event' && l.id === id && l.type === 'join'))), 30_000, 'join');
    joinMs.push(Date.now() - ready);
    // Let the probe loops settle into their random phases before the crash.
    await new Promise((r) => setTimeout(r, 3000 + Math.random() * 1000));
    const victim = nodes[1 + Math.floor(Math.random() * (n - 1))]!;
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    const rest = nodes.filter((p) => p !== victim);
    await eventually(() => rest.every((p) => p.lastState(victim.name) === 'dead'), 60_000, 'dead everywhere');
    const seen = rest.map((p) => p.lines.find((l) => l.ev === 'event' && l.id === victim.name && l.type === 'dead')!.t! - killedAt);
    killMs.push(Math.max(...seen));
    firstMs.push(Math.min(...seen));
    const stopped = rest[1 + Math.floor(Math.random() * (rest.length - 1))]!;
    const others = rest.filter((p) => p !== stopped);
    stopped.kill('SIGSTOP');
    await eventually(() => others.every((p) => p.lastState(stopped.name) === 'dead'), 90_000, 'stopped node dead everywhere');
    const contAt = Date.now();
    stopped.kill('SIGCONT');
    await eventually(() => others.every((p) => p.lastState(stopped.name) === 'alive'), 30_000, 'alive again everywhere');
    resumeMs.push(Math.max(...others.map((p) => p.lines.findLast((l) => l.ev === 'event' && l.id === stopped.name && l.state === 'alive')!.t! - contAt)));
    process.stderr.write(`run ${run}: started in ${ready - t0} ms, join seen by all after ${joinMs.at(-1)} ms, dead everywhere ${killMs.at(-1)} ms after SIGKILL (first ${firstMs.at(-1)} ms), alive everywhere ${resumeMs.at(-1)} ms after SIGCONT\n`);
  } finally {
    await Promise.all(nodes.map((p) => p.stop()));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
process.stdout.write(`${JSON.stringify({
  nodes: n, runs, profile: 'lan',
  sigkill_dead_everywhere_median_ms: median(killMs), sigkill_dead_everywhere_max_ms: Math.max(...killMs),
  sigkill_first_dead_median_ms: median(firstMs), join_seen_by_all_median_ms: median(joinMs),
  sigcont_alive_everywhere_median_ms: median(resumeMs),
  samples: { killMs, firstMs, joinMs, resumeMs },
})}\n`);
