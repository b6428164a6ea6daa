import { LATENCY_BOUNDS_S, latencyHistogram } from './families.ts';
import { LatencySketch } from './latency.ts';
import type { MetricFamily, Sample } from './types.ts';

/** Distinct (service, endpoint) pairs kept; past it, calls count under endpoint `other` of service `other`, so callers naming endpoints at will can't grow memory or series. */
export const MAX_CALL_SERIES = 1000;
/** Distinct codes per pair (OK always has its entry); further codes count as OTHER. */
const MAX_CODES = 32;

/** One (service, endpoint)'s outcomes and latency. */
export class CallSlot {
  readonly service: string;
  readonly endpoint: string;
  /** Outcomes by code, `OK` for successes. */
  readonly codes = new Map<string, number>();
  readonly latency = new LatencySketch();

  constructor(service: string, endpoint: string) {
    this.service = service;
    this.endpoint = endpoint;
  }

  count(code: string): void {
    // OK always has its own entry, so successes never fold into OTHER however many error codes came first.
    const key = code === 'OK' || this.codes.has(code) || this.codes.size < MAX_CODES ? code : 'OTHER';
    this.codes.set(key, (this.codes.get(key) ?? 0) + 1);
  }
}

/** Slots by service then endpoint, bounded by MAX_CALL_SERIES. */
export class CallSlots {
  private readonly byService = new Map<string, Map<string, CallSlot>>();
  private size = 0;
  private overflow: CallSlot | undefined;

  get(service: string, endpoint: string): CallSlot {
    let eps = this.byService.get(service);
    const hit = eps?.get(endpoint);
    if (hit !== undefined) return hit;
    if (this.size >= MAX_CALL_SERIES) return (this.overflow ??= new CallSlot('other', 'other'));
    if (eps === undefined) this.byService.set(service, (eps = new Map()));
    const slot = new CallSlot(service, endpoint);
    eps.set(endpoint, slot);
    this.size++;
    return slot;
  }

  *all(): Iterable<CallSlot> {
    for (const eps of this.byService.values()) yield* eps.values();
    if (this.overflow !== undefined) yield this.overflow;
  }
}

/** Calls and latency families of one side (`client` or `server`) from its slots. */
export function callFamilies(side: 'client' | 'server', slots: Iterable<CallSlot>, inFlight: number): MetricFamily[] {
  const calls: Sample[] = [];
  const hist = [];
  for (const s of slots) {
    const labels = { service: s.service, endpoint: s.endpoint };
    for (const [code, value] of s.codes) calls.push({ labels: { ...labels, code }, value });
    if (s.latency.count > 0) hist.push(latencyHistogram(s.latency, labels));
  }
  const who = side === 'client' ? 'made by this node, by callee service,' : 'served by this node, by';
  return [
    { name: `micromesh_rpc_${side}_calls_total`, help: `RPC calls ${who} endpoint and outcome code (OK for success); streams count once, by how they ended`, type: 'counter', samples: calls },
    {
      name: `micromesh_rpc_${side}_duration_seconds`, help: `Latency of unary RPC calls ${who} endpoint (streams are not timed)`,
      type: 'histogram', bounds: LATENCY_BOUNDS_S, samples: hist,
    },
    { name: `micromesh_rpc_${side}_in_flight`, help: `RPC calls ${side === 'client' ? 'this node is waiting on' : 'this node is serving'} now`, type: 'gauge', samples: [{ labels: {}, value: inFlight }] },
  ];
}

/**
 * The client side of the RPC call metrics: the RPC client reports each
 * call's outcome and latency here itself (no middleware, so no extra promise
 * per call). A unary call is timed from the call to its settlement, retries
 * included (what the caller waited); a stream counts once it opened or failed to.
 */
export class ClientCallMeter {
  private readonly slots = new CallSlots();
  private pending = 0;

  /** A call begins; the slot to pass to `end`. */
  start(service: string, endpoint: string): CallSlot {
    this.pending++;
    return this.slots.get(service, endpoint);
  }

  /** `ms` undefined: not timed (a stream). */
  end(slot: CallSlot, code: string, ms: number | undefined): void {
    this.pending--;
    slot.count(code);
    if (ms !== undefined) slot.latency.record(ms);
  }

  families(): MetricFamily[] {
    return callFamilies('client', this.slots.all(), this.pending);
  }
}
