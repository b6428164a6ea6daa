// JsonRpcCodec: JSON-RPC 2.0 framing per call. The client's envelope, the
// server echoing the request's id, what a server refuses, a peer's `error`
// object, and the envelopes real calls and streams put on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CborCodec, CodecSet, createService, JSON_RPC_CONTENT_TYPE, JsonRpcCodec, MemoryRegistry, MeshError, silentLogger, type Codec, type Service,
} from 'micromesh';
import { SHAPES } from '../../compliance/codec.ts';

const ENDPOINT = 'Greeter.Hello';
const text = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const parsed = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));
const call = (side: 'client' | 'server', codec = new JsonRpcCodec()) => codec.perCall(ENDPOINT, side);

const isCode = (code: string, detail?: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof MeshError, `expected a MeshError, got ${String(e)}`);
  assert.equal(e.code, code, e.detail);
  if (detail) assert.match(e.detail, detail);
  return true;
};

test('a client call is {"jsonrpc":"2.0","method":endpoint,"params":[req],"id":n}, each call with its own id', () => {
  const codec = new JsonRpcCodec();
  assert.deepEqual(parsed(call('client', codec).encode({ name: 'Ada' })), { jsonrpc: '2.0', method: ENDPOINT, params: [{ name: 'Ada' }], id: 1 });
  assert.deepEqual(parsed(call('client', codec).encode(undefined)), { jsonrpc: '2.0', method: ENDPOINT, params: [], id: 2 });
  // The same call keeps its id for every message (a stream).
  const c = call('client', codec);
  const ids = [1, 2, 3].map((n) => (parsed(c.encode({ n })) as { id: unknown }).id);
  assert.deepEqual(ids, [3, 3, 3]);
  assert.deepEqual(c.decode(text({ jsonrpc: '2.0', id: 3, result: { msg: 'hi' } })), { msg: 'hi' });
  assert.equal(c.decode(text({ jsonrpc: '2.0', id: 3, result: null })), undefined);
});

test('the server answers {"jsonrpc":"2.0","id":<the request\'s>,"result":res}: numbers, strings and null', () => {
  for (const id of [0, 42, -1.5, 'abc', '', null]) {
    const s = call('server');
    assert.deepEqual(s.decode(text({ jsonrpc: '2.0', method: ENDPOINT, params: [{ name: 'Bo' }], id })), { name: 'Bo' });
    assert.deepEqual(parsed(s.encode({ msg: 'Hello Bo' })), { jsonrpc: '2.0', id, result: { msg: 'Hello Bo' } }, `id ${JSON.stringify(id)}`);
    assert.deepEqual(parsed(s.encode(undefined)), { jsonrpc: '2.0', id, result: null });
  }
  // A notification (no id) is answered with id null.
  const s = call('server');
  assert.deepEqual(s.decode(text({ jsonrpc: '2.0', method: ENDPOINT, params: [1] })), 1);
  assert.deepEqual(parsed(s.encode(2)), { jsonrpc: '2.0', id: null, result: 2 });
});

test('params by name (an object) are the request; no params is no request', () => {
  assert.deepEqual(call('server').decode(text({ jsonrpc: '2.0', method: ENDPOINT, params: { name: 'Cy' }, id: 1 })), { name: 'Cy' });
  assert.equal(call('server').decode(text({ jsonrpc: '2.0', method: ENDPOINT, id: 1 })), undefined);
  assert.equal(call('server').decode(text({ jsonrpc: '2.0', method: ENDPOINT, params: [], id: 1 })), undefined);
});

test('every message shape of the codec compliance suite travels as params and as result; a null result reads as undefined', () => {
  const codec = new JsonRpcCodec();
  for (const [shape, value] of Object.entries(SHAPES)) {
    const client = call('client', codec);
    const server = call('server', codec);
    assert.deepEqual(server.decode(client.encode(value)), value, `${shape} as params`);
    // The server writes undefined as "result": null, so the client can't tell null from undefined.
    assert.deepEqual(client.decode(server.encode(value)), value ?? undefined, `${shape} as result`);
    assert.deepEqual(codec.decode(codec.encode(value)), value, `${shape} outside a call`);
  }
  assert.equal(codec.decode(codec.encode(undefined)), undefined);
  assert.throws(() => codec.decode(new Uint8Array(0)), isCode('DECODE_FAILED'), 'an empty body is not an envelope');
});

test('what a server refuses is DECODE_FAILED: several params, a batch, another version, another method, bad ids and params, not JSON', () => {
  const refused: [string, unknown, RegExp][] = [
    ['two positional params', { jsonrpc: '2.0', method: ENDPOINT, params: [1, 2], id: 1 }, /holds 2 values/],
    ['a batch', [{ jsonrpc: '2.0', method: ENDPOINT, params: [1], id: 1 }], /batch/],
    ['version 1.0', { jsonrpc: '1.0', method: ENDPOINT, params: [1], id: 1 }, /"jsonrpc" must be "2.0"/],
    ['no version', { method: ENDPOINT, params: [1], id: 1 }, /"jsonrpc"/],
    ['another method', { jsonrpc: '2.0', method: 'Greeter.Bye', params: [1], id: 1 }, /Greeter\.Bye.*Greeter\.Hello/],
    ['no method', { jsonrpc: '2.0', params: [1], id: 1 }, /"method"/],
    ['an object id', { jsonrpc: '2.0', method: ENDPOINT, params: [1], id: { a: 1 } }, /"id"/],
    ['scalar params', { jsonrpc: '2.0', method: ENDPOINT, params: 'x', id: 1 }, /"params"/],
    ['a bare value', '"just text"', /JSON-RPC object/],
    ['null', null, /JSON-RPC object/],
  ];
  for (const [what, body, detail] of refused) assert.throws(() => call('server').decode(text(body)), isCode('DECODE_FAILED', detail), what);
  assert.throws(() => call('server').decode(text('{"jsonrpc":')), isCode('DECODE_FAILED'), 'truncated JSON');
  assert.throws(() => call('client').decode(text({ jsonrpc: '2.0', id: 1 })), isCode('DECODE_FAILED', /"result" or "error"/), 'a response with neither');
});

