// Every codec carries the same typed messages (the kitchen sink of
// fixtures/proto): through a CodecBinding pair (client encodes, server
// decodes and answers) and through real calls between two services. Also:
// unknown fields survive a protobuf hop, our protobuf agrees with protoc's,
// and bad input is a typed error that leaves the server serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { CodecBinding, createService, defaultCodecs, MemoryRegistry, MeshError, silentLogger, type EndpointTypes, type HandlerContext, type Service } from 'micromesh';
import { protoType } from 'micromesh/proto';
import { ItemSchema, ItemV2Schema, PointSchema, SinkSchema, type Sink } from './gen/kitchen/v1/kitchen_pb.ts';
import { EventSchema } from './gen/kitchen/v1/wkt_pb.ts';
import { KitchenClient, KitchenDefinition, type KitchenHandler } from './gen/kitchen/v1/kitchen_micromesh.ts';
import { EventsClient, EventsDefinition } from './gen/kitchen/v1/wkt_micromesh.ts';
import { FULL, FULL_TEXT, event, sinks } from './fixtures/samples.ts';
import { serverGate } from '../support/servers.ts';

const CODECS = ['application/protobuf', 'application/json', 'application/cbor', 'application/json-rpc'];
const SINK = { request: protoType(SinkSchema), response: protoType(SinkSchema) };
const PROTO_DIR = fileURLToPath(new URL('./fixtures/proto', import.meta.url));
// Skipped with the reason where protoc is missing; CI (MICROMESH_REQUIRE_SERVERS) makes it mandatory.
const NO_PROTOC = (await serverGate('/usr/bin/protoc', 'apt-get install protobuf-compiler')).skip;

const isCode = (code: string, detail?: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof MeshError, `expected a MeshError, got ${String(e)}`);
  assert.equal(e.code, code, e.detail);
  if (detail) assert.match(e.detail, detail);
  return true;
};

/** A client and a server binding for one endpoint, as a call uses them: the client encodes, the server decodes and answers. */
function roundTrip(contentType: string, endpoint: string, types: EndpointTypes, value: unknown): { atServer: unknown; atClient: unknown } {
  const codec = defaultCodecs().get(contentType);
  const client = new CodecBinding(codec, endpoint, types, 'client').forCall();
  const server = new CodecBinding(codec, endpoint, types, 'server').forCall();
  const atServer = server.decode(client.encode(value));
  return { atServer, atClient: client.decode(server.encode(atServer)) };
}

const kitchen: KitchenHandler = {
  echo: (req) => req,
  async *repeat(req) {
    for (let i = 0; i < req.fInt32; i++) yield req;
  },
  async collect(reqs) {
    let last: Sink | undefined;
    const ints: number[] = [];
    for await (const r of reqs) {
      last = r;
      ints.push(...r.ints);
    }
    return last === undefined ? { ints } : { ...last, ints };
  },
  async *chat(reqs) {
    for await (const r of reqs) yield r;
  },
  echoItem: (req) => req,
};

async function mesh(t: { after: (fn: () => Promise<void>) => void }, impl: KitchenHandler = kitchen): Promise<Service> {
  const registry = new MemoryRegistry();
  const server = createService({ name: 'kitchen', registry, logger: silentLogger })
    .handle(KitchenDefinition, impl)
    .handle(EventsDefinition, { record: (e) => e });
  await server.start();
  const client = createService({ name: 'caller', registry, logger: silentLogger });
  t.after(async () => {
    await client.stop();
    await server.stop();
  });
  return client;
}

test('every codec carries every kind of field through a client and a server binding and back, deepEqual', () => {
  for (const contentType of CODECS) {
    for (const [name, msg] of Object.entries(sinks())) {
      const { atServer, atClient } = roundTrip(contentType, 'Kitchen.Echo', SINK, msg);
      assert.deepEqual(atServer, msg, `${contentType}: ${name} at the server`);
      assert.deepEqual(atClient, msg, `${contentType}: ${name} back at the client`);
    }
    // An init shape (what handlers return) encodes as its message.
    assert.deepEqual(roundTrip(contentType, 'Kitchen.Echo', SINK, FULL).atClient, create(SinkSchema, FULL), contentType);
    const events = { request: protoType(EventSchema), response: protoType(EventSchema) };
    assert.deepEqual(roundTrip(contentType, 'Events.Record', events, event()).atClient, event(), `${contentType}: well-known types`);
  }
});

