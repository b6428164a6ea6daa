// The PacketTransport compliance suite (DEVELOPERS.md rule 9): every datagram
// network, real (UDP) or in-memory, must pass these.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PacketNetwork, PacketTransport } from '../../src/transport/types.ts';
import { MeshError } from '../../src/errors/index.ts';

export interface PacketHarness {
  network: PacketNetwork;
  /** An address with port 0 on the harness's host, e.g. 127.0.0.1:0. */
  bindAddress: string;
  /** Lets in-flight packets arrive: advances a virtual clock, or sleeps a little. */
  tick(): Promise<void>;
  teardown?: () => Promise<void>;
}

interface Received {
  from: string;
  bytes: number[];
}

function receiver(t: PacketTransport): Received[] {
  const got: Received[] = [];
  t.onPacket((from, packet) => got.push({ from, bytes: [...packet] }));
  return got;
}

async function until(h: PacketHarness, cond: () => boolean, what: string, ticks = 500): Promise<void> {
  for (let i = 0; i < ticks && !cond(); i++) await h.tick();
  if (!cond()) assert.fail(`timed out waiting for ${what}`);
}

export function packetCompliance(name: string, setup: () => Promise<PacketHarness>): void {
  test(`${name}: binding port 0 reports the bound port; close is idempotent and frees the address`, async () => {
    const h = await setup();
    const a = await h.network.bind(h.bindAddress);
    assert.doesNotMatch(a.address, /:0$/);
    assert.ok(a.maxPacketBytes >= 512);
    await assert.rejects(h.network.bind(a.address), (err: unknown) => err instanceof MeshError && err.code === 'UNAVAILABLE');
    await a.close();
    await a.close();
    const again = await h.network.bind(a.address);
    await again.close();
    await h.teardown?.();
  });

  test(`${name}: a packet arrives intact, tagged with the sender's address, and never inside send()`, async () => {
    const h = await setup();
    const a = await h.network.bind(h.bindAddress);
    const b = await h.network.bind(h.bindAddress);
    const got = receiver(b);
    const packet = new Uint8Array([1, 2, 3, 250]);
    a.send(b.address, packet);
    assert.equal(got.length, 0, 'delivery must not be synchronous');
    await until(h, () => got.length === 1, 'delivery');
    assert.deepEqual(got[0], { from: a.address, bytes: [1, 2, 3, 250] });
    await a.close();
    await b.close();
    await h.teardown?.();
  });

  test(`${name}: a burst of packets arrives, each intact`, async () => {
    const h = await setup();
    const a = await h.network.bind(h.bindAddress);
    const b = await h.network.bind(h.bindAddress);
    const got = receiver(b);
    for (let i = 0; i < 200; i++) a.send(b.address, new Uint8Array([i, i ^ 0xff, 7]));
    await until(h, () => got.length >= 180, 'burst');
    for (const r of got) assert.deepEqual(r.bytes.slice(1), [r.bytes[0]! ^ 0xff, 7]);
    await a.close();
    await b.close();
    await h.teardown?.();
  });

  test(`${name}: the largest allowed packet is sent; a larger one is dropped without throwing`, async () => {
    const h = await setup();
    const a = await h.network.bind(h.bindAddress);
    const b = await h.network.bind(h.bindAddress);
    const got = receiver(b);
    a.send(b.address, new Uint8Array(a.maxPacketBytes + 1));
    a.send(b.address, new Uint8Array(a.maxPacketBytes).fill(5));
    await until(h, () => got.length === 1, 'max-size packet');
    for (let i = 0; i < 5; i++) await h.tick();
    assert.equal(got.length, 1);
    assert.equal(got[0]!.bytes.length, a.maxPacketBytes);
    await a.close();
    await b.close();
    await h.teardown?.();
  });

  test(`${name}: sending to nobody, to a malformed address or after close never throws`, async () => {
    const h = await setup();
    const a = await h.network.bind(h.bindAddress);
    const b = await h.network.bind(h.bindAddress);
    const got = receiver(b);
    const gone = b.address;
    await b.close();
    a.send(gone, new Uint8Array([1]));
    a.send('not an address', new Uint8Array([1]));
    await a.close();
    a.send(gone, new Uint8Array([1]));
    for (let i = 0; i < 5; i++) await h.tick();
    assert.equal(got.length, 0);
    await h.teardown?.();
  });

  test(`${name}: a closed endpoint receives nothing more`, async () => {
    const h = await setup();
    const a = await h.network.bind(h.bindAddress);
    const b = await h.network.bind(h.bindAddress);
    const got = receiver(b);
    a.send(b.address, new Uint8Array([1]));
    await b.close();
    for (let i = 0; i < 5; i++) await h.tick();
    assert.equal(got.length, 0);
    await a.close();
    await h.teardown?.();
  });

  test(`${name}: an aborted bind fails with an abort`, async () => {
    const h = await setup();
    await assert.rejects(h.network.bind(h.bindAddress, { signal: AbortSignal.abort() }));
    await h.teardown?.();
  });
}
