// Crash detection, real processes beside the simulator (issue 20, part 5).
// Driven the way memberlist is measured: N plain SWIM nodes, one process
// each, on 127.0.0.1 with the LAN profile and no RPC traffic. Nodes are
// SIGKILLed one at a time; after each kill a replacement joins, so N stays
// constant, and the cluster settles for a random 3-4 s (a random phase
// against the probe loops) before the next. Every observer's `dead` event is
// timed. Then the simulator's crash scenario runs in this process, in virtual
// time, for the same N and the same number of crashes (one per seed), as the
// baseline of the same run. Prints one JSON object (--json) or a summary.
//   npm run bench:swim -- [--nodes 50] [--crashes 10] [--sim-crashes K (default: --crashes)] [--json] [--sim-only | --real-only]
//     [--no-watch-refusals] [--no-coordinated-probes] [--cpu-packet-ms MS (default: measured by the real run)]
// The simulator runs on a model of this machine (its cores shared by all N
// nodes, each packet costing the CPU the real nodes spent per packet), and
// once more with CPU to spare (`sim_cpu_to_spare`).
// A measurement, not a test: 50 processes load a 2-core machine for minutes.
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { eventually, NodeProc, startCluster } from '../test/swim/procs.ts';
import { max, median, percentile } from '../test/sim/figures.ts';
import { parseOptions, type SimOptions } from '../test/sim/options.ts';
import { simulate } from '../test/sim/run.ts';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '50' },
    crashes: { type: 'string', default: '10' },
    'sim-crashes': { type: 'string' },
    json: { type: 'boolean', default: false },
    'sim-only': { type: 'boolean', default: false },
    'real-only': { type: 'boolean', default: false },
    // The figures without this two changes (SwimConfig.watchRefusals, coordinatedProbes), real and simulated.
    'no-watch-refusals': { type: 'boolean', default: false },
    'no-coordinated-probes': { type: 'boolean', default: false },
    // The simulator's machine model (test/sim/cpu.ts); by default the real run's measured CPU per packet.
    'cpu-packet-ms': { type: 'string' },
  },
});
const nodes = Number(args.nodes);
const crashes = Number(args.crashes);
if (!Number.isInteger(nodes) || nodes < 3 || nodes > 200) throw new Error(`--nodes must be an integer in [3, 200], got ${args.nodes}`);
if (!Number.isInteger(crashes) || crashes < 1 || crashes > 1000) throw new Error(`--crashes must be an integer in [1, 1000], got ${args.crashes}`);
// The simulator costs a second per 20 crashes at N = 50: more seeds than real crashes tighten its side.
const simCrashes = Number(args['sim-crashes'] ?? crashes);
if (!Number.isInteger(simCrashes) || simCrashes < 1 || simCrashes > 10_000) throw new Error(`--sim-crashes must be an integer in [1, 10000], got ${args['sim-crashes']}`);
const watchRefusals = !args['no-watch-refusals'];
const coordinatedProbes = !args['no-coordinated-probes'];
const nodeConfig = { watchRefusals, coordinatedProbes };
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Distribution of a set of samples, ms, rounded. */
function dist(xs: readonly number[]): { median_ms: number | null; p90_ms: number | null; max_ms: number | null } {
  const r = (x: number | null): number | null => (x === null ? null : Math.round(x));
  return { median_ms: r(median(xs)), p90_ms: r(percentile(xs, 90)), max_ms: r(max(xs)) };
}

interface Side {
  dead_everywhere: ReturnType<typeof dist>;
  first_dead: ReturnType<typeof dist>;
  samples_dead_everywhere_ms: number[];
  false_positives: number;
  [k: string]: unknown;
}

/** Each live node's counters, read through the fixture's `stats` command. */
async function stats(ps: readonly NodeProc[]): Promise<Stats> {
  const out = new Map<string, Record<string, number>>();
  for (const p of ps) {
    const before = p.lines.length;
    p.child.stdin!.write('stats\n');
    const line = await p.waitLine((l) => l.ev === 'stats' && p.lines.indexOf(l) >= before, 10_000, 'stats');
    out.set(p.name, { ...(line.stats as Record<string, number>), cpuMicros: line.cpuMicros as number });
  }
  return out;
}

type Stats = Map<string, Record<string, number>>;

