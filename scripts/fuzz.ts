/**
 * `npm run fuzz`: throws a million mutated and random inputs at every
 * decoder (the targets of test/fuzz/targets.ts) and prints one JSON line per
 * target: inputs, accepted, rejected, crashes (throws outside the decoder's
 * contract, with a minimised reproducer in hex), unhandled rejections, and
 * the heap before and after against a bound.
 *
 *   npm run fuzz -- [--runs 1000000] [--seconds 600] [--target name,...] [--seed 1] [--heap-mb 64]
 *
 * Each target runs in a worker thread watched from here: a decoder that
 * stops making progress (an endless loop) for `--stall-seconds` is
 * terminated and reported as a hang, with the index range of the inputs
 * in flight (inputs are a pure function of `--seed`, so the range replays).
 * Exit code 1 when any target crashed, hung or grew the heap past the bound.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { nextInput, prng } from '../test/fuzz/mutate.ts';
import { TARGETS, type FuzzTarget } from '../test/fuzz/targets.ts';

interface Job { target: string; runs: number; seconds: number; seed: number }
interface Crash { error: string; input: string; minimized: string }
interface Report {
  target: string; inputs: number; accepted: number; rejected: number; crashes: Crash[]; crashCount: number;
  unhandledRejections: number; seconds: number; inputsPerSecond: number;
  heapBeforeMB: number; heapAfterMB: number; heapGrowthMB: number; heapBoundMB: number; hang?: string; ok: boolean;
}

const PROGRESS_EVERY = 1000;
const MAX_CRASHES_KEPT = 5;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const mb = (n: number): number => Math.round((n / 1048576) * 10) / 10;

/** What `err` says, for grouping crashes: its type and message. */
const describe = (err: unknown): string => (err instanceof Error ? `${err.constructor.name}: ${err.message}` : `thrown ${typeof err}: ${String(err)}`);

