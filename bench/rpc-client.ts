// Benchmark client process: drives one row (raw, minimal or micromesh) at a given
// concurrency for a given time against a server address, then prints a JSON
// line {requests, seconds, p50_us, p99_us, rss, cpu_us, sys_us}; prints MEASURE and
// MEASURED around the measured window.
import net from 'node:net';
import { createHistogram, performance } from 'node:perf_hooks';
import { createService, silentLogger, StaticRegistry, type ClientMiddleware } from 'micromesh';
import { connectMinimal } from './minimal-rpc.ts';
import { observability } from './observed.ts';
import { tlsFor } from './tls.ts';
import { codecRow } from './codecs.ts';

const [mode, address, concurrencyArg, warmupArg, secondsArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const warmupMs = Number(warmupArg) * 1000;
const measureMs = Number(secondsArg) * 1000;
const hist = createHistogram();
/** A 50-byte request: CBOR {p: <45 chars>} is exactly 50 bytes; the raw row sends 50 raw bytes. */
const PAYLOAD = 'x'.repeat(45);

let measuring = false;
let count = 0;
let stop = false;

function record(startNs: bigint): void {
  if (!measuring) return;
  count++;
  hist.record(Number(process.hrtime.bigint() - startNs) || 1);
}

async function runRaw(): Promise<void> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const sock = net.connect({ host, port, noDelay: true });
  await new Promise((r) => sock.once('connect', r));
  const frame = Buffer.alloc(54);
  frame.writeUInt32BE(50, 0);
  frame.fill(120, 4);
  const starts: bigint[] = [];
  let head = 0;
  let pending: Buffer = Buffer.alloc(0);
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  let inflight = 0;
  sock.on('data', (chunk: Buffer) => {
    const buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let off = 0;
    let replies = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (buf.length - off < 4 + len) break;
      off += 4 + len;
      record(starts[head++]!);
      inflight--;
      replies++;
    }
    pending = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
    if (head > 4096) {
      starts.splice(0, head);
      head = 0;
    }
    if (stop) {
      if (inflight === 0) finished();
      return;
    }
    // Replace every answered request, in one write (what a good pipelining client does).
    const now = process.hrtime.bigint();
    const out = Buffer.allocUnsafe(54 * replies);
    for (let i = 0; i < replies; i++) {
      frame.copy(out, i * 54);
      starts.push(now);
    }
    inflight += replies;
    sock.write(out);
  });
  const now = process.hrtime.bigint();
  const first = Buffer.allocUnsafe(54 * concurrency);
  for (let i = 0; i < concurrency; i++) {
    frame.copy(first, i * 54);
    starts.push(now);
  }
  inflight = concurrency;
  sock.write(first);
  await phases();
  await done;
  sock.destroy();
}

async function runMicromesh(): Promise<void> {
  // As users call it: registry → selector → middleware chain → codec → connection.
  const passThrough: ClientMiddleware = (next) => (call) => next(call);
  const registry = new StaticRegistry({ services: { bench: [address] } });
  const svc = createService({ name: 'bench-client', registry, logger: silentLogger, clientMiddleware: [passThrough], ...(await observability(mode!)), ...(await tlsFor(mode!)) });
  const client = svc.client;
  const row = codecRow(mode!);
  const req = row?.request ?? { p: PAYLOAD };
  const opts = row?.call ?? {};
  const worker = async (): Promise<void> => {
    while (!stop) {
      const t = process.hrtime.bigint();
      await client.call('bench', 'Bench.Echo', req, opts);
      record(t);
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await phases();
  await Promise.all(workers);
  await svc.stop();
}

/** The `minimal` row's client (bench/minimal-rpc.ts). */
async function runMinimal(): Promise<void> {
  const conn = await connectMinimal(address);
  const req = { p: PAYLOAD };
  const worker = async (): Promise<void> => {
    while (!stop) {
      const t = process.hrtime.bigint();
      await conn.call(req);
      record(t);
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await phases();
  await Promise.all(workers);
  conn.close();
}

let measuredSeconds = 0;
let cpuUs = 0;
let sysUs = 0;
async function phases(): Promise<void> {
  await new Promise((r) => setTimeout(r, warmupMs));
  // Tell the orchestrator the measured window starts, so it samples the server's CPU too.
  console.log('MEASURE');
  measuring = true;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, measureMs));
  const c1 = process.cpuUsage(c0);
  cpuUs = c1.user + c1.system;
  sysUs = c1.system;
  measuring = false;
  measuredSeconds = (performance.now() - t0) / 1000;
  console.log('MEASURED');
  stop = true;
}

if (mode === 'raw') await runRaw();
else if (mode === 'minimal') await runMinimal();
else await runMicromesh();
console.log(JSON.stringify({
  requests: count,
  seconds: measuredSeconds,
  p50_us: hist.percentile(50) / 1000,
  p99_us: hist.percentile(99) / 1000,
  rss: process.memoryUsage().rss,
  cpu_us: cpuUs,
  sys_us: sysUs,
}));
