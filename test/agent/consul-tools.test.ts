// The seed's Consul workflow, almost verbatim, against a mesh of CLI processes on loopback: agent a
// (micromesh agent), api gateway b, agent c, greeters d and e. curl lists nodes and the greeter, registers an
// outside service from a JSON file, lists and deregisters it; dig asks SRV and node names. Then an outside
// HTTP service (Python's http.server) registered at a with an HTTP check: callable by name through b's
// gateway, critical when the server stops, gone from every node's catalog when a is SIGKILLed.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI, cli } from '../support/cli.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { freePort, serverGate, waitForPort } from '../support/servers.ts';
import { FAST_SWIM, eventually } from '../support/agent-mesh.ts';

const run = promisify(execFile);
const gate = await serverGate('/usr/bin/dig', 'apt-get install dnsutils');
const curlGate = await serverGate('/usr/bin/curl', 'apt-get install curl');
const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) p.kill('SIGKILL');
});

/** A CLI process; `fast` gives it the local SWIM profile (the gateway has no such flags, so it detects deaths at LAN speed). */
function node(args: string[], name: string, fast = true): JsonLinesProcess {
  const swim = fast ? ['--profile', 'local', '--swim', JSON.stringify(FAST_SWIM)] : [];
  const child = spawn(process.execPath, [CLI, '--json', '--no-mdns', '--interface', 'lo', '--log-level', 'error', ...args, ...swim], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  return new JsonLinesProcess(child, name);
}
const curl = async (...args: string[]): Promise<string> => (await run('curl', ['-sS', '--fail-with-body', ...args])).stdout;
const curlJson = async (url: string): Promise<any> => JSON.parse(await curl(url));
const dig = async (dns: string, ...args: string[]): Promise<string> => {
  const [host, port] = dns.split(':');
  return (await run('dig', [`@${host}`, '-p', port!, '+tries=1', '+time=2', ...args])).stdout;
};

test('the seed\'s curl and dig workflow, then an outside HTTP service through the mesh until its agent dies', { skip: gate.skip || curlGate.skip, timeout: 120_000 }, async () => {
  const a = node(['agent', '--http-address', '127.0.0.1:0', '--dns-address', '127.0.0.1:0'], 'agent a');
  const aInfo = await a.waitFor((m) => typeof m.http === 'string', 20_000, 'agent a listening');
  const seed = aInfo.gossip as string;
  const api = `http://${aInfo.http as string}`;
  const b = node(['--join', seed, 'api', '--address', '127.0.0.1:0'], 'gateway b', false);
  const c = node(['--join', seed, 'agent', '--http-address', '127.0.0.1:0', '--dns-address', ''], 'agent c');
  node(['--join', seed, 'run', '--demo'], 'greeter d');
  node(['--join', seed, 'run', '--demo'], 'greeter e');
  const gateway = `http://${(await b.waitFor((m) => typeof m.api === 'string', 20_000, 'gateway b')).api as string}`;
  const apiC = `http://${(await c.waitFor((m) => typeof m.http === 'string', 20_000, 'agent c')).http as string}`;

  // curl http://127.0.0.1:8500/v1/catalog/nodes
  const nodes = await eventually(() => curlJson(`${api}/v1/catalog/nodes`), (n) => n.length === 5, 'five nodes');
  assert.ok(nodes.every((n: any) => n.Address === '127.0.0.1' && n.Datacenter === 'micromesh'));
  assert.ok(nodes.some((n: any) => n.ID === aInfo.node));
  // curl http://127.0.0.1:8500/v1/catalog/service/greeter
  const greeters = await eventually(() => curlJson(`${api}/v1/catalog/service/greeter`), (g) => g.length === 2, 'two greeters');
  const ports = greeters.map((g: any) => g.ServicePort).sort();

  // curl --request PUT --data @web2.json http://127.0.0.1:8500/v1/agent/service/register
  const dir = await mkdtemp(join(tmpdir(), 'micromesh-agent-'));
  await writeFile(join(dir, 'web2.json'), JSON.stringify({ ID: 'web2', Name: 'web2', Tags: ['rails'], Address: '127.0.0.1', port: 8080 }));
  assert.equal(await curl('--request', 'PUT', '--data', `@${join(dir, 'web2.json')}`, `${api}/v1/agent/service/register`), '');
  const services = await curlJson(`${api}/v1/agent/services`);
  assert.equal(services.web2.Port, 8080);
  assert.deepEqual(services.web2.Tags, ['rails']);
  await eventually(() => curlJson(`${apiC}/v1/catalog/service/web2`), (s) => s.length === 1 && s[0].ServicePort === 8080, 'web2 seen at c');
  assert.equal(await curl('--request', 'PUT', `${api}/v1/agent/service/deregister/web2`), '');
  await eventually(() => curlJson(`${apiC}/v1/catalog/service/web2`), (s) => s.length === 0, 'web2 gone at c');

  // dig @127.0.0.1 -p 8600 greeter.service.consul SRV
  const srv = await dig(aInfo.dns as string, 'greeter.service.consul', 'SRV');
  assert.match(srv, /flags: qr aa rd;/);
  const records = [...srv.matchAll(/^greeter\.service\.consul\.\s+0\s+IN\s+SRV\s+1 1 (\d+) (\S+)$/gm)];
  assert.deepEqual(records.map((r) => Number(r[1])).sort(), ports);
  const nodeName = records[0]![2]!;
  assert.match(nodeName, /\.node\.micromesh\.consul\.$/);
  // dig @127.0.0.1 -p 8600 <node>.node.consul
  const short = nodeName.replace('.micromesh.consul.', '.consul');
  assert.equal((await dig(aInfo.dns as string, short, '+short')).trim(), '127.0.0.1');
  assert.match(await dig(aInfo.dns as string, 'nope.service.consul'), /status: NXDOMAIN/);
  assert.match(await dig(aInfo.dns as string, 'example.com'), /status: REFUSED/);

  // An outside HTTP service with an HTTP check, registered at a.
  const webPort = await freePort();
  const python = spawn('python3', ['-m', 'http.server', String(webPort), '--bind', '127.0.0.1', '--directory', dir], { stdio: 'ignore' });
  procs.push(python);
  await waitForPort(webPort);
  await curl('--request', 'PUT', '--data', JSON.stringify({
    name: 'web', port: webPort, address: '127.0.0.1', check: { http: `http://127.0.0.1:${webPort}/web2.json`, interval: '1s', timeout: '1s' },
  }), `${api}/v1/agent/service/register`);
  const passing = await eventually(() => curlJson(`${apiC}/v1/health/service/web?passing`), (s) => s.length === 1, 'web passing, seen at c');
  assert.equal(passing[0].Checks[1].CheckID, 'service:web');
  // Callable by name from b: its gateway proxies /web/ to the service the mesh lists.
  const through = await eventually(() => run('curl', ['-sS', `${gateway}/web/web2.json`]).then((r) => r.stdout, () => ''), (t) => t.includes('"web2"'), 'b\'s gateway to proxy /web/');
  assert.equal(JSON.parse(through).port, 8080);
  const listed = await cli(['--no-mdns', '--join', seed, '--json', 'services']);
  assert.match(listed.stdout, /"web"/);
  assert.ok((await dig(aInfo.dns as string, 'web.service.consul', 'SRV', '+short')).includes(` ${webPort} `));

  // The server stops: critical everywhere, out of DNS, no longer proxied.
  python.kill('SIGKILL');
  const critical = await eventually(() => curlJson(`${apiC}/v1/health/service/web`), (s) => s[0]?.Checks[1].Status === 'critical', 'web critical at c');
  assert.equal(critical.length, 1, 'a critical instance stays listed, as in Consul');
  assert.deepEqual(await curlJson(`${apiC}/v1/health/service/web?passing`), []);
  assert.match(await dig(aInfo.dns as string, 'web.service.consul', 'SRV'), /status: NXDOMAIN/);
  await eventually(() => run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${gateway}/web/web2.json`]).then((r) => r.stdout), (code) => code !== '200', 'b to stop proxying');

  // Agent a is SIGKILLed: SWIM declares it dead and its services leave every node's catalog.
  a.child.kill('SIGKILL');
  await eventually(() => curlJson(`${apiC}/v1/catalog/service/web`), (s) => s.length === 0, 'web gone from c\'s catalog');
  await eventually(() => curlJson(`${apiC}/v1/catalog/nodes`), (n) => n.length === 4, 'a gone from c\'s nodes');
  const after = await cli(['--no-mdns', '--join', (await c.waitFor((m) => typeof m.gossip === 'string', 1000, 'c gossip')).gossip as string, '--json', 'services']);
  assert.doesNotMatch(after.stdout, /"web"/);
});
