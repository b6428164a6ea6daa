import type { Clock } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import { parseHostPort } from '../net/address.ts';
import type { Socket, Transport } from '../transport/types.ts';
import type { RemoteCall } from './calls.ts';
import type { RpcConfig } from './config.ts';
import { Session } from './session.ts';
import { SILENCE_UNSENT_ID } from './silence.ts';
import type { RpcStats } from './stats.ts';

/** A dial in progress and the callers that could go elsewhere, waiting on it. */
/** A dial waits this many times the address's last connect time (at least rpc.silenceSuspectMs) before its calls go elsewhere. */
const DIAL_SLACK = 4;
/** Addresses whose last connect time is remembered. */
const DIAL_MEMORY = 4096;

interface PendingDial {
  p: Promise<Session>;
  /** Past `waitMs` without a connection. */
  slow: boolean;
  /** How long its waiters wait before going elsewhere, ms. */
  waitMs: number;
  /** Absent when the silence watch is off. */
  waiters?: Set<(err: MeshError) => void>;
}

/** Takes the calls peers open on the pool's connections: the server, while it runs. */
export interface Dispatcher {
  /** The address peers may call us at, announced in each connection's Hello. */
  readonly address: string | undefined;
  /** A call a peer opened. */
  dispatch(call: RemoteCall): void;
  /** The requests of one read are dispatched (the server leaves its call scope). */
  afterDispatch(): void;
}

export interface SessionPoolOptions {
  transport: Transport;
  clock: Clock;
  logger: Logger;
  config: RpcConfig;
  stats: RpcStats;
  /**
   * The peer at `address` went silent while calls waited on it (true), or
   * spoke again or its connection closed (false): the selector steers new
   * calls away meanwhile.
   */
  onSilence?: (address: string, silent: boolean) => void;
}

/**
 * One persistent connection per peer, shared by the client (calls out) and
 * the server (calls in). A connection a peer opened to us is reused for our
 * calls to that peer when its Hello names its server address, so two peers
 * that call each other share one connection.
 */
export class SessionPool {
  private readonly sessions = new Map<string, Session>();
  private readonly dialing = new Map<string, PendingDial>();
  private readonly all = new Set<Session>();
  private readonly opts: SessionPoolOptions;
  private dispatcher: Dispatcher | undefined;
  /** Our server's address, announced to the peers of connections opened while it serves. */
  private advertiseAddress: string | undefined;
  private closed = false;
  /** Sessions reported silent, with the addresses reported for them. */
  private readonly silent = new Map<Session, string[]>();
  /** How long the last successful dial to each address took, ms. */
  private readonly dialMs = new Map<string, number>();

  constructor(opts: SessionPoolOptions) {
    this.opts = opts;
  }

  /**
   * The session to `address`: the open one, or a new dial (concurrent callers
   * share it). With `elsewhere` (the caller can pick another node) a dial
   * still pending after `rpc.silenceSuspectMs` fails its waiters with
   * UNAVAILABLE (id SILENCE_UNSENT_ID: nothing was sent) and reports the
   * address silent until the dial settles, so calls stop piling up on a
   * host that swallows SYNs while the dial itself goes on.
   */
  get(address: string, signal?: AbortSignal, elsewhere = false): Session | Promise<Session> {
    const s = this.sessions.get(address);
    if (s !== undefined && s.usable) return s;
    if (this.closed) return Promise.reject(new MeshError('NOT_RUNNING', 'client is closed'));
    const d = this.dialing.get(address) ?? this.startDial(address);
    let p = d.p;
    if (elsewhere && d.waiters !== undefined) {
      if (d.slow) return Promise.reject(this.slowError(address, d));
      const waiters = d.waiters;
      p = new Promise<Session>((resolve, reject) => {
        waiters.add(reject);
        d.p.then((session) => {
          waiters.delete(reject);
          resolve(session);
        }, (e: unknown) => {
          waiters.delete(reject);
          reject(e);
        });
      });
    }
    return signal === undefined ? p : raceAbort(p, signal, address);
  }

  private startDial(address: string): PendingDial {
    const { clock } = this.opts;
    const startedAt = clock.now();
    const { silenceProbeMs, silenceSuspectMs } = this.opts.config;
    // A peer that took long to reach before (a WAN, a TLS handshake across continents) is given as long again, with slack.
    const waitMs = Math.max(silenceSuspectMs, DIAL_SLACK * (this.dialMs.get(address) ?? 0));
    const d: PendingDial = { p: this.dial(address), slow: false, waitMs };
    this.dialing.set(address, d);
    const report = this.opts.onSilence;
    const timer = silenceProbeMs === 0 ? undefined : clock.setTimeout(() => {
      d.slow = true;
      this.opts.stats.inc('silentPeers');
      report?.(address, true);
      const err = this.slowError(address, d);
      for (const reject of d.waiters!) reject(err);
      d.waiters!.clear();
    }, waitMs, { unref: true });
    if (timer !== undefined) d.waiters = new Set();
    const settle = (): void => {
      clock.clearTimeout(timer);
      if (this.dialing.get(address) === d) this.dialing.delete(address);
      if (d.slow) report?.(address, false);
    };
    d.p.then(() => {
      this.rememberDial(address, clock.now() - startedAt);
      settle();
    }, settle);
    return d;
  }

