// RPC benchmark: micromesh client.call vs a raw length-prefixed TCP echo
// (the baseline) and a minimal promise-per-call CBOR RPC (the reference for
// what the framework's features cost),
// server and client in separate processes on 127.0.0.1, 50-byte requests,
// concurrency 1 and 64. Rows are interleaved over several rounds and each
// row reports its median round, so both sides see the same machine load.
//   npm run bench:rpc -- [--json] [--rounds 3] [--seconds 3] [--warmup 1] [--concurrency 1,64] [--only micromesh-off,micromesh-observed]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CODEC_ROWS, requestBytes } from './codecs.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1,64' },
    /** Comma-separated row names to run (default all; ratios need their baseline row in the list). */
    only: { type: 'string' },
  },
});
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
// BENCH_PROFILE=1 writes V8 CPU profiles of both processes to /tmp/rpc-prof (for optimising, not for the table).
const prof = process.env.BENCH_PROFILE === '1' ? ['--cpu-prof', '--cpu-prof-dir=/tmp/rpc-prof'] : [];
const node = (args: string[]): ChildProcess => spawn(process.execPath, [...prof, '--import', 'tsx', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });

interface Sample {
  rps: number; p50_us: number; p99_us: number; rss_mb: number; client_rss_mb: number;
  client_cpu_us_per_call: number; server_cpu_us_per_call: number;
  client_sys_us_per_call: number; server_sys_us_per_call: number;
}

interface ServerProc { child: ChildProcess; address: string; ask(what: 'rss' | 'cpu'): Promise<number[]> }

async function startServer(mode: string): Promise<ServerProc> {
  const child = node([here('./rpc-server.ts'), mode]);
  const lines = createInterface({ input: child.stdout! });
  const waiters: ((l: string) => void)[] = [];
  lines.on('line', (l) => waiters.shift()?.(l));
  const next = (): Promise<string> => new Promise((r) => waiters.push(r));
  const ready = await next();
  const address = ready.replace(/^READY /, '');
  return {
    child,
    address,
    async ask(what) {
      const p = next();
      child.stdin!.write(`${what}\n`);
      return (await p).split(' ').slice(1).map(Number);
    },
  };
}

