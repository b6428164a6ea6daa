/**
 * The RPC wire: length-prefixed binary frames (docs/PROTOCOL.md, "RPC").
 * Pure: encoding into a byte buffer and incremental parsing, no sockets.
 *
 *   0  u32  length of what follows (7 + payload bytes), big-endian
 *   4  u8   protocol version (1)
 *   5  u8   frame type
 *   6  u8   flags
 *   7  u32  stream id (0 = the connection itself)
 *   11 ...  payload
 */

export const WIRE_VERSION = 1;
export const HEADER_BYTES = 11;

/** Frame types. WARNING: only append; values are on the wire. */
export const FrameType = {
  /** First frame each side sends: CBOR settings. */
  Hello: 0,
  /** Binds a route id to (service, endpoint, content type) for later requests. */
  Route: 1,
  /** Opens a stream: route, deadline, metadata, first message. */
  Request: 2,
  /** One message on a stream. */
  Data: 3,
  /** The sender will send no more messages on this stream. */
  End: 4,
  /** The stream failed: CBOR {id, code, detail, status}. Ends it both ways. */
  Error: 5,
  /** The caller abandoned the stream (abort, timeout). */
  Cancel: 6,
  /** Grants the peer more bytes of DATA on a stream: u32. */
  Credit: 7,
  /** Liveness/RTT probe; answered with the ACK flag and the same 8 bytes. */
  Ping: 8,
  /** The sender accepts no new streams; open ones finish. */
  GoAway: 9,
} as const;
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];
const MAX_FRAME_TYPE = FrameType.GoAway;

/** Flag bits. */
export const Flag = {
  /** On Request/Data: the last message from this side. */
  EndStream: 0x01,
  /** On Request: a streaming call (DATA is flow-controlled, responses may be many). */
  Streaming: 0x02,
  /** On Request: the caller will send its messages as DATA frames (client/bidi stream). */
  InputStream: 0x04,
  /** On Ping: this is the answer. */
  Ack: 0x08,
} as const;

/** Route id meaning "route given inline in this request" (table full). */
export const INLINE_ROUTE = 0xffff;

/**
 * A parsed frame, handed over as separate arguments (no object per frame on
 * the hot path). `payload` is a view into the received bytes that the parser
 * never reuses, so it may be kept.
 */
export type FrameHandler = (type: number, flags: number, stream: number, payload: Uint8Array) => void;

/** Writes a frame header at `offset` of `buf`. */
export function writeHeader(buf: Uint8Array, offset: number, payloadBytes: number, type: number, flags: number, stream: number): void {
  const len = payloadBytes + 7;
  buf[offset] = len >>> 24;
  buf[offset + 1] = (len >>> 16) & 0xff;
  buf[offset + 2] = (len >>> 8) & 0xff;
  buf[offset + 3] = len & 0xff;
  buf[offset + 4] = WIRE_VERSION;
  buf[offset + 5] = type;
  buf[offset + 6] = flags;
  buf[offset + 7] = stream >>> 24;
  buf[offset + 8] = (stream >>> 16) & 0xff;
  buf[offset + 9] = (stream >>> 8) & 0xff;
  buf[offset + 10] = stream & 0xff;
}

/** A complete frame as one buffer (tests and rare control frames). */
export function encodeFrame(type: number, flags: number, stream: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const buf = new Uint8Array(HEADER_BYTES + payload.length);
  writeHeader(buf, 0, payload.length, type, flags, stream);
  buf.set(payload, HEADER_BYTES);
  return buf;
}

export interface ParserEvents {
  frame: FrameHandler;
  /** A frame whose payload exceeds the limit was skipped without buffering it. */
  oversized(type: number, flags: number, stream: number, payloadBytes: number): void;
  /** Bytes that cannot be frames (bad version, type or length): the connection must close. */
  malformed(reason: string): void;
}

