// The gateway given the generated definitions accepts JSON over HTTP and calls the typed
// endpoints in protobuf (the handler sees application/protobuf), answering in JSON; without
// them it sends the JSON on and the service converts. Same data both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createService, MemoryRegistry, silentLogger, type HandlerMiddleware } from 'micromesh';
import { createApiGateway } from 'micromesh/api';
import { GreeterDefinition } from '../../examples/proto-greeter/gen/greeter/v1/greeter_micromesh.ts';
import { greeter } from '../../examples/proto-greeter/server.ts';

test('gateway with definitions: HTTP JSON in, protobuf on the mesh, JSON out; unary and SSE', async (t) => {
  const registry = new MemoryRegistry();
  const seen: string[] = [];
  const record: HandlerMiddleware = (next) => (req, ctx) => {
    seen.push(ctx.contentType);
    return next(req, ctx);
  };
  const server = createService({ name: 'greeter', registry, logger: silentLogger, handlerMiddleware: [record] }).handle(GreeterDefinition, greeter);
  await server.start();
  t.after(() => server.stop());
  const front = createService({ name: 'gw', registry, logger: silentLogger });
  const typed = createApiGateway({ service: front, address: '127.0.0.1:0', definitions: [GreeterDefinition] });
  const plain = createApiGateway({ service: front, address: '127.0.0.1:0' });
  await typed.start();
  await plain.start();
  t.after(async () => {
    await typed.stop();
    await plain.stop();
    await front.stop();
  });
  const post = (gw: { address: string | undefined }, path: string, body: string, accept?: string) => fetch(`http://${gw.address}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) }, body,
  });

  const viaProto = await post(typed, '/greeter/Greeter/Hello', '{"name":"Ada"}');
  assert.equal(viaProto.status, 200);
  assert.deepEqual(await viaProto.json(), { msg: 'Hello Ada' });
  assert.deepEqual(seen.splice(0), ['application/protobuf']);
  const viaJson = await post(plain, '/greeter/Greeter/Hello', '{"name":"Ada"}');
  assert.deepEqual(await viaJson.json(), { msg: 'Hello Ada' });
  assert.deepEqual(seen.splice(0), ['application/json']);

  const bad = await post(typed, '/greeter/Greeter/Hello', '{"nom":"Ada"}');
  assert.equal(bad.status, 400);
  const err = (await bad.json()) as { code: string; detail: string };
  assert.equal(err.code, 'DECODE_FAILED');
  assert.match(err.detail, /greeter\.v1\.HelloRequest/);
  assert.deepEqual(seen, [], 'a malformed body never reaches the service');

  const sse = await post(typed, '/greeter/Greeter/Stream', '{"name":"Ada","count":2}', 'text/event-stream');
  assert.equal(sse.status, 200);
  const text = await sse.text();
  assert.deepEqual([...text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).slice(0, 2), ['{"msg":"Hello Ada #1"}', '{"msg":"Hello Ada #2"}']);
  assert.deepEqual(seen.splice(0), ['application/protobuf']);
});
