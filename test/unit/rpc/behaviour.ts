// RPC behaviour over any stream transport: the same scenarios run on the
// in-memory and the TCP transport (rpc-memory.test.ts, rpc-tcp.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError, badRequest } from '../../../src/errors/index.ts';
import type { Transport } from '../../../src/transport/types.ts';
import type { HandlerContext } from '../../../src/rpc/types.ts';
import { MemoryRegistry } from '../../../src/registry/memory.ts';
import { DefaultSelector } from '../../../src/selector/selector.ts';
import { makePeer, type Peer } from '../../support/rpc-peer.ts';

export interface TransportKit {
  transport: () => Transport;
  /** Listen address with port 0. */
  address: string;
  /** An address where nothing listens. */
  dead: () => Promise<string>;
  /** Writes raw bytes to `address` and waits until the server closes the connection. */
  garbage?: (address: string, bytes: Uint8Array) => Promise<void>;
}

const code = (c: string) => (err: unknown) => err instanceof MeshError && err.code === c;
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await tick(2);
  }
}

/** A greeter plus endpoints that exercise every path. `seen` records what handlers observed. */
function serve(p: Peer) {
  const seen = { aborts: [] as string[], metadata: [] as Record<string, string>[], deadlines: [] as (number | undefined)[], produced: 0 };
  p.server.handle('Greeter', {
    Hello: (req: { name: string }) => ({ msg: `Hello ${req.name}` }),
    Fail: () => { throw badRequest('no name', 'greeter'); },
    Crash: () => { throw new Error('kaboom'); },
    Slow: async (req: { ms: number }, ctx: HandlerContext) => {
      seen.deadlines.push(ctx.deadline);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, req.ms);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          seen.aborts.push((ctx.signal.reason as MeshError).code);
          resolve();
        });
      });
      return { done: true };
    },
    Meta: (_: unknown, ctx: HandlerContext) => {
      seen.metadata.push({ ...ctx.metadata });
      return { metadata: ctx.metadata, deadline: ctx.deadline };
    },
    Big: (req: { bytes: number }) => ({ blob: new Uint8Array(req.bytes) }),
    async *Count(req: { n: number }, ctx: HandlerContext) {
      for (let i = 0; i < req.n && !ctx.signal.aborted; i++) {
        seen.produced++;
        yield { i };
      }
    },
    Sum: async (nums: AsyncIterable<{ n: number }>) => {
      let sum = 0;
      for await (const x of nums) sum += x.n;
      return { sum };
    },
    async *Echo(msgs: AsyncIterable<{ text: string }>) {
      for await (const m of msgs) yield { text: m.text.toUpperCase() };
    },
  });
  return seen;
}