/**
 * Incremental frame parser. Frames wholly inside a chunk are zero-copy views;
 * frames split across chunks are assembled in a fresh buffer. A frame larger
 * than `maxPayloadBytes` is skipped byte by byte as it arrives (never
 * buffered) and reported through `oversized`, so the connection survives it.
 * After `malformed` the parser ignores all further input.
 */
export class FrameParser {
  private readonly maxPayloadBytes: number;
  private readonly events: ParserEvents;
  /** Bytes of a partial header carried over from the previous chunk. */
  private head = new Uint8Array(HEADER_BYTES);
  private headLen = 0;
  /** Current frame being assembled (payload), when split across chunks. */
  private body: Uint8Array | undefined;
  private bodyLen = 0;
  private cur = { type: 0, flags: 0, stream: 0, payloadBytes: 0 };
  /** Payload bytes still to skip for an oversized frame. */
  private skip = 0;
  private broken = false;

  constructor(maxPayloadBytes: number, events: ParserEvents) {
    this.maxPayloadBytes = maxPayloadBytes;
    this.events = events;
  }

  push(chunk: Uint8Array): void {
    let pos = 0;
    const n = chunk.length;
    while (pos < n && !this.broken) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - pos);
        this.skip -= take;
        pos += take;
        if (this.skip === 0) this.events.oversized(this.cur.type, this.cur.flags, this.cur.stream, this.cur.payloadBytes);
        continue;
      }
      if (this.body !== undefined) {
        const take = Math.min(this.cur.payloadBytes - this.bodyLen, n - pos);
        this.body.set(chunk.subarray(pos, pos + take), this.bodyLen);
        this.bodyLen += take;
        pos += take;
        if (this.bodyLen === this.cur.payloadBytes) {
          const payload = this.body;
          this.body = undefined;
          this.emit(payload);
        }
        continue;
      }
      // Fast path: a whole header sits in this chunk.
      if (this.headLen === 0 && n - pos >= HEADER_BYTES) {
        if (!this.readHeader(chunk, pos)) return;
        pos += HEADER_BYTES;
      } else {
        const take = Math.min(HEADER_BYTES - this.headLen, n - pos);
        this.head.set(chunk.subarray(pos, pos + take), this.headLen);
        this.headLen += take;
        pos += take;
        if (this.headLen < HEADER_BYTES) return;
        this.headLen = 0;
        if (!this.readHeader(this.head, 0)) return;
      }
      const want = this.cur.payloadBytes;
      if (want > this.maxPayloadBytes) {
        this.skip = want;
        if (want === 0) this.events.oversized(this.cur.type, this.cur.flags, this.cur.stream, 0);
        continue;
      }
      if (n - pos >= want) {
        const payload = chunk.subarray(pos, pos + want);
        pos += want;
        this.emit(payload);
      } else {
        // allocUnsafe takes small payloads from Node's pool (a fresh ArrayBuffer costs microseconds); every byte is overwritten.
        this.body = Buffer.allocUnsafe(want);
        this.bodyLen = 0;
      }
    }
  }

  private readHeader(b: Uint8Array, o: number): boolean {
    const len = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    const version = b[o + 4]!;
    const type = b[o + 5]!;
    if (version !== WIRE_VERSION) return this.fail(`unsupported wire version ${version}`);
    if (type > MAX_FRAME_TYPE) return this.fail(`unknown frame type ${type}`);
    if (len < 7) return this.fail(`frame length ${len} shorter than its header`);
    this.cur.type = type;
    this.cur.flags = b[o + 6]!;
    this.cur.stream = ((b[o + 7]! << 24) | (b[o + 8]! << 16) | (b[o + 9]! << 8) | b[o + 10]!) >>> 0;
    this.cur.payloadBytes = len - 7;
    return true;
  }

  private emit(payload: Uint8Array): void {
    this.events.frame(this.cur.type, this.cur.flags, this.cur.stream, payload);
  }

  private fail(reason: string): false {
    this.broken = true;
    this.events.malformed(reason);
    return false;
  }
}
