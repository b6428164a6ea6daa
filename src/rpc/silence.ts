import type { Clock, TimerHandle } from '../clock/types.ts';

/**
 * The `id` of the UNAVAILABLE error a call gets when the watch gives up on
 * its silent peer: the client retries such a call elsewhere without using
 * up its retries (see UnaryInvocation).
 */
export const SILENCE_ERROR_ID = 'micromesh.silence';
/**
 * The `id` of the UNAVAILABLE error of a call that waited on a dial pending
 * past `silenceSuspectMs`: nothing was sent, so another node may take it
 * even when the caller allows no retries (see SessionPool.get).
 */
export const SILENCE_UNSENT_ID = 'micromesh.silence.unsent';

/** A ping's answer may take this many times the peer's smallest round trip before it is late. */
const RTT_FACTOR = 4;

/** What a SilenceWatch needs of its connection. */
export interface SilenceHost {
  isClosed(): boolean;
  /** Calls and streams this side opened that have not finished. */
  pendingCalls(): number;
  /** Sends a Ping (any answer, or any other byte, proves the peer alive). */
  ping(): void;
  /** The peer went quiet past `silenceSuspectMs` (true; `quietMs` since it last spoke), or spoke again (false). */
  silent(on: boolean, quietMs: number): void;
  /** Quiet past `silenceTimeoutMs` with calls waiting: the connection is dead. */
  dead(quietMs: number): void;
}

export interface SilenceConfig {
  silenceProbeMs: number;
  silenceSuspectMs: number;
  silenceTimeoutMs: number;
}

/**
 * Notices a peer that went silent (a frozen VM, a pulled cable: no RST, no
 * FIN) while calls wait on it, instead of each call waiting out its own
 * deadline. Only while this side has calls outstanding: quiet for
 * `silenceProbeMs` sends a ping (a live peer answers it even while its
 * handlers are slow, so slow is never taken for silent); no answer
 * `silenceSuspectMs − silenceProbeMs` after the ping reports the peer
 * silent (judging against the ping, not the quiet alone, keeps a pause of
 * our own from counting against the peer): the calls waiting on it are
 * cancelled with UNAVAILABLE (retryable: the caller's retry policy sends
 * them to another node) and new calls go elsewhere; no answer
 * `silenceTimeoutMs − silenceProbeMs` after it ends the connection
 * (CONNECTION_LOST). Quiet is
 * counted from the last byte received, or from when the watch began if the
 * connection had been idle. A check that fires late (this process was
 * paused) looks again once after the input waiting in the socket is read,
 * so a caller's own pause is not blamed on the peer. Costs one check per
 * opened call and one timer per connection while calls are outstanding.
 */
export class SilenceWatch {
  private readonly host: SilenceHost;
  private readonly clock: Clock;
  private readonly cfg: SilenceConfig;
  private timer: TimerHandle | undefined;
  /** When the pending check was due, and whether it was already put off once for being late. */
  private dueAt = 0;
  private deferred = false;
  private heardAt = 0;
  private pinged = false;
  private pingedAt = 0;
  private isSilent = false;
  /** The smallest round trip seen to this peer (Hello, answered pings), ms; Infinity until one is. */
  private minRttMs = Infinity;

  constructor(host: SilenceHost, clock: Clock, cfg: SilenceConfig) {
    this.host = host;
    this.clock = clock;
    this.cfg = cfg;
  }

  /** A call was opened: watch, counting quiet from now unless already watching. */
  watch(): void {
    if (this.timer !== undefined || this.cfg.silenceProbeMs === 0) return;
    this.heardAt = this.clock.now();
    this.pinged = false;
    this.schedule(this.cfg.silenceProbeMs);
  }

  /**
   * A round trip to the peer took `ms` (or less). The verdict after a ping
   * waits at least RTT_FACTOR × the smallest one seen, so a far peer (a WAN
   * link) is not called silent for being far; the smallest, not an average,
   * so a pause of our own that stretched one sample does not slow detection.
   */
  observeRtt(ms: number): void {
    if (ms >= 0 && ms < this.minRttMs) this.minRttMs = ms;
  }

  /** Bytes arrived at `at` (Clock time). */
  heard(at: number): void {
    if (this.pinged) this.observeRtt(at - this.pingedAt);
    this.heardAt = at;
    this.pinged = false;
    if (this.isSilent) {
      this.isSilent = false;
      this.host.silent(false, 0);
    }
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    this.timer = undefined;
    if (this.host.isClosed()) return;
    // Fired late: this process was paused (GC, a busy loop, a stopped VM), not necessarily the peer. Its answer may be
    // waiting in the socket: look again after this turn's input is read, once.
    if (!this.deferred && this.clock.now() - this.dueAt > Math.max(20, this.cfg.silenceProbeMs / 2)) {
      this.deferred = true;
      this.schedule(1);
      return;
    }
    this.deferred = false;
    if (this.host.pendingCalls() === 0) {
      // Nothing waits on the peer: its silence costs nobody anything (keepalive covers idle connections).
      if (this.isSilent) {
        this.isSilent = false;
        this.host.silent(false, 0);
      }
      return;
    }
    const { silenceProbeMs } = this.cfg;
    const { suspectWait, deadWait } = this.waits();
    const now = this.clock.now();
    const quiet = now - this.heardAt;
    if (!this.pinged) {
      if (quiet < silenceProbeMs) {
        // At least 1 ms: on fractional times the rest can be a rounding residue (2e-13) that never moves a virtual clock.
        this.schedule(Math.max(1, silenceProbeMs - quiet));
        return;
      }
      // Judged only against a ping it had time to answer: quiet that includes our own pause proves nothing.
      this.pinged = true;
      this.pingedAt = now;
      this.host.ping();
      this.schedule(suspectWait);
      return;
    }
    const waited = now - this.pingedAt;
    if (waited >= deadWait) {
      this.host.dead(quiet);
      return;
    }
    if (waited >= suspectWait && !this.isSilent) {
      this.isSilent = true;
      this.host.silent(true, quiet);
    }
    this.schedule(Math.max(1, (this.isSilent ? deadWait : suspectWait) - waited));
  }

  /** How long after a ping the peer is reported silent, and its connection ended: the settings, stretched for a far peer. */
  private waits(): { suspectWait: number; deadWait: number } {
    const { silenceProbeMs, silenceSuspectMs, silenceTimeoutMs } = this.cfg;
    const suspectWait = Math.max(silenceSuspectMs - silenceProbeMs, this.minRttMs === Infinity ? 0 : RTT_FACTOR * this.minRttMs);
    return { suspectWait, deadWait: Math.max(silenceTimeoutMs - silenceProbeMs, suspectWait + silenceTimeoutMs - silenceSuspectMs) };
  }

  private schedule(ms: number): void {
    this.dueAt = this.clock.now() + ms;
    this.timer = this.clock.setTimeout(() => this.check(), ms, { unref: true });
  }
}
