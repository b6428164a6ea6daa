// NatsBroker against a real nats-server (JetStream on) started here: the
// broker compliance suite with 1 and 3 brokers, then what only a server
// gives: a queue member or a publisher SIGKILLed loses nothing, dead letters
// after N attempts, the server restarted under a running broker, the lazy
// load of the client libraries. Deadlines, never timing asserts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { brokerCompliance, until } from '../compliance/broker.ts';
import { natsGate, type NatsServer } from '../support/nats.ts';
import { spawnTs } from '../support/process.ts';
import { NatsBroker, type NatsBrokerOptions } from '../../src/pubsub/nats.ts';
import { DEAD_LETTER_HEADERS, deadLetterTopic } from '../../src/pubsub/topic.ts';
import type { BrokerMessage } from '../../src/pubsub/types.ts';
import { MeshError } from '../../src/errors/index.ts';

const gate = await natsGate();
const skip = gate.skip;
let server: Promise<NatsServer> | undefined;
const shared = (): Promise<NatsServer> => (server ??= gate.start());
after(async () => {
  if (server !== undefined) await (await server).dispose();
});

let prefixes = 0;
const uniquePrefix = (): string => `T${process.pid}_${++prefixes}`;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const WORKER = fileURLToPath(new URL('../support/nats-worker.ts', import.meta.url));

/** Consumers of the queue stream, as the server lists them. */
async function consumerCount(url: string, streamPrefix: string): Promise<number> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    let n = 0;
    try {
      for await (const _c of jsm.consumers.list(`${streamPrefix}_QUEUES`)) n++;
    } catch {
      // no stream yet
    }
    return n;
  } finally {
    await nc.close();
  }
}

function network(n: number, maxDeliveries: number) {
  return async () => {
    const s = await shared();
    const streamPrefix = uniquePrefix();
    const brokers = Array.from({ length: n }, () => new NatsBroker({ servers: s.url, streamPrefix, maxDeliveries, ackWaitMs: 5000 }));
    return {
      brokers, maxDeliveries,
      // Every broker knows every queue group (a publisher learns of other brokers' groups from the server's advisories).
      settle: async () => {
        const want = await consumerCount(s.url, streamPrefix);
        await until(() => brokers.every((b) => b.stats().queueGroups >= want), 'every broker to know the queue groups');
      },
    };
  };
}

if (skip === false) {
  brokerCompliance('nats (1 broker)', { setup: network(1, 3) });
  brokerCompliance('nats (3 brokers, one server)', { setup: network(3, 3) });
} else {
  test('nats broker compliance', { skip }, () => {});
}

async function started(opts: Partial<NatsBrokerOptions> = {}): Promise<{ broker: NatsBroker; s: NatsServer; streamPrefix: string }> {
  const s = await shared();
  const streamPrefix = uniquePrefix();
  const broker = new NatsBroker({ servers: s.url, streamPrefix, ...opts });
  await broker.start();
  return { broker, s, streamPrefix };
}

