// Spans in one process: three services with an SDK each (explicit
// tracerProvider, one exporter), a call A → B → C, a stream, a publish whose
// subscriber calls on, and failures; every link checked by span id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import {
  createService, silentLogger, MemoryBroker, MemoryRegistry, MeshError, type HandlerContext, type Service,
} from '../../src/index.ts';

interface Mesh {
  a: Service;
  b: Service;
  c: Service;
  spans: InMemorySpanExporter;
  stop(): Promise<void>;
}

/** A, B and C on one registry and broker, each tracing into `spans`; B relays to C, C answers or fails. */
async function threeServices(): Promise<Mesh> {
  const spans = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const registry = new MemoryRegistry();
  const broker = new MemoryBroker();
  const opts = { registry, broker, logger: silentLogger, tracing: { tracerProvider: provider } };
  const c = createService({ name: 'c', ...opts }).handle('C', {
    Echo: (r: { n: number }) => ({ n: r.n }),
    Fail: () => { throw new MeshError('CONFLICT', 'c refuses'); },
    Boom: () => { throw new Error('not a MeshError'); },
    async *Count({ to }: { to: number }) {
      for (let i = 1; i <= to; i++) yield i;
    },
  });
  const b = createService({ name: 'b', ...opts }).handle('B', {
    Hop: (r: { n: number }) => b.client.call('c', 'C.Echo', r),
    Fail: () => b.client.call('c', 'C.Fail', {}),
    async *Relay({ to }: { to: number }) {
      const s = await b.client.stream<{ to: number }, number>('c', 'C.Count', { to });
      for await (const n of s) yield n * 10;
    },
  });
  const a = createService({ name: 'a', ...opts });
  for (const s of [c, b, a]) await s.start();
  return { a, b, c, spans, stop: async () => { for (const s of [a, b, c]) await s.stop(); } };
}