test('the JSON codecs carry 64-bit integers as strings and bytes as base64 (proto3 JSON), so nothing is rounded', () => {
  const codec = defaultCodecs().get('application/json');
  const bytes = new CodecBinding(codec, 'Kitchen.Echo', SINK, 'client').forCall().encode(create(SinkSchema, FULL));
  const json = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  assert.equal(json.fInt64, '9223372036854775807');
  assert.equal(json.fFixed64, '9007199254740993');
  assert.equal(json.fBytes, 'AP/+YQ==');
  assert.deepEqual(json.choice, undefined);
  assert.equal(json.number, '-9223372036854775808');
  assert.equal(json.color, 'COLOR_BLUE');
});

test('real calls in every codec give back the same messages: unary, server, client and bidi streams, well-known types', async (t) => {
  const c = await mesh(t);
  for (const contentType of CODECS) {
    const k = new KitchenClient(c.client, { contentType });
    for (const [name, msg] of Object.entries(sinks())) assert.deepEqual(await k.echo(msg), msg, `${contentType}: ${name}`);
    const full = create(SinkSchema, { ...FULL, fInt32: 3 });
    const got: Sink[] = [];
    for await (const m of k.repeat(full)) got.push(m);
    assert.deepEqual(got, [full, full, full], `${contentType}: server stream`);

    const up = await k.collect();
    await up.send({ ints: [1, 2] });
    await up.send({ ...FULL, ints: [3] });
    assert.deepEqual(await up.response(), create(SinkSchema, { ...FULL, ints: [1, 2, 3] }), `${contentType}: client stream`);

    const chat = await k.chat();
    const answers: Sink[] = [];
    const all = Object.values(sinks());
    const reading = (async () => {
      for await (const m of chat) answers.push(m);
    })();
    for (const m of all) await chat.send(m);
    chat.end();
    await reading;
    assert.deepEqual(answers, all, `${contentType}: bidi stream`);

    assert.deepEqual(await new EventsClient(c.client, { service: 'kitchen', contentType }).record(event()), event(), `${contentType}: well-known types`);
  }
});

test('protobuf keeps unknown fields: a v2 message through v1 code comes back whole', () => {
  const v1 = { request: protoType(ItemSchema), response: protoType(ItemSchema) };
  const v2 = protoType(ItemV2Schema);
  const item = create(ItemV2Schema, { id: 'i1', qty: 2, note: 'new in v2', tags: [-(2n ** 63n), 5n], extra: { x: 1, label: 'e' }, blob: new Uint8Array([0xff, 0]) });
  const codec = defaultCodecs().get('application/protobuf');
  const server = new CodecBinding(codec, 'Kitchen.EchoItem', v1, 'server').forCall();
  const asV1 = server.decode(v2.toBinary(item)) as { id: string; qty: number };
  assert.deepEqual([asV1.id, asV1.qty], ['i1', 2]);
  assert.deepEqual(v2.fromBinary(server.encode(asV1)), item);
});

test('a v1 echo handler called by a v2-typed client in protobuf answers the v2 fields it does not know', async (t) => {
  const c = await mesh(t);
  const v2 = protoType(ItemV2Schema);
  const item = create(ItemV2Schema, { id: 'i2', qty: 7, note: 'kept', tags: [1n], extra: { y: -1 }, blob: new Uint8Array([1, 2]) });
  const back = await c.client.call('kitchen', 'Kitchen.EchoItem', item, { contentType: 'application/protobuf', types: { request: v2, response: v2 } });
  assert.deepEqual(back, item);
});

