// micromesh's own head sampling (tracing.sampleRatio) in front of an SDK that samples everything:
// roots at the ratio, sampled parents always continued, unsampled ones never, and nothing asked of the SDK when it says no.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createService, silentLogger, MemoryRegistry, MeshError, type Random } from '../../src/index.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

async function pair(sampleRatio: number, random?: Random, parentBased?: boolean) {
  const spans = new InMemorySpanExporter();
  // With parentBased off, an SDK sampler that ignores its parents (the default is ParentBased(AlwaysOn)).
  const sampler = parentBased === false ? { sampler: new AlwaysOnSampler() } : {};
  const provider = new BasicTracerProvider({ ...sampler, spanProcessors: [new SimpleSpanProcessor(spans)] });
  let asked = 0;
  const counting = { getTracer: (...a: Parameters<typeof provider.getTracer>) => {
    const t = provider.getTracer(...a);
    return { ...t, startSpan: (...s: Parameters<typeof t.startSpan>) => { asked++; return t.startSpan(...s); }, startActiveSpan: t.startActiveSpan.bind(t) };
  } };
  const registry = new MemoryRegistry();
  const opts = { registry, logger: silentLogger, tracing: { tracerProvider: counting, sampleRatio, ...(parentBased === undefined ? {} : { parentBased }) }, ...(random ? { random } : {}) };
  const server = createService({ name: 'echo', ...opts }).handle('Echo', { Say: (r: unknown) => r });
  await server.start();
  const client = createService({ name: 'caller', ...opts });
  return { spans, asked: () => asked, client, stop: async () => { await client.stop(); await server.stop(); } };
}

test('sampleRatio 0: no span and no SDK call for new traces; a sampled incoming trace is still continued, an unsampled one is not', async (t) => {
  const p = await pair(0);
  t.after(() => p.stop());
  for (let i = 0; i < 5; i++) await p.client.client.call('echo', 'Echo.Say', { i });
  assert.equal(p.spans.getFinishedSpans().length, 0);
  assert.equal(p.asked(), 0, 'the SDK was never asked');
  await p.client.client.call('echo', 'Echo.Say', {}, { metadata: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` } });
  const kept = p.spans.getFinishedSpans();
  assert.equal(kept.length, 2, 'client and server span of the sampled trace');
  assert.ok(kept.every((s) => s.spanContext().traceId === TRACE));
  await p.client.client.call('echo', 'Echo.Say', {}, { metadata: { traceparent: `00-${TRACE}-00f067aa0ba902b7-00` } });
  assert.equal(p.spans.getFinishedSpans().length, 2, 'an unsampled parent makes no spans');
});

test('sampleRatio between 0 and 1 starts a new trace when the service\'s Random draws below it', async (t) => {
  const fixed = (v: number): Random => ({ next: () => v, int: () => 0, shuffle: (x) => x, bytes: (n) => new Uint8Array(n).fill(7) });
  const low = await pair(0.5, fixed(0.4));
  t.after(() => low.stop());
  const high = await pair(0.5, fixed(0.6));
  t.after(() => high.stop());
  for (let i = 0; i < 3; i++) {
    await low.client.client.call('echo', 'Echo.Say', { i });
    await high.client.client.call('echo', 'Echo.Say', { i });
  }
  // Drawn below: each call starts a trace at the client and the server continues it (its parent is sampled).
  assert.equal(new Set(low.spans.getFinishedSpans().map((s) => s.spanContext().traceId)).size, 3);
  assert.equal(low.spans.getFinishedSpans().length, 6);
  assert.equal(high.spans.getFinishedSpans().length, 0);
});

test('a sampleRatio outside [0, 1] is refused with the field and range', () => {
  assert.throws(() => createService({ name: 'x', registry: new MemoryRegistry(), logger: silentLogger, tracing: { sampleRatio: 2 } }),
    (e: unknown) => e instanceof MeshError && e.code === 'INVALID_CONFIG' && /tracing\.sampleRatio must be a number in \[0, 1\], got 2/.test(e.detail));
});

test('at ratio 1 an unsampled caller is followed without asking the SDK; parentBased: false asks it for every span', async (t) => {
  const unsampled = { metadata: { traceparent: `00-${TRACE}-00f067aa0ba902b7-00` } };
  const followed = await pair(1);
  t.after(() => followed.stop());
  await followed.client.client.call('echo', 'Echo.Say', {}, unsampled);
  assert.equal(followed.asked(), 0, 'neither side asked its SDK');
  assert.equal(followed.spans.getFinishedSpans().length, 0);
  await followed.client.client.call('echo', 'Echo.Say', {});
  assert.equal(followed.asked(), 2, 'a call without a parent is asked on both sides');

  const own = await pair(1, undefined, false);
  t.after(() => own.stop());
  await own.client.client.call('echo', 'Echo.Say', {}, unsampled);
  // This SDK's AlwaysOn sampler overrides the caller's "no", and is let.
  assert.equal(own.asked(), 2);
  assert.equal(own.spans.getFinishedSpans().length, 2);
});