const until = async (cond: () => boolean, what: string): Promise<void> => {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

function one(spans: ReadableSpan[], name: string, kind: SpanKind): ReadableSpan {
  const found = spans.filter((s) => s.name === name && s.kind === kind);
  assert.equal(found.length, 1, `one ${SpanKind[kind]} span ${name}; spans: ${spans.map((s) => `${SpanKind[s.kind]} ${s.name}`).join(', ')}`);
  return found[0]!;
}

function assertChild(child: ReadableSpan, parent: ReadableSpan): void {
  assert.equal(child.spanContext().traceId, parent.spanContext().traceId, `${child.name} in ${parent.name}'s trace`);
  assert.equal(child.parentSpanContext?.spanId, parent.spanContext().spanId, `${child.name}'s parent is ${SpanKind[parent.kind]} ${parent.name}`);
}

test('A → B → C: client, server, client, server spans in one trace, each the parent of the next', async () => {
  const m = await threeServices();
  try {
    assert.deepEqual(await m.a.client.call('b', 'B.Hop', { n: 7 }), { n: 7 });
    const spans = m.spans.getFinishedSpans();
    const aClient = one(spans, 'b/B.Hop', SpanKind.CLIENT);
    const bServer = one(spans, 'b/B.Hop', SpanKind.SERVER);
    const bClient = one(spans, 'c/C.Echo', SpanKind.CLIENT);
    const cServer = one(spans, 'c/C.Echo', SpanKind.SERVER);
    assert.equal(aClient.parentSpanContext, undefined, 'a call outside any handler starts the trace');
    assertChild(bServer, aClient);
    assertChild(bClient, bServer);
    assertChild(cServer, bClient);
    assert.equal(bServer.parentSpanContext?.isRemote, true);
    assert.deepEqual(aClient.attributes, {
      'rpc.system': 'micromesh', 'rpc.service': 'b', 'rpc.method': 'B.Hop', 'rpc.response.status_code': 'OK',
    });
    assert.equal(cServer.attributes['rpc.system'], 'micromesh');
    assert.equal(cServer.attributes['rpc.method'], 'C.Echo');
    assert.equal(cServer.attributes['network.peer.address'], '127.0.0.1');
    assert.equal(typeof cServer.attributes['network.peer.port'], 'number');
    for (const s of spans) assert.equal(s.status.code, SpanStatusCode.UNSET, s.name);
    assert.equal(spans.filter((s) => s.name.includes('$mesh')).length, 0, 'node plumbing makes no spans');
  } finally {
    await m.stop();
  }
});

test('a direct call names its server; Debug endpoints are traced like any other', async () => {
  const m = await threeServices();
  try {
    await m.a.client.call('c', 'Debug.Health', {}, { address: m.c.address });
    const client = one(m.spans.getFinishedSpans(), 'c/Debug.Health', SpanKind.CLIENT);
    assert.equal(client.attributes['server.address'], '127.0.0.1');
    assert.equal(client.attributes['server.port'], Number(m.c.address!.split(':')[1]));
    assertChild(one(m.spans.getFinishedSpans(), 'c/Debug.Health', SpanKind.SERVER), client);
  } finally {
    await m.stop();
  }
});

test('failures: ERROR status and the MeshError code as error.type, on both sides and through the relay', async () => {
  const m = await threeServices();
  try {
    await assert.rejects(m.a.client.call('b', 'B.Fail', {}), (e: unknown) => e instanceof MeshError && e.code === 'CONFLICT');
    await assert.rejects(m.a.client.call('c', 'C.Boom', {}), (e: unknown) => e instanceof MeshError && e.code === 'INTERNAL');
    const spans = m.spans.getFinishedSpans();
    for (const [name, kind] of [['b/B.Fail', SpanKind.CLIENT], ['b/B.Fail', SpanKind.SERVER], ['c/C.Fail', SpanKind.CLIENT], ['c/C.Fail', SpanKind.SERVER]] as const) {
      const s = one(spans, name, kind);
      assert.equal(s.status.code, SpanStatusCode.ERROR, `${SpanKind[kind]} ${name}`);
      assert.equal(s.status.message, 'c refuses');
      assert.equal(s.attributes['error.type'], 'CONFLICT');
      assert.equal(s.attributes['rpc.response.status_code'], 'CONFLICT');
    }
    assert.equal(one(spans, 'c/C.Boom', SpanKind.SERVER).attributes['error.type'], 'INTERNAL', 'a plain Error is INTERNAL, as the caller sees it');
    assert.equal(one(spans, 'c/C.Boom', SpanKind.CLIENT).attributes['error.type'], 'INTERNAL');
  } finally {
    await m.stop();
  }
});

test('streams: spans end with the stream, and a stream opened inside a streaming handler is its child', async () => {
  const m = await threeServices();
  try {
    const s = await m.a.client.stream<{ to: number }, number>('b', 'B.Relay', { to: 3 });
    const got: number[] = [];
    for await (const n of s) got.push(n);
    assert.deepEqual(got, [10, 20, 30]);
    await until(() => m.spans.getFinishedSpans().length >= 4, 'four spans');
    const spans = m.spans.getFinishedSpans();
    const aClient = one(spans, 'b/B.Relay', SpanKind.CLIENT);
    const bServer = one(spans, 'b/B.Relay', SpanKind.SERVER);
    const bClient = one(spans, 'c/C.Count', SpanKind.CLIENT);
    const cServer = one(spans, 'c/C.Count', SpanKind.SERVER);
    assertChild(bServer, aClient);
    assertChild(bClient, bServer);
    assertChild(cServer, bClient);
    for (const x of [aClient, bServer, bClient, cServer]) assert.equal(x.status.code, SpanStatusCode.UNSET);
    // A stream abandoned early still ends its span.
    const early = await m.a.client.stream<{ to: number }, number>('c', 'C.Count', { to: 1000 });
    for await (const n of early) if (n === 2) break;
    await until(() => m.spans.getFinishedSpans().filter((x) => x.name === 'c/C.Count').length === 4, 'the abandoned stream\'s spans');
  } finally {
    await m.stop();
  }
});

test('publish → subscriber: producer then consumer span, and the subscriber\'s call continues the trace', async () => {
  const m = await threeServices();
  const seen: Array<Record<string, string>> = [];
  m.b.subscribe('orders.created', async (order: { n: number }, ctx) => {
    seen.push({ ...ctx.metadata });
    await m.b.client.call('c', 'C.Echo', order);
  }, { queue: 'billing' });
  await m.b.stop();
  await m.b.start();
  try {
    await m.a.client.publish('orders.created', { n: 1 });
    await until(() => m.spans.getFinishedSpans().some((s) => s.kind === SpanKind.CONSUMER), 'the consumer span');
    const spans = m.spans.getFinishedSpans();
    const producer = one(spans, 'publish orders.created', SpanKind.PRODUCER);
    const consumer = one(spans, 'process orders.created', SpanKind.CONSUMER);
    assertChild(consumer, producer);
    assertChild(one(spans, 'c/C.Echo', SpanKind.CLIENT), consumer);
    assertChild(one(spans, 'c/C.Echo', SpanKind.SERVER), one(spans, 'c/C.Echo', SpanKind.CLIENT));
    assert.equal(producer.attributes['messaging.system'], 'micromesh');
    assert.equal(producer.attributes['messaging.destination.name'], 'orders.created');
    assert.equal(producer.attributes['messaging.operation.type'], 'send');
    assert.equal(typeof producer.attributes['messaging.message.body.size'], 'number');
    assert.equal(consumer.attributes['messaging.operation.type'], 'process');
    assert.equal(consumer.attributes['messaging.consumer.group.name'], 'billing');
    assert.equal(typeof consumer.attributes['messaging.message.id'], 'string');
    assert.match(seen[0]!.traceparent!, new RegExp(`^00-${producer.spanContext().traceId}-${producer.spanContext().spanId}-01$`), 'the message carries the producer span');
  } finally {
    await m.stop();
  }
});

test('a failing subscriber ends its consumer span with ERROR', async () => {
  const m = await threeServices();
  m.c.subscribe('jobs', () => { throw new MeshError('BAD_REQUEST', 'no such job'); });
  await m.c.stop();
  await m.c.start();
  try {
    await m.a.client.publish('jobs', {});
    await until(() => m.spans.getFinishedSpans().some((s) => s.kind === SpanKind.CONSUMER), 'the consumer span');
    const consumer = one(m.spans.getFinishedSpans(), 'process jobs', SpanKind.CONSUMER);
    assert.equal(consumer.status.code, SpanStatusCode.ERROR);
    assert.equal(consumer.attributes['error.type'], 'BAD_REQUEST');
    assert.equal(consumer.attributes['rpc.response.status_code'], undefined, 'messaging spans carry no RPC status');
  } finally {
    await m.stop();
  }
});

test('the handler sees its own span\'s trace context in its metadata; an invalid incoming one starts a new trace', async () => {
  const m = await threeServices();
  let md: HandlerContext['metadata'] | undefined;
  m.c.handle('Peek', { Md: (_: unknown, ctx: HandlerContext) => { md = ctx.metadata; return null; } });
  try {
    await m.a.client.call('c', 'Peek.Md', {}, { metadata: { traceparent: 'not-a-traceparent', 'x-request-id': 'r1' } });
    const server = one(m.spans.getFinishedSpans(), 'c/Peek.Md', SpanKind.SERVER);
    const client = one(m.spans.getFinishedSpans(), 'c/Peek.Md', SpanKind.CLIENT);
    assert.equal(client.parentSpanContext, undefined, 'the invalid traceparent was ignored');
    assertChild(server, client);
    const sc = server.spanContext();
    assert.equal(md!.traceparent, `00-${sc.traceId}-${sc.spanId}-01`);
    assert.equal(md!['x-request-id'], 'r1', 'other metadata untouched');
  } finally {
    await m.stop();
  }
});
