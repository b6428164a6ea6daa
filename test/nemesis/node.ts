/**
 * One process of the nemesis LAN, driven over JSON lines on stdin/stdout.
 * argv[2] is a JSON spec {role: 'replica' | 'client', host, seeds}.
 *
 * Every role answers {cmd:'view'} with {view: {id, alive, greeter, heapUsed,
 * rss}}: the members its SWIM sees alive (itself included), the greeter node
 * ids its registry lists, and its heap (after a full GC when {gc: true}).
 *
 * A replica serves Greeter.Hello and is a member of queue group `workers` on
 * `nemesis.work`, printing {got: n, attempt} for every message it handles.
 *
 * The client drives load in windows: {cmd:'start', from} runs `inFlight` callers
 * (2 s timeout, default retries) making `callsPerSec` calls in all and publishes a numbered message
 * to `nemesis.work` every `publishEveryMs`, numbers counting up from `from`;
 * {cmd:'stop'} ends the window and prints {window: figures}.
 */
import { createInterface } from 'node:readline';
import { createService, silentLogger, MeshError } from '../../src/index.ts';
import { LatencyHistogram } from './histogram.ts';

interface Spec {
  role: 'replica' | 'client'; host: string; seeds: string[]; inFlight?: number; callsPerSec?: number; timeoutMs?: number; publishEveryMs?: number;
}
const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const out = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};
const gc = (globalThis as { gc?: () => void }).gc;

const svc = createService({
  name: spec.role === 'replica' ? 'greeter' : 'load', address: `${spec.host}:0`, logger: silentLogger,
  mesh: { gossipAddress: `${spec.host}:7946`, mdns: false, join: spec.seeds.filter((s) => !s.startsWith(`${spec.host}:`)), rejoinIntervalMs: 5000 },
});
if (spec.role === 'replica') {
  svc.handle('Greeter', { Hello: (req: { name: string }) => ({ msg: `Hello ${req.name}` }) });
  svc.subscribe('nemesis.work', (m: { n: number }, ctx) => out({ got: m.n, attempt: ctx.deliveryAttempt }), { queue: 'workers' });
}
await svc.start();
out({ started: true, id: svc.id });

async function view(collect: boolean): Promise<void> {
  if (collect) gc?.();
  const mem = process.memoryUsage();
  const alive = svc.mesh!.swim.members().filter((m) => m.state === 'alive').map((m) => m.id);
  const greeter = (await svc.registry.getService('greeter')).flatMap((s) => s.nodes.map((n) => n.id));
  out({ view: { id: svc.id, alive: [...new Set([svc.id, ...alive])].sort(), greeter: [...new Set(greeter)].sort(), heapUsed: mem.heapUsed, rss: mem.rss } });
}

/** One load window of the client. */
class Window {
  running = true;
  calls = 0;
  failures: Record<string, number> = {};
  readonly latency = new LatencyHistogram();
  private readonly t0 = performance.now();
  private last = 0;
  longestGapMs = 0;
  /** When the longest gap began, ms into the window. */
  gapAtMs = 0;
  private readonly stats0 = svc.stats();
  published = 0;
  publishFailures: Record<string, number> = {};
  private readonly done: Promise<unknown>;
  private next: number;

  constructor(next: number) {
    this.next = next;
    const workers = Array.from({ length: spec.inFlight ?? 64 }, () => this.worker());
    this.done = Promise.all([...workers, this.publisher()]);
  }

  private completed(now: number): void {
    const at = now - this.t0;
    // The first 500 ms are the load ramping up, not a stall.
    if (this.last > 500 && at - this.last > this.longestGapMs) {
      this.longestGapMs = at - this.last;
      this.gapAtMs = this.last;
    }
    this.last = at;
  }

  private async worker(): Promise<void> {
    // Paced: each worker starts a call every inFlight / callsPerSec seconds, so the load leaves CPU to spare on two
    // cores and a stall measured is the mesh's, not the scheduler's.
    const everyMs = ((spec.inFlight ?? 64) / (spec.callsPerSec ?? 4000)) * 1000;
    let due = performance.now() + Math.random() * everyMs;
    while (this.running) {
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      due = Math.max(due + everyMs, performance.now() - everyMs);
      const s = performance.now();
      try {
        await svc.client.call('greeter', 'Greeter.Hello', { name: 'Ada' }, { timeoutMs: spec.timeoutMs ?? 2000 });
        const now = performance.now();
        this.calls++;
        this.latency.record(now - s);
        this.completed(now);
      } catch (err) {
        const code = err instanceof MeshError ? err.code : String(err);
        this.failures[code] = (this.failures[code] ?? 0) + 1;
      }
    }
  }

  private async publisher(): Promise<void> {
    while (this.running) {
      const n = this.next;
      try {
        await svc.client.publish('nemesis.work', { n });
        this.next++;
        this.published++;
      } catch (err) {
        const code = err instanceof MeshError ? err.code : String(err);
        this.publishFailures[code] = (this.publishFailures[code] ?? 0) + 1;
      }
      await new Promise((r) => setTimeout(r, spec.publishEveryMs ?? 10));
    }
  }

  async stop(): Promise<object> {
    this.running = false;
    await this.done;
    this.completed(performance.now());
    const failed = Object.values(this.failures).reduce((a, b) => a + b, 0);
    const st = svc.stats();
    const rpc = Object.fromEntries((['retries', 'timeouts', 'silentPeers', 'silenceTimeouts'] as const).map((k) => [k, (st[k] ?? 0) - (this.stats0[k] ?? 0)]));
    return {
      calls: this.calls + failed, failed, failures: this.failures, longestGapMs: Math.round(this.longestGapMs), gapAtMs: Math.round(this.gapAtMs), rpc,
      p50Ms: this.latency.quantile(0.5), p99Ms: this.latency.quantile(0.99), maxMs: this.latency.max(),
      published: this.published, publishedUpTo: this.next, publishFailures: this.publishFailures,
    };
  }
}

let window: Window | undefined;
createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { cmd: string; from?: number; gc?: boolean };
  void (async () => {
    if (cmd.cmd === 'view') await view(cmd.gc === true);
    else if (cmd.cmd === 'start' && spec.role === 'client') window = new Window(cmd.from ?? 0);
    else if (cmd.cmd === 'stop' && window !== undefined) {
      const w = window;
      window = undefined;
      out({ window: await w.stop() });
    }
  })().catch((err: unknown) => out({ error: String(err) }));
});
process.on('SIGTERM', () => {
  void svc.stop().then(() => process.exit(0));
});
