import { MeshError } from '../errors/index.ts';
import { MAX_TOPIC_LENGTH, parsePattern, tokensMatch } from './topic.ts';

/**
 * The `subs` membership record: which topics a node's subscriptions want,
 * so publishers can send straight to the nodes that care. Pure functions;
 * the wire form is documented in docs/PROTOCOL.md.
 *
 *   { b?: string[],                 broadcast patterns
 *     q?: [queue, ...patterns][],   queue groups and their patterns
 *     a?: true }                    coarse: send every message for broadcast,
 *                                   and each queue entry stands for any topic
 *
 * A record is a superset of what the node wants: receivers always match
 * messages against their own live subscriptions, so a coarse record (or one
 * that lags an unsubscribe) costs extra traffic, never a wrong delivery. A
 * queue message sent to a node with no matching member is refused with
 * `NO_MEMBER` and the holder tries another node without counting an attempt.
 */

export interface WireSubs {
  b?: string[];
  q?: [string, ...string[]][];
  a?: true;
}

/** One local subscription's contribution: a pattern, and its queue group if any. */
export interface SubKey {
  pattern: string;
  queue: string | undefined;
}

/**
 * Encodes local subscriptions within `maxBytes` (as measured by `sizeOf`,
 * the CBOR size the membership counts): exact when it fits, else
 * coarse (queue names only, plus "all broadcast" when there is any
 * broadcast subscription). `includeBroadcast` is false for the gossip broker,
 * whose broadcast subscriptions travel as gossipsub topics instead.
 * Returns undefined for no subscriptions. Throws MeshError
 * SUBSCRIPTIONS_TOO_LARGE when even the coarse form does not fit.
 */
export function encodeSubs(keys: Iterable<SubKey>, maxBytes: number, sizeOf: (v: unknown) => number,
  includeBroadcast = true): WireSubs | undefined {
  const b = new Set<string>();
  const q = new Map<string, Set<string>>();
  for (const k of keys) {
    if (k.queue === undefined) {
      if (includeBroadcast) b.add(k.pattern);
      continue;
    }
    let set = q.get(k.queue);
    if (set === undefined) q.set(k.queue, (set = new Set()));
    set.add(k.pattern);
  }
  if (b.size === 0 && q.size === 0) return undefined;
  const exact: WireSubs = {};
  if (b.size > 0) exact.b = [...b].sort();
  if (q.size > 0) exact.q = [...q].sort(([x], [y]) => (x < y ? -1 : 1)).map(([name, ps]) => [name, ...[...ps].sort()]);
  if (sizeOf(exact) <= maxBytes) return exact;
  const coarse: WireSubs = { a: true };
  if (q.size > 0) coarse.q = [...q.keys()].sort().map((name) => [name] as [string]);
  const size = sizeOf(coarse);
  if (size <= maxBytes) return coarse;
  throw new MeshError('SUBSCRIPTIONS_TOO_LARGE',
    `${q.size} queue group names need ${size} bytes in the membership record, more than maxRecordBytes ${maxBytes}`,
    { id: 'micromesh.broker', status: 413, retryable: false });
}

/** A peer's subscriptions, parsed for matching. */
export interface PeerSubs {
  /** Every topic is wanted for broadcast (coarse record). */
  all: boolean;
  broadcast: string[][];
  /** Queue group → its patterns' tokens; `undefined` patterns mean any topic (coarse). */
  queues: Map<string, string[][] | undefined>;
}

const MAX_ENTRIES = 100_000;

/**
 * Parses a peer's record value. Throws MeshError BAD_REQUEST on anything
 * malformed (the caller logs, counts and ignores the record): a peer's bad
 * record must not crash us nor silently half-apply.
 */
export function decodeSubs(value: unknown): PeerSubs {
  const out: PeerSubs = { all: false, broadcast: [], queues: new Map() };
  if (value === undefined || value === null) return out;
  if (typeof value !== 'object' || Array.isArray(value)) throw bad('not a map');
  const v = value as Record<string, unknown>;
  if (v.a !== undefined && v.a !== true) throw bad('a must be true when present');
  out.all = v.a === true;
  if (v.b !== undefined) {
    if (!Array.isArray(v.b) || v.b.length > MAX_ENTRIES) throw bad('b must be a list of patterns');
    for (const p of v.b) out.broadcast.push(pattern(p));
  }
  if (v.q !== undefined) {
    if (!Array.isArray(v.q) || v.q.length > MAX_ENTRIES) throw bad('q must be a list of [queue, ...patterns]');
    for (const entry of v.q) {
      if (!Array.isArray(entry) || entry.length === 0 || entry.length > MAX_ENTRIES) throw bad('q entries must be [queue, ...patterns]');
      const [name, ...ps] = entry as unknown[];
      if (typeof name !== 'string' || name.length === 0 || name.length > MAX_TOPIC_LENGTH) throw bad('queue names must be non-empty strings');
      if (ps.length === 0) {
        if (!out.all) throw bad('a queue entry without patterns needs a: true');
        out.queues.set(name, undefined);
      } else {
        out.queues.set(name, ps.map(pattern));
      }
    }
  }
  return out;
}

function pattern(p: unknown): string[] {
  if (typeof p !== 'string') throw bad('patterns must be strings');
  try {
    return parsePattern(p);
  } catch (err) {
    throw bad((err as Error).message);
  }
}

function bad(detail: string): MeshError {
  return new MeshError('BAD_REQUEST', `malformed subs record: ${detail}`, { id: 'micromesh.broker' });
}

/** Whether `subs` wants `tokens` for broadcast. */
export function wantsBroadcast(subs: PeerSubs, tokens: readonly string[]): boolean {
  if (subs.all) return true;
  for (const p of subs.broadcast) if (tokensMatch(p, tokens)) return true;
  return false;
}

/** The queue groups of `subs` that may take `tokens`. */
export function queuesFor(subs: PeerSubs, tokens: readonly string[]): string[] {
  const out: string[] = [];
  for (const [name, patterns] of subs.queues) {
    if (patterns === undefined || patterns.some((p) => tokensMatch(p, tokens))) out.push(name);
  }
  return out;
}
