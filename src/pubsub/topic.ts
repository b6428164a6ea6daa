import type { Random } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';

/**
 * Topic names and patterns, with NATS semantics: tokens separated by `.`;
 * in a pattern, `*` matches exactly one token and `>` (last token only)
 * matches one or more trailing tokens. Wildcards are whole tokens (`a*` is
 * rejected rather than read as a literal, to avoid surprises), topics you
 * publish to contain none, and no token may be empty.
 *
 * One deliberate difference from NATS: a wildcard in the first position does
 * not match a first token starting with `$` (MQTT's rule for `$SYS`). So a
 * `>` subscriber never receives `$dead-letter.…` messages unless it asks for
 * them, and a failing catch-all queue group cannot dead-letter its own dead
 * letters.
 */

/** Longest topic or pattern accepted, in characters (an explicit limit, DEVELOPERS.md rule 6). */
export const MAX_TOPIC_LENGTH = 1024;

/** Prefix of dead-letter topics. */
export const DEAD_LETTER_PREFIX = '$dead-letter.';

/**
 * Headers a broker adds to a dead-lettered message (on top of the original
 * headers, which it keeps). Part of the Broker contract: every
 * implementation uses these names.
 */
export const DEAD_LETTER_HEADERS = {
  /** The topic the message was published to. */
  topic: 'x-dead-letter-topic',
  /** The queue group that failed to handle it. */
  queue: 'x-dead-letter-queue',
  /** The id of the original message (the dead letter gets its own id). */
  messageId: 'x-dead-letter-message-id',
  /** How many deliveries were attempted. */
  deliveries: 'x-dead-letter-deliveries',
  /** The last handler error's `code` (`INTERNAL` for untyped errors). */
  errorCode: 'x-dead-letter-error-code',
  /** The last handler error's message. */
  errorMessage: 'x-dead-letter-error-message',
} as const;

function invalid(detail: string): MeshError {
  return new MeshError('INVALID_ARGUMENT', detail, { id: 'micromesh.broker' });
}

function split(s: string, what: string): string[] {
  if (typeof s !== 'string' || s.length === 0) throw invalid(`${what} must be a non-empty string`);
  if (s.length > MAX_TOPIC_LENGTH) throw invalid(`${what} is ${s.length} characters, more than the limit of ${MAX_TOPIC_LENGTH}`);
  if (/\s/.test(s)) throw invalid(`${what} ${JSON.stringify(s)} contains whitespace`);
  const tokens = s.split('.');
  if (tokens.includes('')) throw invalid(`${what} ${JSON.stringify(s)} has an empty token`);
  return tokens;
}

/** Validates a pattern and returns its tokens (for brokers that match many topics against it). */
export function parsePattern(pattern: string): string[] {
  const tokens = split(pattern, 'topic pattern');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '*') continue;
    if (t === '>') {
      if (i !== tokens.length - 1) throw invalid(`topic pattern ${JSON.stringify(pattern)}: '>' may only be the last token`);
      continue;
    }
    if (t.includes('*') || t.includes('>')) throw invalid(`topic pattern ${JSON.stringify(pattern)}: wildcards must be whole tokens, got ${JSON.stringify(t)}`);
  }
  return tokens;
}

/** Validates a topic to publish to (no wildcards) and returns its tokens. */
export function parseTopic(topic: string): string[] {
  const tokens = split(topic, 'topic');
  for (const t of tokens) {
    if (t.includes('*') || t.includes('>')) throw invalid(`topic ${JSON.stringify(topic)} contains a wildcard; only subscriptions may use them`);
  }
  return tokens;
}

/** Matches already-parsed tokens; the hot-path form of {@link topicMatches}. */
export function tokensMatch(pattern: readonly string[], topic: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '>') return topic.length > i && !(i === 0 && topic[0]!.startsWith('$'));
    if (i >= topic.length) return false;
    if (p === '*') {
      if (i === 0 && topic[0]!.startsWith('$')) return false;
      continue;
    }
    if (p !== topic[i]) return false;
  }
  return pattern.length === topic.length;
}

/** Whether `topic` matches `pattern`. Throws MeshError `INVALID_ARGUMENT` on an invalid pattern or topic. */
export function topicMatches(pattern: string, topic: string): boolean {
  return tokensMatch(parsePattern(pattern), parseTopic(topic));
}

/** `$dead-letter.<topic>`, where messages a queue group could not handle end up. */
export function deadLetterTopic(topic: string): string {
  parseTopic(topic);
  return DEAD_LETTER_PREFIX + topic;
}

export function isDeadLetterTopic(topic: string): boolean {
  return topic.startsWith(DEAD_LETTER_PREFIX);
}

/**
 * Returns a generator of message ids unique across processes: a random
 * 64-bit prefix drawn once, then a counter, so each id costs no random draw.
 */
export function messageIds(random: Random): () => string {
  const prefix = Array.from(random.bytes(8), (b) => b.toString(16).padStart(2, '0')).join('');
  let seq = 0;
  return () => `${prefix}-${(seq++).toString(36)}`;
}

/**
 * Parsed topics by name, for hot paths that see the same few topics over and
 * over (publish, delivery). Bounded: emptied when it reaches `max` entries.
 * The returned token arrays are shared: callers must not modify them.
 */
export class TopicCache {
  private readonly map = new Map<string, string[]>();
  private readonly max: number;

  constructor(max = 4096) {
    this.max = max;
  }

  /** Like {@link parseTopic}, cached. */
  parse(topic: string): string[] {
    let tokens = this.map.get(topic);
    if (tokens === undefined) {
      tokens = parseTopic(topic);
      if (this.map.size >= this.max) this.map.clear();
      this.map.set(topic, tokens);
    }
    return tokens;
  }
}

/**
 * A copy of `body` that the caller can no longer change. (`Buffer#slice`
 * returns a view, not a copy, and `client.publish` hands us Buffers.)
 */
export function copyBytes(body: Uint8Array): Uint8Array {
  // Buffer.from copies small bodies into Node's shared pool; slicing a Buffer
  // allocates an ArrayBuffer per copy, which measured ~50x slower (3.5 us).
  return Buffer.from(body);
}
