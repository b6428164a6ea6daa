/**
 * An in-memory multicast LAN for unit tests of the mDNS shell: fake dgram
 * sockets under the real multicast-dns (so packets are really encoded and
 * decoded by dns-packet), delivered on `setImmediate`. Tests drive timers
 * with a VirtualClock and call `settle()` to let deliveries happen.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:dgram';
import makeMdns from 'multicast-dns';
import type { MdnsSocketFactory } from '../../../src/mdns/index.ts';

export interface FakeSocketOptions {
  /** Source address of this socket's packets. Default 192.0.2.<n>. */
  address?: string;
  /** Fail `bind` with this errno code. */
  bindError?: string;
  /** Fail `addMembership` with this errno code. */
  membershipError?: string;
  /** Fail every send with this errno code. */
  sendError?: string;
}

class FakeSocket extends EventEmitter {
  readonly lan: MemoryLan;
  readonly address: string;
  readonly opts: FakeSocketOptions;
  loopback = true;
  closed = false;
  port = 0;

  constructor(lan: MemoryLan, address: string, opts: FakeSocketOptions) {
    super();
    this.lan = lan;
    this.address = address;
    this.opts = opts;
  }

  bind(port: number, _address: string, cb: () => void): void {
    setImmediate(() => {
      if (this.closed) return; // closed while binding, as a real dgram socket would be
      if (this.opts.bindError !== undefined) {
        this.emit('error', Object.assign(new Error(`bind ${this.opts.bindError}`), { code: this.opts.bindError, syscall: 'bind' }));
        return;
      }
      this.port = port;
      this.emit('listening');
      cb();
    });
  }

  addMembership(): void {
    if (this.opts.membershipError !== undefined) {
      throw Object.assign(new Error(`addMembership ${this.opts.membershipError}`), { code: this.opts.membershipError, syscall: 'addMembership' });
    }
  }

  dropMembership(): void {}
  setMulticastTTL(): void {}
  setMulticastInterface(): void {}
  setMulticastLoopback(on: boolean): void {
    this.loopback = on;
  }

  send(buf: Buffer, offset: number, length: number, _port: number, _address: string, cb: (err: Error | null) => void): void {
    if (this.opts.sendError !== undefined) {
      const err = Object.assign(new Error(`send ${this.opts.sendError}`), { code: this.opts.sendError, syscall: 'send' });
      setImmediate(() => cb(err));
      return;
    }
    const bytes = Buffer.from(buf.subarray(offset, offset + length));
    this.lan.sent.push({ from: this.address, bytes });
    this.lan.deliver(this, bytes);
    setImmediate(() => cb(null));
  }

  close(cb?: () => void): void {
    this.closed = true;
    this.lan.sockets.delete(this);
    setImmediate(() => cb?.());
  }
}

export class MemoryLan {
  readonly sockets = new Set<FakeSocket>();
  /** Every packet sent, in order. */
  readonly sent: { from: string; bytes: Buffer }[] = [];
  /** Return true to drop a packet (loss, partitions). */
  drop: (from: string, to: string, bytes: Buffer) => boolean = () => false;
  private n = 0;

  /** A socket factory for `MdnsDiscovery({ createSocket })`. */
  factory(opts: FakeSocketOptions = {}): MdnsSocketFactory {
    return (mdnsOpts) => {
      // A socket bound to an interface sends from that interface's address.
      const sock = new FakeSocket(this, opts.address ?? mdnsOpts.interface ?? `192.0.2.${++this.n}`, opts);
      this.sockets.add(sock);
      return makeMdns({ ...mdnsOpts, socket: sock as unknown as Socket });
    };
  }

  deliver(from: FakeSocket, bytes: Buffer): void {
    for (const to of this.sockets) {
      if (to === from && !from.loopback) continue;
      if (this.drop(from.address, to.address, bytes)) continue;
      setImmediate(() => {
        if (!to.closed) to.emit('message', bytes, { address: from.address, family: 'IPv4', port: 5353, size: bytes.length });
      });
    }
  }

  /** Sends raw bytes to every socket as if from `from` (fuzzing). */
  inject(from: string, bytes: Uint8Array): void {
    for (const to of this.sockets) {
      setImmediate(() => to.emit('message', Buffer.from(bytes), { address: from, family: 'IPv4', port: 5353, size: bytes.length }));
    }
  }
}

/** Lets pending deliveries and send callbacks run. */
export async function settle(rounds = 6): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/**
 * A socket that encodes with the real multicast-dns and hands back bytes,
 * and decodes bytes into packets: byte-level checks without any network.
 */
export interface Codec {
  encode(packet: object): Promise<Buffer>;
  /** Rejects with dns-packet's error when the bytes are not a DNS message. */
  decode(bytes: Uint8Array): Promise<unknown>;
  close(): void;
}

export function codec(): Codec {
  const lan = new MemoryLan();
  const m = lan.factory({ address: '192.0.2.250' })({ port: 5353, bind: '0.0.0.0', loopback: false });
  // `send` (encode any packet) exists at run time but is not in the published types.
  const send = (m as unknown as { send(p: object, cb: (err: Error | null) => void): void }).send;
  return {
    encode: async (packet) => {
      const before = lan.sent.length;
      await new Promise<void>((resolve, reject) => send(packet, (err) => (err ? reject(err) : resolve())));
      return lan.sent[before]!.bytes;
    },
    close: () => m.destroy(),
    decode: (bytes) => new Promise((resolve, reject) => {
      const onPacket = (p: unknown): void => {
        m.off('warning', onWarning);
        resolve(p);
      };
      const onWarning = (err: Error): void => {
        m.off('packet', onPacket);
        reject(err);
      };
      m.once('packet', onPacket);
      m.once('warning', onWarning);
      lan.inject('192.0.2.251', bytes);
    }),
  };
}
