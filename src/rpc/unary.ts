import type { Codec } from '../codec/types.ts';
import { MeshError, toMeshError } from '../errors/index.ts';
import { INTERNAL_SERVICE } from './internal.ts';
import { SILENCE_ERROR_ID, SILENCE_UNSENT_ID } from './silence.ts';
import type { Node } from '../registry/types.ts';
import type { Clock, TimerHandle } from '../clock/types.ts';
import type { Next, Selector } from '../selector/types.ts';
import type { UnarySink } from './calls.ts';
import type { RpcConfig } from './config.ts';
import type { SessionPool } from './pool.ts';
import type { Session } from './session.ts';
import type { CallSlot, ClientCallMeter } from '../metrics/calls.ts';
import type { RpcStats } from './stats.ts';
import type { CallOptions } from './types.ts';

/** What a call's attempts use of their client. */
export interface InvocationDeps {
  pool: SessionPool;
  selector: Selector;
  clock: Clock;
  config: RpcConfig;
  stats: RpcStats;
  /** Per-endpoint outcomes and latency for the metrics; absent when they are off. */
  meter?: ClientCallMeter;
}

/** Attempts cancelled for silence a call may retry on top of its `retries`. */
const SILENCE_RETRIES = 2;

/** Default retry delays: the first retry goes at once (to another node), later ones back off. */
export function defaultBackoff(attempt: number): number {
  return attempt <= 1 ? 0 : Math.min(100 * 2 ** (attempt - 2), 2000);
}

/**
 * Milliseconds an attempt may take: its own timeout, never beyond an
 * inherited deadline. 0 means unbounded; negative means the deadline passed.
 */
export function attemptBudget(timeoutMs: number, deadline: number | undefined, now: number): number {
  if (deadline === undefined) return timeoutMs;
  const left = Math.floor(deadline - now);
  if (left <= 0) return -1;
  return timeoutMs > 0 ? Math.min(timeoutMs, left) : left;
}

/**
 * A connection still being dialled, bounded by what is left of the call's
 * budget (`ms` > 0): a call's timeout covers reaching the node too, not only
 * the wait for its answer, so a host that swallows SYNs costs the call's
 * timeout (and a retry elsewhere), never the pool's longer dial timeout.
 */