test('protobuf bytes agree with protoc: protoc --encode decodes to the message; our encoding protoc --decodes to the text', { skip: NO_PROTOC }, () => {
  const sink = protoType(SinkSchema);
  const run = (args: string[], input: string | Uint8Array): Buffer => {
    const r = spawnSync('protoc', [...args, `-I${PROTO_DIR}`, 'kitchen/v1/kitchen.proto'], { input });
    assert.equal(r.status, 0, r.stderr.toString());
    return r.stdout;
  };
  const fromProtoc = run(['--encode=kitchen.v1.Sink'], FULL_TEXT);
  assert.deepEqual(sink.fromBinary(new Uint8Array(fromProtoc)), create(SinkSchema, FULL));
  assert.equal(run(['--decode=kitchen.v1.Sink'], sink.toBinary(FULL)).toString(), FULL_TEXT);
  // Every sample, both ways: protoc reads ours and writes what we read as the same message.
  for (const [name, msg] of Object.entries(sinks())) {
    const text = run(['--decode=kitchen.v1.Sink'], sink.toBinary(msg)).toString();
    assert.deepEqual(sink.fromBinary(new Uint8Array(run(['--encode=kitchen.v1.Sink'], text))), msg, name);
  }
});

test('truncated or garbage protobuf is DECODE_FAILED naming the type; a prefix that ends on a field boundary is a valid message', () => {
  const codec = defaultCodecs().get('application/protobuf');
  const server = new CodecBinding(codec, 'Kitchen.Echo', SINK, 'server').forCall();
  const whole = protoType(SinkSchema).toBinary(FULL);
  let failed = 0;
  for (let cut = 1; cut < whole.length; cut++) {
    try {
      server.decode(whole.subarray(0, cut));
    } catch (e) {
      isCode('DECODE_FAILED', /malformed kitchen\.v1\.Sink/)(e);
      failed++;
    }
  }
  assert.ok(failed > whole.length / 2, `only ${failed} of ${whole.length} prefixes failed`);
  for (const garbage of [[0xff, 0xff, 0xff], [0x0a, 0x05, 0x01], [0x08], [0x07, 0x01], [0x7a, 0xff, 0xff, 0xff, 0xff, 0x0f]]) {
    assert.throws(() => server.decode(Uint8Array.from(garbage)), isCode('DECODE_FAILED', /kitchen\.v1\.Sink/), `${garbage}`);
  }
});

test('JSON with an unknown field, or a field of the wrong type, is DECODE_FAILED naming the type, in every JSON codec and over a call', async (t) => {
  for (const contentType of ['application/json', 'application/cbor', 'application/json-rpc']) {
    const codec = defaultCodecs().get(contentType);
    const client = new CodecBinding(codec, 'Kitchen.Echo', undefined, 'client').forCall();
    const server = new CodecBinding(codec, 'Kitchen.Echo', SINK, 'server').forCall();
    for (const bad of [{ nope: 1 }, { fInt32: 'x' }, { fInt64: '1.5' }, { color: 'COLOR_PURPLE' }, { point: [] }]) {
      assert.throws(() => server.decode(client.encode(bad)), isCode('DECODE_FAILED', /malformed kitchen\.v1\.Sink/), `${contentType}: ${JSON.stringify(bad)}`);
    }
  }
  const c = await mesh(t);
  await assert.rejects(c.client.call('kitchen', 'Kitchen.Echo', { nope: 1 }, { contentType: 'application/json' }), isCode('DECODE_FAILED', /kitchen\.v1\.Sink/));
});

test('a handler answering something that is not its response type: the caller gets ENCODE_FAILED, the server keeps serving', async (t) => {
  const wrong: unknown[] = [create(PointSchema, { x: 1 }), 'a string', 42, [1, 2], { fInt32: 'not a number' }, { point: 5 }];
  let next = 0;
  const c = await mesh(t, { ...kitchen, echo: (req: Sink, _ctx: HandlerContext) => (req.fString === 'bad' ? wrong[next++] : req) as Sink });
  for (const contentType of CODECS) {
    const k = new KitchenClient(c.client, { contentType });
    for (let i = 0; i < wrong.length; i++) {
      await assert.rejects(k.echo({ fString: 'bad' }), (e: unknown) => {
        assert.ok(e instanceof MeshError);
        assert.ok(e.code === 'ENCODE_FAILED' || e.code === 'INTERNAL', `${contentType}, answer #${i}: ${e.code} ${e.detail}`);
        return true;
      });
    }
    next = 0;
    assert.deepEqual(await k.echo({ fString: 'good' }), create(SinkSchema, { fString: 'good' }), contentType);
  }
});
