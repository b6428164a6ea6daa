// Typed services without protobuf: defineService from zod schemas, and createClient typed from
// a definition or from a handler's own type (only the type is shared; kinds are read from use).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { createClient, createService, defineService, MemoryRegistry, MeshError, silentLogger, type HandlerContext, type Service } from 'micromesh';

const Greeter = defineService('Greeter', {
  Hello: { request: z.object({ name: z.string().min(1) }), response: z.object({ msg: z.string() }) },
  Count: { kind: 'server', request: z.object({ name: z.string(), count: z.number().int() }), response: z.object({ msg: z.string() }) },
  Sum: { kind: 'client', request: z.number(), response: z.object({ total: z.number() }) },
  Echo: { kind: 'bidi', request: z.string(), response: z.string() },
});

const impl = {
  Hello: (req: { name: string }) => ({ msg: `Hello ${req.name}` }),
  async *Count(req: { name: string; count: number }) {
    for (let i = 1; i <= req.count; i++) yield { msg: `${req.name} #${i}` };
  },
  async Sum(nums: AsyncIterable<number>) {
    let total = 0;
    for await (const n of nums) total += n;
    return { total };
  },
  async *Echo(words: AsyncIterable<string>) {
    for await (const w of words) yield w.toUpperCase();
  },
};

/** What a TypeScript-only team shares: the handler object's type, not its code. */
const plain = {
  Hello: (req: { name: string }) => ({ msg: `Hi ${req.name}` }),
  async *Count(req: { n: number }, ctx: HandlerContext) {
    for (let i = 0; i < req.n && !ctx.signal.aborted; i++) yield i;
  },
  async *Upper(words: AsyncIterable<string>) {
    for await (const w of words) yield w.toUpperCase();
  },
};

async function pair(t: { after: (fn: () => Promise<void>) => void }): Promise<Service> {
  const registry = new MemoryRegistry();
  const server = createService({ name: 'greeter', registry, logger: silentLogger }).handle(Greeter, impl).handle('Plain', plain);
  await server.start();
  const client = createService({ name: 'caller', registry, logger: silentLogger });
  t.after(async () => {
    await client.stop();
    await server.stop();
  });
  return client;
}

test('a client from a zod definition: unary, server, client and bidi streams, typed end to end', async (t) => {
  const c = await pair(t);
  const g = createClient(c.client, 'greeter', Greeter);
  const hello: { msg: string } = await g.Hello({ name: 'Ada' });
  assert.deepEqual(hello, { msg: 'Hello Ada' });
  const counted: string[] = [];
  for await (const m of g.Count({ name: 'Ada', count: 3 })) counted.push(m.msg);
  assert.deepEqual(counted, ['Ada #1', 'Ada #2', 'Ada #3']);
  const sum = await g.Sum();
  for (const n of [1, 2, 3]) await sum.send(n);
  assert.deepEqual(await sum.response(), { total: 6 });
  const echo = await g.Echo();
  await echo.send('a');
  await echo.send('b');
  echo.end();
  const words: string[] = [];
  for await (const w of echo) words.push(w);
  assert.deepEqual(words, ['A', 'B']);
  // The definition's schemas validate on the server, naming the field.
  await assert.rejects(g.Hello({ name: '' }), (e: unknown) => e instanceof MeshError && e.code === 'BAD_REQUEST' && /request\.name/.test(e.detail));
});

test('a client from a handler\'s type alone: awaited is a call, iterated is a stream; input streams are declared', async (t) => {
  const c = await pair(t);
  const p = createClient<typeof plain>(c.client, 'greeter', 'Plain', { streams: { Upper: 'bidi' } });
  const hi: { msg: string } = await p.Hello({ name: 'Bo' });
  assert.deepEqual(hi, { msg: 'Hi Bo' });
  const got: number[] = [];
  for await (const i of p.Count({ n: 3 })) got.push(i);
  assert.deepEqual(got, [0, 1, 2]);
  const up = await p.Upper();
  await up.send('x');
  up.end();
  const out: string[] = [];
  for await (const w of up) out.push(w);
  assert.deepEqual(out, ['X']);
  // Awaiting the client itself is not a call (it is not a thenable).
  assert.equal(await Promise.resolve(p) === p, true);
});

test('handle(definition, impl) refuses an implementation missing a method, naming it', () => {
  const s = createService({ name: 'x', registry: new MemoryRegistry(), logger: silentLogger });
  const { Hello: _drop, ...rest } = impl;
  assert.throws(() => s.handle(Greeter, rest as typeof impl), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT' && /no method Hello\(\) for Greeter\.Hello/.test(e.detail));
  assert.throws(() => defineService('G', { A: { kind: 'sideways' as 'unary' } }), (e: unknown) => e instanceof MeshError && /kind must be one of unary, server, client, bidi/.test(e.detail));
});
