import type { Encoder } from 'cbor-x';
import { MeshError } from '../../errors/index.ts';
import type { Held } from '../outbox.ts';
import { parseTopic } from '../topic.ts';
import type { Inbound } from '../local.ts';
import { readSenderBatch } from '../batch-reader.ts';
import { decodeMessageHead, encodeBroadcastMessage, encodeSenderBatch } from '../delivery-wire.ts';

/**
 * The gossip envelope: what one gossipsub message carries (byte layout in
 * docs/PROTOCOL.md). Messages are unsigned (StrictNoSign), so the
 * envelope brings its own identity: a fixed 13-byte header whose bytes 1-12
 * (sender's random id prefix + envelope sequence number) are the gossipsub
 * message id. Identical payloads therefore never collide in gossipsub's
 * seen cache, and the header is read without decoding the CBOR.
 *
 *   0      version (1)
 *   1-8    sender's message-id prefix (8 random bytes, drawn at start)
 *   9-12   envelope sequence number, uint32 big-endian (wraps)
 *   13-    CBOR { n: sender node id, m: [[seq, topic, headers, body], ...] }
 *
 * One envelope batches the broadcast messages published on one gossip topic
 * during one event-loop turn. Message `k`'s id is `<prefix hex>-<seq base 36>`.
 */

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_HEADER_BYTES = 13;

/** Bytes 1-12: the gossipsub message id (gossipsub's `msgIdFn`). */
export function envelopeMsgId(data: Uint8Array): Uint8Array {
  return data.subarray(1, ENVELOPE_HEADER_BYTES);
}

export function prefixBytes(hex: string): Uint8Array {
  if (!/^[0-9a-f]{16}$/.test(hex)) throw new MeshError('INVALID_ARGUMENT', `id prefix must be 16 hex digits, got ${hex}`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Header and body in one buffer; the body's CBOR is written by hand (delivery-wire.ts): standard CBOR, minimal heads, any decoder reads it. */
export function encodeEnvelope(prefix: Uint8Array, envelopeSeq: number, nodeId: string, msgs: readonly Held[]): Uint8Array {
  const items = msgs.map((p) => encodeBroadcastMessage(p.seq, p.topic, p.headers, p.body));
  const out = encodeSenderBatch(ENVELOPE_HEADER_BYTES, nodeId, items);
  out[0] = ENVELOPE_VERSION;
  out.set(prefix, 1);
  out.writeUInt32BE(envelopeSeq >>> 0, 9);
  return out;
}

function bad(detail: string): MeshError {
  return new MeshError('BAD_REQUEST', `malformed gossip envelope: ${detail}`, { id: 'micromesh.broker' });
}

const MAX_MESSAGES = 65_536;

/** Validates and decodes an envelope; throws MeshError BAD_REQUEST naming the problem. */
export function decodeEnvelope(cbor: Encoder, data: Uint8Array, parse: (topic: string) => string[] = parseTopic): { sender: string; messages: Inbound[] } {
  if (data.length <= ENVELOPE_HEADER_BYTES) throw bad(`${data.length} bytes is too short`);
  if (data[0] !== ENVELOPE_VERSION) throw bad(`unknown version ${data[0]}`);
  const prefix = Buffer.from(data.subarray(1, 9)).toString('hex');
  let v: unknown;
  try {
    const body = data.subarray(ENVELOPE_HEADER_BYTES);
    v = readSenderBatch(body) ?? cbor.decode(body);
  } catch (err) {
    throw bad(`undecodable CBOR (${(err as Error).message})`);
  }
  const e = v as { n?: unknown; m?: unknown } | null;
  if (e === null || typeof e !== 'object' || typeof e.n !== 'string' || !Array.isArray(e.m)) throw bad('n and m are required');
  if (e.m.length > MAX_MESSAGES) throw bad(`${e.m.length} messages, more than ${MAX_MESSAGES}`);
  const messages: Inbound[] = [];
  for (let i = 0; i < e.m.length; i++) {
    const w = e.m[i] as unknown[];
    if (!Array.isArray(w) || w.length !== 4) throw bad(`message ${i} has the wrong shape`);
    const { seq, topic, tokens, headers, body } = decodeMessageHead(w, i, parse, bad);
    messages.push({ id: `${prefix}-${seq.toString(36)}`, topic, tokens, headers, body, attempt: 1 });
  }
  return { sender: e.n, messages };
}

/** Gossipsub topic of a micromesh topic or pattern: its first token, or `mm/*` for patterns starting with a wildcard. */
export const GOSSIP_WILDCARD_TOPIC = 'mm/*';
export function gossipTopicOf(tokens: readonly string[]): string {
  const first = tokens[0]!;
  return first === '*' || first === '>' ? GOSSIP_WILDCARD_TOPIC : `mm/${first}`;
}
