// The simulator's command line: parsed, validated (a bad value names its
// option and the allowed range), with the defaults documented in USAGE.
import { parseArgs } from 'node:util';
import type { SwimProfile } from '../../src/swim/config.ts';

export const SCENARIOS = ['join', 'crash', 'loss', 'stall', 'partition', 'restart', 'update', 'kv'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface SimOptions {
  scenario: ScenarioName;
  nodes: number;
  seeds: number[];
  loss: number;
  latencyMs: number;
  jitterMs: number;
  /** Cores shared by all nodes and CPU ms per packet received (--cpu-cores, --cpu-packet-ms); undefined: CPU to spare. */
  cpu: { cores: number; packetMs: number } | undefined;
  profile: SwimProfile;
  lifeguard: boolean;
  /** SwimConfig.stallAwareTimers (ours): off gives memberlist's behaviour on late timers. */
  stallAware: boolean;
  /** SwimConfig.watchRefusals (ours): off, a refused direct ping waits out the probe timeout. */
  watchRefusals: boolean;
  /** SwimConfig.coordinatedProbes (ours): off gives memberlist's shuffled round-robin. */
  coordinatedProbes: boolean;
  /** Simulated ms of the measured period (loss, stall); undefined = the scenario's default. */
  durationMs: number | undefined;
  /** Simulated ms between the converged start and the measured period; undefined = the scenario's default. */
  warmupMs: number | undefined;
  stepMs: number;
  bootstrap: 'snapshot' | 'join';
  json: boolean;
  // crash
  crashFraction: number;
  host: boolean;
  // stall
  stallFraction: number;
  stallMinMs: number;
  stallMaxMs: number;
  stallEveryMs: number;
  /** stop: nothing runs during an episode (SIGSTOP, GC); lag: timers run, input is handled lagMs late. */
  stallMode: 'stop' | 'lag';
  lagMs: number;
  compare: boolean;
  // partition
  partitionFraction: number;
  reap: boolean;
  partitionMs: number | undefined;
  rejoinMs: number;
  // restart
  restarts: number;
  downMs: number;
  restartGapMs: number;
  graceful: boolean;
  // update
  updates: number;
  updateEveryMs: number;
  // join
  joinSeeds: number;
  joinBatch: number;
  joinEveryMs: number;
  // kv
  kvWrites: number;
  kvEveryMs: number;
  kvValueBytes: number;
  kvFanout: number | undefined;
  kvAntiEntropyMs: number | undefined;
}

export const USAGE = `npm run sim -- [options]

Runs the real src/swim code for N nodes in one process, in virtual time, and
prints the measured figures (one JSON object with --json). Times are simulated.

  --scenario NAME        ${SCENARIOS.join(' | ')} (default crash)
  --nodes N              cluster size, 2..20000 (default 100)
  --seed S               seed (default 1); --seeds 1..5 or 1,4,9, or --runs K (seeds S..S+K-1)
  --loss P               packet loss on every link, 0..0.99 (default 0)
  --latency MS           one-way latency (default 0.2); --jitter MS extra, uniform (default 0.2)
  --cpu-cores N --cpu-packet-ms MS
                         all nodes share N cores and each packet received costs MS of one
                         (the real-process bench's machine); default: CPU to spare
  --profile P            lan | wan | local (default lan)
  --no-lifeguard         plain SWIM: no nacks, no health score, no buddy system, fixed suspicion
  --no-stall-aware       late timers convict at once, as in memberlist (stallAwareTimers off)
  --no-watch-refusals    a refused direct ping waits out the probe timeout (watchRefusals off)
  --no-coordinated-probes  each node probes in its own shuffled order, as memberlist (coordinatedProbes off)
  --duration D           measured period (loss: 1h, stall: 10m); D in ms or with ms/s/m/h
  --warmup D             converged start → measured period (default 10s; loss 30s)
  --step MS              virtual time per loop step, 1..100 (default 10)
  --bootstrap B          snapshot (default: converged at once) | join (real joins, slow)
  --json                 one JSON object instead of a summary
 crash:     --crash-fraction F (default: one node) --host (host crash: nothing answers)
 stall:     --stall-fraction F (0.1) --stall-ms A-B (1000-5000) --stall-every D (10s) --no-compare
            --stall-mode stop|lag (stop: nothing runs; lag: timers run, input is handled --lag-ms late, default 2000)
 partition: --partition-fraction F (0.5) --reap (stay split past the reap time) --partition-ms D --rejoin-ms D (30s)
 restart:   --restarts K (5) --down-ms D (1000) --restart-gap D (10s) --graceful
 update:    --updates K (20) --update-every D (3s)
 join:      --join-seeds K (3) --join-batch B (100) --join-every D (100ms)
 kv:        --kv-writes K (1) --kv-every D (10s) --kv-value-bytes B (64) --kv-fanout F
            --kv-anti-entropy D (both: the store's defaults); real MeshKv + RPC per node, static membership (no SWIM)
`;

/** A bad option; the message names it. */
export class OptionError extends Error {}

const STRINGS = [
  'scenario', 'nodes', 'seed', 'seeds', 'runs', 'loss', 'latency', 'jitter', 'cpu-cores', 'cpu-packet-ms', 'profile', 'duration', 'warmup', 'step', 'bootstrap',
  'crash-fraction', 'stall-fraction', 'stall-ms', 'stall-every', 'stall-mode', 'lag-ms', 'partition-fraction', 'partition-ms', 'rejoin-ms',
  'restarts', 'down-ms', 'restart-gap', 'updates', 'update-every', 'join-seeds', 'join-batch', 'join-every',
  'kv-writes', 'kv-every', 'kv-value-bytes', 'kv-fanout', 'kv-anti-entropy',
] as const;
const FLAGS = ['json', 'host', 'no-lifeguard', 'no-stall-aware', 'no-watch-refusals', 'no-coordinated-probes', 'no-compare', 'reap', 'graceful', 'help'] as const;

/** Parses argv (without node and the script). Throws OptionError naming the bad option. */
export function parseOptions(argv: readonly string[]): SimOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options: Record<string, { type: 'string' | 'boolean' }> = {};
    for (const s of STRINGS) options[s] = { type: 'string' };
    for (const f of FLAGS) options[f] = { type: 'boolean' };
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new OptionError((err as Error).message);
  }
  if (values.help === true) return 'help';
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const num = (k: string, lo: number, hi: number, def: number, int = false): number => {
    const raw = str(k);
    if (raw === undefined) return def;
    const x = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(x) || x < lo || x > hi || (int && !Number.isInteger(x))) {
      throw new OptionError(`--${k} must be ${int ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(raw)}`);
    }
    return x;
  };
  const dur = (k: string, lo: number, hi: number, def: number | undefined): number | undefined => {
    const raw = str(k);
    if (raw === undefined) return def;
    const x = parseDuration(raw);
    if (x === undefined || x < lo || x > hi) {
      throw new OptionError(`--${k} must be a duration in [${lo} ms, ${hi} ms] (e.g. 500, 30s, 10m, 1h), got ${JSON.stringify(raw)}`);
    }
    return x;
  };
  const oneOf = <T extends string>(k: string, allowed: readonly T[], def: T): T => {
    const raw = str(k);
    if (raw === undefined) return def;
    if (!(allowed as readonly string[]).includes(raw)) throw new OptionError(`--${k} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
    return raw as T;
  };
  const scenario = oneOf('scenario', SCENARIOS, 'crash');
  const only = (k: string, ...scenarios: ScenarioName[]): void => {
    if (values[k] !== undefined && !scenarios.includes(scenario)) throw new OptionError(`--${k} applies to --scenario ${scenarios.join(' or ')} only`);
  };
  only('host', 'crash');
  only('crash-fraction', 'crash');
  for (const k of ['stall-fraction', 'stall-ms', 'stall-every', 'stall-mode', 'lag-ms', 'no-compare']) only(k, 'stall');
  for (const k of ['partition-fraction', 'reap', 'partition-ms']) only(k, 'partition');
  for (const k of ['restarts', 'down-ms', 'restart-gap', 'graceful']) only(k, 'restart');
  for (const k of ['updates', 'update-every']) only(k, 'update');
  for (const k of ['join-seeds', 'join-batch', 'join-every']) only(k, 'join');
  for (const k of ['kv-writes', 'kv-every', 'kv-value-bytes', 'kv-fanout', 'kv-anti-entropy']) only(k, 'kv');

  const cpu = (): SimOptions['cpu'] => {
    if (str('cpu-cores') === undefined && str('cpu-packet-ms') === undefined) return undefined;
    if (str('cpu-cores') === undefined || str('cpu-packet-ms') === undefined) throw new OptionError('--cpu-cores and --cpu-packet-ms go together');
    return { cores: num('cpu-cores', 1, 1024, 1, true), packetMs: num('cpu-packet-ms', 0, 1000, 0) };
  };
  const nodes = num('nodes', 2, 20_000, 100, true);
  const seed = num('seed', 0, 2 ** 32 - 1, 1, true);
  const seeds = parseSeeds(str('seeds'), str('runs'), seed);
  const [stallMinMs, stallMaxMs] = parseRange('stall-ms', str('stall-ms'), [1000, 5000]);
  const o: SimOptions = {
    scenario, nodes, seeds,
    loss: num('loss', 0, 0.99, 0),
    latencyMs: num('latency', 0, 10_000, 0.2),
    jitterMs: num('jitter', 0, 10_000, 0.2),
    cpu: cpu(),
    profile: oneOf<SwimProfile>('profile', ['lan', 'wan', 'local'], 'lan'),
    lifeguard: values['no-lifeguard'] !== true,
    stallAware: values['no-stall-aware'] !== true,
    watchRefusals: values['no-watch-refusals'] !== true,
    coordinatedProbes: values['no-coordinated-probes'] !== true,
    durationMs: dur('duration', 1, 30 * 86_400_000, undefined),
    warmupMs: dur('warmup', 0, 86_400_000, undefined),
    stepMs: num('step', 1, 100, 10),
    bootstrap: oneOf('bootstrap', ['snapshot', 'join'] as const, 'snapshot'),
    json: values.json === true,
    crashFraction: num('crash-fraction', 0, 0.9, 0),
    host: values.host === true,
    stallFraction: num('stall-fraction', 0, 1, 0.1),
    stallMinMs, stallMaxMs,
    stallEveryMs: dur('stall-every', 100, 86_400_000, 10_000)!,
    stallMode: oneOf('stall-mode', ['stop', 'lag'] as const, 'stop'),
    lagMs: dur('lag-ms', 1, 3_600_000, 2000)!,
    compare: values['no-compare'] !== true && values['no-lifeguard'] !== true,
    partitionFraction: num('partition-fraction', 0.01, 0.5, 0.5),
    reap: values.reap === true,
    partitionMs: dur('partition-ms', 0, 86_400_000, undefined),
    rejoinMs: dur('rejoin-ms', 100, 86_400_000, 30_000)!,
    restarts: num('restarts', 1, 20_000, Math.max(1, Math.min(5, nodes - 3)), true),
    downMs: dur('down-ms', 0, 3_600_000, 1000)!,
    restartGapMs: dur('restart-gap', 0, 3_600_000, 10_000)!,
    graceful: values.graceful === true,
    updates: num('updates', 1, 100_000, 20, true),
    updateEveryMs: dur('update-every', 1, 3_600_000, 3000)!,
    joinSeeds: num('join-seeds', 1, 100, Math.min(3, nodes), true),
    joinBatch: num('join-batch', 1, 10_000, 100, true),
    joinEveryMs: dur('join-every', 0, 3_600_000, 100)!,
    kvWrites: num('kv-writes', 1, 10_000, 1, true),
    kvEveryMs: dur('kv-every', 100, 3_600_000, 10_000)!,
    kvValueBytes: num('kv-value-bytes', 1, 524_288, 64, true),
    kvFanout: str('kv-fanout') === undefined ? undefined : num('kv-fanout', 1, 64, 3, true),
    kvAntiEntropyMs: dur('kv-anti-entropy', 100, 3_600_000, undefined),
  };
  if (scenario === 'restart' && o.restarts > o.nodes - 3) throw new OptionError(`--restarts must be in [1, nodes − 3 = ${o.nodes - 3}] (three seeds stay up), got ${o.restarts}`);
  if (o.joinSeeds > o.nodes) throw new OptionError(`--join-seeds must be in [1, nodes = ${o.nodes}], got ${o.joinSeeds}`);
  return o;
}

/** "1500", "1500ms", "30s", "10m", "1h" → ms. */
export function parseDuration(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (m === null) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

function parseSeeds(seeds: string | undefined, runs: string | undefined, seed: number): number[] {
  if (seeds !== undefined && runs !== undefined) throw new OptionError('--seeds and --runs are exclusive');
  if (runs !== undefined) {
    const k = Number(runs);
    if (!Number.isInteger(k) || k < 1 || k > 1000) throw new OptionError(`--runs must be an integer in [1, 1000], got ${JSON.stringify(runs)}`);
    return Array.from({ length: k }, (_, i) => seed + i);
  }
  if (seeds === undefined) return [seed];
  const range = /^(\d+)\.\.(\d+)$/.exec(seeds);
  const list = range !== null
    ? Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, i) => Number(range[1]) + i)
    : seeds.split(',').map((s) => (/^\d+$/.test(s.trim()) ? Number(s) : Number.NaN));
  if (list.length === 0 || list.length > 1000 || list.some((s) => !Number.isSafeInteger(s) || s > 2 ** 32 - 1)) {
    throw new OptionError(`--seeds must be A..B or a comma-separated list of 1 to 1000 integers in [0, 2^32 − 1], got ${JSON.stringify(seeds)}`);
  }
  return list;
}

function parseRange(k: string, raw: string | undefined, def: [number, number]): [number, number] {
  if (raw === undefined) return def;
  const m = /^(\d+)(?:-(\d+))?$/.exec(raw.trim());
  const lo = m === null ? Number.NaN : Number(m[1]);
  const hi = m === null ? Number.NaN : Number(m[2] ?? m[1]);
  if (!(lo >= 1 && hi >= lo && hi <= 3_600_000)) throw new OptionError(`--${k} must be A-B with 1 ≤ A ≤ B ≤ 3600000 (ms), got ${JSON.stringify(raw)}`);
  return [lo, hi];
}
