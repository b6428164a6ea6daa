// The published package works where users run it: packed, installed into a
// fresh project, imported and run by plain `node` (no tsx: Node strips no types
// under node_modules), its `micromesh` bin run through npx, and its .d.ts
// type-checked by a strict NodeNext project.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { NODE, REPO, installPacked, npmMissing, packOnce, type PackedPackage, type TempProject } from '../support/pack.ts';

const skip = npmMissing();
let pkg: PackedPackage;
let app: TempProject;

before(async () => {
  if (skip) return;
  pkg = await packOnce();
  app = await installPacked(pkg);
}, { timeout: 300_000 });

after(async () => {
  await app?.cleanup();
  pkg?.cleanup();
});

test('the tarball holds the build, not the sources, tests or benches', { skip }, () => {
  assert.ok(pkg.files.includes('dist/src/index.js') && pkg.files.includes('dist/src/index.d.ts'), 'entry point and its types');
  assert.ok(pkg.files.includes('dist/bin/micromesh.js'), 'the CLI');
  for (const f of ['index.html', 'app.js', 'app.css']) assert.ok(pkg.files.includes(`dist/web/${f}`), `the dashboard's ${f}`);
  const stray = pkg.files.filter((f) => !/^dist\/(src|bin)\/.+\.(js|d\.ts)$/.test(f) && !/^dist\/web\/(index\.html|app\.js|app\.css)$/.test(f)
    && !/^(package\.json|README\.md|LICENSE)$/.test(f));
  assert.deepEqual(stray, []);
});

test('plain node imports the package, serves a handler and calls it; a MeshError keeps its code across the call', { skip }, async () => {
  app.write({
    'app.mjs': `
import { createService, MeshError } from 'micromesh';
const svc = createService({ name: 'kitchen', mesh: false }).handle('Kitchen', {
  Hello: ({ name }) => ({ msg: 'Hello ' + name }),
  Tea: () => { throw new MeshError('OUT_OF_TEA', 'no tea left', { id: 'kitchen', status: 418 }); },
});
await svc.start();
const reply = await svc.client.call('kitchen', 'Kitchen.Hello', { name: 'Ada' });
let err;
try { await svc.client.call('kitchen', 'Kitchen.Tea', {}); } catch (e) { err = e; }
await svc.stop();
console.log(JSON.stringify({ reply, isMeshError: err instanceof MeshError, code: err?.code, status: err?.status, id: err?.id }));
`,
  });
  // --no-experimental-strip-types: nothing may rely on Node stripping types.
  const r = await app.run(NODE, ['--no-experimental-strip-types', 'app.mjs']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { reply: { msg: 'Hello Ada' }, isMeshError: true, code: 'OUT_OF_TEA', status: 418, id: 'kitchen' });
});

test('plain node runs the API gateway from micromesh/api in front of a handler; micromesh/sidecar loads', { skip }, async () => {
  app.write({
    'gateway.mjs': `
import { createService, MemoryRegistry } from 'micromesh';
import { createApiGateway, routes } from 'micromesh/api';
import { createSidecar } from 'micromesh/sidecar';
const registry = new MemoryRegistry();
const svc = createService({ name: 'kitchen', mesh: false, registry })
  .handle('Kitchen', { Dish: ({ id }) => ({ dish: id }) }, { metadata: routes({ Dish: 'GET /dishes/:id' }) });
await svc.start();
const front = createService({ name: 'front', mesh: false, registry });
const gw = createApiGateway({ service: front, address: '127.0.0.1:0' });
await gw.start();
const r = await fetch('http://' + gw.address + '/dishes/soup');
const body = await r.json();
await gw.stop(); await front.stop(); await svc.stop();
console.log(JSON.stringify({ status: r.status, body, sidecar: typeof createSidecar }));
`,
  });
  const r = await app.run(NODE, ['--no-experimental-strip-types', 'gateway.mjs'], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { status: 200, body: { dish: 'soup' }, sidecar: 'function' });
});

