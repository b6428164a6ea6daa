// Trace context without spans (no SDK, sampling off, tracing off), a global
// SDK with a context manager (user spans in handlers), and trace-aware logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { context, trace, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOffSampler, BasicTracerProvider, InMemorySpanExporter, ParentBasedSampler, SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  createService, silentLogger, MemoryBroker, MemoryRegistry, MeshError, type HandlerContext, type Logger, type Service, type ServiceOptions,
} from '../../src/index.ts';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

interface Chain {
  a: Service;
  b: Service;
  c: Service;
  /** The metadata C's handler and C's subscriber saw, in order. */
  atC: Array<Record<string, string>>;
  stop(): Promise<void>;
}

/** A calls or publishes to B, B relays to C (a call inside a handler, and inside a subscriber); C records its metadata. */
async function chain(extra: Partial<ServiceOptions> = {}, logger: Logger = silentLogger): Promise<Chain> {
  const registry = new MemoryRegistry();
  const broker = new MemoryBroker();
  const opts = { registry, broker, logger, ...extra };
  const atC: Array<Record<string, string>> = [];
  const c = createService({ name: 'c', ...opts }).handle('C', {
    Look: (_: unknown, ctx: HandlerContext) => {
      atC.push({ ...ctx.metadata });
      c.logger.info('at c');
      return null;
    },
    Fail: () => { throw new Error('c broke'); },
  });
  const b = createService({ name: 'b', ...opts }).handle('B', {
    Hop: async () => {
      b.logger.info('at b');
      return b.client.call('c', 'C.Look', {});
    },
    Fail: () => b.client.call('c', 'C.Fail', {}),
  }).subscribe('events', async () => {
    b.logger.info('delivered');
    await b.client.call('c', 'C.Look', {});
  });
  const a = createService({ name: 'a', ...opts });
  for (const s of [c, b, a]) await s.start();
  return { a, b, c, atC, stop: async () => { for (const s of [a, b, c]) await s.stop(); } };
}

const until = async (cond: () => boolean, what: string): Promise<void> => {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

test('no SDK: an external caller\'s traceparent reaches C through B unchanged, by call and through a subscriber', async () => {
  const m = await chain();
  try {
    await m.a.client.call('b', 'B.Hop', {}, { metadata: { traceparent: TRACEPARENT, tracestate: 'k=v', 'x-request-id': 'req-1' } });
    assert.deepEqual(m.atC[0], { traceparent: TRACEPARENT, tracestate: 'k=v', 'x-request-id': 'req-1' });
    await m.a.client.publish('events', {}, { metadata: { traceparent: TRACEPARENT, 'x-request-id': 'req-2' } });
    await until(() => m.atC.length === 2, 'the subscriber\'s call');
    assert.deepEqual(m.atC[1], { traceparent: TRACEPARENT, 'x-request-id': 'req-2' }, 'only trace context and request id pass from a message to the work it starts');
  } finally {
    await m.stop();
  }
});

test('tracing: false still passes metadata along as metadata, and makes no spans', async () => {
  const spans = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  trace.setGlobalTracerProvider(provider);
  const m = await chain({ tracing: false });
  try {
    await m.a.client.call('b', 'B.Hop', {}, { metadata: { traceparent: TRACEPARENT } });
    assert.equal(m.atC[0]!.traceparent, TRACEPARENT);
    assert.equal(spans.getFinishedSpans().length, 0);
  } finally {
    await m.stop();
    trace.disable();
  }
});

test('a global SDK with sampling off: no spans, and an incoming trace passes through unchanged', async () => {
  const spans = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }), spanProcessors: [new SimpleSpanProcessor(spans)],
  }));
  const m = await chain();
  try {
    await m.a.client.call('b', 'B.Hop', {});
    // The root's "no" travels (flags 00), so no hop downstream starts a trace of its own.
    assert.match(m.atC[0]!.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/, 'an unsampled root passes its decision on');
    const unsampled = TRACEPARENT.replace(/-01$/, '-00');
    await m.a.client.call('b', 'B.Hop', {}, { metadata: { traceparent: unsampled } });
    assert.equal(m.atC[1]!.traceparent, unsampled);
    assert.equal(spans.getFinishedSpans().length, 0);
  } finally {
    await m.stop();
    trace.disable();
  }
});

