// A member that already refuted, probed by an accuser who missed the
// refutation (its last check before convicting), answers in the ack's own
// packet: sent apart, the alive could be lost while the ack arrives, and the
// accuser would convict a member that had just answered (the simulator found
// this at 10 % loss).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualCluster } from '../../sim/cluster.ts';
import type { MemoryPacketEndpoint } from '../../../src/transport/memory-packet.ts';

test('a stale accusation that comes with a ping is answered in one packet: the alive ahead of the ack', async () => {
  const c = new VirtualCluster({ seed: 9, latencyMs: 1, jitterMs: 0 });
  const [a, b] = await c.startJoined(3, { startLoops: false });
  const B = b!.name;
  // a suspects b while b cannot hear it...
  c.packets.partition([[B]]);
  const suspected = a!.node.probeNow(B);
  await c.joining(suspected);
  assert.equal(a!.stateOf(B), 'suspect');
  // ...and b moves to a newer incarnation that nobody hears: its gossip is spent into the partition.
  const before = b!.node.member(B)!.incarnation;
  b!.node.setMetadata(new Uint8Array([1]));
  for (let i = 0; i < 20; i++) b!.node.gossipOnce();
  await c.run(100);
  c.packets.heal();
  // Count what b sends a while a's probe (ping + buddy suspicion, now stale) is answered.
  const sent: number[] = [];
  const net = c.packets;
  const transmit = net.transmit.bind(net);
  net.transmit = (from: MemoryPacketEndpoint, to: string, packet: Uint8Array, refused?: () => void): void => {
    if (from.host === B && to === a!.address) sent.push(packet.length);
    transmit(from, to, packet, refused);
  };
  const outcome = await c.joining(a!.node.probeNow(B));
  assert.equal(outcome, 'alive');
  assert.equal(sent.length, 1, `b answered in ${sent.length} packets`);
  assert.equal(b!.node.stats().staleAccusationsAnswered, 1);
  assert.equal(a!.stateOf(B), 'alive');
  assert.ok(a!.node.member(B)!.incarnation > before);
  await c.stopAll();
});
