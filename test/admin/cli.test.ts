// `micromesh run --admin-address` as users run it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLI, cli } from '../support/cli.ts';
import { spawnTs } from '../support/process.ts';

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

test('micromesh run --admin-address serves the admin port and prints its address', { timeout: 60_000 }, async (t) => {
  const run = spawnTs(CLI, ['--json', '--no-mdns', '--interface', 'lo', '--log-level', 'error', 'run', '--demo', '--admin-address', '127.0.0.1:0']);
  t.after(() => run.kill('SIGKILL'));
  const [, admin] = await run.waitFor(/"admin":"([^"]+)"/);
  assert.match(admin!, /^127\.0\.0\.1:[1-9]\d*$/);
  const base = `http://${admin}`;
  assert.equal((await get(`${base}/health/live`)).status, 200);
  // Ready once started and registered, which the start-up line follows.
  assert.equal((await get(`${base}/health/ready`)).status, 200);
  const metrics = await get(`${base}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.type, /^text\/plain/);
  const targets = JSON.parse((await get(`${base}/v1/prometheus/targets`)).body) as { targets: string[]; labels: Record<string, string> }[];
  assert.deepEqual(targets.map((g) => g.targets), [[admin]]);
  assert.equal(targets[0]!.labels.__meta_micromesh_services, ',greeter,');
  assert.equal((await get(`${base}/debug/stats`)).status, 200);
  await run.kill('SIGTERM');
  await assert.rejects(fetch(`${base}/health/live`));
});

test('a malformed --admin-address is refused before anything starts', async () => {
  const r = await cli(['--no-mdns', 'run', '--admin-address', 'localhost']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--admin-address.*must be host:port or :port/);
});