/** Counter `k`'s growth over the window, summed over the nodes alive through all of it, and their number. */
function growth(from: Stats, to: Stats, k: string): { sum: number; n: number } {
  let sum = 0;
  let n = 0;
  for (const [name, a] of from) {
    const b = to.get(name);
    if (b === undefined) continue;
    sum += (b[k] ?? 0) - (a[k] ?? 0);
    n++;
  }
  return { sum, n };
}

async function real(): Promise<Side> {
  const t0 = Date.now();
  let live = await startCluster(nodes, { profile: 'lan', config: nodeConfig }, 'n');
  let next = nodes;
  const everyProc = [...live];
  /** When each victim was killed: events about it before then are about a healthy member. */
  const killed = new Map<string, number>();
  const everywhere: number[] = [];
  const first: number[] = [];
  const laggards: Record<string, unknown>[] = [];
  const seesAll = (ps: readonly NodeProc[]): boolean => ps.every((p) => ps.every((q) => q === p || p.lastState(q.name) === 'alive'));
  try {
    await eventually(() => seesAll(live), 120_000, 'everyone sees everyone alive');
    log(`real: ${nodes} processes up and converged in ${Date.now() - t0} ms; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const statsFrom = await stats(live);
    const measuredFrom = Date.now();
    for (let i = 0; i < crashes; i++) {
      await sleep(3000 + Math.random() * 1000);
      // Never the node the replacements join through.
      const victim = live[1 + Math.floor(Math.random() * (live.length - 1))]!;
      const rest = live.filter((p) => p !== victim);
      const killedAt = Date.now();
      victim.kill('SIGKILL');
      killed.set(victim.name, killedAt);
      await eventually(() => rest.every((p) => p.lastState(victim.name) === 'dead'), 120_000, `${victim.name} dead everywhere`);
      const deaths = rest.map((p) => p.lines.find((l) => l.ev === 'event' && l.type === 'dead' && l.id === victim.name)!);
      const seen = deaths.map((l) => l.t! - killedAt);
      everywhere.push(Math.max(...seen));
      first.push(Math.min(...seen));
      // An observer far behind the first missed the news: say who, and at which incarnation each heard of the death.
      if (everywhere.at(-1)! - first.at(-1)! > 1000) {
        const last = seen.indexOf(everywhere.at(-1)!);
        laggards.push({
          crash: i + 1, victim: victim.name, observer: rest[last]!.name, first_ms: first.at(-1)!, last_ms: everywhere.at(-1)!,
          incarnations: [...new Set(deaths.map((l) => l.incarnation))],
        });
      }
      log(`real crash ${i + 1}/${crashes}: ${victim.name} dead everywhere after ${everywhere.at(-1)} ms (first ${first.at(-1)} ms)`);
      // A replacement keeps N constant; it must be seen by all before the next kill.
      const fresh = new NodeProc({ name: `n${next++}`, profile: 'lan', config: nodeConfig, seeds: [live[0]!.address] });
      await fresh.waitLine((l) => l.ev === 'ready', 30_000, 'ready');
      live = [...rest, fresh];
      everyProc.push(fresh);
      await eventually(() => seesAll(live), 60_000, `${fresh.name} seen by all`);
    }
    const seconds = (Date.now() - measuredFrom) / 1000;
    const statsTo = await stats(live);
    const delta = (k: string): number => {
      const g = growth(statsFrom, statsTo, k);
      return g.n === 0 ? 0 : g.sum / g.n / seconds;
    };
    let falsePositives = 0;
    let falseSuspicions = 0;
    // Every process that ran, the killed too: what they said about others before they died counts.
    for (const p of everyProc) {
      for (const l of p.lines) {
        if (l.ev !== 'event' || l.t! >= (killed.get(l.id!) ?? Infinity)) continue;
        if (l.type === 'dead') falsePositives++;
        if (l.type === 'suspect') falseSuspicions++;
      }
    }
    return {
      dead_everywhere: dist(everywhere),
      first_dead: dist(first),
      samples_dead_everywhere_ms: everywhere,
      false_positives: falsePositives,
      false_suspicions: falseSuspicions,
      probes_per_node_per_s: round2(delta('probes')),
      udp_packets_per_node_per_s: round2(delta('packetsSent')),
      udp_bytes_per_node_per_s: Math.round(delta('bytesSent')),
      tcp_probes_per_node_per_s: round2(delta('tcpProbes')),
      // Summed over the nodes alive throughout (the killed took their counts with them).
      refused_deaths: growth(statsFrom, statsTo, 'refusedDeaths').sum,
      refused_probes: growth(statsFrom, statsTo, 'probesRefused').sum,
      // What a packet costs a node, all its CPU counted (timers too): the simulator's machine model.
      cpu_ms_per_packet: round2(growth(statsFrom, statsTo, 'cpuMicros').sum / 1000 / Math.max(1, growth(statsFrom, statsTo, 'packetsReceived').sum)),
      measured_s: Math.round(seconds),
      laggards,
    };
  } finally {
    await Promise.all(live.map((p) => p.stop()));
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** The crash scenario for the same N and crashes; with `packetMs`, on this machine's cores (see test/sim/cpu.ts). */
async function sim(packetMs: number | undefined): Promise<Side> {
  const argv = ['--scenario', 'crash', '--nodes', String(nodes), '--runs', String(simCrashes), '--json'];
  if (!watchRefusals) argv.push('--no-watch-refusals');
  if (!coordinatedProbes) argv.push('--no-coordinated-probes');
  if (packetMs !== undefined) argv.push('--cpu-cores', String(availableParallelism()), '--cpu-packet-ms', String(packetMs));
  const o = parseOptions(argv) as SimOptions;
  const { runs, report } = await simulate(o);
  const everywhere = runs.flatMap((r) => r.deadEverywhere);
  // One victim per run, so the earliest observer of a run is its first detection.
  const first = runs.map((r) => Math.min(...r.detectDead));
  return {
    dead_everywhere: dist(everywhere),
    first_dead: dist(first),
    samples_dead_everywhere_ms: everywhere.map(Math.round),
    false_positives: runs.reduce((n, r) => n + r.falsePositives, 0),
    udp_bytes_per_node_per_s: report.udp_bytes_per_node_per_s,
    cpu: o.cpu ?? null,
    seeds: o.seeds,
  };
}

const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a == null || b == null || b === 0 ? null : Math.round((a / b) * 100) / 100;

const loadBefore = loadavg();
const realSide = args['sim-only'] ? undefined : await real();
const loadAfterReal = loadavg();
const packetMs = args['cpu-packet-ms'] !== undefined ? Number(args['cpu-packet-ms']) : (realSide?.cpu_ms_per_packet as number | undefined);
if (packetMs !== undefined && !(packetMs >= 0 && packetMs <= 1000)) throw new Error(`--cpu-packet-ms must be a number in [0, 1000], got ${args['cpu-packet-ms']}`);
const simSide = args['real-only'] ? undefined : await sim(packetMs);
// The same without the machine model: what the model adds.
const simSpare = args['real-only'] || packetMs === undefined ? undefined : await sim(undefined);
const out = {
  bench: 'swim-crash', nodes, crashes, sim_crashes: simCrashes, profile: 'lan', watch_refusals: watchRefusals, coordinated_probes: coordinatedProbes,
  real: realSide ?? null,
  sim: simSide ?? null,
  sim_cpu_to_spare: simSpare === undefined ? null : { dead_everywhere: simSpare.dead_everywhere, first_dead: simSpare.first_dead },
  ratio_real_to_sim: {
    median: ratio(realSide?.dead_everywhere.median_ms, simSide?.dead_everywhere.median_ms),
    p90: ratio(realSide?.dead_everywhere.p90_ms, simSide?.dead_everywhere.p90_ms),
    max: ratio(realSide?.dead_everywhere.max_ms, simSide?.dead_everywhere.max_ms),
  },
  loadavg_before: loadBefore.map(round2),
  loadavg_after_real: loadAfterReal.map(round2),
};
if (args.json) {
  process.stdout.write(`${JSON.stringify(out)}\n`);
} else {
  const row = (name: string, s: Side | undefined): string => (s === undefined ? '' :
    `${name.padEnd(5)} dead everywhere median ${s.dead_everywhere.median_ms} ms, p90 ${s.dead_everywhere.p90_ms} ms, max ${s.dead_everywhere.max_ms} ms; ` +
    `first ${s.first_dead.median_ms} ms median; false positives ${s.false_positives}\n`);
  process.stdout.write(`${row('real', realSide)}${row('sim', simSide)}ratio real/sim: ${JSON.stringify(out.ratio_real_to_sim)}\n`);
}
