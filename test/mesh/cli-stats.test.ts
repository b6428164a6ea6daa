// `micromesh stats SERVICE` as users run it: a demo node over the mesh
// (loopback, seeds), traffic from the CLI, then the per-node figures.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CLI, cli } from '../support/cli.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';

const FAST = JSON.stringify({ probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 });
let demo: JsonLinesProcess | undefined;
after(() => demo?.child.kill('SIGKILL'));

test('micromesh stats SERVICE: started, uptime, memory, calls/s, errors by code, p50/p99 per node', { timeout: 60_000 }, async () => {
  demo = new JsonLinesProcess(spawn(process.execPath, [CLI, '--no-mdns', '--interface', 'lo', 'run', '--demo', '--profile', 'local', '--swim', FAST], { stdio: ['ignore', 'pipe', 'pipe'] }), 'demo');
  const gossip = (await demo.waitFor((m) => typeof m.gossip === 'string', 20_000, 'demo start')).gossip as string;
  const flags = ['--no-mdns', '--join', gossip];
  for (const name of ['Ada', 'Bo', '']) await cli([...flags, 'call', 'greeter', 'Greeter.Hello', JSON.stringify({ name })]);
  const r = await cli([...flags, '--json', 'stats', 'greeter', '--interval', '200ms']);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { node: string; started: string; uptimeS: number; rssBytes: number; served: number; callsPerS: number; errors: Record<string, number>; p50Ms: number }[];
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.ok(row!.served >= 3, JSON.stringify(row));
  assert.equal(row!.errors.BAD_REQUEST, 1, 'the empty name failed validation');
  assert.equal(typeof row!.callsPerS, 'number');
  assert.ok(row!.rssBytes > 0 && row!.uptimeS >= 0 && !Number.isNaN(Date.parse(row!.started)));
  assert.ok(row!.p50Ms > 0);
  const table = await cli([...flags, 'stats', 'greeter', '--interval', '100ms']);
  assert.match(table.stdout, /NODE\s+VERSION\s+STARTED\s+UPTIME\s+RSS\s+CALLS\/S\s+ERRORS\s+P50\s+P99/);
  assert.match(table.stdout, /BAD_REQUEST:1/);
  const missing = await cli([...flags, 'stats', 'nobody', '--interval', '100ms']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /SERVICE_NOT_FOUND|no service "nobody"/);
});
