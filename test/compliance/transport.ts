// The Transport compliance suite (DEVELOPERS.md rule 9): every stream
// transport, real or in-memory, must pass these.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket, Transport } from '../../src/transport/types.ts';
import { MeshError } from '../../src/errors/index.ts';

export interface TransportHarness {
  transport: Transport;
  /** An address to listen on with port 0, e.g. 127.0.0.1:0. */
  listenAddress: string;
  /** An address where nothing listens (dials must be refused). */
  deadAddress: () => Promise<string>;
  teardown?: () => Promise<void>;
}

interface Collected {
  chunks: Uint8Array[];
  closed: Promise<Error | undefined>;
  bytes(): Buffer;
}

function collect(socket: Socket): Collected {
  const chunks: Uint8Array[] = [];
  let resolve!: (e: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((r) => (resolve = r));
  socket.attach({ data: (c) => chunks.push(c.slice()), close: (e) => resolve(e) });
  return { chunks, closed, bytes: () => Buffer.concat(chunks) };
}

async function until(cond: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > limitMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export function transportCompliance(name: string, setup: () => Promise<TransportHarness>): void {
  const pair = async (h: TransportHarness) => {
    let serverSide!: Socket;
    const listener = await h.transport.listen(h.listenAddress, (s) => (serverSide = s));
    const client = await h.transport.dial(listener.address);
    await until(() => serverSide !== undefined, 'accept');
    return { listener, client, server: serverSide };
  };

  test(`${name}: listening on port 0 reports the bound port`, async () => {
    const h = await setup();
    const l = await h.transport.listen(h.listenAddress, () => {});
    assert.doesNotMatch(l.address, /:0$/);
    await l.close();
    await l.close(); // idempotent
    await h.teardown?.();
  });

  test(`${name}: bytes flow both ways, in order, across many small writes`, async () => {
    const h = await setup();
    const { listener, client, server } = await pair(h);
    const atServer = collect(server);
    const atClient = collect(client);
    const expected: number[] = [];
    for (let i = 0; i < 2000; i++) {
      client.write(new Uint8Array([i & 0xff, (i >> 8) & 0xff]));
      expected.push(i & 0xff, (i >> 8) & 0xff);
    }
    server.write(new TextEncoder().encode('pong'));
    await until(() => atServer.bytes().length === expected.length, 'small writes');
    assert.deepEqual([...atServer.bytes()], expected);
    await until(() => atClient.bytes().toString() === 'pong', 'reply');
    client.destroy();
    server.destroy();
    await listener.close();
    await h.teardown?.();
  });

  test(`${name}: a large write arrives intact and drain follows backpressure`, async () => {
    const h = await setup();
    const { listener, client, server } = await pair(h);
    const atServer = collect(server);
    let drained = 0;
    const big = new Uint8Array(8 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    let full = false;
    client.attach({ data: () => {}, drain: () => drained++, close: () => {} });
    for (let off = 0; off < big.length; off += 1 << 20) {
      if (!client.write(big.subarray(off, off + (1 << 20)))) full = true;
    }
    await until(() => atServer.bytes().length === big.length, 'large write');
    assert.equal(Buffer.compare(atServer.bytes(), Buffer.from(big)), 0);
    if (full) await until(() => drained > 0, 'drain');
    client.destroy();
    server.destroy();
    await listener.close();
    await h.teardown?.();
  });

  test(`${name}: end() delivers what was written, then the peer sees a clean close`, async () => {
    const h = await setup();
    const { listener, client, server } = await pair(h);
    const atServer = collect(server);
    collect(client);
    client.write(new TextEncoder().encode('last words'));
    client.end();
    assert.equal(await atServer.closed, undefined);
    assert.equal(atServer.bytes().toString(), 'last words');
    assert.equal(server.closed, true);
    await listener.close();
    await h.teardown?.();
  });

  test(`${name}: destroy(err) is seen by the peer as CONNECTION_LOST`, async () => {
    const h = await setup();
    const { listener, client, server } = await pair(h);
    const atServer = collect(server);
    collect(client);
    client.destroy(new Error('reset'));
    const err = await atServer.closed;
    assert.ok(err instanceof MeshError);
    assert.equal(err.code, 'CONNECTION_LOST');
    server.write(new Uint8Array([1])); // writing to a closed socket is a no-op
    await listener.close();
    await h.teardown?.();
  });

  test(`${name}: dialing where nothing listens is refused with CONNECTION_REFUSED`, async () => {
    const h = await setup();
    const dead = await h.deadAddress();
    await assert.rejects(h.transport.dial(dead), (err: unknown) => err instanceof MeshError && err.code === 'CONNECTION_REFUSED');
    await h.teardown?.();
  });

  test(`${name}: an aborted dial fails with CANCELLED; a used address cannot be listened on twice`, async () => {
    const h = await setup();
    const l = await h.transport.listen(h.listenAddress, () => {});
    await assert.rejects(h.transport.dial(l.address, { signal: AbortSignal.abort() }),
      (err: unknown) => err instanceof MeshError && err.code === 'CANCELLED');
    await assert.rejects(h.transport.listen(l.address, () => {}), (err: unknown) => err instanceof MeshError && err.code === 'UNAVAILABLE');
    await l.close();
    await h.teardown?.();
  });
}
