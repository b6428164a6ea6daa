import dgram from 'node:dgram';
import { MeshError } from '../errors/index.ts';
import { Counters } from '../metrics/counters.ts';
import { formatHostPort, parseHostPort, type HostPort } from '../net/address.ts';
import { mapError } from './tcp.ts';
import type { PacketBindOptions, PacketNetwork, PacketTransport, PacketWatch } from './types.ts';

export interface UdpNetworkOptions {
  /**
   * Largest packet `send` accepts, bytes. Default 1400: safe under a 1500-byte
   * Ethernet MTU with IP/UDP headers and tunnels, as memberlist assumes.
   */
  maxPacketBytes?: number;
  /**
   * Kernel receive buffer (SO_RCVBUF), bytes. This is the only queue in front
   * of a busy node: packets beyond it are dropped by the kernel. Default: the
   * OS default.
   */
  receiveBufferBytes?: number;
}

/** Counters kept by each UDP endpoint. */
export type UdpCounter =
  | 'sent' | 'bytesSent' | 'received' | 'bytesReceived'
  /** Sends refused locally because the packet exceeded `maxPacketBytes`. */
  | 'droppedOversized'
  /** Packets received that exceed our own `maxPacketBytes` (delivered anyway, up to 64 KiB). */
  | 'receivedOversized'
  /** Send errors (unreachable network, bad address...), swallowed. */
  | 'sendErrors'
  /** Socket-level errors after bind, swallowed. */
  | 'socketErrors'
  /** Watched sends (`sendWatched`) the destination refused (ICMP port unreachable). */
  | 'refused';

const UDP_COUNTERS: readonly UdpCounter[] = [
  'sent', 'bytesSent', 'received', 'bytesReceived', 'droppedOversized', 'receivedOversized', 'sendErrors', 'socketErrors', 'refused',
];

const NO_WATCH: PacketWatch = { close: () => {} };

/** Bounds the parsed-address cache; peers are few, but `to` comes from the network. */
const ADDRESS_CACHE_MAX = 4096;

/**
 * Best-effort datagrams over node:dgram (`udp4` for IPv4 hosts, `udp6` for
 * IPv6 literals). Sending never throws for network reasons: errors are
 * counted, because to SWIM a failed send and a lost packet mean the same.
 */
export class UdpNetwork implements PacketNetwork {
  private readonly opts: UdpNetworkOptions;

  constructor(opts: UdpNetworkOptions = {}) {
    this.opts = opts;
  }

  async bind(address: string, opts: PacketBindOptions = {}): Promise<UdpEndpoint> {
    const { host, port } = parseHostPort(address);
    opts.signal?.throwIfAborted();
    const socket = dgram.createSocket({
      type: host.includes(':') ? 'udp6' : 'udp4',
      ...(this.opts.receiveBufferBytes !== undefined ? { recvBufferSize: this.opts.receiveBufferBytes } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        socket.close();
        reject(mapError(err, address));
      };
      socket.once('error', onError);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    if (opts.signal?.aborted) {
      socket.close();
      throw new MeshError('CANCELLED', `bind ${address}: aborted`, { cause: opts.signal.reason });
    }
    const bound = socket.address();
    return new UdpEndpoint(socket, formatHostPort(host, bound.port), this.opts.maxPacketBytes ?? 1400);
  }
}

/** One bound UDP socket. */
export class UdpEndpoint implements PacketTransport {
  readonly address: string;
  readonly maxPacketBytes: number;
  private readonly socket: dgram.Socket;
  private readonly counters = new Counters<UdpCounter>(UDP_COUNTERS);
  private readonly parsed = new Map<string, HostPort | null>();
  private handler: ((from: string, packet: Uint8Array) => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly watches = new Set<PacketWatch>();
  // One shared callback, not a closure per send.
  private readonly onSent = (err: Error | null): void => {
    if (err) this.counters.inc('sendErrors');
  };

  constructor(socket: dgram.Socket, address: string, maxPacketBytes: number) {
    this.socket = socket;
    this.address = address;
    this.maxPacketBytes = maxPacketBytes;
    socket.on('error', () => this.counters.inc('socketErrors'));
    socket.on('message', this.onMessage);
  }

  private readonly onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    const c = this.counters;
    c.inc('received');
    c.inc('bytesReceived', msg.length);
    if (msg.length > this.maxPacketBytes) c.inc('receivedOversized');
    this.handler?.(formatHostPort(rinfo.address, rinfo.port), msg);
  };

  /**
   * Sends from a socket of its own, connected to `to`: only a connected UDP
   * socket is told of an ICMP port unreachable (as ECONNREFUSED on its next
   * read), which the kernel answers at once when nothing listens there. One
   * socket per watched send, closed by the caller (SWIM: one per probe).
   */
  sendWatched(to: string, packet: Uint8Array, refused: () => void): PacketWatch {
    const target = this.closing === undefined && packet.length <= this.maxPacketBytes ? this.resolve(to) : null;
    if (target === null) {
      this.send(to, packet); // counts why nothing went out
      return NO_WATCH;
    }
    const socket = dgram.createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
    let open = true;
    const watch: PacketWatch = {
      close: () => {
        if (!open) return;
        open = false;
        this.watches.delete(watch);
        try {
          socket.close();
        } catch {
          // already closed
        }
      },
    };
    this.watches.add(watch);
    socket.on('message', this.onMessage);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!open) return;
      if (err.code !== 'ECONNREFUSED') {
        this.counters.inc('socketErrors');
        return;
      }
      this.counters.inc('refused');
      watch.close();
      refused();
    });
    this.counters.inc('sent');
    this.counters.inc('bytesSent', packet.length);
    try {
      // Node hands a failed connect (ENETUNREACH with the link down) to this callback, not to 'error':
      // sending on the unconnected socket would throw.
      socket.connect(target.port, target.host, (err?: unknown) => {
        if (!open) return;
        if (err !== undefined && err !== null) {
          this.counters.inc('sendErrors');
          watch.close();
          return;
        }
        socket.send(packet, this.onSent);
      });
    } catch {
      this.counters.inc('sendErrors');
      watch.close();
    }
    return watch;
  }

  send(to: string, packet: Uint8Array): void {
    if (this.closing !== undefined) return;
    if (packet.length > this.maxPacketBytes) {
      this.counters.inc('droppedOversized');
      return;
    }
    const target = this.resolve(to);
    if (target === null) {
      this.counters.inc('sendErrors');
      return;
    }
    this.counters.inc('sent');
    this.counters.inc('bytesSent', packet.length);
    try {
      this.socket.send(packet, 0, packet.length, target.port, target.host, this.onSent);
    } catch {
      // dgram throws synchronously on some argument errors (e.g. port 0).
      this.counters.inc('sendErrors');
    }
  }

  onPacket(handler: (from: string, packet: Uint8Array) => void): void {
    this.handler = handler;
  }

  stats(): Readonly<Record<UdpCounter, number>> {
    return this.counters.snapshot();
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.handler = undefined;
      for (const w of [...this.watches]) w.close();
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
    return this.closing;
  }

  private resolve(to: string): HostPort | null {
    let hp = this.parsed.get(to);
    if (hp === undefined) {
      try {
        hp = parseHostPort(to);
        if (hp.port === 0) hp = null;
      } catch {
        hp = null;
      }
      if (this.parsed.size >= ADDRESS_CACHE_MAX) this.parsed.clear();
      this.parsed.set(to, hp);
    }
    return hp;
  }
}