async function runRow(mode: string, concurrency: number): Promise<Sample> {
  const server = await startServer(mode);
  const client = node([here('./rpc-client.ts'), mode, server.address, String(concurrency), values.warmup!, values.seconds!]);
  let last = '';
  let cpuStart: Promise<number[]> | undefined;
  let cpuEnd: Promise<number[]> | undefined;
  createInterface({ input: client.stdout! }).on('line', (line) => {
    if (line === 'MEASURE') cpuStart = server.ask('cpu');
    else if (line === 'MEASURED') cpuEnd = server.ask('cpu');
    else last = line;
  });
  await once(client, 'exit');
  const r = JSON.parse(last) as { requests: number; seconds: number; p50_us: number; p99_us: number; rss: number; cpu_us: number; sys_us: number };
  const [end, start] = [await cpuEnd!, await cpuStart!];
  const serverCpu = end[0]! - start[0]!;
  const serverSys = end[1]! - start[1]!;
  const [rss] = await server.ask('rss');
  server.child.stdin!.end();
  await once(server.child, 'exit');
  return {
    rps: r.requests / r.seconds, p50_us: r.p50_us, p99_us: r.p99_us, rss_mb: rss! / 2 ** 20, client_rss_mb: r.rss / 2 ** 20,
    client_cpu_us_per_call: r.cpu_us / r.requests, server_cpu_us_per_call: serverCpu / r.requests,
    client_sys_us_per_call: r.sys_us / r.requests, server_sys_us_per_call: serverSys / r.requests,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const concurrencies = values.concurrency!.split(',').map(Number);
// minimal-rpc: a promise per call and CBOR bodies and nothing else (bench/rpc-server.ts), what the framework's features are measured against.
// micromesh-off / micromesh-observed / micromesh-sampled-out: the cost of metrics plus a registered tracer (sampling off in the SDK, or in micromesh), bench/observed.ts.
// micromesh-tls: the defaults over mutual TLS 1.3 (bench/tls.ts); rps_vs_micromesh is its cost.
// micromesh-order-cbor / -json / -protobuf: one Order message in each codec (bench/codecs.ts); rps_vs_cbor and bytes per request compare them.
const rows = concurrencies.flatMap((c) => [
  { name: 'raw-tcp', mode: 'raw', c }, { name: 'minimal-rpc', mode: 'minimal', c }, { name: 'micromesh', mode: 'micromesh', c },
  { name: 'micromesh-off', mode: 'micromesh-off', c }, { name: 'micromesh-observed', mode: 'micromesh-observed', c },
  { name: 'micromesh-sampled-out', mode: 'micromesh-sampled-out', c }, { name: 'micromesh-tls', mode: 'micromesh-tls', c },
  ...Object.keys(CODEC_ROWS).map((name) => ({ name, mode: name, c })),
]);
const only = values.only?.split(',');
if (only) rows.splice(0, rows.length, ...rows.filter((r) => only.includes(r.name)));
const samples = new Map<string, Sample[]>();
for (let round = 0; round < Number(values.rounds); round++) {
  for (const row of rows) {
    const key = `${row.name}/${row.c}`;
    const s = await runRow(row.mode, row.c);
    samples.set(key, [...(samples.get(key) ?? []), s]);
    if (!values.json) console.error(`round ${round + 1} ${key}: ${Math.round(s.rps)} req/s, p50 ${s.p50_us.toFixed(1)} µs`);
  }
}

const results = rows.map((row) => {
  const ss = samples.get(`${row.name}/${row.c}`)!;
  // The median round by throughput, reported whole so its figures belong together.
  const m = [...ss].sort((a, b) => a.rps - b.rps)[Math.floor(ss.length / 2)]!;
  return {
    name: row.name, concurrency: row.c, rps: Math.round(m.rps), p50_us: +m.p50_us.toFixed(1), p99_us: +m.p99_us.toFixed(1),
    rss_mb: +m.rss_mb.toFixed(1), client_rss_mb: +m.client_rss_mb.toFixed(1),
    client_cpu_us_per_call: +m.client_cpu_us_per_call.toFixed(2), server_cpu_us_per_call: +m.server_cpu_us_per_call.toFixed(2),
    client_sys_us_per_call: +m.client_sys_us_per_call.toFixed(2), server_sys_us_per_call: +m.server_sys_us_per_call.toFixed(2), rounds: ss.length,
    rps_rounds: ss.map((s) => Math.round(s.rps)), p50_rounds: ss.map((s) => +s.p50_us.toFixed(1)), p50_us_median_of_rounds: +median(ss.map((s) => s.p50_us)).toFixed(1),
  };
});
for (const r of results.filter((x) => x.name !== 'raw-tcp')) {
  const base = results.find((x) => x.name === 'raw-tcp' && x.concurrency === r.concurrency);
  if (base === undefined) {
    addObserved(r);
    continue;
  }
  // Also the median of per-round ratios: rows of one round ran back to back, so they saw the same machine load.
  const paired = r.rps_rounds.map((v, i) => v / base.rps_rounds[i]!);
  const pairedP50 = r.p50_rounds.map((v, i) => v / base.p50_rounds[i]!);
  Object.assign(r, {
    rps_vs_raw: +(r.rps / base.rps).toFixed(2), p50_vs_raw: +(r.p50_us / base.p50_us).toFixed(2),
    rps_vs_raw_paired: +median(paired).toFixed(2), p50_vs_raw_paired: +median(pairedP50).toFixed(2),
  });
  if (r.name === 'micromesh') {
    const min = results.find((x) => x.name === 'minimal-rpc' && x.concurrency === r.concurrency)!;
    Object.assign(r, { rps_vs_minimal: +(r.rps / min.rps).toFixed(2) });
  }
  addObserved(r);
}

/** The figure: throughput with metrics and a tracer on over the same build with both off, per round and overall. */
function addObserved(r: (typeof results)[number]): void {
  if (r.name === 'micromesh-tls') addTls(r);
  if (CODEC_ROWS[r.name] !== undefined) addCodec(r);
  if (r.name !== 'micromesh-observed' && r.name !== 'micromesh-sampled-out') return;
  const off = results.find((x) => x.name === 'micromesh-off' && x.concurrency === r.concurrency);
  if (off === undefined) return;
  const pairedOff = r.rps_rounds.map((v, i) => v / off.rps_rounds[i]!);
  Object.assign(r, { rps_vs_off: +(r.rps / off.rps).toFixed(2), rps_vs_off_paired: +median(pairedOff).toFixed(2) });
}
/** A codec row against the CBOR row of the same message: throughput, CPU per call, and the request's size. */
function addCodec(r: (typeof results)[number]): void {
  Object.assign(r, { request_bytes: requestBytes(r.name) });
  const cbor = results.find((x) => x.name === 'micromesh-order-cbor' && x.concurrency === r.concurrency);
  if (cbor === undefined || cbor === r) return;
  const paired = r.rps_rounds.map((v, i) => v / cbor.rps_rounds[i]!);
  Object.assign(r, {
    rps_vs_cbor: +(r.rps / cbor.rps).toFixed(2), rps_vs_cbor_paired: +median(paired).toFixed(2),
    server_cpu_vs_cbor: +(r.server_cpu_us_per_call / cbor.server_cpu_us_per_call).toFixed(2),
  });
}
/** Mutual TLS against the same defaults over plain TCP: throughput and CPU per call. */
function addTls(r: (typeof results)[number]): void {
  const plain = results.find((x) => x.name === 'micromesh' && x.concurrency === r.concurrency);
  if (plain === undefined) return;
  const paired = r.rps_rounds.map((v, i) => v / plain.rps_rounds[i]!);
  Object.assign(r, {
    rps_vs_micromesh: +(r.rps / plain.rps).toFixed(2), rps_vs_micromesh_paired: +median(paired).toFixed(2),
    client_cpu_vs_micromesh: +(r.client_cpu_us_per_call / plain.client_cpu_us_per_call).toFixed(2),
    server_cpu_vs_micromesh: +(r.server_cpu_us_per_call / plain.server_cpu_us_per_call).toFixed(2),
  });
}
if (values.json) for (const r of results) console.log(JSON.stringify(r));
else console.table(results.map(({ rps_rounds: _r, p50_rounds: _p, ...rest }) => rest));
