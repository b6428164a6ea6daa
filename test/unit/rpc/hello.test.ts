// A peer's Hello announcing a frame limit we could not honour is a protocol error: the connection closes and is
// counted, instead of the limit steering what we send (a negative or NaN limit made every frame "too large").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'cbor-x';
import { encodeFrame, FrameType } from '../../../src/rpc/frame.ts';
import { MemoryNetwork } from '../../../src/transport/memory.ts';
import { makePeer } from '../../support/rpc-peer.ts';

for (const bad of [-1, 0, 1.5, 100, 2 ** 33, 'big']) {
  test(`a Hello with maxFrameBytes ${JSON.stringify(bad)} closes the connection as a protocol error`, async () => {
    const net = new MemoryNetwork();
    const server = makePeer(net.transport('srv'), { name: 'greeter', address: 'srv:0' });
    await server.server.start();
    const socket = await net.transport('raw').dial(server.server.address!);
    const closed = new Promise<void>((resolve) => socket.attach({ data: () => {}, close: () => resolve() }));
    socket.write(encodeFrame(FrameType.Hello, 0, 0, encode({ v: 1, maxFrameBytes: bad, windowBytes: 1 << 20 })));
    await closed;
    assert.equal(server.stats.get('protocolErrors'), 1);
    await server.stop();
  });
}

test('a Hello with a sane maxFrameBytes (or none) keeps the connection', async () => {
  const net = new MemoryNetwork();
  const server = makePeer(net.transport('srv'), { name: 'greeter', address: 'srv:0' });
  await server.server.start();
  for (const hello of [{ v: 1, maxFrameBytes: 1024 }, { v: 1 }]) {
    const socket = await net.transport('raw').dial(server.server.address!);
    let open = true;
    socket.attach({ data: () => {}, close: () => { open = false; } });
    socket.write(encodeFrame(FrameType.Hello, 0, 0, encode(hello)));
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(open, JSON.stringify(hello));
    socket.destroy();
  }
  assert.equal(server.stats.get('protocolErrors'), 0);
  await server.stop();
});
