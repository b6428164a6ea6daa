import { TcpTransport } from '../../../src/transport/tcp.ts';
import { MemoryNetwork } from '../../../src/transport/memory.ts';
import { transportCompliance } from '../../compliance/transport.ts';

transportCompliance('tcp', async () => {
  const transport = new TcpTransport();
  return {
    transport,
    listenAddress: '127.0.0.1:0',
    deadAddress: async () => {
      const l = await transport.listen('127.0.0.1:0', () => {});
      await l.close();
      return l.address;
    },
  };
});

transportCompliance('memory', async () => {
  const net = new MemoryNetwork();
  return { transport: net.transport(), listenAddress: 'node-a:0', deadAddress: async () => 'node-b:9' };
});
