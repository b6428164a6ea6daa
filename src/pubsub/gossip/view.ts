import type { GossipSub } from '@libp2p/gossipsub';
import type { WireFallback } from './wire.ts';

/**
 * Two reads of gossipsub's state that its public API does not offer, or
 * offers too dearly for a per-flush check. Both fall back to safe answers
 * when the internals are missing (another version).
 */

/**
 * Whether gossipsub can send to a peer now. It learns a peer's topics from
 * the peer's stream but sends over its own outbound stream, opened
 * separately; until then a publish skips that peer without a word.
 * Without the internals every peer counts as sendable, reported through
 * `onFallback`.
 */
export function canSendTo(pubsub: GossipSub, onFallback: (what: WireFallback) => void): (peerId: string) => boolean {
  const outbound = (pubsub as unknown as { streamsOutbound?: unknown }).streamsOutbound;
  if (outbound instanceof Map) return (id) => outbound.has(id);
  onFallback('gossipsub-outbound');
  return () => true;
}

/** Peer ids (strings) gossipsub knows to subscribe to `topic`, without getSubscribers' PeerId round trip (a base58 encoding per peer). */
export function subscriberIds(pubsub: GossipSub, topic: string): ReadonlySet<string> {
  const topics = (pubsub as unknown as { topics?: unknown }).topics;
  if (topics instanceof Map) return (topics.get(topic) as Set<string> | undefined) ?? NONE;
  return new Set(pubsub.getSubscribers(topic).map(String));
}

const NONE: ReadonlySet<string> = new Set();

/** Whether gossipsub knows `peerId` as a subscriber of any topic; true without the internals (keeps a wait rather than restarting it). */
export function knownSubscriber(pubsub: GossipSub, peerId: string): boolean {
  const topics = (pubsub as unknown as { topics?: unknown }).topics;
  if (!(topics instanceof Map)) return true;
  for (const peers of topics.values()) if ((peers as Set<string>).has(peerId)) return true;
  return false;
}
