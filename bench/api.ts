// HTTP API gateway benchmark: POST {"name":"Ada"} → {"msg":"Hello Ada"} with
// autocannon (bench/api-load.ts, its own process) over 64 keep-alive
// connections on 127.0.0.1, against
//   bare           a node:http server answering the same JSON itself (the limit)
//   moleculer-web  moleculer-web's ApiGateway broker → Moleculer TCP transporter → greeter service process
//   micromesh-api  micromesh/api's gateway → micromesh RPC (static registry) → greeter service process
// Subjects run in their own processes (bench/api-server.ts). Rows are
// interleaved over several rounds and each row reports its median round, so
// every row sees the same machine load; every round validates one response
// before measuring.
//   npm run bench:api -- [--json] [--rows bare,moleculer-web,micromesh-api]
//     [--rounds 3] [--seconds 5] [--warmup 1] [--connections 64]
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, isDeepStrictEqual } from 'node:util';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rows: { type: 'string', default: 'bare,moleculer-web,micromesh-api' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '64' },
  },
});
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const log = (s: string): void => { if (!values.json) console.error(s); };

/** Every child still running: killed when the driver exits, however it exits. */
const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

function node(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  live.add(child);
  child.on('close', () => live.delete(child));
  return child;
}

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} (${ms} ms)`)), ms); })])
    .finally(() => clearTimeout(timer));
}

/** The subject declined to run (micromesh/api not there yet). */
class Skip extends Error {}

interface Proc { mode: string; address: string; ask(what: 'rss' | 'cpu'): Promise<number[]>; stop(): Promise<void> }

/** Starts one bench/api-server.ts process and waits for its READY line. */
async function startProc(mode: string, arg?: string): Promise<Proc> {
  const child = node([here('./api-server.ts'), mode, ...(arg === undefined ? [] : [arg])]);
  const waiters: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  let closed = false;
  createInterface({ input: child.stdout! }).on('line', (l) => waiters.shift()?.resolve(l));
  const exited = new Promise<void>((resolve) => child.on('close', (code, signal) => {
    closed = true;
    for (const w of waiters.splice(0)) w.reject(new Error(`${mode} exited (${signal ?? `code ${code}`})`));
    resolve();
  }));
  const next = (): Promise<string> => new Promise((resolve, reject) => {
    if (closed) reject(new Error(`${mode} has exited`));
    else waiters.push({ resolve, reject });
  });
  const first = await timeout(next(), 30_000, `${mode} did not print READY`);
  if (first.startsWith('SKIP ')) throw new Skip(first.slice(5));
  if (!first.startsWith('READY ')) throw new Error(`${mode}: unexpected first line ${JSON.stringify(first)}`);
  return {
    mode,
    address: first.slice(6),
    async ask(what) {
      const p = next();
      child.stdin!.write(`${what}\n`);
      return (await timeout(p, 10_000, `${mode} did not answer ${what}`)).split(' ').slice(1).map(Number);
    },
    async stop() {
      child.stdin!.end();
      await timeout(exited, 5_000, `${mode} did not exit`).catch(() => { child.kill('SIGKILL'); });
    },
  };
}

/** One POST before measuring: the row must answer 200 and exactly {"msg":"Hello Ada"}. */
function validate(address: string): Promise<void> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const body = JSON.stringify({ name: 'Ada' });
  return timeout(new Promise<void>((resolve, reject) => {
    const req = http.request({
      host, port, path: '/greeter/hello', method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try { parsed = JSON.parse(text); } catch { /* reported below */ }
        if (res.statusCode === 200 && isDeepStrictEqual(parsed, { msg: 'Hello Ada' })) resolve();
        else reject(new Error(`validation: POST /greeter/hello answered ${res.statusCode} ${JSON.stringify(text)}`));
      });
    });
    req.on('error', reject);
    req.end(body);
  }), 10_000, 'validation request timed out');
}

interface Row { name: string; service?: string; gateway: string }
const ROWS: Row[] = [
  { name: 'bare', gateway: 'bare' },
  { name: 'moleculer-web', service: 'moleculer-service', gateway: 'moleculer-web' },
  { name: 'micromesh-api', service: 'micromesh-service', gateway: 'micromesh-api' },
];

interface Sample {
  rps: number; p50_ms: number; p99_ms: number; non2xx: number; errors: number;
  gateway_rss_mb: number; service_rss_mb: number | null; server_cpu_us_per_req: number;
  gateway_cpu_us_per_req: number; service_cpu_us_per_req: number | null; load_cpu_us_per_req: number;
}

async function runRow(row: Row): Promise<Sample> {
  const procs: Proc[] = [];
  try {
    const service = row.service === undefined ? undefined : await startProc(row.service);
    if (service) procs.push(service);
    const gateway = await startProc(row.gateway, service?.address);
    procs.push(gateway);
    await validate(gateway.address);

    const load = node([here('./api-load.ts'), gateway.address, values.connections!, values.warmup!, values.seconds!]);
    let last = '';
    let cpuStart: Promise<number[][]> | undefined;
    let cpuEnd: Promise<number[][]> | undefined;
    createInterface({ input: load.stdout! }).on('line', (line) => {
      if (line === 'MEASURE') cpuStart = Promise.all(procs.map((p) => p.ask('cpu')));
      else if (line === 'MEASURED') cpuEnd = Promise.all(procs.map((p) => p.ask('cpu')));
      else last = line;
    });
    const limit = (Number(values.warmup) + Number(values.seconds)) * 1000 + 60_000;
    const code = await timeout(new Promise<number | null>((r) => load.on('close', (c) => r(c))), limit, 'load generator did not finish');
    if (code !== 0 || !cpuStart || !cpuEnd) throw new Error(`load generator failed (exit code ${code})`);
    const r = JSON.parse(last) as { requests: number; seconds: number; p50_ms: number; p99_ms: number; non2xx: number; errors: number; timeouts: number; cpu_us: number };
    const [start, end] = [await cpuStart, await cpuEnd];
    const cpu = end.map((e, i) => (e[0]! - start[i]![0]!) / r.requests);
    const gatewayCpu = cpu[procs.indexOf(gateway)]!;
    const serviceCpu = service ? cpu[procs.indexOf(service)]! : null;
    const [gatewayRss] = await gateway.ask('rss');
    const serviceRss = service ? (await service.ask('rss'))[0]! : null;
    return {
      rps: r.requests / r.seconds, p50_ms: r.p50_ms, p99_ms: r.p99_ms, non2xx: r.non2xx, errors: r.errors,
      gateway_rss_mb: gatewayRss! / 2 ** 20, service_rss_mb: serviceRss === null ? null : serviceRss / 2 ** 20,
      server_cpu_us_per_req: gatewayCpu + (serviceCpu ?? 0), gateway_cpu_us_per_req: gatewayCpu, service_cpu_us_per_req: serviceCpu,
      load_cpu_us_per_req: r.cpu_us / r.requests,
    };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

const wanted = values.rows!.split(',').map((s) => s.trim()).filter(Boolean);
for (const w of wanted) if (!ROWS.some((r) => r.name === w)) throw new Error(`unknown row ${w} (rows: ${ROWS.map((r) => r.name).join(', ')})`);
let rows = ROWS.filter((r) => wanted.includes(r.name));
const skipped = new Map<string, string>();
const failures: string[] = [];
const samples = new Map<string, Sample[]>();
/** req/s by round (undefined where a round failed), for same-round ratios. */
const byRound = new Map<string, (number | undefined)[]>();

for (let round = 0; round < Number(values.rounds); round++) {
  for (const row of rows) {
    try {
      const s = await runRow(row);
      samples.set(row.name, [...(samples.get(row.name) ?? []), s]);
      const perRound = byRound.get(row.name) ?? [];
      perRound[round] = s.rps;
      byRound.set(row.name, perRound);
      const bad = s.non2xx + s.errors > 0 ? `, ${s.non2xx} non-2xx, ${s.errors} errors` : '';
      log(`round ${round + 1} ${row.name}: ${Math.round(s.rps)} req/s, p50 ${s.p50_ms} ms, p99 ${s.p99_ms} ms${bad}`);
    } catch (err) {
      if (err instanceof Skip) {
        skipped.set(row.name, err.message);
        console.error(`skipping ${row.name}: ${err.message}`);
      } else {
        failures.push(`round ${round + 1} ${row.name}: ${(err as Error).message}`);
        console.error(`round ${round + 1} ${row.name}: failed: ${(err as Error).message}`);
      }
    }
  }
  rows = rows.filter((r) => !skipped.has(r.name));
}

const r1 = (x: number): number => Math.round(x * 10) / 10;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const results = rows.filter((row) => samples.has(row.name)).map((row) => {
  const ss = samples.get(row.name)!;
  // The median round by throughput, reported whole so its figures belong together.
  const m = [...ss].sort((a, b) => a.rps - b.rps)[Math.floor(ss.length / 2)]!;
  const non2xx = ss.reduce((n, s) => n + s.non2xx, 0);
  const errors = ss.reduce((n, s) => n + s.errors, 0);
  return {
    name: row.name, rps: Math.round(m.rps), p50_ms: m.p50_ms, p99_ms: m.p99_ms,
    // Totals over every round, not only the median one: any is a failure of the row.
    non2xx, errors, ok: non2xx + errors === 0,
    rss_mb: r1(m.gateway_rss_mb + (m.service_rss_mb ?? 0)), gateway_rss_mb: r1(m.gateway_rss_mb),
    service_rss_mb: m.service_rss_mb === null ? null : r1(m.service_rss_mb),
    server_cpu_us_per_req: r1(m.server_cpu_us_per_req), gateway_cpu_us_per_req: r1(m.gateway_cpu_us_per_req),
    service_cpu_us_per_req: m.service_cpu_us_per_req === null ? null : r1(m.service_cpu_us_per_req), load_cpu_us_per_req: r1(m.load_cpu_us_per_req),
    rounds: ss.length, rps_rounds: ss.map((s) => Math.round(s.rps)),
  } as Record<string, unknown> & { name: string; rps: number; ok: boolean };
});

const find = (name: string) => results.find((x) => x.name === name);
/** The median of same-round ratios: rows of one round ran back to back, so they saw the same machine load. */
function paired(name: string, base: string): number | null {
  const mine = byRound.get(name) ?? [];
  const theirs = byRound.get(base) ?? [];
  const rs = mine.flatMap((v, i) => (v !== undefined && theirs[i] ? [v / theirs[i]!] : [])).sort((a, b) => a - b);
  return rs.length === 0 ? null : r2(rs[Math.floor(rs.length / 2)]!);
}
const ratio = (name: string, base: string): number | null => {
  const [a, b] = [find(name), find(base)];
  return a && b ? r2(a.rps / b.rps) : null;
};
for (const r of results) {
  if (r.name !== 'bare') Object.assign(r, { rps_vs_bare: ratio(r.name, 'bare'), rps_vs_bare_paired: paired(r.name, 'bare') });
  if (r.name === 'micromesh-api') {
    Object.assign(r, { rps_vs_moleculer_web: ratio(r.name, 'moleculer-web'), rps_vs_moleculer_web_paired: paired(r.name, 'moleculer-web') });
  }
}

if (values.json) for (const r of results) console.log(JSON.stringify(r));
else console.table(results.map(({ rps_rounds: _r, ...rest }) => rest));

// Goals: micromesh-api ≥ 2× moleculer-web's req/s and ≥ 0.5× bare's (same run, median rounds).
const goal = (base: string, want: number): string => {
  const v = ratio('micromesh-api', base);
  if (v === null) return `vs ${base}: not measured (goal ≥ ${want}×)`;
  return `${v}× ${base} (paired ${paired('micromesh-api', base)}×; goal ≥ ${want}×: ${v >= want ? 'met' : 'NOT met'})`;
};
const summary = find('micromesh-api') === undefined
  ? `goals: micromesh-api ${skipped.has('micromesh-api') ? `skipped (${skipped.get('micromesh-api')})` : 'not measured'}`
  : `goals: micromesh-api ${goal('moleculer-web', 2)}, ${goal('bare', 0.5)}`;
(values.json ? console.error : console.log)(summary);
const dirty = results.filter((r) => !r.ok).map((r) => r.name);
if (dirty.length > 0) console.error(`WARNING: non-2xx responses or errors in ${dirty.join(', ')}: their figures do not count`);
if (failures.length > 0) console.error(`WARNING: ${failures.length} failed row run(s):\n  ${failures.join('\n  ')}`);
process.exitCode = dirty.length > 0 || failures.length > 0 ? 1 : 0;