/** Crashes with `kind` still, on a shorter input: drop chunks, halving their size, until none can go. */
function minimize(t: FuzzTarget, input: Uint8Array, kind: string): Uint8Array {
  const still = (b: Uint8Array): boolean => {
    try {
      t.run(b);
      return false;
    } catch (err) {
      return !t.accepts(err) && describe(err).split(':')[0] === kind.split(':')[0];
    }
  };
  let cur = input;
  for (let chunk = Math.max(1, cur.length >> 1); chunk >= 1; chunk >>= 1) {
    for (let at = 0; at < cur.length;) {
      const next = new Uint8Array(cur.length - Math.min(chunk, cur.length - at));
      next.set(cur.subarray(0, at));
      next.set(cur.subarray(at + chunk), at);
      if (still(next)) cur = next;
      else at += chunk;
    }
  }
  return cur;
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * Worker side: runs one target, posting progress, then its counts. It
 * yields to the event loop between batches: decoders defer work (the RPC
 * writer flushes on process.nextTick), and a loop that never yields would
 * hold every input's state and never see an unhandled rejection.
 */
async function work(job: Job): Promise<void> {
  const t = TARGETS.find((x) => x.name === job.target)!;
  let unhandled = 0;
  process.on('unhandledRejection', () => unhandled++);
  const rnd = prng(job.seed);
  const before = heapUsed();
  const start = performance.now();
  const deadline = start + job.seconds * 1000;
  let accepted = 0;
  let rejected = 0;
  let crashCount = 0;
  const crashes = new Map<string, Crash>();
  let i = 0;
  for (; i < job.runs; i++) {
    if (i % PROGRESS_EVERY === 0) {
      await new Promise(setImmediate);
      parentPort!.postMessage({ progress: i });
      if (performance.now() > deadline) break;
    }
    const input = nextInput(t.seeds, rnd);
    try {
      if (t.run(input) === 'accepted') accepted++;
      else rejected++;
    } catch (err) {
      if (t.accepts(err)) {
        rejected++;
        continue;
      }
      crashCount++;
      const kind = describe(err);
      if (!crashes.has(kind) && crashes.size < MAX_CRASHES_KEPT) crashes.set(kind, { error: kind, input: hex(input), minimized: hex(minimize(t, input, kind)) });
    }
  }
  const seconds = (performance.now() - start) / 1000;
  await new Promise(setImmediate);
  const after = heapUsed();
  parentPort!.postMessage({
    done: {
      target: t.name, inputs: i, accepted, rejected, crashes: [...crashes.values()], crashCount, unhandledRejections: unhandled,
      seconds: Math.round(seconds * 10) / 10, inputsPerSecond: Math.round(i / seconds), heapBeforeMB: mb(before), heapAfterMB: mb(after),
      heapGrowthMB: mb(after - before),
    },
  });
}

/** Main side: one worker per target, in turn; a worker silent for `stallSeconds` is a hang. */
function runTarget(job: Job, stallSeconds: number, heapBoundMB: number): Promise<Report> {
  return new Promise((resolve) => {
    // V8 flags (--expose-gc) are the process's and reach workers anyway; Node refuses them in a worker's execArgv.
    const execArgv = process.execArgv.filter((a) => a !== '--expose-gc');
    const w = new Worker(new URL(import.meta.url), { workerData: job, execArgv });
    let last = 0;
    let lastAt = performance.now();
    const finish = (r: Omit<Report, 'heapBoundMB' | 'ok'>): void => {
      clearInterval(watch);
      const ok = r.crashCount === 0 && r.unhandledRejections === 0 && r.hang === undefined && r.heapGrowthMB <= heapBoundMB;
      resolve({ ...r, heapBoundMB, ok });
    };
    const watch = setInterval(() => {
      if (performance.now() - lastAt < stallSeconds * 1000) return;
      void w.terminate();
      finish({
        target: job.target, inputs: last, accepted: 0, rejected: 0, crashes: [], crashCount: 0, unhandledRejections: 0, seconds: 0, inputsPerSecond: 0,
        heapBeforeMB: 0, heapAfterMB: 0, heapGrowthMB: 0,
        hang: `no progress for ${stallSeconds} s: one of inputs ${last}..${last + PROGRESS_EVERY - 1} of --seed ${job.seed} never returned`,
      });
    }, 1000);
    w.on('message', (m: { progress?: number; done?: Omit<Report, 'heapBoundMB' | 'ok'> }) => {
      if (m.progress !== undefined) {
        last = m.progress;
        lastAt = performance.now();
      } else if (m.done !== undefined) finish(m.done);
    });
    w.on('error', (err) => finish({
      target: job.target, inputs: last, accepted: 0, rejected: 0, crashes: [{ error: describe(err), input: '', minimized: '' }], crashCount: 1,
      unhandledRejections: 0, seconds: 0, inputsPerSecond: 0, heapBeforeMB: 0, heapAfterMB: 0, heapGrowthMB: 0,
    }));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '1000000' }, seconds: { type: 'string', default: '600' }, target: { type: 'string' },
      seed: { type: 'string', default: '1' }, 'heap-mb': { type: 'string', default: '64' }, 'stall-seconds': { type: 'string', default: '10' },
    },
  });
  const num = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${v}`);
    return n;
  };
  const runs = num('runs', values.runs, 1);
  const seconds = num('seconds', values.seconds, 0.1);
  const seed = num('seed', values.seed, 0);
  const heapBoundMB = num('heap-mb', values['heap-mb'], 1);
  const stall = num('stall-seconds', values['stall-seconds'], 1);
  const names = values.target === undefined ? TARGETS.map((t) => t.name) : values.target.split(',');
  for (const n of names) if (!TARGETS.some((t) => t.name === n)) throw new Error(`--target: no target ${n}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  if ((globalThis as { gc?: unknown }).gc === undefined) process.stderr.write('warning: run with node --expose-gc for heap figures after a collection\n');
  let failed = 0;
  const started = performance.now();
  for (const name of names) {
    const r = await runTarget({ target: name, runs, seconds, seed }, stall, heapBoundMB);
    if (!r.ok) failed++;
    process.stdout.write(`${JSON.stringify(r)}\n`);
  }
  process.stdout.write(`${JSON.stringify({ targets: names.length, failed, seconds: Math.round((performance.now() - started) / 100) / 10 })}\n`);
  process.exitCode = failed > 0 ? 1 : 0;
}

if (isMainThread) await main();
else await work(workerData as Job);
