// Consul agent benchmark (issue 21): what one node answers for a mesh of
// <services> services × <nodes> nodes, against baselines measured in the
// same run, and how fast a blocking query wakes after a change.
//   dns-agent       SRV queries for svc-N.service.consul to the agent's DNS (UDP)
//   dns-baseline    the same queries to a bare dgram server in the same
//                   process answering the agent's own answer, pre-encoded, with the id patched
//   http-agent      GET /v1/health/service/svc-N to the agent's HTTP API
//   http-baseline   the same requests to a fastify server in the same process
//                   answering the agent's own body for svc-0, pre-serialized
// This process serves (the mesh, the agent, the baselines); the load runs in
// another one (bench/agent-load.ts), one row at a time, rows interleaved
// over rounds, each row reporting its median round by throughput. Then the
// wake-up: a blocking GET /v1/health/service/svc-7?index=…&wait=60s is
// parked, svc-7 is changed (its instance on the last node, which reaches
// this node through SWIM and a record fetch, or on this node itself, which
// needs no gossip), and the time from the change call to the answer is taken.
// Prints progress and a table on stderr (not with --json) and one JSON object on stdout.
//   npm run bench:agent -- [--json] [--seconds 5] [--warmup 1] [--rounds 3]
//     [--services 50] [--nodes 3] [--wakes 30] [--dns-window 64] [--concurrency 32]
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as dnsPacket from 'dns-packet';
import Fastify from 'fastify';
import { createService, silentLogger, type Service } from '../src/index.ts';
import { createAgent } from '../src/agent/index.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    services: { type: 'string', default: '50' },
    nodes: { type: 'string', default: '3' },
    wakes: { type: 'string', default: '30' },
    'dns-window': { type: 'string', default: '64' },
    concurrency: { type: 'string', default: '32' },
  },
});
const SERVICES = Number(values.services);
const NODES = Number(values.nodes);
const ROUNDS = Number(values.rounds);
const WAKES = Number(values.wakes);
const WAKE_SERVICE = `svc-${Math.min(7, SERVICES - 1)}`;
/** Progress and the human table go to stderr (quiet with --json); stdout carries only the JSON object. */
const log = (s: string): void => { if (!values.json) console.error(s); };
const stderr = new console.Console(process.stderr);
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every child still running: killed when this process exits, however it exits. */
const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