test('plain node runs a mesh member answering Consul\'s API from micromesh/agent (the createService addon form)', { skip }, async () => {
  app.write({
    'agent.mjs': `
import { createService } from 'micromesh';
import { consulAgent } from 'micromesh/agent';
const agent = consulAgent({ httpAddress: '127.0.0.1:0', dnsAddress: '127.0.0.1:0' });
const svc = createService({ name: 'kitchen', address: '127.0.0.1:0', mesh: { mdns: false, gossipAddress: '127.0.0.1:0' }, addons: [agent] });
await svc.start();
const r = await fetch('http://' + agent.agent.httpAddress + '/v1/catalog/services');
const body = await r.json();
await svc.stop();
console.log(JSON.stringify({ status: r.status, index: Number(r.headers.get('x-consul-index')) >= 1, body }));
`,
  });
  const r = await app.run(NODE, ['--no-experimental-strip-types', 'agent.mjs'], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { status: 200, index: true, body: { kitchen: [] } });
});

test('plain node serves the dashboard from micromesh/web with the built app (no bundler in the project)', { skip }, async () => {
  app.write({
    'web.mjs': `
import { createService } from 'micromesh';
import { createWebDashboard } from 'micromesh/web';
const svc = createService({ name: 'kitchen', mesh: false }).handle('Kitchen', { Dish: ({ id }) => ({ dish: id }) });
const web = createWebDashboard({ service: svc, address: '127.0.0.1:0' });
await web.start();
const base = 'http://' + web.address;
const page = await (await fetch(base + '/')).text();
const js = await fetch(base + '/assets/app.js');
const services = await (await fetch(base + '/api/services')).json();
const call = await (await fetch(base + '/rpc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'kitchen', endpoint: 'Kitchen.Dish', request: { id: 'soup' } }) })).json();
await web.stop(); await svc.stop();
console.log(JSON.stringify({ app: page.includes('assets/app.js'), js: js.status, type: js.headers.get('content-type'), services: services.services.map((s) => s.name), call }));
`,
  });
  const r = await app.run(NODE, ['--no-experimental-strip-types', 'web.mjs'], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { app: true, js: 200, type: 'text/javascript; charset=utf-8', services: ['kitchen'], call: { dish: 'soup' } });
});

