// `micromesh new --proto` as users run it, like new.test.ts: the packed
// package installed into a temp project, its `npx micromesh new demo-svc
// --proto` run on plain node, then the generated project installed against
// the same tarball (offline, its buf and protoc-gen-es from the npm cache) and
// built: `npm run build` runs buf generate with both plugins from the
// project's node_modules/.bin (protoc-gen-micromesh is the packed package's
// bin) and type-checks with tsc. Then `npm test`, `npm start`, and calls in
// protobuf (`npm run call`, the generated client) and in JSON (`npx micromesh call`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { PROTO_VERSIONS } from '../../bin/cli/new/proto-docs.ts';
import { projectNames, protoNames } from '../../bin/cli/new/names.ts';
import { NODE, REPO, firstJsonLine, installPacked, npmMissing, packOnce, type PackedPackage, type TempProject } from '../support/pack.ts';

const skip = npmMissing();
const GEN = 'gen/demo_svc/v1/demo_svc';
const FILES = [
  'package.json', 'README.md', '.gitignore', 'proto/demo_svc/v1/demo_svc.proto', 'buf.yaml', 'buf.gen.yaml',
  'tsconfig.json', 'handler.ts', 'main.ts', 'client.ts', 'test/service.test.ts',
];
// No node_modules/.bin but the project's own: buf and the plugins must come from its install.
const PATH = (process.env.PATH ?? '').split(delimiter).filter((p) => !p.includes('node_modules')).join(delimiter);
let pkg: PackedPackage;
let cli: TempProject; // the installed package, whose bin runs `new`
let svc: TempProject | undefined; // the generated project, once installed
let work: string | undefined; // where the generated project is moved, away from cli's node_modules

before(async () => {
  if (skip) return;
  pkg = await packOnce();
  cli = await installPacked(pkg);
}, { timeout: 300_000 });

after(async () => {
  await svc?.cleanup();
  await cli?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
  pkg?.cleanup();
});

test('the proto names: NAME in snake case for the package and file, the handler name for the service', () => {
  assert.deepEqual(protoNames(projectNames('demo-svc')), {
    package: 'demo_svc.v1', service: 'DemoSvc', file: 'demo_svc/v1/demo_svc.proto', gen: GEN,
  });
  assert.equal(protoNames(projectNames('billing.v2')).package, 'billing_v2.v1');
  assert.equal(protoNames(projectNames('hello-request')).service, 'HelloRequestService', 'not the name of a message');
  assert.equal(protoNames(projectNames('stream-request-schema')).service, 'StreamRequestSchemaService', 'nor of its schema');
});

test('the pinned versions are the ones micromesh builds with', () => {
  const repo = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
  for (const [name, version] of Object.entries(PROTO_VERSIONS)) {
    assert.equal(repo.dependencies![name] ?? repo.devDependencies![name], version, name);
  }
  assert.equal(repo.dependencies!['@bufbuild/protobuf'], PROTO_VERSIONS['@bufbuild/protobuf'], 'one protobuf runtime: micromesh\'s');
});

test('npx micromesh new demo-svc --proto writes a project around a .proto, gen/ left to the build', { skip }, async () => {
  const r = await cli.run('npx', ['micromesh', 'new', 'demo-svc', '--proto']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /created demo-svc \(handler DemoSvc\)/);
  assert.match(r.stdout, /cd demo-svc && npm install && npm test/);
  assert.match(r.stdout, /npx micromesh call demo-svc DemoSvc\.Hello/);
  const dir = join(cli.dir, 'demo-svc');
  for (const f of FILES) {
    assert.ok(existsSync(join(dir, f)), f);
    assert.match(r.stdout, new RegExp(`^  ${f.replaceAll('.', '\\.')}$`, 'm'), `lists ${f}`);
  }
  assert.ok(!existsSync(join(dir, 'gen')), 'generated code is not part of the scaffold');
  assert.match(readFileSync(join(dir, '.gitignore'), 'utf8'), /^gen\/$/m);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, any>;
  assert.deepEqual(manifest.dependencies, { '@bufbuild/protobuf': '2.17.0', micromesh: `^${pkg.version}` });
  assert.deepEqual(manifest.devDependencies, { '@bufbuild/buf': '1.75.0', '@bufbuild/protoc-gen-es': '2.17.0', '@types/node': '24.19.2', typescript: '5.9.3' });
  assert.equal(manifest.scripts.generate, 'buf generate');
  assert.match(manifest.scripts.build, /npm run generate && tsc/);
  const bufGen = readFileSync(join(dir, 'buf.gen.yaml'), 'utf8');
  assert.match(bufGen, /- local: protoc-gen-es\n/);
  assert.match(bufGen, /- local: protoc-gen-micromesh\n/);
  const proto = readFileSync(join(dir, 'proto/demo_svc/v1/demo_svc.proto'), 'utf8');
  assert.match(proto, /^package demo_svc\.v1;$/m);
  assert.match(proto, /rpc Hello\(HelloRequest\) returns \(HelloResponse\);/);
  assert.match(proto, /rpc Stream\(StreamRequest\) returns \(stream HelloResponse\);/);
  assert.match(readFileSync(join(dir, 'README.md'), 'utf8'), /npm run generate/, 'the README says how to regenerate');
  // Out of cli's tree, so that nothing resolves through its node_modules.
  work = mkdtempSync(join(tmpdir(), 'micromesh-new-proto-'));
  renameSync(dir, join(work, 'demo-svc'));
});

