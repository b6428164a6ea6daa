import net from 'node:net';
import { TcpTransport } from '../../../src/transport/tcp.ts';
import { parseHostPort } from '../../../src/net/address.ts';
import { rpcBehaviour } from './behaviour.ts';

rpcBehaviour('tcp', {
  transport: () => new TcpTransport(),
  address: '127.0.0.1:0',
  dead: async () => {
    const l = await new TcpTransport().listen('127.0.0.1:0', () => {});
    await l.close();
    return l.address;
  },
  garbage: (address, bytes) => new Promise((resolve) => {
    const { host, port } = parseHostPort(address);
    const s = net.connect({ host, port }, () => s.write(bytes));
    s.on('error', () => {});
    s.on('close', () => resolve());
  }),
});
