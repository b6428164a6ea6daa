import type { Clock, TimerHandle } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import type { RpcConfig } from './config.ts';
import type { RpcStats } from './stats.ts';

/** What a connection's keepalive timer reads and acts on. */
export interface KeptConnection {
  readonly remoteAddress: string;
  isClosed(): boolean;
  /** Streams opened in either direction so far: a counter that moves with use. */
  activity(): number;
  /** Streams open now. */
  activeStreams(): number;
  ping(): void;
  /** Ends the connection with `err`: the peer did not answer the keepalive. */
  kill(err: MeshError): void;
  /** No stream for `idleTimeoutMs`: begin the idle close (GoAway `idle`). */
  idle(): void;
}

/**
 * A connection's one timer, every min(keepaliveIntervalMs,
 * keepaliveTimeoutMs): an idle connection is pinged, so a vanished peer is
 * noticed even with no call open, and one that has carried no stream for
 * `idleTimeoutMs` is closed, so a node does not keep a connection to every
 * peer it ever called (anti-entropy and broker fan-out reach many). Pings
 * don't count as use. Off with keepaliveIntervalMs 0.
 */
export class Keepalive {
  private readonly c: KeptConnection;
  private readonly o: { clock: Clock; config: RpcConfig; stats: RpcStats };
  private timer: TimerHandle | undefined;
  private pingSentAt = 0;
  private activitySeen = -1;
  private busyAt: number;

  constructor(c: KeptConnection, o: { clock: Clock; config: RpcConfig; stats: RpcStats }) {
    this.c = c;
    this.o = o;
    this.busyAt = o.clock.now();
  }

  /** Anything from the peer proves it alive: an outstanding ping need not be answered in time. */
  heard(): void {
    this.pingSentAt = 0;
  }

  start(): void {
    const { config, clock } = this.o;
    if (config.keepaliveIntervalMs === 0) return;
    this.timer = clock.setTimeout(() => this.tick(), Math.min(config.keepaliveIntervalMs, config.keepaliveTimeoutMs), { unref: true });
  }

  stop(): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const c = this.c;
    if (c.isClosed()) return;
    const { clock, config, stats } = this.o;
    const now = clock.now();
    if (this.pingSentAt !== 0 && now - this.pingSentAt > config.keepaliveTimeoutMs) {
      stats.inc('keepaliveTimeouts');
      c.kill(new MeshError('CONNECTION_LOST', `connection to ${c.remoteAddress}: no answer to keepalive`));
      return;
    }
    const activity = c.activity();
    const used = activity !== this.activitySeen || c.activeStreams() > 0;
    if (used) this.busyAt = now;
    else if (config.idleTimeoutMs > 0 && now - this.busyAt >= config.idleTimeoutMs) {
      stats.inc('idleClosed');
      c.idle();
    }
    if (this.pingSentAt === 0 && activity === this.activitySeen) {
      this.pingSentAt = now;
      c.ping();
    }
    this.activitySeen = activity;
    this.start();
  }
}
