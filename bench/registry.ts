// Registry lookup benchmark: the cost of `getService` (the selector calls it
// on every RPC) on the EtcdRegistry's watched cache, the mesh registry
// (MeshRegistry over an in-memory membership) and the MemoryRegistry, in
// one process and one run, rows interleaved over rounds (median round
// reported); beside them go-micro's way, an etcd range request per lookup
// (the round trip the cache saves). Then the time for a registration to
// show in another EtcdRegistry (its watch event). Starts Debian's etcd on
// 127.0.0.1 (test/support/etcd.ts).
//   npm run bench:registry -- [--json] [--rounds 5] [--calls 200000] [--services 50] [--nodes 3] [--visibility 30]
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { EtcdRegistry } from '../src/registry/etcd.ts';
import { MemoryRegistry } from '../src/registry/memory.ts';
import { MeshRegistry } from '../src/registry/mesh.ts';
import { MemoryMembershipNetwork } from '../src/membership/memory.ts';
import type { Registry, Service } from '../src/registry/types.ts';
import { etcdGate } from '../test/support/etcd.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
    calls: { type: 'string', default: '200000' },
    services: { type: 'string', default: '50' },
    nodes: { type: 'string', default: '3' },
    visibility: { type: 'string', default: '30' },
  },
});
const ROUNDS = Number(values.rounds);
const CALLS = Number(values.calls);
const log = (s: string): void => void (values.json ? undefined : console.error(s));

const record = (name: string, n: number, tag: string): Service => ({
  name,
  version: '1.0.0',
  metadata: { team: 'bench' },
  endpoints: [{ name: 'Greeter.Hello', metadata: { 'request-schema': '{"type":"object"}' } }],
  nodes: Array.from({ length: n }, (_, i) => ({ id: `${name}-${tag}-${i}`, address: `10.0.0.${i + 1}:9000`, metadata: { zone: 'a' } })),
});

async function populate(r: Registry, tag: string): Promise<void> {
  for (let s = 0; s < Number(values.services); s++) await r.register(record(`svc-${s}`, 1, tag));
  await r.register(record('greeter', Number(values.nodes), tag));
}

/** ns per getService call over `calls` calls (awaited one by one, as the selector does). */
async function lookupNs(r: { getService(name: string): Promise<Service[]> }, calls: number): Promise<number> {
  let nodes = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) nodes += (await r.getService('greeter'))[0]!.nodes.length;
  const ns = Number(process.hrtime.bigint() - t0) / calls;
  if (nodes !== calls * Number(values.nodes)) throw new Error(`lookups saw ${nodes} nodes`);
  return ns;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

const gate = await etcdGate();
if (gate.skip !== false) throw new Error(gate.skip);
const etcd = await gate.start();
try {
  const memory = new MemoryRegistry();
  const net = new MemoryMembershipNetwork();
  const mesh = new MeshRegistry({ membership: net.join('bench-a') });
  const meshReader = new MeshRegistry({ membership: net.join('bench-b') }); // reads what another member published
  const etcdWriter = new EtcdRegistry({ hosts: etcd.url });
  const etcdReader = new EtcdRegistry({ hosts: etcd.url });
  await populate(memory, 'm');
  await populate(mesh, 'x');
  await populate(etcdWriter, 'e');
  const raw = new Etcd3({ hosts: etcd.url });
  // go-micro's GetService: a prefix range request per lookup, grouped by version.
  const direct = {
    async getService(): Promise<Service[]> {
      const kvs = await raw.getAll().prefix('/micro/registry/greeter/').strings();
      const nodes = Object.values(kvs).flatMap((v) => (JSON.parse(v) as Service).nodes);
      return [{ ...(JSON.parse(Object.values(kvs)[0]!) as Service), nodes }];
    },
  };
  const rows: { name: string; registry: { getService(name: string): Promise<Service[]> }; calls: number }[] = [
    { name: 'memory', registry: memory, calls: CALLS },
    { name: 'mesh', registry: meshReader, calls: CALLS },
    { name: 'etcd-cache', registry: etcdReader, calls: CALLS },
    { name: 'etcd-round-trip', registry: direct, calls: Math.max(200, Math.floor(CALLS / 200)) },
  ];
  for (const row of rows) await lookupNs(row.registry, Math.min(row.calls, 1000)); // warm up, fill the cache
  const samples = new Map<string, number[]>(rows.map((r) => [r.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const row of rows) samples.get(row.name)!.push(await lookupNs(row.registry, row.calls));
    log(`round ${round + 1}/${ROUNDS}`);
  }
  const results: Record<string, unknown>[] = rows.map((row) => ({
    bench: 'registry-lookup', registry: row.name, calls_per_round: row.calls, rounds: ROUNDS,
    ns_per_call: Math.round(median(samples.get(row.name)!)), calls_per_s: Math.round(1e9 / median(samples.get(row.name)!)),
    services: Number(values.services) + 1, nodes: Number(values.nodes),
  }));

  // Visibility: register a new node with one EtcdRegistry; time until another one's watch reports it.
  const seen: number[] = [];
  const watch = etcdReader.watch({ service: 'visible' });
  const it = watch[Symbol.asyncIterator]();
  for (let i = 0; i < Number(values.visibility); i++) {
    const t0 = performance.now();
    const next = it.next();
    await etcdWriter.register(record('visible', 1, `v${i}`));
    await next;
    seen.push(performance.now() - t0);
    await etcdWriter.deregister(record('visible', 1, `v${i}`));
    await it.next(); // its remove
  }
  watch.stop();
  results.push({
    bench: 'registry-visibility', registry: 'etcd', samples: seen.length,
    p50_ms: +median(seen).toFixed(2), p99_ms: +pct(seen, 0.99).toFixed(2), max_ms: +Math.max(...seen).toFixed(2),
  });

  if (values.json) for (const r of results) console.log(JSON.stringify(r));
  else {
    console.log('registry lookup (getService, one awaited call at a time, median round):');
    for (const r of results.slice(0, rows.length)) console.log(`  ${String(r.registry).padEnd(16)} ${String(r.ns_per_call).padStart(9)} ns/call  ${String(r.calls_per_s).padStart(10)} calls/s`);
    const v = results.at(-1)!;
    console.log(`registration visible in another EtcdRegistry: p50 ${v.p50_ms} ms, p99 ${v.p99_ms} ms, max ${v.max_ms} ms (${v.samples} samples)`);
  }
  raw.close();
  mesh.close();
  meshReader.close();
  await Promise.all([etcdWriter.close(), etcdReader.close()]);
} finally {
  await etcd.dispose();
}
