import { LIBP2P_KEY, SERVICES_KEY, SUBS_KEY } from '../membership/keys.ts';
import type { MemberView } from '../membership/types.ts';
import { decodeLibp2p } from './gossip/peers.ts';
import { decodeSubs } from './subs-record.ts';

/**
 * The mesh's subscriptions as the members' records tell them, for
 * dashboards and tools: pure, never throws, never trusts a record.
 *
 * Records say less than the subscriptions themselves, so each row says how
 * precise it is (`match`):
 * - `pattern`: a subscription pattern as subscribed (the direct broker's
 *   `subs` record, and every broker's queue groups);
 * - `first-token`: the gossip broker's broadcast subscriptions, which its
 *   `libp2p` record lists only by gossip topic, i.e. the patterns' first
 *   token: `orders` stands for `orders`, `orders.*`, `orders.>`...; `*` for
 *   patterns starting with a wildcard;
 * - `all`: a coarse `subs` record (`a: true`, its exact form was over the
 *   record size limit): the node takes every topic for broadcast, and its
 *   queue groups listed without patterns take any topic. Pattern `>`.
 */

export type TopicMatch = 'pattern' | 'first-token' | 'all';

export interface TopicSubscriber {
  /** Member (node) id. */
  node: string;
  /** The queue group; absent for a broadcast subscription. */
  queue?: string;
  /** Names of the services the member's record lists (may be empty). */
  services: string[];
}

export interface TopicView {
  pattern: string;
  match: TopicMatch;
  /** Sorted by node, then queue (broadcast first). */
  subscribers: TopicSubscriber[];
}

/** A record part that could not be read and was left out. */
export interface SkippedRecord {
  node: string;
  key: typeof SUBS_KEY | typeof LIBP2P_KEY | 'member';
  reason: string;
}

export interface TopicListing {
  /** Sorted by pattern, then match. */
  topics: TopicView[];
  /** Malformed records, skipped: the listing holds everything else. */
  skipped: SkippedRecord[];
}

/** Pattern of the rows standing for every topic (coarse records). */
export const ALL_TOPICS_PATTERN = '>';

const GOSSIP_PREFIX = 'mm/';

/** Topics with their subscribers and queue groups, from members' records (e.g. `readMesh().records` or `Membership.members()`). */
export function topicsOf(records: readonly MemberView[]): TopicListing {
  const rows = new Map<string, { view: TopicView; seen: Set<string> }>();
  const skipped: SkippedRecord[] = [];
  const add = (pattern: string, match: TopicMatch, sub: TopicSubscriber): void => {
    const key = `${match}\u0000${pattern}`;
    let row = rows.get(key);
    if (row === undefined) rows.set(key, (row = { view: { pattern, match, subscribers: [] }, seen: new Set() }));
    const who = `${sub.node}\u0000${sub.queue ?? ''}`;
    if (row.seen.has(who)) return;
    row.seen.add(who);
    row.view.subscribers.push(sub);
  };
  for (const m of records) {
    if (m === null || typeof m !== 'object' || typeof m.id !== 'string' || m.data === null || typeof m.data !== 'object') {
      skipped.push({ node: typeof m?.id === 'string' ? m.id : '?', key: 'member', reason: 'not a member record' });
      continue;
    }
    const services = serviceNames(m.data[SERVICES_KEY]);
    const sub = (queue?: string): TopicSubscriber => (queue === undefined ? { node: m.id, services } : { node: m.id, queue, services });
    readSubs(m, sub, add, skipped);
    readGossip(m, sub, add, skipped);
  }
  const topics = [...rows.values()].map((r) => r.view);
  for (const t of topics) t.subscribers.sort((a, b) => cmp(a.node, b.node) || cmp(a.queue ?? '', b.queue ?? ''));
  topics.sort((a, b) => cmp(a.pattern, b.pattern) || cmp(a.match, b.match));
  return { topics, skipped };
}

type Add = (pattern: string, match: TopicMatch, sub: TopicSubscriber) => void;
type Sub = (queue?: string) => TopicSubscriber;

function readSubs(m: MemberView, sub: Sub, add: Add, skipped: SkippedRecord[]): void {
  const raw = m.data[SUBS_KEY];
  if (raw === undefined || raw === null) return;
  try {
    // The brokers' own parser: what it rejects, they ignore too.
    const parsed = decodeSubs(raw);
    const v = raw as { b?: string[]; q?: [string, ...string[]][] };
    if (parsed.all) add(ALL_TOPICS_PATTERN, 'all', sub());
    for (const p of v.b ?? []) add(p, 'pattern', sub());
    for (const [queue, ...patterns] of v.q ?? []) {
      if (patterns.length === 0) add(ALL_TOPICS_PATTERN, 'all', sub(queue));
      for (const p of patterns) add(p, 'pattern', sub(queue));
    }
  } catch (err) {
    skipped.push({ node: m.id, key: SUBS_KEY, reason: err instanceof Error ? err.message : String(err) });
  }
}

function readGossip(m: MemberView, sub: Sub, add: Add, skipped: SkippedRecord[]): void {
  const raw = m.data[LIBP2P_KEY];
  if (raw === undefined || raw === null) return;
  const rec = decodeLibp2p(raw);
  if (rec === undefined) {
    skipped.push({ node: m.id, key: LIBP2P_KEY, reason: 'malformed libp2p record' });
    return;
  }
  for (const t of rec.t ?? []) {
    const first = t.startsWith(GOSSIP_PREFIX) ? t.slice(GOSSIP_PREFIX.length) : '';
    if (first.length === 0 || first.includes('.')) {
      skipped.push({ node: m.id, key: LIBP2P_KEY, reason: `not a gossip topic: ${JSON.stringify(t.slice(0, 64))}` });
      continue;
    }
    add(first, 'first-token', sub());
  }
}

/** Service names of a `services` record, skipping anything malformed. */
function serviceNames(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  const names = new Set<string>();
  for (const e of raw as unknown[]) {
    const n = e !== null && typeof e === 'object' ? (e as { n?: unknown }).n : undefined;
    if (typeof n === 'string' && n.length > 0 && n.length <= 256) names.add(n);
  }
  return [...names].sort();
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
