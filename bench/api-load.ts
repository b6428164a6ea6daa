// Load generator process for bench/api.ts: autocannon, programmatically, in
// its own process. POSTs {"name":"Ada"} as JSON to http://<address>/greeter/hello
// over N keep-alive connections: a warm-up run, then the measured run.
// Prints MEASURE and MEASURED around the measured run, then one JSON line
// {requests, seconds, p50_ms, p99_ms, non2xx, errors, timeouts, cpu_us, rss}.
//   api-load.ts <host:port> <connections> <warmup s> <measured s>
import { createRequire } from 'node:module';

/** The part of autocannon 9's programmatic API used here (it ships no types). */
interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  start: Date;
  finish: Date;
}
type Autocannon = (opts: {
  url: string; connections: number; duration: number; method: 'POST';
  headers: Record<string, string>; body: string; timeout?: number;
}) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const [address, connections, warmup, seconds] = process.argv.slice(2);
const opts = {
  url: `http://${address}/greeter/hello`,
  connections: Number(connections),
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'Ada' }),
  timeout: 10,
};

if (Number(warmup) > 0) await autocannon({ ...opts, duration: Number(warmup) });
console.log('MEASURE');
const cpu0 = process.cpuUsage();
const r = await autocannon({ ...opts, duration: Number(seconds) });
const cpu = process.cpuUsage(cpu0);
console.log('MEASURED');
console.log(JSON.stringify({
  requests: r.requests.total, seconds: (r.finish.getTime() - r.start.getTime()) / 1000,
  p50_ms: r.latency.p50, p99_ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
  cpu_us: cpu.user + cpu.system, rss: process.memoryUsage().rss,
}));