async function eventually<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const end = performance.now() + ms;
  let last: T | undefined;
  while (performance.now() < end) {
    last = await fn();
    if (ok(last)) return last;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 500)}`);
}

// The mesh: every node offers every svc-i as an instance of its own (node id = the member's id, so the
// catalog puts it on that member), besides its own `bench` service.
const record = (s: Service, i: number) => ({
  name: `svc-${i}`, version: '1.0.0', metadata: {}, endpoints: [], nodes: [{ id: s.id, address: s.address!, metadata: {} }],
});
const nodes: Service[] = [];
for (let n = 0; n < NODES; n++) {
  const s = createService({
    name: 'bench', address: '127.0.0.1:0', logger: silentLogger,
    mesh: { mdns: false, gossipAddress: '127.0.0.1:0', join: n === 0 ? [] : [nodes[0]!.mesh!.swim.address], profile: 'local' },
  });
  await s.start();
  for (let i = 0; i < SERVICES; i++) await s.registry.register(record(s, i));
  nodes.push(s);
}
const agent = createAgent({ service: nodes[0]!, httpAddress: '127.0.0.1:0', dnsAddress: '127.0.0.1:0' });
await agent.start();
const base = `http://${agent.httpAddress}`;
const getJson = async (url: string): Promise<{ index: number; text: string; body: any }> => {
  const r = await fetch(url);
  const text = await r.text();
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${text.slice(0, 200)}`);
  return { index: Number(r.headers.get('x-consul-index')), text, body: JSON.parse(text) };
};
await eventually(() => agent.snapshot().instances.length, (n) => n === NODES * (SERVICES + 1), `${NODES * (SERVICES + 1)} instances in the catalog`);
const services = await getJson(`${base}/v1/catalog/services`);
if (Object.keys(services.body).length !== SERVICES + 1) throw new Error(`catalog lists ${Object.keys(services.body).length} services, want ${SERVICES + 1}`);
const health = await getJson(`${base}/v1/health/service/${WAKE_SERVICE}`);
if (health.body.length !== NODES) throw new Error(`health of ${WAKE_SERVICE} has ${health.body.length} entries, want ${NODES}`);

/** One SRV query to `address`, as the load generator sends it; the raw answer. */
function dnsQuery(address: string, name: string): Promise<Buffer> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const sock = dgram.createSocket('udp4');
  const q = dnsPacket.encode({
    type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'SRV', name }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as dnsPacket.Answer],
  });
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => { sock.close(); reject(new Error(`no DNS answer from ${address}`)); }, 5000);
    sock.on('message', (m) => { clearTimeout(timer); sock.close(); resolve(m); });
    sock.send(q, port, host);
  });
}
const dnsTemplate = await dnsQuery(agent.dnsAddress!, `${WAKE_SERVICE}.service.consul`);
const decoded = dnsPacket.decode(dnsTemplate);
if (decoded.answers?.filter((a) => a.type === 'SRV').length !== NODES) throw new Error(`SRV answer has ${decoded.answers?.length} records, want ${NODES}`);

// The baselines, in this process like the agent: the agent's own answers, constant.
const bodyTemplate = Buffer.from((await getJson(`${base}/v1/health/service/svc-0`)).text);
const fastify = Fastify({ logger: false });
fastify.get('/v1/health/service/:name', (_req, reply) => { void reply.type('application/json; charset=utf-8').send(bodyTemplate); });
const httpBaseline = (await fastify.listen({ host: '127.0.0.1', port: 0 })).replace('http://', '');
const udp = dgram.createSocket('udp4');
udp.on('message', (msg, rinfo) => {
  if (msg.length < 12) return;
  const out = Buffer.from(dnsTemplate);
  out[0] = msg[0]!;
  out[1] = msg[1]!;
  udp.send(out, rinfo.port, rinfo.address);
});
await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
const dnsBaseline = `127.0.0.1:${udp.address().port}`;
if ((await dnsQuery(dnsBaseline, 'svc-1.service.consul')).length !== dnsTemplate.length) throw new Error('the DNS baseline answers wrong');
log(`mesh: ${NODES} nodes × ${SERVICES} services; agent http ${agent.httpAddress} dns ${agent.dnsAddress}; ` +
  `health answer ${bodyTemplate.length} B, SRV answer ${dnsTemplate.length} B`);

interface Sample { qps: number; p50_us: number; p99_us: number; bad: number; lost: number; server_cpu_us: number; load_cpu_us: number }
interface Row { name: string; mode: 'dns' | 'http'; address: string; inFlight: number }
const ROWS: Row[] = [
  { name: 'dns-agent', mode: 'dns', address: agent.dnsAddress!, inFlight: Number(values['dns-window']) },
  { name: 'dns-baseline', mode: 'dns', address: dnsBaseline, inFlight: Number(values['dns-window']) },
  { name: 'http-agent', mode: 'http', address: agent.httpAddress!, inFlight: Number(values.concurrency) },
  { name: 'http-baseline', mode: 'http', address: httpBaseline, inFlight: Number(values.concurrency) },
];

/** One measured run of `row`: a load process, this process's CPU over its measured window. */
async function runRow(row: Row): Promise<Sample> {
  const child = spawn(process.execPath, ['--import', 'tsx', here('./agent-load.ts'), row.mode, row.address, String(row.inFlight),
    values.warmup!, values.seconds!, String(SERVICES), String(NODES)], { stdio: ['ignore', 'pipe', 'inherit'] });
  live.add(child);
  let cpu0: NodeJS.CpuUsage | undefined;
  let cpu: NodeJS.CpuUsage | undefined;
  let last = '';
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === 'MEASURE') cpu0 = process.cpuUsage();
    else if (line === 'MEASURED') cpu = process.cpuUsage(cpu0);
    else last = line;
  });
  const limit = (Number(values.warmup) + Number(values.seconds)) * 1000 + 60_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), limit);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  clearTimeout(timer);
  live.delete(child);
  if (code !== 0 || cpu === undefined) throw new Error(`${row.name}: load generator failed (exit code ${code})`);
  const r = JSON.parse(last) as { ok: number; bad: number; lost: number; seconds: number; p50_us: number; p99_us: number; cpu_us: number };
  return {
    qps: r.ok / r.seconds, p50_us: r.p50_us, p99_us: r.p99_us, bad: r.bad, lost: r.lost,
    server_cpu_us: (cpu.user + cpu.system) / Math.max(1, r.ok), load_cpu_us: r.cpu_us / Math.max(1, r.ok),
  };
}

const samples = new Map<string, Sample[]>(ROWS.map((r) => [r.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const row of ROWS) {
    const s = await runRow(row);
    samples.get(row.name)!.push(s);
    const dirt = s.bad + s.lost > 0 ? `, ${s.bad} bad, ${s.lost} lost` : '';
    log(`round ${round + 1}/${ROUNDS} ${row.name}: ${Math.round(s.qps)}/s, p50 ${s.p50_us} µs, p99 ${s.p99_us} µs, ` +
      `server ${s.server_cpu_us.toFixed(1)} µs CPU each${dirt}`);
  }
}

const r1 = (x: number): number => Math.round(x * 10) / 10;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const rows = ROWS.map((row) => {
  const ss = samples.get(row.name)!;
  const m = [...ss].sort((a, b) => a.qps - b.qps)[Math.floor(ss.length / 2)]!; // the median round, whole
  const bad = ss.reduce((n, s) => n + s.bad, 0);
  const lost = ss.reduce((n, s) => n + s.lost, 0);
  return {
    name: row.name, per_s: Math.round(m.qps), p50_us: m.p50_us, p99_us: m.p99_us, in_flight: row.inFlight,
    server_cpu_us: r1(m.server_cpu_us), load_cpu_us: r1(m.load_cpu_us), bad, lost, rounds: ss.map((s) => Math.round(s.qps)),
  };
});
const ratios = Object.fromEntries((['dns', 'http'] as const).map((mode) => {
  const [a, b] = [samples.get(`${mode}-agent`)!, samples.get(`${mode}-baseline`)!];
  const med = (name: string): number => rows.find((r) => r.name === name)!.per_s;
  // Paired: the median of same-round ratios (a round's rows ran back to back, under similar load).
  // Server CPU per answer: the figure the scheduler does not move (the load process shares the 2 cores).
  const cpu = (name: string): number => rows.find((r) => r.name === name)!.server_cpu_us;
  return [mode, {
    vs_baseline: r2(med(`${mode}-agent`) / med(`${mode}-baseline`)), vs_baseline_paired: r2(median(a.map((s, i) => s.qps / b[i]!.qps))),
    server_cpu_vs_baseline: r2(cpu(`${mode}-agent`) / cpu(`${mode}-baseline`)),
  }];
}));

// Wake-up after a change. Each wake toggles svc-7's instance on one node (deregister, then register back),
// alternating the remote node (gossip) and this node (local); a random pause first, so changes fall at
// every phase of the gossip timer.
const wakes = { gossip: [] as number[], local: [] as number[] };
const present = new Map<Service, boolean>();
const svcIndex = Number(WAKE_SERVICE.slice(4));
for (let k = 0; k < 2 * WAKES; k++) {
  const mode = k % 2 === 0 ? 'gossip' : 'local';
  const node = mode === 'gossip' ? nodes[NODES - 1]! : nodes[0]!;
  const before = await getJson(`${base}/v1/health/service/${WAKE_SERVICE}`);
  const blocked = getJson(`${base}/v1/health/service/${WAKE_SERVICE}?index=${before.index}&wait=60s`);
  await eventually(() => agent.stats().blockedQueries, (n) => n === 1, 'the blocking query parked', 5000);
  await sleep(Math.random() * 250);
  const has = present.get(node) ?? true;
  const t0 = performance.now();
  if (has) await node.registry.deregister(record(node, svcIndex));
  else await node.registry.register(record(node, svcIndex));
  const woke = await blocked;
  wakes[mode].push(performance.now() - t0);
  present.set(node, !has);
  const want = before.body.length + (has ? -1 : 1);
  if (woke.body.length !== want || woke.index <= before.index) {
    throw new Error(`${mode} wake ${k}: ${woke.body.length} entries at index ${woke.index}, want ${want} past ${before.index}`);
  }
}
for (const [node, has] of present) if (!has) await node.registry.register(record(node, svcIndex));
const wakeStats = (xs: number[]) => ({ samples: xs.length, p50_ms: r1(pct(xs, 0.5)), p99_ms: r1(pct(xs, 0.99)), max_ms: r1(Math.max(...xs)) });
const wake = { gossip: wakeStats(wakes.gossip), local: wakeStats(wakes.local) };

const result = {
  bench: 'agent', services: SERVICES, nodes: NODES, seconds: Number(values.seconds), rounds: ROUNDS,
  health_body_bytes: bodyTemplate.length, srv_answer_bytes: dnsTemplate.length, rows, ratios, wake,
  goal: { wake_ms: 100, met: wake.gossip.p99_ms <= 100 },
};
if (!values.json) stderr.table(rows.map(({ rounds: _r, ...rest }) => rest));
for (const mode of ['dns', 'http'] as const) {
  const r = ratios[mode]!;
  log(`${mode.toUpperCase()} agent/baseline: ${r.vs_baseline}× the answers/s (paired ${r.vs_baseline_paired}×), ${r.server_cpu_vs_baseline}× the server CPU per answer`);
}
for (const mode of ['gossip', 'local'] as const) {
  const w = wake[mode];
  log(`blocking query wake after a ${mode === 'gossip' ? 'change on another node' : 'change on the agent\'s node'}: ` +
    `p50 ${w.p50_ms} ms, p99 ${w.p99_ms} ms, max ${w.max_ms} ms (${w.samples} wakes)`);
}
console.error(`goal: wake within 100 ms of a mesh change (p99): ${result.goal.met ? 'met' : 'NOT met'}`);
console.log(JSON.stringify(result));
const dirty = rows.filter((r) => r.bad + r.lost > 0).map((r) => r.name);
if (dirty.length > 0) console.error(`WARNING: wrong or lost answers in ${dirty.join(', ')}: their figures do not count`);

await agent.stop();
await fastify.close();
udp.close();
for (const s of [...nodes].reverse()) await s.stop();
process.exitCode = dirty.length > 0 ? 1 : 0;
