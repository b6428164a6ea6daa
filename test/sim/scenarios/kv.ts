// `kv`: the key/value store (issue 22) at N nodes. Every node runs a real
// MeshKv over real RPC (see ../kv.ts); after a warmup and a quiet window
// that measures the background (anti-entropy rounds, keepalives), one
// write (or --kv-writes K, --kv-every apart, each from a random node) is
// timed until every node holds it, and its bytes are counted: the wire bytes
// of its window minus the background's rate over the same time.
import { max, ms, percentile, type RunResult } from '../figures.ts';
import { runEvents, snapshotTally, startKvNodes, wireBytes, type CallTally, type KvSimNode } from '../kv.ts';
import type { Sim } from '../sim.ts';

/** Longest a write may take to reach everyone before the run gives up on it. */
const REACH_LIMIT_MS = 300_000;
const DEFAULT_WARMUP_MS = 10_000;

/** Per node: when it first held `key`, ms after `t0` (NaN until then), tracked through its watch. */
function track(nodes: readonly KvSimNode[], key: string, now: () => number, t0: number): { at: Float64Array; count: number; stop(): void } {
  const out = { at: new Float64Array(nodes.length).fill(Number.NaN), count: 0, stop: () => {} };
  const watchers = nodes.map((n, i) => {
    const w = n.kv.watch(key);
    void (async () => {
      for await (const ev of w) {
        if (ev.type !== 'put') continue;
        out.at[i] = now() - t0;
        out.count++;
        break;
      }
      w.stop();
    })();
    return w;
  });
  out.stop = () => {
    for (const w of watchers) w.stop();
  };
  return out;
}

export async function kv(sim: Sim): Promise<void> {
  const o = sim.o;
  const clock = sim.cluster.clock;
  const tally: CallTally = new Map();
  const tStart = performance.now();
  const nodes = await startKvNodes(sim, { fanout: o.kvFanout, antiEntropyIntervalMs: o.kvAntiEntropyMs }, tally);
  sim.bootstrapWallMs = performance.now() - tStart;
  const n = nodes.length;
  try {
    // Warmup: anti-entropy rounds open the first connections, as in a cluster that has been up a while.
    await runEvents(clock, () => false, o.warmupMs ?? DEFAULT_WARMUP_MS);
    const b0 = wireBytes(nodes);
    const q0 = clock.now();
    await runEvents(clock, () => false, o.kvEveryMs);
    const background = (wireBytes(nodes) - b0) / (clock.now() - q0); // bytes per ms, whole cluster
    sim.extra.kv_background_bytes_per_node_per_s = Math.round((background * 1000) / n);

    sim.beginMeasure();
    const before = snapshotTally(tally);
    const value = new Uint8Array(o.kvValueBytes).fill(0x61);
    const all: number[] = [];
    const reach: number[] = [];
    const puts: number[] = [];
    const bytes: number[] = [];
    let unreached = 0;
    let putFailures = 0;
    for (let w = 0; w < o.kvWrites; w++) {
      const writer = nodes[sim.random.int(n)]!;
      const key = `sim/kv-${String(w).padStart(6, '0')}`;
      const t0 = clock.now();
      const bytes0 = wireBytes(nodes);
      const got = track(nodes, key, () => clock.now(), t0);
      let putDone = false;
      writer.kv.put(key, value).then(
        () => puts.push(clock.now() - t0),
        () => putFailures++,
      ).finally(() => {
        putDone = true;
      });
      const ok = await runEvents(clock, () => got.count === n && putDone, REACH_LIMIT_MS);
      got.stop();
      if (ok) all.push(max([...got.at])!);
      unreached += n - got.count;
      for (const t of got.at) if (!Number.isNaN(t)) reach.push(t);
      // The rest of the window: replies in flight, late forwards.
      await runEvents(clock, () => false, Math.max(0, t0 + o.kvEveryMs - clock.now()));
      bytes.push(wireBytes(nodes) - bytes0 - background * (clock.now() - t0));
    }
    sim.endMeasure();
    for (const x of all) sim.disseminate.push(x);
    sim.samples.kv_all_ms = all;
    sim.samples.kv_node_ms = reach;
    sim.samples.kv_put_ms = puts;
    sim.samples.kv_write_bytes = bytes;
    sim.extra.kv_unreached = unreached;
    sim.extra.kv_put_failures = putFailures;
    for (const [name, t] of tally) {
      const b = before.get(name) ?? { calls: 0, failed: 0, payloadBytes: 0 };
      const slug = name.replace(/^Kv\./, '').toLowerCase().replace(/\./g, '_');
      sim.extra[`kv_calls_per_write_${slug}`] = (t.calls - b.calls) / o.kvWrites;
      sim.extra[`kv_failed_per_write_${slug}`] = (t.failed - b.failed) / o.kvWrites;
      sim.extra[`kv_payload_bytes_per_write_${slug}`] = Math.round((t.payloadBytes - b.payloadBytes) / o.kvWrites);
    }
    const fetched = nodes.reduce((s, x) => s + x.kv.stats().fetched, 0);
    sim.extra.kv_repaired_by_anti_entropy_per_write = (fetched + (tally.get('Kv.Replicate.repair')?.calls ?? 0) - (before.get('Kv.Replicate.repair')?.calls ?? 0)) / o.kvWrites;
    sim.extra.kv_connections = nodes.reduce((s, x) => s + x.stats.get('connectionsOpened'), 0);
    // Open at the end, per node (each connection counted at both ends): idle ones close after rpc.idleTimeoutMs.
    const open = nodes.reduce((s, x) => s + x.stats.get('connectionsOpened') + x.stats.get('connectionsAccepted') - x.stats.get('connectionsClosed'), 0);
    sim.extra.kv_open_connections_per_node = Math.round((open / n) * 10) / 10;
  } finally {
    await sim.drive(Promise.all(nodes.map((x) => x.stop())), 30_000).catch(() => {});
  }
}

/** The kv figures of the report, samples pooled across seeds. */
export function kvReport(runs: readonly RunResult[], nodes: number): Record<string, unknown> {
  const pool = (k: string): number[] => runs.flatMap((r) => r.samples?.[k] ?? []);
  const all = pool('kv_all_ms');
  const reach = pool('kv_node_ms');
  const puts = pool('kv_put_ms');
  const bytes = pool('kv_write_bytes');
  const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
  const meanBytes = mean(bytes);
  return {
    kv_writes: all.length,
    kv_all_p50_ms: ms(percentile(all, 50)),
    kv_all_p90_ms: ms(percentile(all, 90)),
    kv_all_p99_ms: ms(percentile(all, 99)),
    kv_all_max_ms: ms(max(all)),
    kv_node_p50_ms: ms(percentile(reach, 50)),
    kv_node_p90_ms: ms(percentile(reach, 90)),
    kv_node_p99_ms: ms(percentile(reach, 99)),
    kv_put_p50_ms: ms(percentile(puts, 50)),
    kv_put_max_ms: ms(max(puts)),
    kv_write_bytes_total: meanBytes === null ? null : Math.round(meanBytes),
    kv_write_bytes_per_node: meanBytes === null ? null : Math.round(meanBytes / nodes),
  };
}
