// The Prometheus test: Debian's prometheus discovers a 3-node mesh
// (`micromesh run` processes on loopback) through one node's http_sd list,
// scrapes every admin port, answers `rate` of the RPC calls this test makes
// by service, and drops a SIGKILLed node once the mesh declares it dead.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createService, silentLogger } from 'micromesh';
import { CLI } from '../support/cli.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { prometheusGate, type Prometheus } from '../support/prometheus.ts';

const gate = await prometheusGate();
const FAST = JSON.stringify({ probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, suspicionMult: 2 });
const procs: JsonLinesProcess[] = [];
let prom: Prometheus | undefined;

interface Node { proc: JsonLinesProcess; gossip: string; admin: string; id: string }

async function node(args: string[], name: string, join?: string): Promise<Node> {
  const flags = ['--no-mdns', '--interface', 'lo', ...(join ? ['--join', join] : [])];
  const proc = new JsonLinesProcess(spawn(process.execPath, [
    CLI, ...flags, 'run', ...args, '--admin-address', '127.0.0.1:0', '--profile', 'local', '--swim', FAST,
  ], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  procs.push(proc);
  const line = await proc.waitFor((m) => typeof m.admin === 'string', 20_000, `${name} start`);
  return { proc, gossip: line.gossip as string, admin: line.admin as string, id: line.id as string };
}

async function targetsOf(n: Node): Promise<string[]> {
  const groups = await (await fetch(`http://${n.admin}/v1/prometheus/targets`)).json() as { targets: string[] }[];
  return groups.flatMap((g) => g.targets).sort();
}

after(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await prom?.dispose();
});

test('Prometheus scrapes a mesh found through http_sd, rates its calls by service, and loses a killed node', { skip: gate.skip, timeout: 120_000 }, async () => {
  const a = await node(['--demo'], 'greeter-a');
  const b = await node(['--demo'], 'greeter-b', a.gossip);
  const c = await node(['--name', 'idle'], 'idle', a.gossip);
  const all = [a.admin, b.admin, c.admin].sort();
  for (let i = 0; i < 200 && (await targetsOf(a)).length < 3; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await targetsOf(a), all, 'one node lists the three admin ports');

  prom = await gate.start({
    httpSd: [`http://${a.admin}/v1/prometheus/targets`],
    relabelConfigs: [{ source_labels: ['__meta_micromesh_node_id'], target_label: 'node' }],
  });
  const up = await prom.until('three targets up', async () => {
    const ts = await prom!.targets();
    return ts.length === 3 && ts.every((t) => t.health === 'up') && ts;
  });
  assert.deepEqual(up.map((t) => t.discoveredLabels.__address__).sort(), all);
  assert.deepEqual(up.map((t) => t.labels.node).sort(), [a.id, b.id, c.id].sort());

  // Traffic from a client that joins the mesh (not scraped: only the servers' side is asked for).
  const client = createService({ name: 'load', address: '127.0.0.1:0', mesh: { mdns: false, join: [a.gossip] }, logger: silentLogger });
  await client.start();
  let calls = 0;
  let sending = true;
  const load = (async () => {
    while (sending) {
      await client.client.call('greeter', 'Greeter.Hello', { name: 'Ada' }).then(() => calls++, () => {});
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    const rates = await prom.until('a rate of greeter calls', async () => {
      const r = await prom!.query('sum by (service) (rate(micromesh_rpc_server_calls_total{code="OK"}[5s]))');
      return r.some((s) => s.metric.service === 'greeter' && s.value > 0) && r;
    });
    assert.ok(rates.every((s) => s.metric.service === 'greeter'), 'only greeter served calls');
    // Both replicas served: the selector spreads calls, and each one's admin port was scraped.
    const byNode = await prom.until('both replicas counted', async () => {
      const r = await prom!.query('sum by (node) (micromesh_rpc_server_calls_total{service="greeter",code="OK"})');
      return r.length === 2 && r.every((s) => s.value > 0) && r;
    });
    assert.deepEqual(byNode.map((s) => s.metric.node).sort(), [a.id, b.id].sort());
  } finally {
    sending = false;
    await load;
    await client.stop();
  }
  assert.ok(calls > 0);

  // SIGKILL: no goodbye. The mesh declares it dead, the list drops it, and so does Prometheus.
  c.proc.child.kill('SIGKILL');
  for (let i = 0; i < 300 && (await targetsOf(a)).length !== 2; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await targetsOf(a), [a.admin, b.admin].sort());
  await prom.until('the killed node gone from the active targets', async () => {
    const ts = await prom!.targets();
    return ts.length === 2 && !ts.some((t) => t.discoveredLabels.__address__ === c.admin);
  });
});
