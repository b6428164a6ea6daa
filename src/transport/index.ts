export type {
  Socket, SocketHandlers, Transport, Listener, DialOptions, ListenOptions,
  PacketTransport, PacketNetwork, PacketBindOptions, PacketWatch,
} from './types.ts';
export { TcpTransport, type TcpTransportOptions } from './tcp.ts';
export type { TlsOptions } from './tls.ts';
export { MemoryNetwork, type MemoryNetworkOptions } from './memory.ts';
export { UdpNetwork, UdpEndpoint, type UdpNetworkOptions, type UdpCounter } from './udp.ts';
export {
  MemoryPacketNetwork, MemoryPacketEndpoint, gateStreams, type MemoryPacketNetworkOptions, type MemoryPacketStats, type LinkProfile,
} from './memory-packet.ts';
