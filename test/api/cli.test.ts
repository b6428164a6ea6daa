// `micromesh api` as a user runs it: a real gateway process joining a real
// greeter over the mesh (127.0.0.1, mDNS off, seeds), HTTP from outside.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { CLI } from '../support/cli.ts';
import { until } from '../support/gateway.ts';

const FAST = JSON.stringify({ probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 });
const procs: JsonLinesProcess[] = [];
after(() => { for (const p of procs) p.child.kill('SIGKILL'); });

function start(args: string[], name: string): JsonLinesProcess {
  const p = new JsonLinesProcess(spawn(process.execPath, [CLI, '--no-mdns', '--interface', 'lo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  procs.push(p);
  return p;
}

test('micromesh api serves the mesh over HTTP: unary, SSE, /rpc, 404; SIGTERM exits cleanly', async () => {
  const greeter = start(['run', '--demo', '--profile', 'local', '--swim', FAST], 'greeter');
  const g = await greeter.waitFor((m) => typeof m.gossip === 'string', 20_000, 'greeter start');
  const api = start(['--join', g.gossip as string, 'api', '--address', '127.0.0.1:0'], 'api');
  const a = await api.waitFor((m) => typeof m.api === 'string', 20_000, 'api start');
  const base = `http://${a.api as string}`;
  const hello = await until(() => fetch(`${base}/greeter/hello`, { method: 'POST', body: '{"name":"Ada"}', headers: { 'content-type': 'application/json' } }),
    (r) => r.status === 200, 'the gateway to see the greeter');
  assert.deepEqual(await hello.json(), { msg: 'Hello Ada' });
  const sse = await fetch(`${base}/greeter/stream?name=S&count=2`, { headers: { accept: 'text/event-stream' } });
  assert.equal(await sse.text(), 'data: {"msg":"Hello S #1"}\n\ndata: {"msg":"Hello S #2"}\n\nevent: end\ndata: {}\n\n');
  const rpc = await fetch(`${base}/rpc`, { method: 'POST', body: JSON.stringify({ service: 'greeter', endpoint: 'Greeter.Hello', request: { name: 'R' } }), headers: { 'content-type': 'application/json' } });
  assert.deepEqual(await rpc.json(), { msg: 'Hello R' });
  const bad = await fetch(`${base}/greeter/hello`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(bad.status, 400, 'the greeter\'s BAD_REQUEST');
  assert.equal((await fetch(`${base}/nobody/x`)).status, 404);
  const exited = once(api.child, 'exit');
  api.child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0);
});