test('plain node runs the bot from micromesh/bot; its chat libraries load from the package when an input connects', { skip }, async () => {
  app.write({
    'bot.mjs': `
import { createService } from 'micromesh';
import { createBot, botCommand, XmppInput, IrcInput } from 'micromesh/bot';
const cmd = botCommand({ name: 'soup', usage: 'soup', description: 'today', exec: () => 'tomato' });
const kitchen = createService({ name: 'kitchen', mesh: false, metadata: cmd.metadata }).handle('Command', cmd.handler);
const sent = [];
let events;
const input = { name: 'test', connect: async (e) => { events = e; }, send: async (c, r) => { sent.push(r.blocks.map((b) => b.text).join(' ')); }, close: async () => {} };
const bot = createBot({ service: kitchen, inputs: [input] });
await bot.start();
for (let i = 0; i < 100 && !bot.commands().some((c) => c.name === 'soup'); i++) await new Promise((r) => setTimeout(r, 10));
for (const text of ['ping', 'soup']) events.message({ from: 'test:me', fromName: 'me', conversation: 'c', direct: true, text });
await bot.idle();
const failures = [];
for (const i of [new XmppInput({ service: 'xmpp://127.0.0.1:1', username: 'b', password: 'p' }), new IrcInput({ host: '127.0.0.1', port: 1 })]) {
  try { await i.connect({ message() {}, closed() {} }); } catch (e) { failures.push(e.code); }
}
await bot.stop(); await kitchen.stop();
console.log(JSON.stringify({ sent, failures }));
`,
  });
  const r = await app.run(NODE, ['--no-experimental-strip-types', 'bot.mjs'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { sent: ['pong', 'tomato'], failures: ['UNAVAILABLE', 'UNAVAILABLE'] });
});

test('micromesh/etcd and micromesh/nats load from the install; their clients load when used', { skip }, async () => {
  app.write({
    'plumbing.mjs': `
import { EtcdRegistry } from 'micromesh/etcd';
import { NatsBroker } from 'micromesh/nats';
const r = new EtcdRegistry({ hosts: 'http://127.0.0.1:1', dialTimeoutMs: 300 });
const etcd = await r.listServices().then(() => 'ok', (e) => e.code);
await r.close();
const b = new NatsBroker({ servers: 'nats://127.0.0.1:1', publishTimeoutMs: 300 });
const nats = await b.start().then(() => 'ok', (e) => e.code ?? String(e));
await b.stop().catch(() => {});
console.log(JSON.stringify({ etcd, nats }));
process.exit(0);
`,
  });
  const r = await app.run(NODE, ['--no-experimental-strip-types', 'plumbing.mjs'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { etcd: string; nats: string };
  assert.equal(out.etcd, 'UNAVAILABLE');
  assert.notEqual(out.nats, 'ok');
});

test('npx micromesh web serves the dashboard from the one-file CLI', { skip }, async () => {
  const env = { NODE_OPTIONS: '--no-experimental-strip-types' };
  const node = app.start('npx', ['micromesh', '--no-mdns', '--interface', 'lo', 'web', '--address', '127.0.0.1:0', '--read-only'], { env });
  try {
    let stderr = '';
    node.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const first = await Promise.race([
      new Promise<string>((resolve) => createInterface({ input: node.stdout! }).once('line', resolve)),
      new Promise<never>((_, reject) => node.once('exit', (code) => reject(new Error(`micromesh web exited ${code}: ${stderr}`)))),
    ]);
    const { web, readOnly } = JSON.parse(first) as { web: string; readOnly: boolean };
    assert.equal(readOnly, true);
    assert.match(await (await fetch(`http://${web}/`)).text(), /assets\/app\.js/);
    assert.equal((await fetch(`http://${web}/assets/app.css`)).status, 200);
    const mesh = await (await fetch(`http://${web}/api/mesh`)).json() as { localId: string };
    assert.deepEqual(await (await fetch(`http://${web}/api/info`)).json(), { node: mesh.localId, service: 'micromesh-web', readOnly: true });
  } finally {
    // npx runs the command as its child: end the whole group (start() detaches it).
    process.kill(-node.pid!, 'SIGTERM');
  }
});

test('npx micromesh --version prints the package version', { skip }, async () => {
  const { version } = JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as { version: string };
  const r = await app.run('npx', ['micromesh', '--version'], { env: { NODE_OPTIONS: '--no-experimental-strip-types' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${version}\n`);
  assert.equal(pkg.version, version);
  const help = await app.run('npx', ['micromesh', 'api', '--help'], { env: { NODE_OPTIONS: '--no-experimental-strip-types' } });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /--allow <patterns>/);
});

test('npx micromesh call reaches a node started with npx micromesh run --demo', { skip }, async () => {
  const env = { NODE_OPTIONS: '--no-experimental-strip-types' };
  const node = app.start('npx', ['micromesh', '--no-mdns', '--interface', 'lo', 'run', '--demo'], { env });
  let stderr = '';
  node.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const lines = createInterface({ input: node.stdout! });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    new Promise<never>((_, reject) => node.once('exit', (code) => reject(new Error(`micromesh run exited ${code}: ${stderr}`)))),
  ]);
  const { gossip } = JSON.parse(first) as { gossip: string };
  assert.match(gossip, /^127\.0\.0\.1:\d+$/);
  const r = await app.run('npx', ['micromesh', '--no-mdns', '--join', gossip, 'call', 'greeter', 'Greeter.Hello', '{"name":"Ada"}'], { env, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { msg: 'Hello Ada' });
});

test('a strict NodeNext TypeScript project type-checks against the shipped .d.ts', { skip }, async () => {
  app.write({
    'tsconfig.json': JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false },
      files: ['typed.ts'],
    }),
    'typed.ts': `
import { createService, MeshError, badRequest, type Service, type HandlerContext } from 'micromesh';

const svc: Service = createService({ name: 'typed', mesh: false }).handle('Typed', {
  Hello(req: { name: string }, ctx: HandlerContext): { msg: string } {
    if (ctx.signal.aborted) throw badRequest('cancelled');
    return { msg: 'Hello ' + req.name };
  },
});
export async function main(): Promise<string> {
  await svc.start();
  const reply = await svc.client.call<{ msg: string }>('typed', 'Typed.Hello', { name: 'Ada' });
  // @ts-expect-error: msg is a string; this line errs only if the types are real (not any).
  const wrong: number = reply.msg;
  const err: MeshError = new MeshError('OUT_OF_TEA', 'no tea left', { status: 418 });
  await svc.stop();
  return reply.msg + String(wrong) + err.code;
}
`,
  });
  const r = await app.run(NODE, [`${REPO}node_modules/typescript/bin/tsc`, '-p', '.'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
});
