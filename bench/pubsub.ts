// Pubsub benchmark: one publisher and 1 or 4 subscribers, each in its own
// process on 127.0.0.1, 100-byte messages, 1 and 64 messages in flight, for
// NATS (Debian's nats-server, started and stopped here, with the `nats`
// client), stock libp2p gossipsub (signed, default options), and
// micromesh's gossip, direct and NATS brokers (NatsBroker on the same
// nats-server). The `-queue` systems make the subscribers one queue group
// (each message to one of them): core NATS queue subscriptions for `nats`,
// JetStream with PubAck and explicit acks for `micromesh-nats`. Rows are interleaved over several
// rounds and each row reports its median round (by msgs/s), so all systems
// see the same machine load. bench/pubsub/node.ts defines "in flight" and
// how latency is measured.
//   npm run bench:pubsub -- [--json] [--rounds 3] [--seconds 3] [--warmup 1]
//     [--systems nats,gossipsub-stock,micromesh-gossip,micromesh-direct,micromesh-nats,nats-queue,micromesh-nats-queue]
//     [--subscribers 1,4] [--inflight 1,64]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isQueue, usesNats, type Config, type System } from './pubsub/adapters.ts';
import { Coordinator } from '../test/pubsub/coordinator.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    systems: { type: 'string', default: 'nats,gossipsub-stock,micromesh-gossip,micromesh-direct,micromesh-nats,nats-queue,micromesh-nats-queue' },
    subscribers: { type: 'string', default: '1,4' },
    inflight: { type: 'string', default: '1,64' },
  },
});
const NODE = fileURLToPath(new URL('./pubsub/node.ts', import.meta.url));
const ROW_LIMIT_MS = 90_000;
const log = (s: string): void => void (values.json ? undefined : console.error(s));

interface Sample {
  msgs_per_s: number; deliveries_per_s: number; p50_us: number; p99_us: number; rss_mb: number;
  first_delivery_ms: number; server_rss_mb: number | undefined;
}

/**
 * `n` distinct free ports, drawn below the kernel's ephemeral range
 * (net.ipv4.ip_local_port_range). A port from inside it, freed for a child
 * to bind, can meanwhile become the local port of some outgoing connection
 * (a dial, an ack channel), and the child's bind then fails with EADDRINUSE;
 * one publisher died that way. Below the range only an explicit bind can
 * take it. All are held open until every one is known, so they are distinct.
 */