test('options are validated, naming the field and range; the constructor needs no server', { skip }, () => {
  assert.throws(() => new NatsBroker({ ackWaitMs: 5 }), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_CONFIG' && /broker\.nats\.ackWaitMs must be an integer in \[100, 3600000\], got 5/.test(e.detail));
  assert.throws(() => new NatsBroker({ maxDeliveries: 0 }), /maxDeliveries must be an integer in \[1, 100\]/);
  assert.throws(() => new NatsBroker({ streamPrefix: 'a.b' }), /streamPrefix must be 1 to 32 letters/);
  assert.throws(() => new NatsBroker({ servers: 'not a url' }), /broker\.nats\.servers must be a URL like nats:\/\/host:4222/);
  assert.throws(() => new NatsBroker({ bogus: 1 } as never), /broker\.nats\.bogus is not a known setting/);
  const b = new NatsBroker({ servers: ['nats://127.0.0.1:1', 'nats://127.0.0.1:2'] });
  assert.equal(b.name, 'nats');
});

test('bad input is refused with a clear error and the broker goes on', { skip }, async () => {
  const { broker, s } = await started();
  try {
    await assert.rejects(broker.publish('big', new Uint8Array(2 << 20)), (e: unknown) => e instanceof MeshError && e.code === 'PAYLOAD_TOO_LARGE' && /max_payload of \d+ bytes/.test(e.detail));
    await assert.rejects(broker.publish('t', bytes('x'), { headers: { 'a b': 'x' } }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(broker.publish('t', bytes('x'), { headers: { a: 'line\nbreak' } }), { code: 'INVALID_ARGUMENT' });
    // A message from a plain NATS client (no micromesh headers, odd header names) still arrives, with an id.
    const got: BrokerMessage[] = [];
    await broker.subscribe('foreign.>', (m) => void got.push(m));
    const { connect, headers } = await import('@nats-io/transport-node');
    const nc = await connect({ servers: s.url });
    const h = headers();
    h.set('X-Odd', 'v');
    nc.publish('foreign.x', bytes('raw'), { headers: h });
    nc.publish('foreign.y', bytes('bare'));
    await nc.flush();
    await nc.close();
    await until(() => got.length === 2, 'foreign messages');
    assert.ok(got.every((m) => m.id.length > 0 && m.deliveryAttempt === 1));
    assert.equal(got.find((m) => m.topic === 'foreign.x')!.headers['X-Odd'], 'v');
    await broker.publish('t', bytes('still fine'));
  } finally {
    await broker.stop();
  }
});

test('a handler that always throws ends in $dead-letter.<topic> after maxDeliveries attempts, with the headers', { skip }, async () => {
  const { broker } = await started({ maxDeliveries: 4 });
  try {
    const attempts: number[] = [];
    const dead: BrokerMessage[] = [];
    await broker.subscribe('orders.new', (m) => {
      attempts.push(m.deliveryAttempt);
      throw new MeshError('BAD_REQUEST', 'cannot parse\norder');
    }, { queue: 'billing' });
    await broker.subscribe(deadLetterTopic('orders.new'), (m) => void dead.push(m));
    await broker.publish('orders.new', bytes('poison'), { headers: { 'content-type': 'application/json' } });
    await until(() => dead.length === 1, 'the dead letter', 30_000);
    assert.deepEqual(attempts, [1, 2, 3, 4]);
    const d = dead[0]!;
    assert.equal(text(d.body), 'poison');
    assert.equal(d.headers['content-type'], 'application/json');
    assert.equal(d.headers[DEAD_LETTER_HEADERS.topic], 'orders.new');
    assert.equal(d.headers[DEAD_LETTER_HEADERS.queue], 'billing');
    assert.equal(d.headers[DEAD_LETTER_HEADERS.deliveries], '4');
    assert.equal(d.headers[DEAD_LETTER_HEADERS.errorCode], 'BAD_REQUEST');
    assert.equal(d.headers[DEAD_LETTER_HEADERS.errorMessage], 'cannot parse order');
    assert.ok(d.headers[DEAD_LETTER_HEADERS.messageId]!.length > 0);
    assert.equal(broker.stats().deadLettered, 1);
  } finally {
    await broker.stop();
  }
});

test('a queue member SIGKILLed mid-stream loses nothing: every message is handled by some member', { skip, timeout: 120_000 }, async () => {
  const { broker, s, streamPrefix } = await started();
  const workers = ['w1', 'w2'].map(() => spawnTs(WORKER, [s.url, 'jobs', 'workers', streamPrefix]));
  try {
    await Promise.all(workers.map((w) => w.waitFor(/^ready$/)));
    await until(() => broker.stats().queueGroups === 1, 'the publisher to know the group');
    const total = 400;
    const handled = (): Set<string> => new Set(workers.flatMap((w) => w.lines.filter((l) => l.startsWith('handled ')).map((l) => l.slice(8))));
    const publishing = (async () => {
      for (let i = 0; i < total; i++) await broker.publish('jobs', bytes(`m${i}`));
    })();
    await workers[1]!.waitFor(/^handled /);
    await until(() => workers[1]!.lines.length >= 30, 'w2 busy', 60_000);
    await workers[1]!.kill('SIGKILL');
    await publishing;
    await until(() => handled().size === total, `all ${total} handled (have ${handled().size})`, 60_000);
  } finally {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await broker.stop();
  }
});

test('a publisher SIGKILLed right after publish resolved loses nothing', { skip, timeout: 120_000 }, async () => {
  const { broker, s, streamPrefix } = await started();
  try {
    // The group exists (its durable consumer), but no member runs while the publisher publishes and dies.
    const first = await broker.subscribe('payments', () => {}, { queue: 'ledger' });
    await first.unsubscribe();
    const pub = spawnTs(WORKER, [s.url, 'payments', 'ledger', streamPrefix, 'publish', '100000']);
    await pub.waitFor(/^published 200$/, 60_000);
    await pub.kill('SIGKILL');
    const resolved = pub.lines.filter((l) => l.startsWith('published ')).map((l) => `m${l.slice(10)}`);
    assert.ok(resolved.length > 200);
    const got = new Set<string>();
    await broker.subscribe('payments', (m) => void got.add(text(m.body)), { queue: 'ledger' });
    await until(() => resolved.every((b) => got.has(b)), `the ${resolved.length} resolved publishes (have ${got.size})`, 60_000);
  } finally {
    await broker.stop();
  }
});

test('nats-server restarted: the same broker reconnects, publishing and delivery resume', { skip, timeout: 120_000 }, async () => {
  const s = await gate.start();
  const broker = new NatsBroker({ servers: s.url, publishTimeoutMs: 300 });
  try {
    await broker.start();
    const bcast: string[] = [];
    const queued: string[] = [];
    await broker.subscribe('news', (m) => void bcast.push(text(m.body)));
    await broker.subscribe('work', (m) => void queued.push(text(m.body)), { queue: 'q' });
    await broker.publish('news', bytes('before'));
    await broker.publish('work', bytes('before'));
    await until(() => bcast.length === 1 && queued.length === 1, 'deliveries before the restart');
    await s.stop('SIGKILL');
    await until(() => !broker.stats().connected, 'the broker to see the outage');
    await assert.rejects(broker.publish('news', bytes('lost')), (e: unknown) => e instanceof MeshError && e.code === 'UNAVAILABLE');
    await s.start();
    await until(() => broker.stats().connected, 'the broker to reconnect', 30_000);
    for (let i = 0; !bcast.includes('after') || !queued.includes('after'); i++) {
      assert.ok(i < 300, `no delivery after the restart (broadcast ${bcast}, queue ${queued})`);
      await broker.publish('news', bytes('after')).catch(() => {});
      await broker.publish('work', bytes('after')).catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await broker.stop();
    await s.dispose();
  }
});

test("import('micromesh') loads no @nats-io module; NatsBroker.start() does", { skip }, async () => {
  const s = await shared();
  const index = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
  const nats = fileURLToPath(new URL('../../src/pubsub/nats.ts', import.meta.url));
  const probe = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(spec, ctx, next) { if (spec.startsWith('@nats-io/')) seen.push(spec); return next(spec, ctx); } });
    await import(${JSON.stringify(index)});
    // micromesh/nats: the broker's own module, then its clients at start.
    const m = await import(${JSON.stringify(nats)});
    const b = new m.NatsBroker({ servers: ${JSON.stringify(s.url)} });
    const before = seen.length;
    await b.start();
    await b.stop();
    console.log(JSON.stringify({ before, after: seen.length }));`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)));
  });
  const { before, after: later } = JSON.parse(out.trim().split('\n').pop()!) as { before: number; after: number };
  assert.equal(before, 0, 'importing micromesh and constructing a NatsBroker load no @nats-io module');
  assert.ok(later > 0, 'start() loads them');
});
