import { Encoder } from 'cbor-x';

/**
 * SWIM messages on the wire (docs/protocol-swim.md has the byte layout).
 *
 * Each message is one CBOR array whose first element is its type; a UDP
 * packet body is a CBOR sequence (RFC 8742) of messages, which is how several
 * messages share one packet (a compound packet) at no per-message cost. A
 * stream frame body holds exactly one message. Decoders accept extra trailing
 * array elements and skip unknown types, so newer nodes can add fields and
 * types without breaking older ones.
 */

/** Message types. WARNING: append only; numbers are on the wire. */
export const MessageType = {
  /** Direct probe. */
  Ping: 0,
  /** Ask a peer to probe a target for us (SWIM ping-req). */
  IndirectPing: 1,
  /** Answer to a ping, or relayed answer to an indirect ping. */
  Ack: 2,
  /** A relay's "I asked, the target did not answer" (Lifeguard). */
  Nack: 3,
  Alive: 4,
  Suspect: 5,
  Dead: 6,
  /** Full state exchange (streams only). */
  PushPull: 7,
} as const;

/** Member states as numbers on the wire (push-pull). WARNING: append only. */
export const WireState = { Alive: 0, Suspect: 1, Dead: 2, Left: 3 } as const;
export type WireStateCode = 0 | 1 | 2 | 3;

export interface PingMsg { readonly type: 0; readonly seq: number; readonly target: string; readonly from: string }
export interface IndirectPingMsg { readonly type: 1; readonly seq: number; readonly target: string; readonly targetAddress: string; readonly nack: boolean }
export interface AckMsg { readonly type: 2; readonly seq: number }
export interface NackMsg { readonly type: 3; readonly seq: number }
export interface AliveMsg {
  readonly type: 4; readonly id: string; readonly incarnation: number; readonly address: string;
  readonly meta: Uint8Array; readonly metaVersion: number;
}
/** Suspect and dead share a shape; `from` is the accuser (for dead, `from === id` means a graceful leave). */
export interface SuspectMsg { readonly type: 5; readonly id: string; readonly incarnation: number; readonly from: string }
export interface DeadMsg { readonly type: 6; readonly id: string; readonly incarnation: number; readonly from: string }
export interface MemberEntry {
  readonly id: string; readonly incarnation: number; readonly address: string; readonly state: WireStateCode;
  readonly meta: Uint8Array; readonly metaVersion: number;
}
export interface PushPullMsg { readonly type: 7; readonly join: boolean; readonly members: MemberEntry[] }

export type SwimMessage = PingMsg | IndirectPingMsg | AckMsg | NackMsg | AliveMsg | SuspectMsg | DeadMsg | PushPullMsg;

/** Longest member id accepted, in characters. */
export const MAX_ID_CHARS = 128;
/** Longest address accepted, in characters. */
export const MAX_ADDRESS_CHARS = 300;
const SEQ_MAX = 0xffff_ffff;
const EMPTY = new Uint8Array(0);

/** Why a decoded item was rejected. */
export type DecodeVerdict = 'ok' | 'malformed' | 'unknown';

/**
 * Encoder and validating decoder, one per node (cbor-x encoders carry a
 * buffer, and DEVELOPERS.md rule 7 forbids sharing state through modules).
 */
export class SwimWire {
  private readonly cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

  ping(seq: number, target: string, from: string): Uint8Array {
    return this.cbor.encode([MessageType.Ping, seq, target, from]);
  }

  indirectPing(seq: number, target: string, targetAddress: string, nack: boolean): Uint8Array {
    return this.cbor.encode([MessageType.IndirectPing, seq, target, targetAddress, nack]);
  }

  ack(seq: number): Uint8Array {
    return this.cbor.encode([MessageType.Ack, seq]);
  }

  nack(seq: number): Uint8Array {
    return this.cbor.encode([MessageType.Nack, seq]);
  }

  alive(id: string, incarnation: number, address: string, meta: Uint8Array, metaVersion: number): Uint8Array {
    return this.cbor.encode([MessageType.Alive, id, incarnation, address, meta, metaVersion]);
  }

  suspect(id: string, incarnation: number, from: string): Uint8Array {
    return this.cbor.encode([MessageType.Suspect, id, incarnation, from]);
  }

