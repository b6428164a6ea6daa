import { MemoryNetwork } from '../../../src/transport/memory.ts';
import { rpcBehaviour } from './behaviour.ts';

const net = new MemoryNetwork();
rpcBehaviour('memory', { transport: () => net.transport('host-a'), address: 'host-a:0', dead: async () => 'host-z:1' });
