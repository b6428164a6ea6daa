// Runs a scenario once per seed and aggregates the runs into one report:
// the JSON object the CLI prints. Importable, so the simulator's tests run
// scenarios exactly as the CLI does.
import { aggregate, ms, sum, type RunResult } from './figures.ts';
import type { ScenarioName, SimOptions } from './options.ts';
import { Sim, heapMethod } from './sim.ts';
import { crash } from './scenarios/crash.ts';
import { join } from './scenarios/join.ts';
import { kv, kvReport } from './scenarios/kv.ts';
import { loss } from './scenarios/loss.ts';
import { partition } from './scenarios/partition.ts';
import { restart } from './scenarios/restart.ts';
import { stall } from './scenarios/stall.ts';
import { update } from './scenarios/update.ts';

const SCENARIO: Record<ScenarioName, (sim: Sim) => Promise<void>> = { join, crash, loss, stall, partition, restart, update, kv };

/** One run of `o.scenario` with one seed. */
export async function runOnce(o: SimOptions, seed: number, lifeguard = o.lifeguard): Promise<RunResult> {
  const sim = new Sim(o, seed, lifeguard);
  try {
    await SCENARIO[o.scenario](sim);
    return sim.result();
  } finally {
    await sim.stop();
  }
}

export interface Report {
  report: Record<string, unknown>;
  runs: RunResult[];
}

/** Every seed (and, for the stall scenario, Lifeguard on then off), aggregated. */
export async function simulate(o: SimOptions, progress?: (r: RunResult) => void): Promise<Report> {
  const t0 = performance.now();
  const runs: RunResult[] = [];
  const compare = o.scenario === 'stall' && o.compare && o.lifeguard;
  for (const seed of o.seeds) {
    const r = await runOnce(o, seed, o.lifeguard);
    runs.push(r);
    progress?.(r);
    if (compare) {
      const off = await runOnce(o, seed, false);
      runs.push(off);
      progress?.(off);
    }
  }
  const main = runs.filter((r) => r.lifeguard === o.lifeguard);
  const report: Record<string, unknown> = {
    scenario: o.scenario,
    nodes: o.nodes,
    seed: o.seeds[0],
    seeds: o.seeds,
    loss: o.loss,
    latency_ms: o.latencyMs,
    cpu: o.cpu ?? null,
    jitter_ms: o.jitterMs,
    profile: o.profile,
    lifeguard: o.lifeguard,
    stall_aware_timers: o.stallAware,
    watch_refusals: o.watchRefusals,
    coordinated_probes: o.coordinatedProbes,
    bootstrap: o.scenario === 'join' ? 'cold start' : o.bootstrap,
    ...aggregate(main),
    ...(o.scenario === 'kv' ? kvReport(main, o.nodes) : {}),
    heap_method: heapMethod(),
    rss_peak_bytes: process.resourceUsage().maxRSS * 1024,
    wall_ms: Math.round(performance.now() - t0),
    wall_per_run_ms: Math.round(sum(main, (r) => r.wallMs) / main.length),
    bootstrap_wall_per_run_ms: Math.round(sum(main, (r) => r.bootstrapWallMs) / main.length),
    extra: mergeExtras(main),
    event_digest: main.map((r) => r.digest.slice(0, 16)).join(','),
  };
  if (compare) {
    const off = runs.filter((r) => !r.lifeguard);
    const a = aggregate(off);
    report.no_lifeguard = {
      false_positives: a.false_positives,
      false_positives_healthy: a.false_positives_healthy,
      falsely_declared_members: a.falsely_declared_members,
      suspicions: a.suspicions,
      refutations: a.refutations,
      bytes_per_node_per_s: a.bytes_per_node_per_s,
      extra: mergeExtras(off),
    };
    // off ÷ on, all false positives and healthy members only (Lifeguard's aim: a slow member
    // must not get healthy ones killed). With none under Lifeguard, the ratio is at least off ÷ 1.
    for (const [key, name] of [['false_positives', 'lifeguard_fp'], ['false_positives_healthy', 'lifeguard_fp_healthy']] as const) {
      const on = report[key] as number;
      const offFp = a[key] as number;
      report[`${name}_ratio`] = on > 0 ? Math.round((offFp / on) * 10) / 10 : null;
      report[`${name}_ratio_at_least`] = Math.round((offFp / Math.max(1, on)) * 10) / 10;
    }
  }
  return { report, runs };
}

/** Scenario extras, per run: numbers averaged over runs (null when a run had none), the rest from the first run. */
function mergeExtras(runs: readonly RunResult[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = new Set(runs.flatMap((r) => Object.keys(r.extra)));
  for (const k of keys) {
    const values = runs.map((r) => r.extra[k]);
    if (values.every((v) => typeof v === 'number')) {
      const mean = (values as number[]).reduce((a, b) => a + b, 0) / values.length;
      out[k] = Math.round(mean * 10) / 10;
    } else out[k] = values.find((v) => v !== undefined) ?? null;
  }
  return out;
}

/** The per-seed line printed in the readable summary. */
export function describeRun(r: RunResult): string {
  const parts = [`seed ${r.seed}${r.lifeguard ? '' : ' (no lifeguard)'}`, `wall ${Math.round(r.wallMs)} ms`];
  if (r.detectDead.length > 0) parts.push(`dead everywhere ${ms(Math.max(...r.deadEverywhere, 0))} ms`);
  if (r.convergeMs !== null) parts.push(`converged ${ms(r.convergeMs)} ms`);
  parts.push(`false positives ${r.falsePositives}`, `suspicions ${r.suspicions}`);
  return parts.join(', ');
}
