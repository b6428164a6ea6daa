import type { Encoder } from 'cbor-x';
import { MeshError } from '../errors/index.ts';
import { readBroadcastBatch } from './batch-reader.ts';
import { REFUSED, type Outcome } from './local.ts';
import { parseTopic } from './topic.ts';
import type { Headers } from './types.ts';

/**
 * The direct delivery call, `$mesh` `Broker.Deliver` (docs/PROTOCOL.md).
 * Encoded by the RPC codec (CBOR); these helpers build and validate the
 * plain values. One request carries a batch of messages from one holder to
 * one node; positional arrays keep each message small.
 *
 *   request  { n: sender node id, p: id prefix,
 *              m: [ [seq, topic, headers, body]                              broadcast
 *                 | [seq, topic, headers, body, queue, attempt, tried?] ] }   queue group
 *            `m` may also be a byte string holding that array's CBOR: a
 *            broadcast batch is built from per-message encodings made once
 *            and shared by every target node.
 *   response { r?: outcome[] }   one per queue-group message, in order:
 *              0 handled | 1 no member | 2 busy | 3 not running
 *              | [code, message, member] the handler failed
 *
 * A message's id is `<p>-<seq in base 36>`: every message a holder sends
 * carries an id it generated itself, so the prefix goes once per batch.
 */

export type WireMessage =
  | [number, string, Headers, Uint8Array]
  | [number, string, Headers, Uint8Array, string, number]
  | [number, string, Headers, Uint8Array, string, number, string[]];

export interface DeliverRequest {
  n: string;
  p: string;
  m: WireMessage[] | Uint8Array;
}

export interface DeliverResponse {
  r?: WireOutcome[];
}

export type WireOutcome = 0 | 1 | 2 | 3 | [string, string, string];

/** A validated message of a request. */
export interface Delivery {
  id: string;
  topic: string;
  tokens: string[];
  headers: Headers;
  body: Uint8Array;
  queue: string | undefined;
  attempt: number;
  tried: string[] | undefined;
}

/** Largest batch accepted, in messages (a malformed or hostile request is refused before any work). */
export const MAX_WIRE_MESSAGES = 65_536;

function bad(detail: string): MeshError {
  return new MeshError('BAD_REQUEST', `malformed Broker.Deliver request: ${detail}`, { id: 'micromesh.broker' });
}

function isHeaders(v: unknown): v is Headers {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const h = v as Record<string, unknown>;
  for (const k in h) if (typeof h[k] !== 'string') return false; // per message: no Object.values array
  return true;
}

/** Bytes of a CBOR head (major type and argument) for argument `n`. */
function headBytes(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
}

/** Writes a CBOR head (RFC 8949 section 3) at `pos`; returns the position after it. `n` < 2^32 unless `major` is 0. */
function writeHead(out: Buffer, pos: number, major: number, n: number): number {
  const m = major << 5;
  if (n < 24) {
    out[pos] = m | n;
    return pos + 1;
  }
  if (n < 0x100) {
    out[pos] = m | 24;
    out[pos + 1] = n;
    return pos + 2;
  }
  if (n < 0x10000) {
    out[pos] = m | 25;
    out.writeUInt16BE(n, pos + 1);
    return pos + 3;
  }
  if (n < 0x100000000) {
    out[pos] = m | 26;
    out.writeUInt32BE(n, pos + 1);
    return pos + 5;
  }
  // Beyond 32 bits only `seq` (major 0) can occur. Written as a float64, as
  // cbor-x does: its decoder turns a 64-bit integer into a BigInt, which the
  // receiver would refuse. Exact up to 2^53, where seq stays.
  out[pos] = 0xfb;
  out.writeDoubleBE(n, pos + 1);
  return pos + 9;
}

function writeText(out: Buffer, pos: number, s: string, bytes: number): number {
  pos = writeHead(out, pos, 3, bytes);
  return pos + out.write(s, pos, bytes, 'utf8');
}

/**
 * CBOR of one broadcast message, `[seq, topic, headers, body]`, written by
 * hand: the shape is fixed, and a generic encoder cost ~10 % of a direct
 * publisher's CPU. Standard CBOR with minimal heads; any decoder reads it.
 * `seq` must be a safe non-negative integer; header values strings.
 */
export function encodeBroadcastMessage(seq: number, topic: string, headers: Headers, body: Uint8Array): Uint8Array {
  const topicBytes = Buffer.byteLength(topic);
  let size = 1 + headBytes(seq) + headBytes(topicBytes) + topicBytes + headBytes(body.length) + body.length;
  let count = 0;
  for (const k in headers) {
    const kb = Buffer.byteLength(k);
    const vb = Buffer.byteLength(headers[k]!);
    size += headBytes(kb) + kb + headBytes(vb) + vb;
    count++;
  }
  size += headBytes(count);
  const out = Buffer.allocUnsafe(size); // pooled when small; every byte is written below
  out[0] = 0x84; // array of 4
  let pos = writeHead(out, 1, 0, seq);
  pos = writeText(out, pos, topic, topicBytes);
  pos = writeHead(out, pos, 5, count);
  for (const k in headers) {
    const v = headers[k]!;
    pos = writeText(out, pos, k, Buffer.byteLength(k));
    pos = writeText(out, pos, v, Buffer.byteLength(v));
  }
  pos = writeHead(out, pos, 2, body.length);
  out.set(body, pos);
  return out;
}