export function rpcBehaviour(name: string, kit: TransportKit): void {
  async function pair(cfg: Parameters<typeof makePeer>[1] = {}) {
    const transport = kit.transport();
    const server = makePeer(transport, { name: 'greeter', address: kit.address, ...cfg });
    const seen = serve(server);
    await server.server.start();
    const client = makePeer(transport, { name: 'caller', address: kit.address, config: cfg.config });
    const address = server.server.address!;
    return { server, client, seen, address, stop: async () => { await client.stop(); await server.stop(); } };
  }

  test(`${name}: unary call, typed errors, unknown endpoint/service, JSON content type`, async () => {
    const { client, server, address, stop } = await pair();
    const c = client.client;
    assert.deepEqual(await c.call('greeter', 'Greeter.Hello', { name: 'Ada' }, { address }), { msg: 'Hello Ada' });
    await assert.rejects(c.call('greeter', 'Greeter.Fail', {}, { address }), (e: unknown) =>
      e instanceof MeshError && e.code === 'BAD_REQUEST' && e.status === 400 && e.id === 'greeter' && e.detail === 'no name');
    await assert.rejects(c.call('greeter', 'Greeter.Crash', {}, { address }), (e: unknown) =>
      e instanceof MeshError && e.code === 'INTERNAL' && e.detail === 'kaboom');
    await assert.rejects(c.call('greeter', 'Greeter.Nope', {}, { address }), code('NOT_FOUND'));
    await assert.rejects(c.call('other', 'Greeter.Hello', {}, { address }), code('NOT_FOUND'));
    assert.deepEqual(await c.call('greeter', 'Greeter.Hello', { name: 'J' }, { address, contentType: 'application/json' }), { msg: 'Hello J' });
    await assert.rejects(c.call('greeter', 'Greeter.Hello', {}, { address, contentType: 'text/plain' }), code('UNSUPPORTED_CODEC'));
    await assert.rejects(c.call('greeter', 'Greeter.Count', { n: 1 }, { address }), code('BAD_REQUEST'));
    // Internal endpoints answer under $mesh whatever the service name, and only there.
    server.server.handleInternal('Node', { Id: () => 'node-1' });
    assert.equal(await c.call('$mesh', 'Node.Id', {}, { address }), 'node-1');
    await assert.rejects(c.call('greeter', 'Node.Id', {}, { address }), code('NOT_FOUND'));
    await assert.rejects(c.call('$mesh', 'Greeter.Hello', {}, { address }), code('NOT_FOUND'));
    await stop();
  });

  test(`${name}: server, client and bidirectional streams`, async () => {
    const { client, address, stop } = await pair();
    const c = client.client;
    const out: number[] = [];
    for await (const m of await c.stream<unknown, { i: number }>('greeter', 'Greeter.Count', { n: 5 }, { address })) out.push(m.i);
    assert.deepEqual(out, [0, 1, 2, 3, 4]);
    const sum = await c.stream<{ n: number }, { sum: number }>('greeter', 'Greeter.Sum', undefined, { address });
    for (let n = 1; n <= 100; n++) await sum.send({ n });
    assert.deepEqual(await sum.response(), { sum: 5050 });
    const echo = await c.stream<{ text: string }, { text: string }>('greeter', 'Greeter.Echo', undefined, { address });
    const it = echo[Symbol.asyncIterator]();
    await echo.send({ text: 'ping' });
    assert.deepEqual((await it.next()).value, { text: 'PING' });
    await echo.send({ text: 'pong' });
    assert.deepEqual((await it.next()).value, { text: 'PONG' });
    echo.end();
    assert.equal((await it.next()).done, true);
    await assert.rejects(echo.send({ text: 'late' }), code('INVALID_ARGUMENT'));
    await stop();
  });

  test(`${name}: aborting a call fires the handler's signal; a deadline times out both sides`, async () => {
    const { client, address, seen, server, stop } = await pair();
    const c = client.client;
    const ac = new AbortController();
    const call = c.call('greeter', 'Greeter.Slow', { ms: 10_000 }, { address, signal: ac.signal });
    await until(() => server.stats.get('requestsServed') >= 1, 'request to arrive');
    ac.abort(new Error('user gave up'));
    await assert.rejects(call, code('CANCELLED'));
    await until(() => seen.aborts.length === 1, 'handler abort');
    assert.deepEqual(seen.aborts, ['CANCELLED']);
    await assert.rejects(c.call('greeter', 'Greeter.Slow', { ms: 10_000 }, { address, timeoutMs: 50, retries: 0 }), code('TIMEOUT'));
    await until(() => seen.aborts.length === 2, 'deadline abort');
    assert.equal(seen.aborts[1], 'TIMEOUT');
    assert.equal(typeof seen.deadlines[1], 'number', 'the handler knew its deadline');
    // A stream abandoned mid-way stops its producer.
    const s = await c.stream<unknown, { i: number }>('greeter', 'Greeter.Count', { n: 1_000_000 }, { address });
    for await (const m of s) if (m.i === 3) break;
    await tick(50);
    const produced = seen.produced;
    await tick(50);
    assert.equal(seen.produced, produced, 'the handler stopped producing');
    assert.ok(produced < 1_000_000);
    await stop();
  });

  test(`${name}: oversized request and response fail clearly and the connection keeps serving`, async () => {
    const { client, address, server, stop } = await pair({ config: { maxFrameBytes: 64 * 1024 } });
    const c = client.client;
    assert.deepEqual(await c.call('greeter', 'Greeter.Hello', { name: 'x' }, { address }), { msg: 'Hello x' });
    await assert.rejects(c.call('greeter', 'Greeter.Hello', { name: 'x'.repeat(100_000) }, { address }), (e: unknown) =>
      e instanceof MeshError && e.code === 'FRAME_TOO_LARGE' && /exceeds the limit of 65536/.test(e.detail));
    await assert.rejects(c.call('greeter', 'Greeter.Big', { bytes: 100_000 }, { address }), (e: unknown) =>
      e instanceof MeshError && e.code === 'FRAME_TOO_LARGE' && /response of \d+ bytes/.test(e.detail));
    assert.deepEqual(await c.call('greeter', 'Greeter.Big', { bytes: 1000 }, { address }).then((r: any) => r.blob.length), 1000);
    assert.equal(server.pool.sessionsOpen().length, 1, 'still one connection');
    await stop();
  });

  test(`${name}: a request over the peer's limit sent before its Hello is skipped and refused; the connection survives`, async () => {
    const transport = kit.transport();
    const srv = makePeer(transport, { name: 'greeter', address: kit.address, config: { maxFrameBytes: 64 * 1024 } });
    serve(srv);
    await srv.server.start();
    const client = makePeer(transport, { name: 'caller', address: kit.address });
    const address = srv.server.address!;
    // Both calls go out with the client's Hello, before the server's Hello tells it the limit.
    const big = client.client.call('greeter', 'Greeter.Hello', { name: 'x'.repeat(100_000) }, { address });
    const small = client.client.call('greeter', 'Greeter.Hello', { name: 'y' }, { address });
    await assert.rejects(big, (e: unknown) => e instanceof MeshError && e.code === 'FRAME_TOO_LARGE' && /limit of 65536/.test(e.detail));
    assert.deepEqual(await small, { msg: 'Hello y' });
    assert.equal(srv.stats.get('framesOversized'), 1);
    assert.equal(srv.stats.get('protocolErrors'), 0);
    await client.stop();
    await srv.stop();
  });

  test(`${name}: a slow stream reader holds the producer back (bounded buffering)`, async () => {
    const window = 64 * 1024;
    const { client, address, seen, stop } = await pair({ config: { initialWindowBytes: window } });
    const s = await client.client.stream<unknown, { i: number }>('greeter', 'Greeter.Count', { n: 1_000_000 }, { address });
    const it = s[Symbol.asyncIterator]();
    await it.next();
    await tick(200);
    // Each message is ~7 bytes of CBOR: the window admits a few thousand, never the million.
    const ahead = seen.produced;
    assert.ok(ahead < 3 * window / 5, `producer ran ${ahead} messages ahead`);
    for (let k = 0; k < 20_000; k++) await it.next();
    assert.ok(seen.produced > ahead, 'reading released the producer');
    s.cancel();
    await stop();
  });

  test(`${name}: metadata and the remaining deadline follow a nested call with no extra code`, async () => {
    const transport = kit.transport();
    const back = makePeer(transport, { name: 'backend', address: kit.address });
    back.server.handle('Backend', { Meta: (_: unknown, ctx: HandlerContext) => ({ metadata: ctx.metadata, deadline: ctx.deadline }) });
    await back.server.start();
    const front = makePeer(transport, { name: 'frontend', address: kit.address });
    const backAddr = back.server.address!;
    front.server.handle('Front', {
      Relay: async (_: unknown, ctx: HandlerContext) => ({
        mine: ctx.deadline,
        inner: await front.client.call<{ metadata: Record<string, string>; deadline: number }>('backend', 'Backend.Meta', {}, { address: backAddr, metadata: { hop: '2' } }),
      }),
    });
    await front.server.start();
    const caller = makePeer(transport, { name: 'caller', address: kit.address });
    const r = await caller.client.call<any>('frontend', 'Front.Relay', {}, { address: front.server.address!, metadata: { trace: 'abc' }, timeoutMs: 3000 });
    assert.deepEqual(r.inner.metadata, { trace: 'abc', hop: '2' });
    assert.equal(typeof r.inner.deadline, 'number');
    assert.equal(typeof r.mine, 'number');
    await caller.stop();
    await front.stop();
    await back.stop();
  });

  test(`${name}: the caller context ends with the handler: code run for a later frame of the same read does not inherit it`, async (t) => {
    const transport = kit.transport();
    const p = makePeer(transport, { address: kit.address });
    let started = false;
    let inListener: unknown = 'not run';
    p.server.handle('Scope', {
      Wait: (_: unknown, ctx: HandlerContext) => new Promise<void>((resolve) => {
        started = true;
        // Runs while the server handles the Cancel frame, after Quick (same read) was dispatched.
        ctx.signal.addEventListener('abort', () => {
          inListener = p.scope.current()?.metadata;
          resolve();
        });
      }),
      Quick: (_: unknown, ctx: HandlerContext) => ({ who: ctx.metadata.who }),
    });
    await p.server.start();
    const caller = makePeer(transport, { name: 'caller', address: kit.address });
    t.after(() => Promise.all([caller.stop(), p.stop()]));
    const addr = p.server.address!;
    const ac = new AbortController();
    const waiting = assert.rejects(caller.client.call('greeter', 'Scope.Wait', {}, { address: addr, signal: ac.signal, metadata: { who: 'wait' } }), code('CANCELLED'));
    await until(() => started, 'Wait to start');
    // One write: a Request for Quick, then a Cancel for Wait.
    const quick = caller.client.call<{ who: string }>('greeter', 'Scope.Quick', {}, { address: addr, metadata: { who: 'quick' } });
    ac.abort();
    assert.deepEqual(await quick, { who: 'quick' });
    await waiting;
    await until(() => inListener !== 'not run', 'the abort listener');
    assert.equal(inListener, undefined);
  });

  test(`${name}: a retry goes to another node when the first refuses`, async () => {
    const transport = kit.transport();
    const live = makePeer(transport, { name: 'greeter', address: kit.address });
    serve(live);
    await live.server.start();
    const registry = new MemoryRegistry();
    const deadAddress = await kit.dead();
    await registry.register({ name: 'greeter', version: '1', metadata: {}, endpoints: [], nodes: [
      { id: 'dead', address: deadAddress, metadata: {} }, { id: 'live', address: live.server.address!, metadata: {} }] });
    const selector = new DefaultSelector({ registry, options: { strategy: 'roundRobin' } });
    const client = makePeer(transport, { name: 'caller', address: kit.address, selector });
    for (let i = 0; i < 4; i++) assert.deepEqual(await client.client.call('greeter', 'Greeter.Hello', { name: 'r' }), { msg: 'Hello r' });
    assert.ok(client.stats.get('retries') >= 1, 'at least one call was retried');
    assert.ok(selector.nodeStats('greeter').get('dead')!.ejectedUntil > 0, 'the refusing node was ejected');
    await assert.rejects(client.client.call('greeter', 'Greeter.Hello', { name: 'r' }, { address: deadAddress }), code('CONNECTION_REFUSED'));
    selector.close();
    await client.stop();
    await live.stop();
  });

  test(`${name}: client middleware wraps calls in order`, async () => {
    const transport = kit.transport();
    const srv = makePeer(transport, { name: 'greeter', address: kit.address });
    serve(srv);
    await srv.server.start();
    const order: string[] = [];
    const client = makePeer(transport, {
      name: 'caller', address: kit.address,
      middleware: [
        (next) => async (call) => { order.push(`a:${call.endpoint}`); return next(call); },
        (next) => async (call) => { order.push('b'); return next({ ...call, options: { ...call.options, metadata: { via: 'b' } } }); },
      ],
    });
    const r = await client.client.call<any>('greeter', 'Greeter.Meta', {}, { address: srv.server.address! });
    assert.deepEqual(order, ['a:Greeter.Meta', 'b']);
    assert.deepEqual(r.metadata, { via: 'b' });
    await client.stop();
    await srv.stop();
  });

  test(`${name}: stop drains in-flight calls and refuses new ones`, async () => {
    const { client, address, server, stop } = await pair();
    const c = client.client;
    const inflight = c.call('greeter', 'Greeter.Slow', { ms: 200 }, { address });
    await until(() => server.stats.get('requestsServed') >= 1, 'request');
    const stopping = server.server.stop({ drainTimeoutMs: 5000 });
    await tick(20);
    await assert.rejects(c.call('greeter', 'Greeter.Hello', { name: 'x' }, { address, retries: 0 }), (e: unknown) =>
      e instanceof MeshError && ['SERVER_STOPPING', 'CONNECTION_REFUSED', 'CONNECTION_LOST'].includes(e.code));
    assert.deepEqual(await inflight, { done: true });
    await stopping;
    // A drain that runs out of time cancels what is left.
    const again = await pair();
    const slow = again.client.client.call('greeter', 'Greeter.Slow', { ms: 10_000 }, { address: again.address, retries: 0 });
    await until(() => again.server.stats.get('requestsServed') >= 1, 'request');
    await again.server.server.stop({ drainTimeoutMs: 50 });
    await assert.rejects(slow, code('SERVER_STOPPING'));
    assert.deepEqual(again.seen.aborts, ['SERVER_STOPPING']);
    await again.stop();
    await stop();
  });

  test(`${name}: two peers calling each other share one connection`, async () => {
    const transport = kit.transport();
    const a = makePeer(transport, { name: 'a', address: kit.address });
    const b = makePeer(transport, { name: 'b', address: kit.address });
    a.server.handle('A', { Ping: () => 'a' });
    b.server.handle('B', { Ping: () => 'b' });
    await a.server.start();
    await b.server.start();
    assert.equal(await a.client.call('b', 'B.Ping', {}, { address: b.server.address! }), 'b');
    await until(() => b.pool.sessionsOpen()[0]?.peer !== undefined, 'hello');
    assert.equal(await b.client.call('a', 'A.Ping', {}, { address: a.server.address! }), 'a');
    assert.equal(a.pool.sessionsOpen().length, 1);
    assert.equal(b.pool.sessionsOpen().length, 1);
    assert.equal(a.stats.get('connectionsOpened') + b.stats.get('connectionsOpened'), 1);
    await a.stop();
    await b.stop();
  });

  if (kit.garbage) {
    test(`${name}: garbage bytes close only their connection, counted; the server keeps serving`, async () => {
      const { client, address, server, stop } = await pair();
      assert.deepEqual(await client.client.call('greeter', 'Greeter.Hello', { name: 'a' }, { address }), { msg: 'Hello a' });
      await kit.garbage!(address, new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      await kit.garbage!(address, Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff));
      assert.ok(server.stats.get('protocolErrors') >= 2);
      assert.deepEqual(await client.client.call('greeter', 'Greeter.Hello', { name: 'b' }, { address }), { msg: 'Hello b' });
      await stop();
    });
  }

  test(`${name}: 10,000 concurrent calls complete and leave nothing behind`, async () => {
    const { client, address, server, stop } = await pair();
    const c = client.client;
    const calls = Array.from({ length: 10_000 }, (_, i) => c.call<{ msg: string }>('greeter', 'Greeter.Hello', { name: String(i) }, { address }));
    const results = await Promise.all(calls);
    assert.equal(results[9_999]!.msg, 'Hello 9999');
    const [cs] = client.pool.sessionsOpen();
    const [ss] = server.pool.sessionsOpen();
    assert.equal(cs!.local.size + cs!.remote.size + ss!.local.size + ss!.remote.size, 0, 'no stream state left');
    assert.equal(cs!.wheel.size() + ss!.wheel.size(), 0, 'no deadlines left');
    await stop();
  });
}