async function freePorts(n: number): Promise<number[]> {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const top = Math.min(low ?? 32768, 32768) - 1;
  const bottom = Math.max(1024, top - 12_000);
  const held: ReturnType<typeof createServer>[] = [];
  const ports: number[] = [];
  for (let tries = 0; ports.length < n; tries++) {
    if (tries > 1000) throw new Error(`no ${n} free ports in ${bottom}-${top}`);
    const port = bottom + Math.floor(Math.random() * (top - bottom + 1));
    if (ports.includes(port)) continue;
    const s = createServer();
    const ok = await new Promise<boolean>((r) => s.once('error', () => r(false)).listen(port, '127.0.0.1', () => r(true)));
    if (!ok) continue;
    held.push(s);
    ports.push(port);
  }
  await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

async function waitPort(port: number, limitMs = 10_000): Promise<void> {
  const start = performance.now();
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); r(true); }).once('error', () => r(false));
    });
    if (ok) return;
    if (performance.now() - start > limitMs) throw new Error(`port ${port} never opened`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

interface Proc {
  child: ChildProcess; next(): Promise<Record<string, any>>; end(): Promise<void>; markEnding(): void;
  /** Rejects if the process exits before it was told to end (so a row fails at once instead of at ROW_LIMIT_MS). */
  died: Promise<never>;
}

function spawnNode(cfg: Config): Proc {
  // BENCH_PROFILE=pub|sub writes V8 CPU profiles of that role to /tmp/pubsub-prof; BENCH_PERF=1 lets `perf` name JS
  // functions (--perf-basic-prof). For optimising, not for the table.
  const prof = process.env.BENCH_PROFILE === cfg.role ? ['--cpu-prof', '--cpu-prof-dir=/tmp/pubsub-prof'] : process.env.BENCH_PERF ? ['--perf-basic-prof'] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', NODE, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin!.on('error', () => {}); // it may exit between our check and our write
  let ending = false;
  let died!: (err: Error) => void;
  const diedP = new Promise<never>((_, reject) => { died = reject; });
  diedP.catch(() => {}); // observed through runRow's race; unobserved when the row ends first
  child.once('exit', (code, signal) => {
    if (ending) return;
    const what = `${cfg.system} ${cfg.role}${cfg.index} exited early (code ${code}, signal ${signal})`;
    log(`  ${what}`);
    died(new Error(what));
  });
  const queue: Record<string, any>[] = [];
  const waiters: ((v: Record<string, any>) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let v: Record<string, any>;
    try {
      v = JSON.parse(line);
    } catch {
      return;
    }
    const w = waiters.shift();
    if (w) w(v);
    else queue.push(v);
  });
  return {
    child,
    died: diedP,
    markEnding: () => { ending = true; },
    next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((r) => waiters.push(r))),
    async end() {
      ending = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin!.write('end\n');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Resolves with the next message matching `pred`, skipping others. */
async function nextWhere(p: Proc, pred: (v: Record<string, any>) => boolean): Promise<Record<string, any>> {
  for (;;) {
    const v = await p.next();
    if (pred(v)) return v;
  }
}

function withLimit<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => { t = setTimeout(() => reject(new Error(`${what}: no result in ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
}

async function runRow(system: System, subscribers: number, inflight: number): Promise<Sample> {
  // Ack port, NATS port, one libp2p port per process: distinct.
  const ports = await freePorts(3 + subscribers);
  const base = { system, subscribers, inflight, warmup: Number(values.warmup), seconds: Number(values.seconds), ackPort: ports[0]! };
  const extra: Partial<Config> = {};
  let server: ChildProcess | undefined;
  let coord: Coordinator | undefined;
  let storeDir: string | undefined;
  if (usesNats(system)) {
    extra.natsPort = ports[1]!;
    // JetStream (file store in a fresh directory) for NatsBroker's queue groups; the plain NATS rows run without it.
    const js = system.startsWith('micromesh-nats') ? ['-js', '-sd', (storeDir = mkdtempSync(join(tmpdir(), 'bench-nats-')))] : [];
    server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(extra.natsPort), ...js], { stdio: 'ignore' });
    await waitPort(extra.natsPort);
  } else if (system === 'gossipsub-stock') {
    extra.libp2pPorts = ports.slice(2);
  } else {
    coord = new Coordinator();
    await coord.listen();
    extra.coordinator = coord.address;
  }
  const t0 = process.hrtime.bigint();
  const pub = spawnNode({ ...base, ...extra, role: 'pub', index: 0 });
  const subs = Array.from({ length: subscribers }, (_, i) => spawnNode({ ...base, ...extra, role: 'sub', index: i + 1 }));
  try {
    const anyDied = Promise.race([pub, ...subs].map((p) => p.died));
    const result = await withLimit(Promise.race([nextWhere(pub, (v) => v.completed !== undefined), anyDied]), ROW_LIMIT_MS, `${system} ${subscribers}/${inflight}`);
    const serverRss = server?.pid === undefined ? undefined : rssOf(server.pid);
    const subResults = await withLimit(Promise.all(subs.map(async (s) => {
      const r = nextWhere(s, (v) => v.measured !== undefined);
      s.markEnding();
      s.child.stdin!.write('end\n');
      return r;
    })), 20_000, `${system} ${subscribers}/${inflight} subscriber results`);
    const samples = subResults.flatMap((r) => r.samples as number[]).sort((a, b) => a - b);
    const pct = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
    const firsts = subResults.map((r) => Number(BigInt(r.first) - t0) / 1e6);
    const msgs = result.completed / result.seconds;
    return {
      msgs_per_s: msgs, deliveries_per_s: msgs * (isQueue(system) ? 1 : subscribers), p50_us: pct(0.5), p99_us: pct(0.99),
      rss_mb: Math.max(result.rss, ...subResults.map((r) => r.rss)) / 2 ** 20,
      first_delivery_ms: Math.max(...firsts), server_rss_mb: serverRss === undefined ? undefined : serverRss / 2 ** 20,
    };
  } finally {
    await Promise.all([pub, ...subs].map((p) => p.end()));
    if (server !== undefined) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      await exited;
    }
    await coord?.close();
    if (storeDir !== undefined) rmSync(storeDir, { recursive: true, force: true });
  }
}

const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
const rows = list(values.subscribers!).flatMap((s) => list(values.inflight!).flatMap((f) =>
  list(values.systems!).map((name) => ({ name: name as System, subscribers: Number(s), inflight: Number(f) }))));
const samples = new Map<string, Sample[]>();
/** msgs/s by round (undefined where a round failed), for same-round ratios. */
const byRound = new Map<string, (number | undefined)[]>();
const keyOf = (r: { name: string; subscribers: number; inflight: number }): string => `${r.name}/${r.subscribers}/${r.inflight}`;
for (let round = 0; round < Number(values.rounds); round++) {
  for (const row of rows) {
    try {
      const s = await runRow(row.name, row.subscribers, row.inflight);
      samples.set(keyOf(row), [...(samples.get(keyOf(row)) ?? []), s]);
      const perRound = byRound.get(keyOf(row)) ?? [];
      perRound[round] = s.msgs_per_s;
      byRound.set(keyOf(row), perRound);
      log(`round ${round + 1} ${keyOf(row)}: ${Math.round(s.msgs_per_s)} msgs/s, ${Math.round(s.deliveries_per_s)} deliveries/s, p50 ${s.p50_us.toFixed(0)} µs, first ${s.first_delivery_ms.toFixed(0)} ms`);
    } catch (err) {
      log(`round ${round + 1} ${keyOf(row)}: failed: ${(err as Error).message}`);
    }
  }
}

const round1 = (x: number | undefined): number | null => (x === undefined || Number.isNaN(x) ? null : Math.round(x * 10) / 10);
const results = rows.map((row) => {
  const ss = samples.get(keyOf(row)) ?? [];
  const m = [...ss].sort((a, b) => a.msgs_per_s - b.msgs_per_s)[Math.floor(ss.length / 2)];
  return {
    name: row.name, subscribers: row.subscribers, inflight: row.inflight,
    msgs_per_s: m ? Math.round(m.msgs_per_s) : null, deliveries_per_s: m ? Math.round(m.deliveries_per_s) : null,
    p50_us: round1(m?.p50_us), p99_us: round1(m?.p99_us), rss_mb: round1(m?.rss_mb), first_delivery_ms: round1(m?.first_delivery_ms),
    server_rss_mb: round1(m?.server_rss_mb), rounds: ss.length, msgs_per_s_rounds: ss.map((s) => Math.round(s.msgs_per_s)),
  };
});
for (const r of results) {
  const ref = (name: string) => results.find((x) => x.name === name && x.subscribers === r.subscribers && x.inflight === r.inflight);
  const ratio = (a: number | null, b: number | null | undefined): number | null => (a === null || !b ? null : Math.round((a / b) * 100) / 100);
  // Also the median of same-round ratios: rows of one round run back to back and see the same machine load.
  const paired = (name: string): number | null => {
    const mine = byRound.get(keyOf(r)) ?? [];
    const base = byRound.get(keyOf({ ...r, name })) ?? [];
    const rs = mine.flatMap((v, i) => (v !== undefined && base[i] ? [v / base[i]!] : [])).sort((a, b) => a - b);
    return rs.length === 0 ? null : Math.round(rs[Math.floor(rs.length / 2)]! * 100) / 100;
  };
  if (r.name === 'micromesh-direct') {
    Object.assign(r, { deliveries_vs_nats: ratio(r.deliveries_per_s, ref('nats')?.deliveries_per_s), vs_nats_paired: paired('nats') });
  }
  if (r.name === 'micromesh-nats') {
    Object.assign(r, { deliveries_vs_nats: ratio(r.deliveries_per_s, ref('nats')?.deliveries_per_s), vs_nats_paired: paired('nats') });
  }
  if (r.name === 'micromesh-nats-queue') {
    Object.assign(r, { deliveries_vs_nats: ratio(r.deliveries_per_s, ref('nats-queue')?.deliveries_per_s), vs_nats_paired: paired('nats-queue') });
  }
  if (r.name === 'micromesh-gossip') {
    Object.assign(r, { deliveries_vs_stock: ratio(r.deliveries_per_s, ref('gossipsub-stock')?.deliveries_per_s), vs_stock_paired: paired('gossipsub-stock') });
  }
}
if (values.json) for (const r of results) console.log(JSON.stringify(r));
else console.table(results.map(({ msgs_per_s_rounds: _x, ...rest }) => rest));