  /** The last connect time per address, oldest forgotten first past DIAL_MEMORY addresses. */
  private rememberDial(address: string, ms: number): void {
    this.dialMs.delete(address);
    this.dialMs.set(address, ms);
    if (this.dialMs.size > DIAL_MEMORY) this.dialMs.delete(this.dialMs.keys().next().value!);
  }

  private slowError(address: string, d: PendingDial): MeshError {
    const why = d.waitMs > this.opts.config.silenceSuspectMs ? `${DIAL_SLACK} × its last connect time` : 'rpc.silenceSuspectMs';
    return new MeshError('UNAVAILABLE', `no connection to ${address} within ${d.waitMs} ms (${why}); the call was not sent`, { id: SILENCE_UNSENT_ID });
  }

  /** Hands calls peers open to `dispatcher` (the server, once it listens). */
  serve(dispatcher: Dispatcher): void {
    this.dispatcher = dispatcher;
    this.advertiseAddress = dispatcher.address;
  }

  /** Calls peers open are refused again; the announced address stays for connections still in use. */
  unserve(dispatcher: Dispatcher): void {
    if (this.dispatcher === dispatcher) this.dispatcher = undefined;
  }

  /** Takes over a socket a peer opened to our server. */
  adopt(socket: Socket): Session {
    this.opts.stats.inc('connectionsAccepted');
    return this.track(new Session(socket, this.sessionOptions('acceptor')));
  }

  /** Allows dialing again after `close()` (a service restarting). */
  open(): void {
    this.closed = false;
  }

  /** Every open session (for draining and stats). */
  sessionsOpen(): Session[] {
    return [...this.all];
  }

  /** Closes every connection; open calls fail with CONNECTION_LOST. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const waits = [...this.all].map((s) => {
      s.close();
      return s.whenClosed();
    });
    await Promise.all(waits);
  }

  private async dial(address: string): Promise<Session> {
    const socket = await this.opts.transport.dial(address, { timeoutMs: this.opts.config.dialTimeoutMs });
    this.opts.stats.inc('connectionsOpened');
    const session = this.track(new Session(socket, this.sessionOptions('dialer')));
    if (this.closed) session.close();
    else this.sessions.set(address, session);
    return session;
  }

  private sessionOptions(role: 'dialer' | 'acceptor') {
    return {
      role,
      config: this.opts.config,
      clock: this.opts.clock,
      logger: this.opts.logger,
      stats: this.opts.stats,
      advertiseAddress: this.advertiseAddress,
      onRequest: (call: RemoteCall) => {
        if (this.dispatcher !== undefined) this.dispatcher.dispatch(call);
        else call.reject(new MeshError('NOT_FOUND', 'this node serves no RPC', { id: 'micromesh.server' }));
      },
      afterRequests: () => this.dispatcher?.afterDispatch(),
      onHello: (s: Session) => this.onHello(s),
      onClose: (s: Session) => this.onClose(s),
      onSilence: (s: Session, on: boolean) => this.onSilence(s, on),
    };
  }

  private track(session: Session): Session {
    this.all.add(session);
    return session;
  }

  private onHello(s: Session): void {
    const claimed = s.peer?.address;
    // Draining (a GoAway either way): new calls dial a fresh connection.
    if (s.sentGoAway || s.peerGoingAway) {
      for (const [addr, cur] of this.sessions) if (cur === s) this.sessions.delete(addr);
      return;
    }
    if (claimed === undefined || this.sessions.get(claimed)?.usable) return;
    // Only trust a claimed address on the host the connection really comes from.
    try {
      if (parseHostPort(claimed).host !== parseHostPort(s.socket.remoteAddress).host) return;
    } catch {
      return;
    }
    this.sessions.set(claimed, s);
  }

  private onSilence(s: Session, on: boolean): void {
    const report = this.opts.onSilence;
    if (report === undefined) return;
    if (!on) {
      const addrs = this.silent.get(s);
      this.silent.delete(s);
      for (const a of addrs ?? []) report(a, false);
      return;
    }
    const addrs = new Set<string>();
    for (const [addr, cur] of this.sessions) if (cur === s) addrs.add(addr);
    if (s.peer?.address !== undefined) addrs.add(s.peer.address);
    this.silent.set(s, [...addrs]);
    for (const a of addrs) report(a, true);
  }

  private onClose(s: Session): void {
    // A connection closed for silence hands over to the membership (SWIM suspects or drops the node by then).
    if (this.silent.has(s)) this.onSilence(s, false);
    this.all.delete(s);
    this.opts.stats.inc('connectionsClosed');
    this.opts.stats.inc('bytesWritten', s.writer.bytesWritten);
    for (const [addr, cur] of this.sessions) if (cur === s) this.sessions.delete(addr);
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal, address: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new MeshError('CANCELLED', `dial ${address}: aborted`, { cause: signal.reason }));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new MeshError('CANCELLED', `dial ${address}: aborted`, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => {
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    }, (e: unknown) => {
      signal.removeEventListener('abort', onAbort);
      reject(e);
    });
  });
}
