export type {
  Socket, SocketHandlers, Transport, Listener, DialOptions, ListenOptions,
  PacketTransport, PacketNetwork, PacketBindOptions,
} from './types.ts';
export { TcpTransport, type TcpTransportOptions } from './tcp.ts';
export { MemoryNetwork, type MemoryNetworkOptions } from './memory.ts';
