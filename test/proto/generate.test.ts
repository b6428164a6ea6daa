// The generator: `buf generate` (protoc-gen-es and protoc-gen-micromesh, run
// as the committed buf.gen.yaml says) reproduces the committed code byte for
// byte, protoc running the plugin writes the same file, and generated code
// interoperates with hand-written handlers and callers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { parse } from 'yaml';
import { createService, MemoryRegistry, silentLogger, type Service } from 'micromesh';
import { SinkSchema } from './gen/kitchen/v1/kitchen_pb.ts';
import { KitchenClient, KitchenDefinition } from './gen/kitchen/v1/kitchen_micromesh.ts';
import { FULL, sinks } from './fixtures/samples.ts';
import { serverGate } from '../support/servers.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const ROOT = here('../../');
const BIN = join(ROOT, 'node_modules/.bin');
/** buf runs the plugins by name (protoc-gen-es, tsx), on this Node. */
const ENV = { ...process.env, PATH: [BIN, dirname(process.execPath), process.env.PATH].join(delimiter) };
// Skipped with the reason where protoc is missing; CI (MICROMESH_REQUIRE_SERVERS) makes it mandatory.
const NO_PROTOC = (await serverGate('/usr/bin/protoc', 'apt-get install protobuf-compiler')).skip;

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'micromesh-gen-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file under `dir`, by relative path. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(relative(dir, join(e.parentPath, e.name)), readFileSync(join(e.parentPath, e.name), 'utf8'));
  }
  return out;
}

function assertSameTree(got: string, want: string, from: string): void {
  const g = tree(got);
  const w = tree(want);
  assert.deepEqual([...g.keys()].sort(), [...w.keys()].sort(), `files generated vs committed in ${relative(ROOT, want)}`);
  for (const [name, text] of w) assert.ok(g.get(name) === text, `${relative(ROOT, want)}/${name} is not what the generator writes now: run \`npx buf generate\` in ${relative(ROOT, from)}`);
}

/** Runs `buf generate` in `dir` with its buf.gen.yaml, every plugin writing under `into`; returns the committed output folder. */
function bufGenerate(dir: string, into: string): string {
  const template = parse(readFileSync(join(dir, 'buf.gen.yaml'), 'utf8')) as { plugins: { out: string }[] };
  const outs = new Set(template.plugins.map((p) => p.out));
  assert.equal(outs.size, 1, 'one output folder');
  for (const p of template.plugins) p.out = into;
  const file = join(into, '..', 'buf.gen.json');
  writeFileSync(file, JSON.stringify(template));
  const r = spawnSync(join(BIN, 'buf'), ['generate', '--template', file], { cwd: dir, env: ENV, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return join(dir, [...outs][0]!);
}

for (const dir of ['fixtures', '../../examples/proto-greeter']) {
  test(`buf generate reproduces the committed code of ${relative(ROOT, here(dir))} byte for byte`, (t) => {
    const out = join(tmp(t), 'gen');
    assertSameTree(out, bufGenerate(here(dir), out), here(dir));
  });
}

test('protoc running protoc-gen-micromesh writes the same file as buf', { skip: NO_PROTOC }, (t) => {
  const dir = tmp(t);
  const plugin = join(dir, 'protoc-gen-micromesh');
  // protoc runs an executable: a script starting the plugin's sources on this Node through tsx.
  const tsx = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
  writeFileSync(plugin, `#!/bin/sh\nexec "${process.execPath}" "${tsx}" "${join(ROOT, 'src/proto/protoc-gen-micromesh.ts')}" "$@"\n`);
  chmodSync(plugin, 0o755);
  const r = spawnSync('protoc', [
    `--plugin=protoc-gen-micromesh=${plugin}`, `--micromesh_out=${dir}`, '--micromesh_opt=target=ts,import_extension=ts',
    `-I${here('fixtures/proto')}`, 'kitchen/v1/kitchen.proto',
  ], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const name = 'kitchen/v1/kitchen_micromesh.ts';
  assert.equal(readFileSync(join(dir, name), 'utf8'), readFileSync(here(`gen/${name}`), 'utf8'));
});

async function mesh(t: { after: (fn: () => Promise<void>) => void }, serve: (s: Service) => void): Promise<Service> {
  const registry = new MemoryRegistry();
  const server = createService({ name: 'kitchen', registry, logger: silentLogger });
  serve(server);
  await server.start();
  const client = createService({ name: 'caller', registry, logger: silentLogger });
  t.after(async () => {
    await client.stop();
    await server.stop();
  });
  return client;
}

test('the generated client calls a hand-written handler (plain methods, no types) in JSON, CBOR and JSON-RPC', async (t) => {
  const c = await mesh(t, (s) => s.handle('Kitchen', {
    Echo: (req: unknown) => req,
    async *Repeat(req: { fInt32?: number }) {
      for (let i = 0; i < (req.fInt32 ?? 0); i++) yield { ...req, fString: `#${i}` };
    },
  }));
  for (const contentType of ['application/json', 'application/cbor', 'application/json-rpc']) {
    const k = new KitchenClient(c.client, { contentType });
    for (const [name, msg] of Object.entries(sinks())) assert.deepEqual(await k.echo(msg), msg, `${contentType}: ${name}`);
    const got: string[] = [];
    for await (const m of k.repeat({ fInt32: 2 })) {
      assert.equal(m.$typeName, 'kitchen.v1.Sink');
      got.push(m.fString);
    }
    assert.deepEqual(got, ['#0', '#1'], contentType);
  }
});

test('a hand-written client.call reaches a service served with the generated definition, in the JSON form', async (t) => {
  const c = await mesh(t, (s) => s.handle(KitchenDefinition, {
    echo: (req) => req,
    async *repeat(req) {
      for (let i = 0; i < req.fInt32; i++) yield req;
    },
    collect: async () => ({}),
    async *chat() {},
    echoItem: (req) => req,
  }));
  for (const contentType of ['application/json', 'application/cbor', 'application/json-rpc']) {
    const res = await c.client.call<Record<string, unknown>>('kitchen', 'Kitchen.Echo', { fInt64: '9223372036854775807', byId: { 7: { x: 1 } }, fBytes: 'AP8=', text: 'hi' }, { contentType });
    assert.equal(res.fInt64, '9223372036854775807', contentType);
    assert.deepEqual(res.byId, { 7: { x: 1, y: 0, label: '' } }, contentType);
    assert.equal(res.fBytes, 'AP8=', contentType);
    assert.equal(res.text, 'hi', contentType);
    assert.equal(res.fString, '', `${contentType}: zero values are present`);
    const stream = await c.client.stream<unknown, Record<string, unknown>>('kitchen', 'Kitchen.Repeat', { fInt32: 2, color: 'COLOR_RED' }, { contentType });
    const colors: unknown[] = [];
    for await (const m of stream) colors.push(m.color);
    assert.deepEqual(colors, ['COLOR_RED', 'COLOR_RED'], contentType);
  }
  // The generated client against the same service reads what the hand-written caller sent.
  assert.deepEqual(await new KitchenClient(c.client).echo(FULL), create(SinkSchema, FULL));
});
