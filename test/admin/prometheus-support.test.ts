// test/support/prometheus.ts against a real Prometheus: a plain node:http
// server (a static http_sd list and one counter) checks the helper itself;
// an AdminServer with a fake source checks that Prometheus takes the admin
// port's http_sd answer and metrics as they are, and drops a target that
// leaves the list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { AdminServer, httpSdGroups, type AdminSource, type HttpSdGroup } from '../../src/admin/index.ts';
import { SystemClock } from '../../src/clock/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { prometheusGate, type Prometheus } from '../support/prometheus.ts';

const gate = await prometheusGate();

test('Prometheus discovers targets through http_sd, scrapes them, and drops those that leave', { skip: gate.skip, timeout: 120_000 }, async (t) => {
  // The plain server: its own address in a static http_sd list, and a counter.
  let hits = 0;
  const plain = createServer((req, res) => {
    if (req.url === '/sd') {
      const a = plain.address() as { port: number };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify([{ targets: [`127.0.0.1:${a.port}`], labels: { __meta_micromesh_node_id: 'plain' } }]));
      return;
    }
    hits++;
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`# HELP selftest_scrapes_total Scrapes seen.\n# TYPE selftest_scrapes_total counter\nselftest_scrapes_total ${hits}\n`);
  });
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  t.after(() => plain.close());
  const plainPort = (plain.address() as { port: number }).port;

  // An admin port whose source lists itself, as a one-node mesh would.
  let groups: HttpSdGroup[] = [];
  const source: AdminSource = {
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '# TYPE admin_selftest gauge\nadmin_selftest{service="greeter"} 42\n' }),
    readiness: () => ({ ready: true }),
    stats: async () => ({}),
    targets: () => groups,
  };
  const admin = new AdminServer({ address: '127.0.0.1:0', source, clock: new SystemClock(), logger: silentLogger });
  await admin.start();
  t.after(() => admin.stop());
  groups = httpSdGroups([{ id: 'node-a', state: 'alive', admin: admin.address!, services: [{ name: 'greeter', version: '1.0.0' }] }]);

  const prom: Prometheus = await gate.start({
    httpSd: [`http://127.0.0.1:${plainPort}/sd`, `http://${admin.address}/v1/prometheus/targets`],
    relabelConfigs: [{ source_labels: ['__meta_micromesh_node_id'], target_label: 'node' }],
  });
  t.after(() => prom.dispose());

  const up = await prom.until('both targets up', async () => {
    const ts = await prom.targets();
    return ts.length === 2 && ts.every((x) => x.health === 'up') ? ts : undefined;
  });
  const byNode = new Map(up.map((x) => [x.labels.node, x]));
  assert.equal(byNode.get('plain')?.scrapeUrl, `http://127.0.0.1:${plainPort}/metrics`);
  assert.equal(byNode.get('node-a')?.scrapeUrl, `http://${admin.address}/metrics`);
  assert.equal(byNode.get('node-a')?.discoveredLabels.__meta_micromesh_services, ',greeter,');
  assert.equal(byNode.get('node-a')?.labels.job, 'micromesh');

  const counter = await prom.until('the counter', async () => {
    const r = await prom.query('selftest_scrapes_total');
    return r.length === 1 && r[0]!.value >= 1 ? r[0] : undefined;
  });
  assert.equal(counter.metric.node, 'plain');
  assert.equal(counter.metric.job, 'micromesh');
  // The metrics' own service label stays as it is: no http_sd label clashes with it.
  const gauge = await prom.until('the admin port\'s gauge', async () => (await prom.query('admin_selftest')).at(0));
  assert.deepEqual({ ...gauge.metric, instance: undefined }, { __name__: 'admin_selftest', service: 'greeter', node: 'node-a', job: 'micromesh', instance: undefined });
  assert.equal(gauge.value, 42);

  // The node leaves the list: Prometheus drops its target on the next poll.
  groups = [];
  await prom.until('the admin target dropped', async () => {
    const ts = await prom.targets();
    return ts.length === 1 && ts[0]!.labels.node === 'plain';
  });
});