test('the project installs offline; npm run build generates gen/ with both plugins and compiles it', { skip, timeout: 180_000 }, async () => {
  assert.ok(work, 'the previous test generated the project');
  svc = await installPacked(pkg, { dir: join(work, 'demo-svc') });
  assert.ok(existsSync(join(svc.dir, 'node_modules/.bin/protoc-gen-micromesh')), 'micromesh installs the plugin');
  const r = await svc.run('npm', ['run', 'build'], { env: { PATH: `${dirname(NODE)}${delimiter}${PATH}` }, timeoutMs: 120_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(readFileSync(join(svc.dir, `${GEN}_pb.ts`), 'utf8'), /@generated by protoc-gen-es v2\.17\.0/);
  const micromeshGen = readFileSync(join(svc.dir, `${GEN}_micromesh.ts`), 'utf8');
  assert.match(micromeshGen, new RegExp(`@generated by protoc-gen-micromesh v${pkg.version.replaceAll('.', '\\.')}`));
  assert.match(micromeshGen, /export interface DemoSvcHandler/);
  for (const f of ['main.js', 'handler.js', 'client.js', 'test/service.test.js', `${GEN}_micromesh.js`, `${GEN}_pb.js`]) {
    assert.ok(existsSync(join(svc.dir, 'dist', f)), f);
  }
});

test('its npm test passes', { skip, timeout: 120_000 }, async () => {
  assert.ok(svc, 'the project is installed');
  const r = await svc.run('npm', ['test'], { timeoutMs: 90_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /pass 6/);
  assert.match(r.stdout, /fail 0/);
});

test('npm start serves it; the generated client (protobuf) and npx micromesh call (JSON) reach it', { skip, timeout: 60_000 }, async () => {
  assert.ok(svc, 'the project is installed');
  // Loopback only, seeds only: nothing leaves the machine.
  const node = svc.start('npm', ['start', '--', '--address', '127.0.0.1:0', '--no-mdns']);
  const { gossip, service } = JSON.parse(await firstJsonLine(node)) as { gossip: string; service: string };
  assert.equal(service, 'demo-svc');

  const client = await svc.run('npm', ['run', 'call', '--', '--address', '127.0.0.1:0', '--no-mdns', '--join', gossip, '--name', 'Ada'], { timeoutMs: 30_000 });
  assert.equal(client.code, 0, client.stderr);
  assert.match(client.stdout, /^Hello Ada$/m);
  assert.match(client.stdout, /^Hello Ada #1\nHello Ada #2\nHello Ada #3$/m);

  const call = await svc.run('npx', ['micromesh', '--no-mdns', '--join', gossip, 'call', 'demo-svc', 'DemoSvc.Hello', '{"name":"Ada"}'], { timeoutMs: 30_000 });
  assert.equal(call.code, 0, call.stderr);
  assert.deepEqual(JSON.parse(call.stdout), { msg: 'Hello Ada' });

  const bad = await svc.run('npx', ['micromesh', '--no-mdns', '--join', gossip, 'call', 'demo-svc', 'DemoSvc.Hello', '{}'], { timeoutMs: 30_000 });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /BAD_REQUEST/);

  // npm and the node under it form the process group `start` made.
  const exited = once(node, 'exit');
  process.kill(-node.pid!, 'SIGTERM');
  await exited;
});
