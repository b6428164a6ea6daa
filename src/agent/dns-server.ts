import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Packet } from 'dns-packet';
import { MeshError, parseHostPort, formatHostPort, RateLimitedLog, type Clock, type Logger, type TimerHandle } from '../index.ts';

export interface DnsServerOptions {
  /** `host:port` for both UDP and TCP (port 0: one free port for both). */
  address: string;
  /** The answer to a query (dnsAnswer over the current catalog); `udp` says which transport asked. */
  answer: (query: Packet, udp: boolean) => Packet;
  logger: Logger;
  clock: Clock;
  /** Open TCP connections at most; more are closed at once. Default 64. */
  maxTcpConnections?: number;
  /** A TCP connection with no query for this long is closed, ms. Default 10000. */
  tcpIdleMs?: number;
}

export interface DnsServerStats {
  udpQueries: number;
  tcpQueries: number;
  /** Packets that were not a DNS query (undecodable, a response, over size): dropped. */
  malformed: number;
  tcpRefused: number;
}

/**
 * Consul's DNS on UDP and TCP (the thin shell around dnsAnswer). UDP
 * answers are cut to the client's buffer with TC set; the client retries
 * over TCP (RFC 1035 framing: a 2-byte length before each message). Bad
 * packets are dropped, counted and logged at most once per 10 s; they never
 * throw out of a socket handler.
 */
export class DnsServer {
  private readonly o: DnsServerOptions;
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly conns = new Set<net.Socket>();
  private readonly warn: RateLimitedLog;
  private bound: string | undefined;
  private readonly counts: DnsServerStats = { udpQueries: 0, tcpQueries: 0, malformed: 0, tcpRefused: 0 };

  constructor(o: DnsServerOptions) {
    this.o = o;
    this.warn = new RateLimitedLog(o.logger, o.clock);
  }

  /** Where it listens, once started. */
  get address(): string | undefined {
    return this.bound;
  }

  stats(): Readonly<DnsServerStats> {
    return { ...this.counts };
  }

  /** Binds TCP, then UDP on the same port. Idempotent. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.tcp !== undefined) return;
    signal?.throwIfAborted();
    const { host, port } = parseHostPort(this.o.address);
    const tcp = net.createServer((s) => this.onConnection(s));
    this.tcp = tcp;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, host, () => resolve());
      });
      const actual = (tcp.address() as net.AddressInfo).port;
      const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
      this.udp = udp;
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(actual, host, () => resolve());
      });
      udp.on('error', (err) => this.warn.warn('dns-udp', 'DNS UDP socket error', { err: String(err) }));
      udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
      this.bound = formatHostPort(host, actual);
    } catch (err) {
      await this.stop();
      throw new MeshError('UNAVAILABLE', `DNS cannot listen on ${this.o.address}: ${(err as Error).message}`);
    }
  }

  /** Closes both sockets and every TCP connection. Idempotent. */
  async stop(): Promise<void> {
    const { tcp, udp } = this;
    this.tcp = undefined;
    this.udp = undefined;
    this.bound = undefined;
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    try {
      udp?.close();
    } catch {
      // never bound
    }
    if (tcp !== undefined) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  private decode(buf: Buffer, from: string): Packet | undefined {
    try {
      const p = dnsPacket.decode(buf);
      if (p.type === 'query') return p;
    } catch {
      // below
    }
    this.counts.malformed++;
    this.warn.warn('dns-malformed', 'dropped a packet that is not a DNS query', { from, bytes: buf.length });
    return undefined;
  }

  private reply(query: Packet, udp: boolean): Buffer | undefined {
    try {
      const res = this.o.answer(query, udp);
      return udp ? dnsPacket.encode(res) : dnsPacket.streamEncode(res);
    } catch (err) {
      this.warn.warn('dns-answer', 'could not answer a DNS query', { err: String(err) });
      return undefined;
    }
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const q = this.decode(msg, `${rinfo.address}:${rinfo.port}`);
    if (q === undefined) return;
    this.counts.udpQueries++;
    const out = this.reply(q, true);
    if (out !== undefined) this.udp?.send(out, rinfo.port, rinfo.address);
  }

  private onConnection(s: net.Socket): void {
    if (this.conns.size >= (this.o.maxTcpConnections ?? 64)) {
      this.counts.tcpRefused++;
      s.destroy();
      return;
    }
    this.conns.add(s);
    let buf = Buffer.alloc(0);
    let idle: TimerHandle | undefined;
    const arm = (): void => {
      this.o.clock.clearTimeout(idle);
      idle = this.o.clock.setTimeout(() => s.destroy(), this.o.tcpIdleMs ?? 10_000);
    };
    arm();
    s.on('error', () => {});
    s.on('close', () => {
      this.o.clock.clearTimeout(idle);
      this.conns.delete(s);
    });
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      // A query is at most 65535 bytes by its 2-byte length; nothing waits for more than one.
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const q = this.decode(buf.subarray(2, 2 + len), `${s.remoteAddress}:${s.remotePort}`);
        buf = buf.subarray(2 + len);
        if (q === undefined) {
          s.destroy();
          return;
        }
        this.counts.tcpQueries++;
        arm();
        const out = this.reply(q, false);
        if (out !== undefined) s.write(out);
      }
    });
  }
}
