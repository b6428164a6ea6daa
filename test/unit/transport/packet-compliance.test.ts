import { UdpNetwork } from '../../../src/transport/udp.ts';
import { MemoryPacketNetwork } from '../../../src/transport/memory-packet.ts';
import { VirtualClock, SeededRandom } from '../../../src/clock/index.ts';
import { packetCompliance } from '../../compliance/packet.ts';

packetCompliance('udp', async () => ({
  network: new UdpNetwork(),
  bindAddress: '127.0.0.1:0',
  tick: () => new Promise((r) => setTimeout(r, 2)),
}));

packetCompliance('memory-packet', async () => {
  const clock = new VirtualClock();
  const network = new MemoryPacketNetwork({ clock, random: new SeededRandom(1), latencyMs: 1, jitterMs: 0.5 });
  return { network, bindAddress: 'host-a:0', tick: async () => clock.advance(1) };
});
