// The mesh key/value store's write latency and read staleness (issue 22): N node processes on loopback
// (LAN profile, default kv settings); W writes from nodes in turn; for each, the put's latency (it resolves
// once 3 nodes hold it) and the time until every node holds the value (the longest a read can be stale
// here), against an RPC round trip between two nodes measured in the same run (a copy costs at least one).
//   npm run bench:kv -- [--json] [--nodes 5] [--writes 200]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, nodes: { type: 'string', default: '5' }, writes: { type: 'string', default: '200' } } });
const N = Number(values.nodes);
const W = Number(values.writes);
const log = (s: string): void => void (values.json ? undefined : console.error(s));
const NODE = fileURLToPath(new URL('./kv-node.ts', import.meta.url));

type Msg = Record<string, any>;
interface Node { send(o: object): void; next(pred: (m: Msg) => boolean): Promise<Msg>; seen: Map<string, number>; kill(): void }

function start(seed?: string): Node {
  const child = spawn(process.execPath, ['--import', 'tsx', NODE, ...(seed ? [seed] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  const seen = new Map<string, number>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as Msg;
    if (typeof m.seen === 'string') seen.set(m.seen, m.at);
    const w = waiters.findIndex((x) => x.pred(m));
    if (w >= 0) waiters.splice(w, 1)[0]!.resolve(m);
  });
  return {
    send: (o) => void child.stdin!.write(`${JSON.stringify(o)}\n`),
    next: (pred) => new Promise((resolve) => waiters.push({ pred, resolve })),
    seen, kill: () => child.kill('SIGKILL'),
  };
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const r1 = (x: number): number => Math.round(x * 10) / 10;

const first = start();
const ready = first.next((m) => m.ready === true);
const { gossip, address } = await ready;
const nodes = [first];
const addresses = [address as string];
for (let i = 1; i < N; i++) {
  const n = start(gossip);
  addresses.push((await n.next((m) => m.ready === true)).address);
  nodes.push(n);
}
for (;;) {
  nodes[0]!.send({ peers: true });
  if ((await nodes[0]!.next((m) => typeof m.peers === 'number')).peers === N - 1) break;
  await new Promise((r) => setTimeout(r, 100));
}
log(`${N} nodes joined; ${W} writes`);
const pings: number[] = [];
for (let i = 0; i < W; i++) {
  nodes[0]!.send({ ping: addresses[1 + (i % (N - 1))] });
  pings.push((await nodes[0]!.next((m) => typeof m.ping === 'number')).ping);
}
const puts: number[] = [];
const spread: number[] = [];
for (let i = 0; i < W; i++) {
  const key = `bench/k${i}`;
  const writer = nodes[i % N]!;
  writer.send({ put: key });
  const done = await writer.next((m) => m.put === key);
  puts.push(done.ms);
  for (let waited = 0; nodes.some((n) => !n.seen.has(key)); waited += 5) {
    if (waited > 10_000) throw new Error(`${key} did not reach every node within 10 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
  spread.push(Math.max(...nodes.map((n) => n.seen.get(key)!)) - done.started);
}
for (const n of nodes) n.kill();
const row = (xs: number[]) => ({ p50_ms: r1(pct(xs, 0.5)), p90_ms: r1(pct(xs, 0.9)), p99_ms: r1(pct(xs, 0.99)), max_ms: r1(Math.max(...xs)), over_100ms: xs.filter((x) => x > 100).length });
const result = { bench: 'kv', nodes: N, writes: W, rpc_round_trip: row(pings), put_resolves: row(puts), on_every_node: row(spread) };
log(`RPC round trip (baseline): p50 ${result.rpc_round_trip.p50_ms} ms, p99 ${result.rpc_round_trip.p99_ms} ms`);
log(`put resolves (3 copies): p50 ${result.put_resolves.p50_ms} ms, p99 ${result.put_resolves.p99_ms} ms, max ${result.put_resolves.max_ms} ms`);
log(`on every node (staleness bound): p50 ${result.on_every_node.p50_ms} ms, p99 ${result.on_every_node.p99_ms} ms, max ${result.on_every_node.max_ms} ms`);
console.log(JSON.stringify(result));
