// Endpoint schemas, without the network: paths, issue texts, ajv and
// Standard Schema checks, what `handle` accepts, and what it publishes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import * as v from 'valibot';
import { toStandardJsonSchema } from '@valibot/to-json-schema';
import { MeshError } from '../../../src/errors/index.ts';
import { formatPath, JsonSchemaCompiler, requestCheck, checkSchemas } from '../../../src/rpc/schema.ts';
import { publishSchemas, jsonSchemaText } from '../../../src/rpc/schema-publish.ts';
import { checkPerMethod } from '../../../src/rpc/schema-server.ts';
import { resolveRpcConfig } from '../../../src/rpc/config.ts';
import type { Schema } from '../../../src/rpc/types.ts';

const badRequest = (detail: string | RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof MeshError, `not a MeshError: ${String(err)}`);
  assert.equal(err.code, 'BAD_REQUEST');
  if (typeof detail === 'string') assert.equal(err.detail, detail);
  else assert.match(err.detail, detail);
  return true;
};

async function check(schema: Schema, value: unknown): Promise<unknown> {
  return await requestCheck(schema, 'svc', new JsonSchemaCompiler(), 'X.Y')(value);
}

test('paths: dotted for identifiers, brackets for indexes and other keys', () => {
  assert.equal(formatPath([]), 'request');
  assert.equal(formatPath(['items', 2, 'name']), 'request.items[2].name');
  assert.equal(formatPath([{ key: 'a b' }, { key: 0 }, '$ok']), 'request["a b"][0].$ok');
  assert.equal(formatPath(['1st']), 'request["1st"]');
});

const person = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer', minimum: 0 },
    tags: { type: 'array', items: { type: 'object', properties: { k: { type: 'string' } }, required: ['k'], additionalProperties: false } },
  },
  required: ['name'],
};

test('plain JSON Schema (ajv): valid passes through, problems name their paths', async () => {
  assert.deepEqual(await check(person, { name: 'Ada', tags: [{ k: 'x' }] }), { name: 'Ada', tags: [{ k: 'x' }] });
  await assert.rejects(check(person, { name: 42 }), badRequest('request.name: expected string, got integer'));
  await assert.rejects(check(person, { name: 1.5 }), badRequest('request.name: expected string, got number'));
  await assert.rejects(check(person, {}), badRequest('request.name: required'));
  await assert.rejects(check(person, { name: 'a', age: -1 }), badRequest('request.age: must be >= 0'));
  await assert.rejects(check(person, { name: 'a', tags: [{ k: 'x' }, { k: 1, z: 2 }] }),
    badRequest('request.tags[1].z: not allowed; request.tags[1].k: expected string, got integer'));
  await assert.rejects(check(person, 'text'), badRequest('request: expected object, got string'));
  // Only the first three issues are spelled out.
  const many = { type: 'object', properties: Object.fromEntries('abcde'.split('').map((k) => [k, { type: 'string' }])) };
  await assert.rejects(check(many, { a: 1, b: 1, c: 1, d: 1, e: 1 }), badRequest(/request\.c: expected string, got integer \(and 2 more\)$/));
});

test('plain JSON Schema: draft-07 by $schema, a schema that does not compile fails as INTERNAL', async () => {
  const d7 = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { n: { type: 'number' } } };
  await assert.rejects(check(d7, { n: 'x' }), badRequest('request.n: expected number, got string'));
  const compiler = new JsonSchemaCompiler();
  const broken = requestCheck({ type: 'nonsense' }, 'svc', compiler, 'X.Y');
  await assert.rejects(Promise.resolve().then(() => broken({})), (e: unknown) => e instanceof MeshError && e.code === 'INTERNAL' && /X\.Y/.test(e.detail));
});

test('a JSON Schema is compiled once; after that the check is synchronous', async () => {
  const compiler = new JsonSchemaCompiler();
  const a = compiler.compile(person);
  assert.equal(compiler.compile(person), a);
  const c = requestCheck(person, 'svc', compiler, 'X.Y');
  await c({ name: 'x' });
  assert.deepEqual(c({ name: 'y' }), { name: 'y' }, 'no promise once compiled');
});

test('Standard Schema: zod and valibot issues name their paths; transforms reach the handler', async () => {
  const zs = z.object({ name: z.string(), tags: z.array(z.object({ k: z.string() })), n: z.string().transform(Number).optional() });
  await assert.rejects(check(zs, { name: 1, tags: [{ k: 2 }] }), badRequest(/^request\.name: .*expected string.*; request\.tags\[0\]\.k: /));
  assert.deepEqual(await check(zs, { name: 'a', tags: [], n: '42' }), { name: 'a', tags: [], n: 42 });
  const vs = v.object({ name: v.string(), n: v.pipe(v.string(), v.transform(Number)) });
  await assert.rejects(check(vs, { name: 1, n: '1' }), badRequest(/^request\.name: /));
  assert.deepEqual(await check(vs, { name: 'a', n: '7' }), { name: 'a', n: 7 });
  // An async refinement: validate returns a Promise.
  const slow = z.object({ id: z.string() }).refine(async (o) => o.id !== 'taken', { message: 'taken', path: ['id'] });
  await assert.rejects(check(slow, { id: 'taken' }), badRequest('request.id: taken'));
  assert.deepEqual(await check(slow, { id: 'free' }), { id: 'free' });
});

