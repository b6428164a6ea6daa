import net from 'node:net';
import type { Clock } from '../clock/types.ts';
import { SystemClock } from '../clock/system.ts';
import { MeshError } from '../errors/index.ts';
import { formatHostPort, parseHostPort } from '../net/address.ts';
import { loadTls, tlsDial, tlsServer, validateTls, type TlsContext, type TlsOptions } from './tls.ts';
import type { DialOptions, Listener, ListenOptions, Socket, SocketHandlers, Transport } from './types.ts';

export interface TcpTransportOptions {
  clock?: Clock;
  /** Default dial timeout, ms. Default 5000. */
  dialTimeoutMs?: number;
  /** TCP keep-alive probe delay, ms; 0 disables. Default 15000, so a vanished host is noticed even on an idle connection. */
  keepAliveMs?: number;
  /**
   * Mutual TLS (PEM): every connection made or accepted is TLS 1.3 and both
   * ends' certificates must chain to `ca` (names are not checked, see
   * tls.ts). A failed handshake is `TLS_REJECTED`. Default off (plain TCP).
   */
  tls?: TlsOptions;
}

/** Reliable byte streams over node:net, with Nagle off (RPC frames are latency-sensitive). */
export class TcpTransport implements Transport {
  readonly name = 'tcp';
  private readonly clock: Clock;
  private readonly dialTimeoutMs: number;
  private readonly keepAliveMs: number;
  private readonly tlsOptions: TlsOptions | undefined;
  private tlsContext: Promise<TlsContext> | undefined;

  constructor(opts: TcpTransportOptions = {}) {
    this.clock = opts.clock ?? new SystemClock();
    this.dialTimeoutMs = opts.dialTimeoutMs ?? 5000;
    this.keepAliveMs = opts.keepAliveMs ?? 15_000;
    this.tlsOptions = opts.tls === undefined ? undefined : validateTls(opts.tls);
  }

  /** Whether connections are mutual TLS. */
  get secure(): boolean {
    return this.tlsOptions !== undefined;
  }

  private tls(): Promise<TlsContext> | undefined {
    if (this.tlsOptions === undefined) return undefined;
    // A failed load (bad PEM) is not cached: the error is the same each time, and nothing is held.
    this.tlsContext ??= loadTls(this.tlsOptions).catch((err: unknown) => {
      this.tlsContext = undefined;
      throw err;
    });
    return this.tlsContext;
  }

  async listen(address: string, onSocket: (socket: Socket) => void, opts: ListenOptions = {}): Promise<Listener> {
    const { host, port } = parseHostPort(address);
    opts.signal?.throwIfAborted();
    const accept = (raw: net.Socket): void => {
      this.tune(raw);
      onSocket(new TcpSocket(raw));
    };
    const tls = await this.tls();
    const server = tls ? tlsServer(tls, this.dialTimeoutMs, accept) : net.createServer({ noDelay: true }, accept);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(mapError(err, address));
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    // Accept errors (EMFILE...) must not crash the process; the listener keeps going.
    server.on('error', () => {});
    const bound = server.address() as net.AddressInfo;
    return new TcpListener(server, formatHostPort(host, bound.port));
  }

  async dial(address: string, opts: DialOptions = {}): Promise<Socket> {
    const tls = await this.tls();
    return this.connect(address, opts, tls);
  }