test('a JSON-RPC error object in a response is a MeshError: data.code when the peer gives one, INTERNAL otherwise', () => {
  assert.throws(() => call('client').decode(text({ jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'Method not found' } })), (e: unknown) => {
    isCode('INTERNAL', /^Method not found$/)(e);
    assert.equal((e as MeshError).status, 500);
    return true;
  });
  assert.throws(() => call('client').decode(text({ jsonrpc: '2.0', id: 1, error: { code: -32000, message: 'x', data: { code: 'NOT_FOUND', detail: 'no such greeter' } } })), (e: unknown) => {
    isCode('NOT_FOUND', /^no such greeter$/)(e);
    assert.equal((e as MeshError).status, 404);
    return true;
  });
  assert.throws(() => call('client').decode(text({ jsonrpc: '2.0', id: 1, error: {} })), isCode('INTERNAL', /JSON-RPC error/));
});

/** The JSON-RPC codec, recording every envelope each call writes. */
class Recording implements Codec {
  readonly contentType = JSON_RPC_CONTENT_TYPE;
  readonly sent: unknown[][] = [];
  private readonly inner = new JsonRpcCodec();
  encode(v: unknown): Uint8Array {
    return this.inner.encode(v);
  }
  decode(b: Uint8Array): unknown {
    return this.inner.decode(b);
  }
  perCall(endpoint: string, side: 'client' | 'server'): Codec {
    const c = this.inner.perCall(endpoint, side);
    const log: unknown[] = [];
    this.sent.push(log);
    return { contentType: this.contentType, encode: (v) => { const b = c.encode(v); log.push(parsed(b)); return b; }, decode: (b) => c.decode(b) };
  }
}

async function mesh(t: { after: (fn: () => Promise<void>) => void }): Promise<{ client: Service; atClient: Recording; atServer: Recording }> {
  const registry = new MemoryRegistry();
  const atServer = new Recording();
  const atClient = new Recording();
  const server = createService({ name: 'greeter', registry, logger: silentLogger, codecs: new CodecSet([new CborCodec(), atServer]) });
  server.handle('Greeter', {
    Hello: (req: { name: string }) => ({ msg: `Hello ${req.name}` }),
    async *Stream(req: { name: string; count: number }) {
      for (let i = 1; i <= req.count; i++) yield { msg: `Hello ${req.name} #${i}` };
    },
    async *Chat(reqs: AsyncIterable<{ name: string }>) {
      for await (const r of reqs) yield { msg: `Hi ${r.name}` };
    },
  }, { metadata: { Chat: { stream: 'bidi' } } });
  await server.start();
  const client = createService({ name: 'caller', registry, logger: silentLogger, codecs: new CodecSet([new CborCodec(), atClient]) });
  t.after(async () => {
    await client.stop();
    await server.stop();
  });
  return { client, atClient, atServer };
}

test('over real calls in application/json-rpc: unary and streams, every message of a call carrying its id', async (t) => {
  const { client, atClient, atServer } = await mesh(t);
  const opts = { contentType: JSON_RPC_CONTENT_TYPE };
  assert.deepEqual(await client.client.call('greeter', 'Greeter.Hello', { name: 'Ada' }, opts), { msg: 'Hello Ada' });
  const got: unknown[] = [];
  for await (const m of await client.client.stream('greeter', 'Greeter.Stream', { name: 'Bo', count: 3 }, opts)) got.push(m);
  assert.deepEqual(got, [1, 2, 3].map((i) => ({ msg: `Hello Bo #${i}` })));
  const chat = await client.client.stream<{ name: string }, { msg: string }>('greeter', 'Greeter.Chat', undefined, opts);
  const answers: string[] = [];
  const reading = (async () => {
    for await (const m of chat) answers.push(m.msg);
  })();
  for (const name of ['a', 'b', 'c']) await chat.send({ name });
  chat.end();
  await reading;
  assert.deepEqual(answers, ['Hi a', 'Hi b', 'Hi c']);

  // Unary, server stream, bidi: what each side wrote, call by call.
  const [hello, stream, bidi] = atClient.sent;
  assert.deepEqual(hello, [{ jsonrpc: '2.0', method: 'Greeter.Hello', params: [{ name: 'Ada' }], id: 1 }]);
  assert.deepEqual(stream, [{ jsonrpc: '2.0', method: 'Greeter.Stream', params: [{ name: 'Bo', count: 3 }], id: 2 }]);
  assert.deepEqual(bidi, ['a', 'b', 'c'].map((name) => ({ jsonrpc: '2.0', method: 'Greeter.Chat', params: [{ name }], id: 3 })));
  assert.equal(atServer.sent.length, 3);
  assert.deepEqual(atServer.sent[0], [{ jsonrpc: '2.0', id: 1, result: { msg: 'Hello Ada' } }]);
  assert.deepEqual(atServer.sent[1], [1, 2, 3].map((i) => ({ jsonrpc: '2.0', id: 2, result: { msg: `Hello Bo #${i}` } })));
  assert.deepEqual(atServer.sent[2], ['a', 'b', 'c'].map((n) => ({ jsonrpc: '2.0', id: 3, result: { msg: `Hi ${n}` } })));
});
