import type { Clock } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import type { DialOptions, Listener, ListenOptions, Socket, SocketHandlers, Transport } from './types.ts';

export interface MemoryNetworkOptions {
  /**
   * Drives delivery when given: every chunk arrives `latencyMs` later on this
   * clock (a VirtualClock makes runs deterministic). Without it, chunks are
   * delivered on the microtask queue.
   */
  clock?: Clock;
  /** One-way latency per chunk, ms. Default 0. Requires `clock`. */
  latencyMs?: number;
  /** Bytes a socket may have undelivered before `write` returns false. Default 1 MiB. */
  highWaterMark?: number;
}

/**
 * An in-process network of stream transports, an object rather than module
 * state so tests never share it by accident. Addresses are `host:port`
 * strings; port 0 is replaced by a fresh one. A host marked unreachable
 * behaves like a crashed host (dials time out); an address nobody listens on
 * behaves like a crashed process (dials are refused at once).
 */
export class MemoryNetwork {
  readonly listeners = new Map<string, (socket: Socket) => void>();
  readonly unreachableHosts = new Set<string>();
  private nextPort = 40_000;
  readonly opts: MemoryNetworkOptions;

  constructor(opts: MemoryNetworkOptions = {}) {
    this.opts = opts;
  }

  /**
   * A transport on `host`: sockets it dials get local addresses on that host,
   * as a process's would. Default host `mem-client`.
   */
  transport(host = 'mem-client'): Transport {
    return new MemoryTransport(this, host);
  }

  /** Makes dials to `host` time out (host crash) or work again. */
  setHostReachable(host: string, reachable: boolean): void {
    if (reachable) this.unreachableHosts.delete(host);
    else this.unreachableHosts.add(host);
  }

  allocate(address: string): string {
    const i = address.lastIndexOf(':');
    if (i <= 0) throw new MeshError('INVALID_ARGUMENT', `invalid address "${address}": expected host:port`);
    if (address.slice(i + 1) !== '0') return address;
    return `${address.slice(0, i)}:${this.nextPort++}`;
  }

  schedule(fn: () => void): void {
    const clock = this.opts.clock;
    if (clock) clock.setTimeout(fn, this.opts.latencyMs ?? 0);
    else queueMicrotask(fn);
  }
}

class MemoryTransport implements Transport {
  readonly name = 'memory';
  private readonly net: MemoryNetwork;
  private readonly host: string;

  constructor(net: MemoryNetwork, host: string) {
    this.net = net;
    this.host = host;
  }

  async listen(address: string, onSocket: (socket: Socket) => void, opts: ListenOptions = {}): Promise<Listener> {
    opts.signal?.throwIfAborted();
    const bound = this.net.allocate(address);
    if (this.net.listeners.has(bound)) {
      throw new MeshError('UNAVAILABLE', `${bound}: address already in use`, { retryable: false });
    }
    this.net.listeners.set(bound, onSocket);
    const net = this.net;
    return {
      address: bound,
      async close() {
        if (net.listeners.get(bound) === onSocket) net.listeners.delete(bound);
      },
    };
  }

  async dial(address: string, opts: DialOptions = {}): Promise<Socket> {
    if (opts.signal?.aborted) throw new MeshError('CANCELLED', `dial ${address}: aborted`, { cause: opts.signal.reason });
    const host = address.slice(0, address.lastIndexOf(':'));
    const clock = this.net.opts.clock;
    if (this.net.unreachableHosts.has(host)) {
      const ms = opts.timeoutMs ?? 5000;
      if (clock) {
        await clock.sleep(ms, opts.signal).catch((reason: unknown) => {
          throw new MeshError('CANCELLED', `dial ${address}: aborted`, { cause: reason });
        });
      }
      throw new MeshError('TIMEOUT', `dial ${address}: no answer within ${ms} ms`);
    }
    const accept = this.net.listeners.get(address);
    if (accept === undefined) throw new MeshError('CONNECTION_REFUSED', `${address}: connection refused`);
    const local = this.net.allocate(`${this.host}:0`);
    const a = new MemorySocket(this.net, local, address);
    const b = new MemorySocket(this.net, address, local);
    a.peer = b;
    b.peer = a;
    accept(b);
    return a;
  }
}

class MemorySocket implements Socket {
  peer: MemorySocket | undefined;
  private handlers: SocketHandlers | undefined;
  private inbox: Uint8Array[] = [];
  private undelivered = 0;
  private wantDrain = false;
  private isClosed = false;
  private closeError: Error | undefined;
  private closeReported = false;
  private readonly net: MemoryNetwork;
  readonly localAddress: string;
  readonly remoteAddress: string;

  constructor(net: MemoryNetwork, localAddress: string, remoteAddress: string) {
    this.net = net;
    this.localAddress = localAddress;
    this.remoteAddress = remoteAddress;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  attach(h: SocketHandlers): void {
    this.handlers = h;
    const pending = this.inbox;
    this.inbox = [];
    for (const chunk of pending) h.data(chunk);
    if (this.isClosed) this.reportClose();
  }

  write(chunk: Uint8Array): boolean {
    const peer = this.peer;
    if (this.isClosed || peer === undefined) return true;
    const copy = Buffer.from(chunk); // a real copy (Buffer#slice is a view), from the pool when small
    this.undelivered += copy.length;
    this.net.schedule(() => {
      this.undelivered -= copy.length;
      peer.receive(copy);
      if (this.wantDrain && this.undelivered === 0) {
        this.wantDrain = false;
        this.handlers?.drain?.();
      }
    });
    if (this.undelivered > (this.net.opts.highWaterMark ?? 1 << 20)) {
      this.wantDrain = true;
      return false;
    }
    return true;
  }

  end(): void {
    // Close after everything written so far has been delivered.
    this.net.schedule(() => this.shutdown(undefined));
  }

  destroy(err?: Error): void {
    this.shutdown(err ?? undefined, err ? new MeshError('CONNECTION_LOST', `${this.localAddress}: connection reset by peer`) : undefined);
  }

  private receive(chunk: Uint8Array): void {
    if (this.isClosed) return;
    if (this.handlers) this.handlers.data(chunk);
    else this.inbox.push(chunk);
  }

  private shutdown(localErr: Error | undefined, peerErr?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeError = localErr;
    this.reportClose();
    const peer = this.peer;
    if (peer) this.net.schedule(() => peer.remoteClosed(peerErr));
  }

  private remoteClosed(err: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeError = err;
    this.reportClose();
  }

  private reportClose(): void {
    if (this.closeReported || this.handlers === undefined) return;
    this.closeReported = true;
    this.handlers.close(this.closeError);
  }
}