  private connect(address: string, opts: DialOptions, tls: TlsContext | undefined): Promise<Socket> {
    const { host, port } = parseHostPort(address);
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(cancelled(address, signal));
    return new Promise((resolve, reject) => {
      const secure = tls ? tlsDial(tls, host, port, address, (err) => mapError(err, address)) : undefined;
      const raw = secure?.socket ?? net.connect({ host, port, noDelay: true });
      const done = (err?: MeshError): void => {
        this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        raw.off('error', onError);
        raw.off('connect', onConnect);
        settled = true;
        if (err) {
          raw.destroy();
          reject(err);
        } else {
          this.tune(raw);
          resolve(new TcpSocket(raw));
        }
      };
      let settled = false;
      const onConnect = (): void => done();
      const onError = (err: NodeJS.ErrnoException): void => done(mapError(err, address));
      const onAbort = (): void => done(cancelled(address, signal!));
      const timer = this.clock.setTimeout(() => done(new MeshError('TIMEOUT', `dial ${address}: no answer within ${opts.timeoutMs ?? this.dialTimeoutMs} ms`)),
        opts.timeoutMs ?? this.dialTimeoutMs);
      if (secure) {
        // The handshake decides, TCP's connect is only its first step.
        secure.ready.then(() => { if (!settled) done(); }, (err: MeshError) => { if (!settled) done(err); });
      } else {
        raw.once('connect', onConnect);
        raw.once('error', onError);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private tune(raw: net.Socket): void {
    raw.setNoDelay(true);
    if (this.keepAliveMs > 0) raw.setKeepAlive(true, this.keepAliveMs);
  }
}

class TcpListener implements Listener {
  private closing: Promise<void> | undefined;
  private readonly server: net.Server;
  readonly address: string;

  constructor(server: net.Server, address: string) {
    this.server = server;
    this.address = address;
  }

  close(): Promise<void> {
    // net.Server.close() calls back only after every accepted connection has
    // ended; the listening socket itself closes at once, which is all we promise.
    if (this.closing === undefined) {
      this.server.close();
      this.closing = Promise.resolve();
    }
    return this.closing;
  }
}

class TcpSocket implements Socket {
  readonly localAddress: string;
  readonly remoteAddress: string;
  private readonly raw: net.Socket;
  private lastError: Error | undefined;
  private isClosed = false;

  constructor(raw: net.Socket) {
    this.raw = raw;
    this.localAddress = formatHostPort(raw.localAddress ?? '?', raw.localPort ?? 0);
    this.remoteAddress = formatHostPort(raw.remoteAddress ?? '?', raw.remotePort ?? 0);
    // Record errors until attach; 'close' always follows 'error'.
    raw.on('error', (err: NodeJS.ErrnoException) => {
      this.lastError = mapError(err, this.remoteAddress);
    });
    raw.once('close', () => {
      this.isClosed = true;
    });
  }

  get closed(): boolean {
    return this.isClosed || this.raw.destroyed;
  }

  attach(h: SocketHandlers): void {
    this.raw.on('data', h.data);
    if (h.drain) this.raw.on('drain', h.drain);
    const onClose = (): void => h.close(this.lastError);
    if (this.closed) queueMicrotask(onClose);
    else this.raw.once('close', onClose);
  }

  write(chunk: Uint8Array): boolean {
    if (this.raw.destroyed || !this.raw.writable) return true;
    return this.raw.write(chunk);
  }

  end(): void {
    this.raw.end();
  }

  destroy(err?: Error): void {
    if (err) this.raw.resetAndDestroy();
    else this.raw.destroy();
  }
}

function cancelled(address: string, signal: AbortSignal): MeshError {
  return new MeshError('CANCELLED', `dial ${address}: aborted`, { cause: signal.reason });
}

/** Maps errno codes to stable MeshError codes (never matching message text). */
export function mapError(err: NodeJS.ErrnoException, address: string): MeshError {
  switch (err.code) {
    case 'ECONNREFUSED':
      return new MeshError('CONNECTION_REFUSED', `${address}: connection refused`, { cause: err });
    case 'ECONNRESET':
    case 'EPIPE':
      return new MeshError('CONNECTION_LOST', `${address}: connection reset`, { cause: err });
    case 'ETIMEDOUT':
      return new MeshError('TIMEOUT', `${address}: timed out`, { cause: err });
    case 'EADDRINUSE':
      return new MeshError('UNAVAILABLE', `${address}: address already in use`, { cause: err, retryable: false });
    case 'EADDRNOTAVAIL':
      return new MeshError('UNAVAILABLE', `${address}: address not available on this host`, { cause: err, retryable: false });
    default:
      return new MeshError('UNAVAILABLE', `${address}: ${err.code ?? err.message}`, { cause: err });
  }
}
