// The proto greeter (examples/proto-greeter, generated code) and a hand-written one, called
// every way: generated client in each codec, hand-written client in JSON and CBOR, and across.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createService, MemoryRegistry, MeshError, silentLogger, type Service } from 'micromesh';
import { GreeterClient, GreeterDefinition } from '../../examples/proto-greeter/gen/greeter/v1/greeter_micromesh.ts';
import { greeter } from '../../examples/proto-greeter/server.ts';

const CODECS = ['application/protobuf', 'application/x-protobuf', 'application/json', 'application/cbor', 'application/json-rpc'];

async function mesh(t: { after: (fn: () => Promise<void>) => void }, typed: boolean): Promise<Service> {
  const registry = new MemoryRegistry();
  const server = createService({ name: 'greeter', registry, logger: silentLogger });
  if (typed) server.handle(GreeterDefinition, greeter);
  else server.handle('Greeter', { Hello: (req: { name?: string }) => ({ msg: `Hello ${req.name}` }) });
  await server.start();
  const client = createService({ name: 'caller', registry, logger: silentLogger });
  t.after(async () => {
    await client.stop();
    await server.stop();
  });
  return client;
}

test('the generated client gets the same typed answer in every codec, unary and streamed', async (t) => {
  const c = await mesh(t, true);
  for (const contentType of CODECS) {
    const g = new GreeterClient(c.client, { contentType });
    const r = await g.hello({ name: 'Ada' });
    assert.equal(r.$typeName, 'greeter.v1.HelloResponse', contentType);
    assert.equal(r.msg, 'Hello Ada');
    const got: string[] = [];
    for await (const m of g.stream({ name: 'Ada', count: 2 })) got.push(m.msg);
    assert.deepEqual(got, ['Hello Ada #1', 'Hello Ada #2'], contentType);
  }
});

test('hand-written callers reach the proto greeter with plain JSON and CBOR values', async (t) => {
  const c = await mesh(t, true);
  assert.deepEqual(await c.client.call('greeter', 'Greeter.Hello', { name: 'Bo' }, { contentType: 'application/json' }), { msg: 'Hello Bo' });
  assert.deepEqual(await c.client.call('greeter', 'Greeter.Hello', { name: 'Bo' }), { msg: 'Hello Bo' });
  // An unknown field is refused with the type's name, as jsonpb does.
  await assert.rejects(c.client.call('greeter', 'Greeter.Hello', { nom: 'Bo' }),
    (e: unknown) => e instanceof MeshError && e.code === 'DECODE_FAILED' && /greeter\.v1\.HelloRequest/.test(e.detail));
  // Protobuf without the types on the caller's side: refused before sending.
  await assert.rejects(c.client.call('greeter', 'Greeter.Hello', { name: 'Bo' }, { contentType: 'application/protobuf' }),
    (e: unknown) => e instanceof MeshError && e.code === 'UNSUPPORTED_CODEC');
  const [svc] = await c.registry.getService('greeter');
  const hello = svc!.endpoints.find((e) => e.name === 'Greeter.Hello')!;
  assert.equal(hello.metadata['request-type'], 'greeter.v1.HelloRequest');
  assert.equal(hello.metadata['response-type'], 'greeter.v1.HelloResponse');
  assert.match(hello.metadata['request-schema'] ?? '', /"name":\{"type":"string"\}/);
  assert.equal(svc!.endpoints.find((e) => e.name === 'Greeter.Stream')!.metadata.stream, 'true');
});

test('the generated client calls a hand-written greeter in JSON; in protobuf it gets UNSUPPORTED_CODEC naming what it speaks', async (t) => {
  const c = await mesh(t, false);
  const r = await new GreeterClient(c.client, { contentType: 'application/json' }).hello({ name: 'Cy' });
  assert.equal(r.$typeName, 'greeter.v1.HelloResponse');
  assert.equal(r.msg, 'Hello Cy');
  await assert.rejects(new GreeterClient(c.client).hello({ name: 'Cy' }), (e: unknown) => {
    assert.ok(e instanceof MeshError);
    assert.equal(e.code, 'UNSUPPORTED_CODEC');
    assert.equal(e.status, 415);
    assert.match(e.detail, /Greeter\.Hello can't be served in "application\/protobuf".*speaks application\/cbor, application\/json, application\/json-rpc/);
    return true;
  });
});
