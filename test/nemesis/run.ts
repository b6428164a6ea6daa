/**
 * `npm run nemesis`: a virtual LAN in network namespaces (a client host and
 * three greeter replica hosts), load on it (64 callers making 4,000 RPC calls a
 * second with a 2 s timeout, a queue-group message every 10 ms), and one fault at a time
 * (faults.ts). Prints one JSON line per fault, then a Markdown table, and
 * exits 1 if a goal is missed: zero failed calls and zero lost queue
 * messages for every fault (each leaves a replica reachable), the registry
 * of every live node agreeing with the live replicas after each, and no
 * process growing in memory across the suite.
 *   npm run nemesis -- [--only sigkill,partition] [--quick] [--json]
 * Needs root (network namespaces, nftables); MICROMESH_REQUIRE_NETNS is implied.
 */
import { parseArgs } from 'node:util';
import { netnsSupport } from '../support/netns.ts';
import { NemesisCluster, type Proc } from './cluster.ts';
import { FAULTS, type Fault } from './faults.ts';

const { values: args } = parseArgs({ options: {
  only: { type: 'string' }, quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
} });
const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// --quick shortens every hold to a third (a smoke run; the figures in the README use the full holds).
const hold = (ms: number): number => (args.quick ? Math.round(ms / 3) : ms);
const AGREE_CAP_MS = 90_000;

const support = await netnsSupport();
if (!support.ok) {
  log(`nemesis: this machine cannot build virtual LANs: ${support.reason}`);
  process.exit(2);
}
const only = args.only?.split(',');
const faults = FAULTS.filter((f) => only === undefined || only.includes(f.name));
if (only !== undefined && faults.length !== only.length) {
  log(`nemesis: unknown fault in --only (known: ${FAULTS.map((f) => f.name).join(', ')})`);
  process.exit(2);
}

interface Row {
  fault: string; calls: number; failed: number; failures: Record<string, number>; longestGapMs: number;
  /** Ms into the window: when the longest gap began, when the fault began and ended. */
  gapAtMs: number; faultMs: [number, number]; rpc: Record<string, number>;
  p50Ms: number; p99Ms: number; maxMs: number;
  queue: { published: number; handled: number; lost: number; duplicated: number };
  membershipOneMs: number | null; registryAgrees: boolean; notes?: Record<string, number | undefined>;
}

const cluster = await NemesisCluster.create(3, { inFlight: 64, callsPerSec: 4000, publishEveryMs: 10 });
const rows: Row[] = [];
/** Heap after GC of every live process, before each fault and at the end. */
const heapLog = new Map<Proc, number[]>();
let nextMessage = 0;
try {
  log('nemesis: LAN up; waiting for the mesh to agree');
  if ((await cluster.untilAgreed(AGREE_CAP_MS)) === undefined) throw new Error('the mesh never agreed at start');
  for (const f of [{ name: 'none', what: 'no fault (the baseline)', apply: async () => ({}) } as Fault, ...faults]) {
    log(`nemesis: ${f.name}: ${f.what}`);
    await sampleHeaps();
    rows.push(await runFault(f));
    log(JSON.stringify(rows.at(-1)));
    if (args.json) process.stdout.write(`${JSON.stringify(rows.at(-1))}\n`);
  }
  await sampleHeaps();
  const memory = memoryGrowth();
  const summary = { memory, goalsMet: goalsMet(memory) };
  if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(table(memory));
  process.exitCode = summary.goalsMet ? 0 : 1;
} finally {
  await cluster.destroy();
}