test('published JSON Schema: plain as given, zod and valibot via Standard JSON Schema, none without it', () => {
  assert.equal(jsonSchemaText(person, 'request'), JSON.stringify(person));
  const zs = JSON.parse(jsonSchemaText(z.object({ name: z.string() }), 'request')!);
  assert.deepEqual([zs.type, zs.properties.name, zs.required], ['object', { type: 'string' }, ['name']]);
  const vs = JSON.parse(jsonSchemaText(toStandardJsonSchema(v.object({ name: v.string() })), 'request')!);
  assert.deepEqual([vs.type, vs.properties.name], ['object', { type: 'string' }]);
  assert.equal(jsonSchemaText(v.object({ name: v.string() }), 'request'), undefined, 'plain valibot has no ~standard.jsonSchema');
  assert.equal(jsonSchemaText(z.string().transform(Number), 'response'), undefined, 'an output zod cannot express');
});

test('small schemas go inline, large ones as a ref; the limit counts both sides', () => {
  const small = publishSchemas({ request: { type: 'string' }, response: { type: 'number' } }, 1024);
  assert.deepEqual(small, { metadata: { 'request-schema': '{"type":"string"}', 'response-schema': '{"type":"number"}' } });
  assert.deepEqual(publishSchemas({ request: v.string() }, 1024), { metadata: {} }, 'nothing to publish');
  const big = publishSchemas({ request: person, response: { type: 'number' } }, 100);
  assert.match(big.metadata['schema-ref']!, /^[0-9a-f]{16}$/);
  assert.deepEqual(Object.keys(big.metadata), ['schema-ref']);
  assert.deepEqual(big.ref?.texts, { request: JSON.stringify(person), response: '{"type":"number"}' });
  assert.equal(publishSchemas({ request: person, response: { type: 'number' } }, 100).ref?.digest, big.ref?.digest, 'same schemas, same ref');
  assert.ok(publishSchemas({ request: { type: 'string' } }, 0).ref, '0 always refs');
  assert.equal(resolveRpcConfig().schemaInlineBytes, 1024);
  assert.throws(() => resolveRpcConfig({ schemaInlineBytes: -1 }),
    (e: unknown) => e instanceof MeshError && e.code === 'INVALID_CONFIG' && /rpc\.schemaInlineBytes must be an integer in \[0, 65536\], got -1/.test(e.detail));
});

test('invalid schemas options are INVALID_ARGUMENT naming what is wrong', () => {
  const invalid = (re: RegExp) => (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT' && re.test(e.detail);
  assert.throws(() => checkPerMethod('schemas', { Nope: {} }, ['Hello'], 'Greeter'), invalid(/schemas names Nope, not methods of handler "Greeter"/));
  assert.throws(() => checkPerMethod('schemas', 'x', ['Hello'], 'Greeter'), invalid(/record of methods or a function/));
  assert.throws(() => checkSchemas({ req: {} }, 'G.H'), invalid(/G\.H: unknown key "req"/));
  assert.throws(() => checkSchemas({ request: 'string' }, 'G.H'), invalid(/request must be a Standard Schema validator or a JSON Schema object/));
  assert.throws(() => checkSchemas({ request: { '~standard': { version: 2 } } }, 'G.H'), invalid(/not a Standard Schema v1/));
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => checkSchemas({ response: cyclic }, 'G.H'), invalid(/response is not a JSON Schema/));
  assert.equal(checkSchemas(undefined, 'G.H'), undefined);
});

test('ajv is loaded only once a plain JSON Schema is declared', async () => {
  const index = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));
  const probe = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(spec, ctx, next) { if (/^ajv(\\/|$)/.test(spec)) seen.push(spec); return next(spec, ctx); } });
    const m = await import(${JSON.stringify(index)});
    const std = { '~standard': { version: 1, vendor: 'test', validate: (v) => ({ value: v }) } };
    const svc = m.createService({ name: 'x', mesh: false, logger: m.silentLogger }).handle('A', { B: (r) => r }, { schemas: { B: { request: std } } });
    const before = seen.length;
    svc.handle('C', { D: (r) => r }, { schemas: { D: { request: { type: 'string' } } } });
    await new Promise((r) => setTimeout(r, 300));
    console.log(JSON.stringify({ before, after: seen.length }));`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', probe], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)));
  });
  const { before, after } = JSON.parse(out) as { before: number; after: number };
  assert.equal(before, 0, 'importing micromesh and a Standard Schema handler load no ajv');
  assert.ok(after > 0, 'a JSON Schema handler loads it');
});
