// Issue 19's tracing test: three processes A, B, C, each with its own
// OpenTelemetry SDK (in-memory exporter), on a mesh over loopback. A call
// A → B → C and a publish from A to a subscriber on C make one trace each,
// linked across the processes: client → server → client → server, and
// producer → consumer.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { JsonLinesProcess, type Message } from '../support/json-lines.ts';

const NODE = fileURLToPath(new URL('../support/traced-node.ts', import.meta.url));
const nodes: JsonLinesProcess[] = [];
after(() => {
  for (const n of nodes) n.child.kill('SIGKILL');
});

function start(name: string, args: string[]): JsonLinesProcess {
  const p = new JsonLinesProcess(spawn(process.execPath, ['--import', 'tsx', NODE, name, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }), name);
  nodes.push(p);
  return p;
}

interface SpanLine {
  name: string;
  kind: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  status: number;
  attributes: Record<string, unknown>;
}

async function spansOf(p: JsonLinesProcess): Promise<SpanLine[]> {
  const from = p.messages.length;
  p.send({ cmd: 'spans' });
  return (await p.waitFor((m) => Array.isArray(m.spans), 10_000, 'spans', from)).spans as SpanLine[];
}

async function ask(p: JsonLinesProcess, cmd: Message, answer: (m: Message) => boolean, what: string): Promise<Message> {
  const from = p.messages.length;
  p.send(cmd);
  return p.waitFor(answer, 20_000, what, from);
}

function one(spans: SpanLine[], kind: string, name: string, where: string): SpanLine {
  const found = spans.filter((s) => s.kind === kind && s.name === name);
  assert.equal(found.length, 1, `${where}: one ${kind} ${name} among ${spans.map((s) => `${s.kind} ${s.name}`).join(', ')}`);
  return found[0]!;
}

test('A → B → C and a publish A → C: one trace each across three processes, every parent the previous hop\'s span', { timeout: 90_000 }, async () => {
  const c = start('c', ['--subscribe', 'orders']);
  const cReady = await c.waitFor((m) => typeof m.gossip === 'string', 30_000, 'c ready');
  const seed = cReady.gossip as string;
  const b = start('b', ['--next', 'c', '--join', seed]);
  const a = start('a', ['--join', seed]);
  await Promise.all([b, a].map((p) => p.waitFor((m) => typeof m.gossip === 'string', 30_000, `${p.label} ready`)));
  await ask(b, { cmd: 'wait', services: ['c'] }, (m) => m.waited === true, 'b sees c');
  await ask(a, { cmd: 'wait', services: ['b', 'c'], topic: 'orders' }, (m) => m.waited === true, 'a sees b, c and c\'s subscription');

  const called = await ask(a, { cmd: 'call', service: 'b' }, (m) => m.called === 'b', 'the call');
  assert.deepEqual(called.result, { at: 'c' }, JSON.stringify(called));
  await ask(a, { cmd: 'publish', topic: 'orders' }, (m) => m.published === 'orders', 'the publish');

  // The consumer span ends once C's subscriber returned; poll C until it has.
  let cSpans = await spansOf(c);
  for (let i = 0; i < 100 && !cSpans.some((s) => s.kind === 'CONSUMER'); i++) {
    await new Promise((r) => setTimeout(r, 50));
    cSpans = await spansOf(c);
  }
  const [aSpans, bSpans] = [await spansOf(a), await spansOf(b)];

  // The call: A's client → B's server → B's client → C's server.
  const aClient = one(aSpans, 'CLIENT', 'b/Chain.Call', 'a');
  const bServer = one(bSpans, 'SERVER', 'b/Chain.Call', 'b');
  const bClient = one(bSpans, 'CLIENT', 'c/Chain.Call', 'b');
  const cServer = one(cSpans, 'SERVER', 'c/Chain.Call', 'c');
  const hops = [aClient, bServer, bClient, cServer];
  assert.equal(new Set(hops.map((s) => s.traceId)).size, 1, 'one trace id in all three processes');
  assert.equal(aClient.parentSpanId, undefined, 'the call from outside any handler roots the trace');
  for (let i = 1; i < hops.length; i++) {
    assert.equal(hops[i]!.parentSpanId, hops[i - 1]!.spanId, `${hops[i]!.kind} ${hops[i]!.name}'s parent is ${hops[i - 1]!.kind} ${hops[i - 1]!.name}`);
  }
  for (const s of hops) {
    assert.equal(s.attributes['rpc.system'], 'micromesh');
    assert.equal(s.attributes['rpc.response.status_code'], 'OK');
  }
  assert.equal(bServer.attributes['rpc.service'], 'b');
  assert.equal(cServer.attributes['rpc.method'], 'Chain.Call');

  // The publish: A's producer → C's consumer, a trace of its own.
  const producer = one(aSpans, 'PRODUCER', 'publish orders', 'a');
  const consumer = one(cSpans, 'CONSUMER', 'process orders', 'c');
  assert.equal(consumer.traceId, producer.traceId);
  assert.equal(consumer.parentSpanId, producer.spanId);
  assert.notEqual(producer.traceId, aClient.traceId);
  assert.equal(producer.attributes['messaging.destination.name'], 'orders');
  assert.equal(consumer.attributes['messaging.operation.type'], 'process');

  // Node plumbing (member records, broker batches) made no spans.
  for (const s of [...aSpans, ...bSpans, ...cSpans]) assert.doesNotMatch(s.name, /\$mesh/);
});