  dead(id: string, incarnation: number, from: string): Uint8Array {
    return this.cbor.encode([MessageType.Dead, id, incarnation, from]);
  }

  pushPull(join: boolean, members: readonly MemberEntry[]): Uint8Array {
    const rows = members.map((m) => [m.id, m.incarnation, m.address, m.state, m.meta, m.metaVersion]);
    return this.cbor.encode([MessageType.PushPull, join, rows]);
  }

  /**
   * Decodes a CBOR sequence of messages into `out`. Returns the number of
   * items rejected as malformed and sets `unknown` to those of unknown type.
   * Stops at the first undecodable byte (a sequence cannot be resynchronised).
   * Never throws.
   */
  decodeSequence(body: Uint8Array, out: SwimMessage[]): { malformed: number; unknown: number } {
    const counts = { malformed: 0, unknown: 0 };
    if (body.length === 0) return counts;
    try {
      this.cbor.decodeMultiple(body, (item: unknown) => {
        const m = toMessage(item);
        if (m === 'unknown') counts.unknown++;
        else if (m === 'malformed') counts.malformed++;
        else out.push(m);
      });
    } catch {
      counts.malformed++;
    }
    return counts;
  }

  /** Decodes exactly one message (a stream frame body). Never throws. */
  decodeOne(body: Uint8Array): SwimMessage | 'malformed' | 'unknown' {
    let item: unknown;
    try {
      item = this.cbor.decode(body);
    } catch {
      return 'malformed';
    }
    return toMessage(item);
  }
}

function isUint(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isSeq(x: unknown): x is number {
  return isUint(x) && x <= SEQ_MAX;
}

function isId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= MAX_ID_CHARS;
}

function isAddress(x: unknown): x is string {
  return typeof x === 'string' && x.length > 2 && x.length <= MAX_ADDRESS_CHARS;
}

function isBytes(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array;
}

function isState(x: unknown): x is WireStateCode {
  return x === 0 || x === 1 || x === 2 || x === 3;
}

/** Validates one decoded CBOR item against the message shapes. */
export function toMessage(item: unknown): SwimMessage | 'malformed' | 'unknown' {
  if (!Array.isArray(item) || item.length === 0) return 'malformed';
  const a = item as unknown[];
  const type = a[0];
  if (!isUint(type)) return 'malformed';
  switch (type) {
    case MessageType.Ping:
      return isSeq(a[1]) && isId(a[2]) && isId(a[3]) ? { type, seq: a[1], target: a[2], from: a[3] } : 'malformed';
    case MessageType.IndirectPing:
      return isSeq(a[1]) && isId(a[2]) && isAddress(a[3]) && typeof a[4] === 'boolean'
        ? { type, seq: a[1], target: a[2], targetAddress: a[3], nack: a[4] } : 'malformed';
    case MessageType.Ack:
    case MessageType.Nack:
      return isSeq(a[1]) ? { type, seq: a[1] } : 'malformed';
    case MessageType.Alive:
      return isId(a[1]) && isUint(a[2]) && isAddress(a[3]) && isBytes(a[4]) && isUint(a[5])
        ? { type, id: a[1], incarnation: a[2], address: a[3], meta: a[4], metaVersion: a[5] } : 'malformed';
    case MessageType.Suspect:
    case MessageType.Dead:
      return isId(a[1]) && isUint(a[2]) && isId(a[3]) ? { type, id: a[1], incarnation: a[2], from: a[3] } : 'malformed';
    case MessageType.PushPull:
      return toPushPull(a);
    default:
      return 'unknown';
  }
}

function toPushPull(a: unknown[]): PushPullMsg | 'malformed' {
  if (typeof a[1] !== 'boolean' || !Array.isArray(a[2])) return 'malformed';
  const members: MemberEntry[] = [];
  for (const row of a[2] as unknown[]) {
    if (!Array.isArray(row)) return 'malformed';
    const [id, incarnation, address, state, meta, metaVersion] = row as unknown[];
    if (!isId(id) || !isUint(incarnation) || !isAddress(address) || !isState(state) || !isBytes(meta) || !isUint(metaVersion)) {
      return 'malformed';
    }
    members.push({ id, incarnation, address, state, meta: meta.length === 0 ? EMPTY : meta, metaVersion });
  }
  return { type: MessageType.PushPull, join: a[1], members };
}