test('a global SDK and context manager: the handler\'s span is active, and a user span in it parents the next call', async () => {
  const spans = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  const registry = new MemoryRegistry();
  const c = createService({ name: 'c', registry, logger: silentLogger }).handle('C', { Echo: (r: unknown) => r });
  let active: string | undefined;
  const b = createService({ name: 'b', registry, logger: silentLogger }).handle('B', {
    Work: async () => {
      active = trace.getActiveSpan()?.spanContext().spanId;
      await new Promise((r) => setTimeout(r, 1));
      return trace.getTracer('app').startActiveSpan('db', async (span) => {
        try {
          return await b.client.call('c', 'C.Echo', 1);
        } finally {
          span.end();
        }
      });
    },
  });
  await c.start();
  await b.start();
  try {
    await b.client.call('b', 'B.Work', {});
    const all = spans.getFinishedSpans();
    const server = all.find((s) => s.name === 'b/B.Work' && s.kind === SpanKind.SERVER)!;
    const db = all.find((s) => s.name === 'db')!;
    const call = all.find((s) => s.name === 'c/C.Echo' && s.kind === SpanKind.CLIENT)!;
    assert.equal(active, server.spanContext().spanId, 'trace.getActiveSpan() in a handler is its server span');
    assert.equal(db.parentSpanContext?.spanId, server.spanContext().spanId);
    assert.equal(call.parentSpanContext?.spanId, db.spanContext().spanId, 'the user\'s own span is the call\'s parent');
    assert.equal(new Set(all.map((s) => s.spanContext().traceId)).size, 1);
  } finally {
    await b.stop();
    await c.stop();
    trace.disable();
    context.disable();
  }
});

interface Line {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

function capture(lines: Line[], bindings: Record<string, unknown> = {}): Logger {
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => lines.push({ level, msg, fields: { ...bindings, ...fields } });
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: (b) => capture(lines, { ...bindings, ...b }) };
}

test('logs: lines written while serving carry traceId, spanId and requestId; the server\'s own lines about a call too', async () => {
  const spans = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const lines: Line[] = [];
  const m = await chain({ tracing: { tracerProvider: provider } }, capture(lines));
  try {
    await m.a.client.call('b', 'B.Hop', {}, { metadata: { 'x-request-id': 'req-7' } });
    const server = (name: string) => spans.getFinishedSpans().find((s) => s.name === name && s.kind === SpanKind.SERVER)!.spanContext();
    const atB = lines.find((l) => l.msg === 'at b')!;
    assert.deepEqual(
      { traceId: atB.fields.traceId, spanId: atB.fields.spanId, requestId: atB.fields.requestId, service: atB.fields.service },
      { traceId: server('b/B.Hop').traceId, spanId: server('b/B.Hop').spanId, requestId: 'req-7', service: 'b' },
    );
    const atC = lines.find((l) => l.msg === 'at c')!;
    assert.equal(atC.fields.spanId, server('c/C.Look').spanId);
    assert.equal(atC.fields.requestId, 'req-7', 'the request id follows the call chain');

    await m.a.client.publish('events', {}, { metadata: { 'x-request-id': 'req-8' } });
    await until(() => spans.getFinishedSpans().some((s) => s.kind === SpanKind.CONSUMER), 'the consumer span');
    const delivered = lines.find((l) => l.msg === 'delivered')!;
    assert.equal(delivered.fields.requestId, 'req-8');
    assert.equal(delivered.fields.spanId, spans.getFinishedSpans().find((s) => s.kind === SpanKind.CONSUMER)!.spanContext().spanId);

    await assert.rejects(m.a.client.call('c', 'C.Fail', {}, { metadata: { 'x-request-id': 'req-9' } }), MeshError);
    const failed = lines.find((l) => l.msg === 'handler failed')!;
    assert.equal(failed.fields.requestId, 'req-9');
    assert.equal(failed.fields.spanId, server('c/C.Fail').spanId);

    const outside = lines.find((l) => l.msg === 'service started')!;
    assert.equal(outside.fields.traceId, undefined, 'lines outside a call carry no ids');
  } finally {
    await m.stop();
  }
});

test('logs without an SDK: the caller\'s trace id and span, and the request id', async () => {
  const lines: Line[] = [];
  const m = await chain({}, capture(lines));
  try {
    await m.a.client.call('b', 'B.Hop', {}, { metadata: { traceparent: TRACEPARENT, 'x-request-id': 'req-1' } });
    const atC = lines.find((l) => l.msg === 'at c')!;
    assert.equal(atC.fields.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(atC.fields.spanId, '00f067aa0ba902b7');
    assert.equal(atC.fields.requestId, 'req-1');
  } finally {
    await m.stop();
  }
});
