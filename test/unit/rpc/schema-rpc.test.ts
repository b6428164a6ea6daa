// Endpoint schemas over real calls between two services (MemoryRegistry,
// TCP on loopback): validation before the handler, what the registry
// carries, and large schemas fetched on demand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import {
  createService, endpointSchemas, silentLogger, MemoryRegistry, MeshError, REQUEST_SCHEMA_METADATA, RESPONSE_SCHEMA_METADATA,
  SCHEMA_REF_METADATA, type HandlerContext, type Service,
} from '../../../src/index.ts';

const badRequest = (detail: string | RegExp) => (err: unknown): boolean =>
  err instanceof MeshError && err.code === 'BAD_REQUEST' && (typeof detail === 'string' ? err.detail === detail : detail.test(err.detail));

const helloRequest = z.object({ name: z.string(), times: z.string().transform(Number).optional() });
const helloResponse = z.object({ msg: z.string() });
const person = {
  type: 'object',
  properties: { name: { type: 'string' }, address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  required: ['name'],
};

async function pair(rpc?: { schemaInlineBytes?: number }): Promise<{ svc: Service; caller: Service; seen: unknown[]; registry: MemoryRegistry }> {
  const registry = new MemoryRegistry();
  const seen: unknown[] = [];
  const svc = createService({ name: 'greeter', registry, logger: silentLogger, rpc })
    .handle('Greeter', {
      Hello: (req: { name: string; times?: number }) => {
        seen.push(req);
        return { msg: `Hello ${req.name}`.repeat(req.times ?? 1) };
      },
      Plain: (req: unknown) => ({ echo: req }),
      async Person(req: { name: string }) {
        seen.push(req);
        return { ok: req.name };
      },
      async *Count(req: { n: number }) {
        for (let i = 0; i < req.n; i++) yield i;
      },
      async Sum(input: AsyncIterable<{ x: number }>) {
        let s = 0;
        for await (const m of input) s += m.x;
        return s;
      },
    }, {
      schemas: {
        Hello: { request: helloRequest, response: helloResponse },
        Person: { request: person },
        Count: { request: { type: 'object', properties: { n: { type: 'integer', maximum: 10 } }, required: ['n'] } },
        Sum: { request: z.object({ x: z.number() }) },
      },
      metadata: { Sum: { stream: 'client' } },
    });
  await svc.start();
  const caller = createService({ name: 'caller', registry, logger: silentLogger });
  return { svc, caller, seen, registry };
}

test('requests are validated before the handler; BAD_REQUEST names the field; transforms reach the handler', async () => {
  const { svc, caller, seen } = await pair();
  try {
    const c = caller.client;
    assert.deepEqual(await c.call('greeter', 'Greeter.Hello', { name: 'Ada', times: '2' }), { msg: 'Hello AdaHello Ada' });
    assert.deepEqual(seen.shift(), { name: 'Ada', times: 2 }, 'the handler got the parsed value');
    await assert.rejects(c.call('greeter', 'Greeter.Hello', { name: 42 }), badRequest(/^request\.name: .*expected string/));
    await assert.rejects(c.call('greeter', 'Greeter.Person', { name: 'x', address: { city: 1 } }),
      badRequest('request.address.city: expected string, got integer'));
    await assert.rejects(c.call('greeter', 'Greeter.Person', {}, { contentType: 'application/json' }), badRequest('request.name: required'));
    assert.deepEqual(seen, [], 'no handler ran for an invalid request');
    assert.deepEqual(await c.call('greeter', 'Greeter.Person', { name: 'Bo' }), { ok: 'Bo' });
    // Handlers without schemas are untouched.
    assert.deepEqual(await c.call('greeter', 'Greeter.Plain', { any: [1, 'x'] }), { echo: { any: [1, 'x'] } });
  } finally {
    await caller.stop();
    await svc.stop();
  }
});

test('streams: a server-stream request and each client-stream message are validated', async () => {
  const { svc, caller } = await pair();
  try {
    const got: number[] = [];
    for await (const i of await caller.client.stream<unknown, number>('greeter', 'Greeter.Count', { n: 3 })) got.push(i);
    assert.deepEqual(got, [0, 1, 2]);
    await assert.rejects((async () => {
      for await (const _ of await caller.client.stream('greeter', 'Greeter.Count', { n: 11 })) { /* none */ }
    })(), badRequest('request.n: must be <= 10'));
    const ok = await caller.client.stream<{ x: unknown }, number>('greeter', 'Greeter.Sum');
    await ok.send({ x: 1 });
    await ok.send({ x: 2 });
    assert.equal(await ok.response(), 3);
    const bad = await caller.client.stream<{ x: unknown }, number>('greeter', 'Greeter.Sum');
    await bad.send({ x: 1 });
    await bad.send({ x: 'two' });
    await assert.rejects(bad.response(), badRequest(/^request\.x: /));
  } finally {
    await caller.stop();
    await svc.stop();
  }
});

test('the registry carries the schemas inline; endpointSchemas reads them; endpoints without schemas carry none', async () => {
  const { svc, caller, registry } = await pair();
  try {
    const [record] = await registry.getService('greeter');
    const meta = Object.fromEntries(record!.endpoints.map((e) => [e.name, e.metadata]));
    assert.deepEqual(JSON.parse(meta['Greeter.Person']![REQUEST_SCHEMA_METADATA]!), person);
    assert.equal(meta['Greeter.Hello']![RESPONSE_SCHEMA_METADATA], JSON.stringify(helloResponse['~standard'].jsonSchema.output({ target: 'draft-2020-12' })));
    assert.deepEqual(meta['Greeter.Plain'], {});
    assert.deepEqual(meta['Greeter.Sum'], { stream: 'client', [REQUEST_SCHEMA_METADATA]: meta['Greeter.Sum']![REQUEST_SCHEMA_METADATA] });
    const hello = await endpointSchemas(caller.client, record!, 'Greeter.Hello');
    assert.equal(hello.request?.type, 'object');
    assert.deepEqual((hello.request?.properties as Record<string, unknown>).name, { type: 'string' });
    assert.deepEqual(await endpointSchemas(caller.client, record!, 'Greeter.Plain'), {});
    await assert.rejects(endpointSchemas(caller.client, record!, 'Greeter.Nope'), (e: unknown) => e instanceof MeshError && e.code === 'NOT_FOUND');
  } finally {
    await caller.stop();
    await svc.stop();
  }
});

test('a large schema is published as a ref and fetched from a node, the next one when the first fails', async () => {
  const { svc, caller, registry } = await pair({ schemaInlineBytes: 64 });
  try {
    const [record] = await registry.getService('greeter');
    const meta = Object.fromEntries(record!.endpoints.map((e) => [e.name, e.metadata]));
    assert.match(meta['Greeter.Person']![SCHEMA_REF_METADATA]!, /^[0-9a-f]{16}$/);
    assert.equal(meta['Greeter.Person']![REQUEST_SCHEMA_METADATA], undefined);
    // A node that refuses first, then the real one.
    const withDead = { ...record!, nodes: [{ id: 'gone', address: '127.0.0.1:1', metadata: {} }, ...record!.nodes] };
    assert.deepEqual(await endpointSchemas(caller.client, withDead, 'Greeter.Person', { timeoutMs: 2000 }), { request: person });
    const onlyDead = { ...record!, nodes: [withDead.nodes[0]!] };
    await assert.rejects(endpointSchemas(caller.client, onlyDead, 'Greeter.Person'), (e: unknown) => e instanceof MeshError && e.retryable);
    const stale = { ...record!, endpoints: [{ name: 'Greeter.Person', metadata: { [SCHEMA_REF_METADATA]: '0000000000000000' } }] };
    await assert.rejects(endpointSchemas(caller.client, stale, 'Greeter.Person'), (e: unknown) => e instanceof MeshError && e.code === 'NOT_FOUND');
    // Validation is the same either way.
    await assert.rejects(caller.client.call('greeter', 'Greeter.Person', { name: 1 }), badRequest('request.name: expected string, got integer'));
  } finally {
    await caller.stop();
    await svc.stop();
  }
});

test('handle rejects bad schemas options and registers nothing; middleware sees the request as sent', async () => {
  const registry = new MemoryRegistry();
  const raw: unknown[] = [];
  const svc = createService({
    name: 'mw', registry, logger: silentLogger,
    handlerMiddleware: [(next) => (req: unknown, ctx: HandlerContext) => {
      raw.push(req);
      return next(req, ctx);
    }],
  });
  const invalid = (re: RegExp) => (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT' && re.test(e.detail);
  assert.throws(() => svc.handle('A', { X: () => 1 }, { schemas: { Y: { request: { type: 'string' } } } }), invalid(/schemas names Y/));
  assert.throws(() => svc.handle('A', { X: () => 1, Z: () => 2 }, { schemas: (m) => (m === 'Z' ? { request: 5 as never } : undefined) }),
    invalid(/schemas of A\.Z: request must be/));
  svc.handle('B', { N: (n: number) => n }, { schemas: { N: { request: z.string().transform(Number) } } });
  await svc.start();
  try {
    const [record] = await registry.getService('mw');
    assert.ok(!record!.endpoints.some((e) => e.name.startsWith('A.')), 'nothing of A was registered');
    assert.equal(await svc.client.call('mw', 'B.N', '5'), 5);
    assert.deepEqual(raw, ['5']);
  } finally {
    await svc.stop();
  }
});
