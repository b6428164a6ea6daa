import type { Codec } from '../codec/types.ts';
import { MeshError } from '../errors/index.ts';
import type { TimerHandle } from '../clock/types.ts';
import type { Filter } from '../selector/types.ts';
import type { CallOptions } from './types.ts';
import { UnaryInvocation, type InvocationDeps } from './unary.ts';

/** Latencies kept per endpoint for its p95, and endpoints tracked per client (oldest forgotten first). */
const WINDOW = 128;
const MAX_ENDPOINTS = 1000;
/** Completed calls an endpoint needs before its p95 is trusted to time a hedge. */
const MIN_SAMPLES = 20;

/**
 * Recent latencies of hedged endpoints, per client: the hedge delay is the
 * endpoint's p95, so about one call in twenty sends a second attempt.
 */
export class LatencyWindows {
  private readonly windows = new Map<string, { xs: number[]; i: number }>();

  record(key: string, ms: number): void {
    let w = this.windows.get(key);
    if (w === undefined) {
      if (this.windows.size >= MAX_ENDPOINTS) this.windows.delete(this.windows.keys().next().value!);
      w = { xs: [], i: 0 };
      this.windows.set(key, w);
    }
    if (w.xs.length < WINDOW) w.xs.push(ms);
    else w.xs[w.i++ % WINDOW] = ms;
  }

  /** The p95 of the endpoint's recent calls, or undefined with too few of them. */
  p95(key: string): number | undefined {
    const xs = this.windows.get(key)?.xs;
    if (xs === undefined || xs.length < MIN_SAMPLES) return undefined;
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))];
  }
}

/**
 * A hedged unary call (`hedge` in CallOptions: the caller says the endpoint
 * is idempotent): one attempt as usual; if it has not answered after the
 * endpoint's p95 latency (or `hedge.afterMs`), a second attempt goes to
 * another node. The first answer wins and the other attempt is cancelled
 * (the server's handler sees its signal fire). A failure of one attempt
 * waits for the other; the call fails only when both have.
 */
export function hedgedCall(deps: InvocationDeps, windows: LatencyWindows, service: string, endpoint: string, o: CallOptions, codec: Codec,
  body: Uint8Array, meta: Uint8Array | undefined, deadline: number | undefined): Promise<unknown> {
  const key = `${service}\u0000${endpoint}`;
  const afterMs = typeof o.hedge === 'object' ? o.hedge.afterMs : windows.p95(key);
  const { clock } = deps;
  const t0 = clock.now();
  return new Promise((resolve, reject) => {
    const attempts: { inv: UnaryInvocation; ctl: AbortController }[] = [];
    let settled = false;
    let failures = 0;
    /** The first attempt's error is the call's (the hedge's own, e.g. no other node, only when it is all there is). */
    let mainError: unknown;
    let hedgeError: unknown;
    /** The hedge's timer, armed after the first attempt is out. */
    const hedge: { timer?: TimerHandle } = {};
    const onCallerAbort = (): void => {
      for (const a of attempts) a.ctl.abort(o.signal!.reason);
    };
    o.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const finish = (): void => {
      settled = true;
      clock.clearTimeout(hedge.timer);
      o.signal?.removeEventListener('abort', onCallerAbort);
    };
    const launch = (extra: Partial<CallOptions>, d: InvocationDeps): void => {
      const ctl = new AbortController();
      if (o.signal?.aborted) ctl.abort(o.signal.reason);
      const inv = new UnaryInvocation(d, service, endpoint, { ...o, ...extra, hedge: undefined, signal: ctl.signal }, codec, body, meta, deadline);
      const mine = { inv, ctl };
      attempts.push(mine);
      inv.run().then((value) => {
        if (settled) return;
        finish();
        windows.record(key, clock.now() - t0);
        for (const a of attempts) {
          if (a === mine) continue;
          a.inv.superseded = true;
          a.ctl.abort(new MeshError('CANCELLED', 'another attempt of the hedged call answered first', { id: 'micromesh.client' }));
        }
        resolve(value);
      }, (err: unknown) => {
        if (settled) return;
        if (mine === attempts[0]) mainError = err;
        else hedgeError = err;
        // One attempt failing waits for the other if it runs; a first attempt failing before the hedge ends the call.
        if (++failures < attempts.length) return;
        finish();
        reject(mainError ?? hedgeError);
      });
    };
    launch({}, deps);
    if (afterMs === undefined) return;
    // finish() clears this timer: it only fires while the first attempt is still out.
    hedge.timer = clock.setTimeout(() => {
      const first = attempts[0]!.inv.currentNode;
      const notFirst: Filter = (services) => services.map((s) => ({ ...s, nodes: s.nodes.filter((n) => n.id !== first?.id) }));
      deps.stats.inc('hedges');
      // The hedge is counted in the hedges stat, not as a second call in the metrics.
      launch({ select: { ...o.select, filters: [...(o.select?.filters ?? []), notFirst] } }, { ...deps, meter: undefined });
    }, Math.max(0, afterMs));
  });
}
