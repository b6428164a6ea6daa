// `micromesh new` as users run it: the packed package installed into a temp
// project, its `npx micromesh new demo-svc` run on plain node (no tsx), then
// the generated project installed against the same tarball (offline) and its
// own commands run: `npm test`, `npm start`, `npm run call`, and the README's
// `npx micromesh call`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handlerName, projectNames } from '../../bin/cli/new/names.ts';
import { NODE, REPO, firstJsonLine, installPacked, npmMissing, packOnce, type PackedPackage, type TempProject } from '../support/pack.ts';

const skip = npmMissing();
// Nothing may rely on Node stripping types: the project is plain JavaScript.
const env = { NODE_OPTIONS: '--no-experimental-strip-types' };
const FILES = ['package.json', 'README.md', '.gitignore', 'handler.js', 'main.js', 'client.js', 'test/service.test.js'];
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

/** The one line a failed `micromesh new` prints: no stack, no usage dump. */
function assertOneLineError(r: { code: number | null; stdout: string; stderr: string }, re: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, re);
}

test('NAME is a service name and an npm package name; the handler is its PascalCase', () => {
  assert.deepEqual(projectNames('demo-svc'), { service: 'demo-svc', handler: 'DemoSvc', client: 'demo-svc-client' });
  assert.equal(handlerName('billing.v2_api'), 'BillingV2Api');
  assert.equal(handlerName('math'), 'MathHandler', 'a global name gets a suffix');
  assert.equal(projectNames(`a${'b'.repeat(127)}`).client.length, 128, 'the client is a valid service name too');
  for (const bad of ['', 'Demo', '1st', '-x', '.x', '_x', 'a b', 'a/b', `a${'b'.repeat(128)}`, 'micromesh', 'http']) {
    assert.throws(() => projectNames(bad), { code: 'INVALID_ARGUMENT' }, JSON.stringify(bad));
  }
});

test('npx micromesh new demo-svc writes a project depending on this micromesh, and says what to run next', { skip }, async () => {
  const r = await cli.run('npx', ['micromesh', 'new', 'demo-svc'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /cd demo-svc && npm install && npm test/);
  assert.match(r.stdout, /npm start/);
  for (const f of FILES) {
    assert.ok(existsSync(join(cli.dir, 'demo-svc', f)), f);
    assert.match(r.stdout, new RegExp(`^  ${f.replaceAll('.', '\\.')}$`, 'm'), `lists ${f}`);
  }
  const manifest = JSON.parse(readFileSync(join(cli.dir, 'demo-svc', 'package.json'), 'utf8')) as Record<string, any>;
  assert.equal(manifest.name, 'demo-svc');
  assert.equal(manifest.type, 'module');
  assert.deepEqual(manifest.dependencies, { micromesh: `^${pkg.version}` });
  assert.equal(manifest.devDependencies, undefined, 'nothing to build: no dev dependency');
  assert.deepEqual(manifest.engines, { node: '>=22.12' });
  assert.deepEqual(Object.keys(manifest.scripts).sort(), ['call', 'start', 'test']);
  const readme = readFileSync(join(cli.dir, 'demo-svc', 'README.md'), 'utf8');
  for (const line of ['npm install && npm test', 'npm start', `npx micromesh call demo-svc DemoSvc.Hello '{"name":"Ada"}'`]) assert.ok(readme.includes(line), line);
  // Out of cli's tree, so that nothing resolves through its node_modules.
  work = mkdtempSync(join(tmpdir(), 'micromesh-new-'));
  renameSync(join(cli.dir, 'demo-svc'), join(work, 'demo-svc'));
});

test('micromesh new refuses a bad name and a non-empty directory: exit code 1, one line', { skip }, async () => {
  assertOneLineError(await cli.run('npx', ['micromesh', 'new', 'Demo-Svc'], { env }), /^error: INVALID_ARGUMENT: name "Demo-Svc" must be a lowercase letter/);
  assertOneLineError(await cli.run('npx', ['micromesh', 'new', 'micromesh'], { env }), /^error: INVALID_ARGUMENT: name "micromesh" is taken/);
  assert.ok(!existsSync(join(cli.dir, 'Demo-Svc')) && !existsSync(join(cli.dir, 'micromesh')));
  assertOneLineError(await cli.run('npx', ['micromesh', 'new', 'other', '--dir', '.'], { env }), /^error: INVALID_ARGUMENT: directory .* is not empty \(--force/);
  assert.ok(!existsSync(join(cli.dir, 'handler.js')), 'wrote nothing');
});

test('the generated project installs against the package and its npm test passes', { skip, timeout: 120_000 }, async () => {
  assert.ok(work, 'the first test generated the project');
  svc = await installPacked(pkg, { dir: join(work, 'demo-svc') });
  const r = await svc.run('npm', ['test'], { env, timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /pass 5/);
  assert.match(r.stdout, /fail 0/);
});

test('the generated JavaScript type-checks (checkJs, strict) against the shipped .d.ts', { skip }, async () => {
  assert.ok(svc, 'the project is installed');
  svc.write({
    'tsconfig.check.json': JSON.stringify({
      compilerOptions: {
        module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true,
        allowJs: true, checkJs: true, types: ['node'], typeRoots: [join(REPO, 'node_modules/@types')],
      },
      include: ['*.js', 'test/*.js'],
    }),
  });
  const r = await svc.run(NODE, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.check.json'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
});

test('npm start prints its addresses; npm run call and npx micromesh call reach it by name; SIGTERM stops it', { skip, timeout: 60_000 }, async () => {
  assert.ok(svc, 'the project is installed');
  // Loopback only, seeds only: nothing leaves the machine.
  const node = svc.start('npm', ['start', '--', '--address', '127.0.0.1:0', '--no-mdns'], { env });
  const { address, gossip, service } = JSON.parse(await firstJsonLine(node)) as { address: string; gossip: string; service: string };
  assert.equal(service, 'demo-svc');
  assert.match(address, /^127\.0\.0\.1:\d+$/);
  assert.match(gossip, /^127\.0\.0\.1:\d+$/);

  const client = await svc.run('npm', ['run', 'call', '--', '--address', '127.0.0.1:0', '--no-mdns', '--join', gossip, '--name', 'Ada'], { env, timeoutMs: 30_000 });
  assert.equal(client.code, 0, client.stderr);
  assert.match(client.stdout, /Hello Ada'/);
  assert.match(client.stdout, /Hello Ada #3/);

  const call = await svc.run('npx', ['micromesh', '--no-mdns', '--join', gossip, 'call', 'demo-svc', 'DemoSvc.Hello', '{"name":"Ada"}'], { env, timeoutMs: 30_000 });
  assert.equal(call.code, 0, call.stderr);
  assert.deepEqual(JSON.parse(call.stdout), { msg: 'Hello Ada' });

  // npm and the node under it form the process group `start` made.
  const exited = once(node, 'exit');
  process.kill(-node.pid!, 'SIGTERM');
  await exited;
});