/** CBOR array of already-encoded items (a definite-length array header, then the items). */
export function cborArrayOf(items: readonly Uint8Array[]): Uint8Array {
  let size = headBytes(items.length);
  for (const it of items) size += it.length;
  const out = Buffer.allocUnsafe(size); // pooled when small; every byte is written below
  let pos = writeHead(out, 0, 4, items.length);
  for (const it of items) {
    out.set(it, pos);
    pos += it.length;
  }
  return out;
}

/**
 * `{n: sender, m: [items]}` in CBOR (the body of a gossip envelope), n
 * first, after `reserve` leading bytes left for the caller's header: one
 * buffer, no generic encoder. Items are encodeBroadcastMessage's output.
 */
export function encodeSenderBatch(reserve: number, sender: string, items: readonly Uint8Array[]): Buffer {
  const senderBytes = Buffer.byteLength(sender);
  let size = reserve + 1 + 2 + headBytes(senderBytes) + senderBytes + 2 + headBytes(items.length);
  for (const it of items) size += it.length;
  const out = Buffer.allocUnsafe(size); // pooled when small; the caller writes the reserved bytes, every other byte is written below
  out[reserve] = 0xa2; // map of 2
  out[reserve + 1] = 0x61; // text of 1: "n"
  out[reserve + 2] = 0x6e;
  let pos = writeText(out, reserve + 3, sender, senderBytes);
  out[pos] = 0x61; // "m"
  out[pos + 1] = 0x6d;
  pos = writeHead(out, pos + 2, 4, items.length);
  for (const it of items) {
    out.set(it, pos);
    pos += it.length;
  }
  return out;
}

/**
 * Validates the `[seq, topic, headers, body, ...]` head every wire message
 * starts with (delivery batches and gossip envelopes); `bad` builds the
 * caller's error.
 */
export function decodeMessageHead(w: readonly unknown[], i: number, parse: (topic: string) => string[], bad: (detail: string) => MeshError):
  { seq: number; topic: string; tokens: string[]; headers: Headers; body: Uint8Array } {
  const [seq, topic, headers, body] = w;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw bad(`message ${i}: seq must be a non-negative integer`);
  if (typeof topic !== 'string') throw bad(`message ${i}: topic must be a string`);
  if (!isHeaders(headers)) throw bad(`message ${i}: headers must map strings to strings`);
  if (!(body instanceof Uint8Array)) throw bad(`message ${i}: body must be bytes`);
  let tokens: string[];
  try {
    tokens = parse(topic);
  } catch (err) {
    throw bad(`message ${i}: ${(err as Error).message}`);
  }
  return { seq, topic, tokens, headers, body };
}

/** Validates a request; throws MeshError BAD_REQUEST naming the first problem. */
export function decodeDeliver(req: unknown, cbor: Encoder, parse: (topic: string) => string[] = parseTopic): { sender: string; messages: Delivery[] } {
  if (req === null || typeof req !== 'object') throw bad('not a map');
  const r = req as Partial<DeliverRequest>;
  if (r.m instanceof Uint8Array) {
    try {
      r.m = (readBroadcastBatch(r.m) ?? cbor.decode(r.m)) as WireMessage[];
    } catch (err) {
      throw bad(`m holds undecodable CBOR (${(err as Error).message})`);
    }
  }
  if (typeof r.n !== 'string' || typeof r.p !== 'string' || !Array.isArray(r.m)) throw bad('n, p and m are required');
  if (r.m.length > MAX_WIRE_MESSAGES) throw bad(`${r.m.length} messages, more than ${MAX_WIRE_MESSAGES}`);
  const messages: Delivery[] = new Array(r.m.length);
  for (let i = 0; i < r.m.length; i++) {
    const w = r.m[i] as unknown[];
    if (!Array.isArray(w) || (w.length !== 4 && w.length !== 6 && w.length !== 7)) throw bad(`message ${i} has the wrong shape`);
    const [, , , , queue, attempt, tried] = w;
    const { seq, topic, tokens, headers, body } = decodeMessageHead(w, i, parse, bad);
    const m: Delivery = { id: `${r.p}-${seq.toString(36)}`, topic, tokens, headers, body, queue: undefined, attempt: 1, tried: undefined };
    if (w.length > 4) {
      if (typeof queue !== 'string' || queue.length === 0) throw bad(`message ${i}: queue must be a non-empty string`);
      if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 1) throw bad(`message ${i}: attempt must be a positive integer`);
      if (tried !== undefined && (!Array.isArray(tried) || !tried.every((t) => typeof t === 'string'))) throw bad(`message ${i}: tried must be a list of member ids`);
      m.queue = queue;
      m.attempt = attempt;
      m.tried = tried as string[] | undefined;
    }
    messages[i] = m;
  }
  return { sender: r.n, messages };
}

export function encodeOutcome(o: Outcome): WireOutcome {
  return typeof o === 'number' ? o : [o.code, o.message, o.member];
}

/** Reads one outcome of a response; anything unexpected counts as a failure of the member. */
export function decodeOutcome(w: unknown): Outcome {
  if (w === 0 || w === REFUSED.noMember || w === REFUSED.busy || w === REFUSED.notRunning) return w;
  if (Array.isArray(w) && w.length === 3 && w.every((x) => typeof x === 'string')) return { code: w[0], message: w[1], member: w[2] };
  return { code: 'PROTOCOL_ERROR', message: 'malformed delivery outcome', member: '' };
}