async function runFault(f: Fault): Promise<Row> {
  const from = nextMessage;
  cluster.client.p.send({ cmd: 'start', from });
  const t0 = performance.now();
  await sleep(3000);
  const faultAt = performance.now() - t0;
  const { notes } = await f.apply(cluster, hold);
  const faultMs: [number, number] = [Math.round(faultAt), Math.round(performance.now() - t0)];
  const oneMs = await cluster.untilAgreed(AGREE_CAP_MS);
  if (oneMs === undefined) {
    // What each process sees, to tell which holder of state disagrees.
    for (const p of cluster.live()) {
      const exit = p.p.child.exitCode ?? p.p.child.signalCode;
      log(`  ${p.p.label} ${p.id}: ${exit === null ? JSON.stringify(await p.view()) : `exited (${exit}): ${p.p.output.slice(-2000)}`}`);
    }
  }
  await sleep(3000);
  const at = cluster.client.p.messages.length;
  cluster.client.p.send({ cmd: 'stop' });
  const w = (await cluster.client.p.waitFor((m) => m.window !== undefined, 30_000, 'the window', at)).window as {
    calls: number; failed: number; failures: Record<string, number>; longestGapMs: number; gapAtMs: number; rpc: Record<string, number>;
    p50Ms: number; p99Ms: number; maxMs: number; published: number; publishedUpTo: number;
  };
  nextMessage = w.publishedUpTo;
  const queue = await drain(from, w.publishedUpTo);
  return {
    fault: f.name, calls: w.calls, failed: w.failed, failures: w.failures, longestGapMs: w.longestGapMs, gapAtMs: w.gapAtMs, faultMs, rpc: w.rpc,
    p50Ms: w.p50Ms, p99Ms: w.p99Ms, maxMs: w.maxMs, queue, membershipOneMs: oneMs ?? null,
    registryAgrees: oneMs !== undefined, ...(notes === undefined ? {} : { notes }),
  };
}

/** Waits (up to 45 s: past the ack timeout of 30 s) until every message of [from, to) was handled, then counts. */
async function drain(from: number, to: number): Promise<Row['queue']> {
  const count = (): { handled: number; unique: number } => {
    const seen = cluster.everyReplica.flatMap((r) => r.handled()).filter((n) => n >= from && n < to);
    return { handled: seen.length, unique: new Set(seen).size };
  };
  const t0 = performance.now();
  while (count().unique < to - from && performance.now() - t0 < 45_000) await sleep(200);
  const { handled, unique } = count();
  return { published: to - from, handled, lost: to - from - unique, duplicated: handled - unique };
}

async function sampleHeaps(): Promise<void> {
  for (const p of cluster.live()) {
    const v = await p.view(true, 10_000);
    if (v !== undefined) heapLog.set(p, [...(heapLog.get(p) ?? []), v.heapUsed]);
  }
}

/** First and last heap of every process sampled at least three times (it lived through two faults or more). */
function memoryGrowth(): { process: string; samples: number; startMiB: number; endMiB: number }[] {
  const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;
  return [...heapLog].filter(([, xs]) => xs.length >= 3)
    .map(([p, xs]) => ({ process: `${p.p.label} ${p.id}`, samples: xs.length, startMiB: mib(xs[0]!), endMiB: mib(xs.at(-1)!) }));
}

function goalsMet(memory: { startMiB: number; endMiB: number }[]): boolean {
  // Growth beyond 25 % + 8 MiB of the starting heap counts as growth (GC noise and lazily loaded code stay below it).
  const memOk = memory.every((m) => m.endMiB <= m.startMiB * 1.25 + 8);
  return memOk && rows.every((r) => r.failed === 0 && r.queue.lost === 0 && r.registryAgrees);
}

function table(memory: { process: string; startMiB: number; endMiB: number }[]): string {
  const lines = [
    '| fault | calls | failed | longest gap | p50 / p99 / max ms | queue published / lost / duplicated | membership one after |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.fault} | ${r.calls.toLocaleString('en')} | ${r.failed}${r.failed > 0 ? ` (${Object.entries(r.failures).map(([c, n]) => `${c} ${n}`).join(', ')})` : ''} | ${r.longestGapMs} ms | ${r.p50Ms} / ${r.p99Ms} / ${r.maxMs} | ${r.queue.published} / ${r.queue.lost} / ${r.queue.duplicated} | ${r.membershipOneMs === null ? 'never' : `${(r.membershipOneMs / 1000).toFixed(1)} s`} |`),
    '',
    `Heap after GC, start → end: ${memory.map((m) => `${m.process} ${m.startMiB} → ${m.endMiB} MiB`).join('; ')}.`,
    '',
  ];
  return lines.join('\n');
}