export function sessionWithin(p: Promise<Session>, ms: number, clock: Clock, address: string): Promise<Session> {
  if (ms <= 0) return p;
  return new Promise<Session>((resolve, reject) => {
    const timer: TimerHandle = clock.setTimeout(() => {
      reject(new MeshError('TIMEOUT', `no connection to ${address} within the call's ${ms} ms`, { id: 'micromesh.client' }));
    }, ms);
    p.then((s) => {
      clock.clearTimeout(timer);
      resolve(s);
    }, (e: unknown) => {
      clock.clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * One unary call through its attempts. It owns the caller's promise and is
 * the session's sink, so a call costs one promise and no extra microtask hop
 * when the selector and the connection are ready; only a failure takes the
 * retry path.
 */
export class UnaryInvocation implements UnarySink {
  private readonly c: InvocationDeps;
  private readonly service: string;
  private readonly endpoint: string;
  private readonly o: CallOptions;
  private readonly codec: Codec;
  private readonly body: Uint8Array;
  private readonly meta: Uint8Array | undefined;
  private readonly deadline: number | undefined;
  private readonly timeoutMs: number;
  private next: Next | undefined;
  private node: Node | undefined;
  private start = 0;
  private attempt = 0;
  private silenceRetries = 0;
  /** Addresses whose dial this call gave up waiting on. */
  private unsentAt: Set<string> | undefined;
  /** The meter's slot and the call's start, when metered. */
  private slot: CallSlot | undefined;
  private t0 = 0;
  private resolve!: (value: unknown) => void;
  private reject!: (err: unknown) => void;
  /** Set by a hedge that no longer needs this attempt: its cancellation is not a failed call. */
  superseded = false;

  constructor(c: InvocationDeps, service: string, endpoint: string, o: CallOptions, codec: Codec, body: Uint8Array,
    meta: Uint8Array | undefined, deadline: number | undefined) {
    this.c = c;
    this.service = service;
    this.endpoint = endpoint;
    this.o = o;
    this.codec = codec;
    this.body = body;
    this.meta = meta;
    this.deadline = deadline;
    this.timeoutMs = o.timeoutMs ?? c.config.callTimeoutMs;
  }

  /** Starts the call; the promise settles with the decoded response or the final error. */
  run(): Promise<unknown> {
    const p = new Promise<unknown>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    const meter = this.c.meter;
    if (meter !== undefined && this.service !== INTERNAL_SERVICE) {
      this.slot = meter.start(this.service, this.endpoint);
      this.t0 = this.c.clock.now();
    }
    this.attemptNow();
    return p;
  }

  private attemptNow(): void {
    const o = this.o;
    this.node = undefined;
    try {
      if (o.address === undefined) {
        if (this.next === undefined) {
          const sel = this.c.selector.select(this.service, o.select);
          if (sel instanceof Promise) {
            sel.then((n) => this.withNext(n), (e: unknown) => this.onFailure(e));
            return;
          }
          this.next = sel;
        }
        this.node = this.next();
      }
      const address = o.address ?? this.node!.address;
      // Not made to wait on a hung dial when another node can take the call, unless it came back to the same one.
      const s = this.c.pool.get(address, o.signal, o.address === undefined && this.unsentAt?.has(address) !== true);
      if (s instanceof Promise) {
        // The attempt's clock starts now: dialling spends the same budget as the answer.
        const start = this.c.clock.now();
        this.start = start;
        const budget = attemptBudget(this.timeoutMs, this.deadline, start);
        sessionWithin(s, budget, this.c.clock, address).then((session) => this.send(session, start), (e: unknown) => this.onFailure(e));
      } else this.send(s, this.c.clock.now());
    } catch (e) {
      this.onFailure(e);
    }
  }

  private withNext(n: Next): void {
    this.next = n;
    this.attemptNow();
  }

  /** Sends the attempt that began at `start` (earlier than now when it had to dial). */
  private send(session: Session, start: number): void {
    const now = this.c.clock.now();
    this.start = start;
    let budget = attemptBudget(this.timeoutMs, this.deadline, start);
    if (budget > 0 && now > start) budget = Math.max(1, Math.floor(budget - (now - start)));
    if (budget < 0) {
      this.onFailure(new MeshError('TIMEOUT', 'deadline inherited from the caller has passed', { id: 'micromesh.client' }));
      return;
    }
    session.unary(this.service, this.endpoint, this.codec.contentType, budget, now, this.meta, this.body, this.o.signal, this);
  }

  onResponse(payload: Uint8Array, at: number): void {
    const c = this.c;
    if (this.node !== undefined) c.selector.mark(this.service, this.node, { latencyMs: at - this.start });
    c.stats.inc('callsSucceeded');
    let value: unknown;
    try {
      value = this.codec.decode(payload);
    } catch (err) {
      if (this.slot !== undefined) c.meter!.end(this.slot, toMeshError(err).code, at - this.t0);
      this.reject(err);
      return;
    }
    if (this.slot !== undefined) c.meter!.end(this.slot, 'OK', at - this.t0);
    this.resolve(value);
  }

  /** The node the current attempt went to (undefined when called by address or before selection). */
  get currentNode(): Node | undefined {
    return this.node;
  }

  onFailure(e: unknown): void {
    const c = this.c;
    const err = toMeshError(e, 'micromesh.client');
    if (this.superseded) {
      if (this.slot !== undefined) c.meter!.end(this.slot, 'CANCELLED', c.clock.now() - this.t0);
      this.reject(err);
      return;
    }
    if (this.node !== undefined) c.selector.mark(this.service, this.node, { error: err, latencyMs: c.clock.now() - this.start });
    const retries = this.o.retries ?? c.config.retries;
    // Attempts ended by silence go to another node without using up a retry (at most SILENCE_RETRIES times), so two
    // replicas silent at once (a partition) cost no failed call: one never sent (its node's dial hung) whatever the
    // retries, one cancelled unanswered on a silent peer when the caller allows retries at all.
    const free = err.id === SILENCE_UNSENT_ID || (err.id === SILENCE_ERROR_ID && retries > 0);
    if (free && this.silenceRetries < SILENCE_RETRIES && !this.o.signal?.aborted) {
      this.silenceRetries++;
      if (err.id === SILENCE_UNSENT_ID && this.node !== undefined) (this.unsentAt ??= new Set()).add(this.node.address);
      c.stats.inc('retries');
      this.attemptNow();
      return;
    }
    if (!err.retryable || this.attempt >= retries || this.o.signal?.aborted) {
      c.stats.inc('callsFailed');
      if (this.slot !== undefined) c.meter!.end(this.slot, err.code, c.clock.now() - this.t0);
      this.reject(err);
      return;
    }
    this.attempt++;
    c.stats.inc('retries');
    const wait = (this.o.backoff ?? defaultBackoff)(this.attempt);
    if (wait <= 0) this.attemptNow();
    else c.clock.sleep(wait, this.o.signal).then(() => this.attemptNow(), () => this.failNow(err));
  }

  /** Gives up during a backoff (the caller aborted). */
  private failNow(err: MeshError): void {
    this.c.stats.inc('callsFailed');
    if (this.slot !== undefined) this.c.meter!.end(this.slot, 'CANCELLED', this.c.clock.now() - this.t0);
    this.reject(err);
  }
}
