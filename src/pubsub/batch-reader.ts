/**
 * A fast reader for broadcast batches: the CBOR array of
 * `[seq, topic, headers, body]` items that `encodeBroadcastMessage` and
 * `cborArrayOf` write (docs/PROTOCOL.md). Consecutive messages of a
 * batch usually share their topic and headers, so when an item's topic and
 * headers bytes equal the previous item's, the previous strings and headers
 * object are reused instead of decoded again (a generic decode of those
 * strings was most of a subscriber's decoding cost).
 *
 * It returns what a generic CBOR decoder would (bodies are views into the
 * input) or `undefined` for anything outside that shape, so the caller
 * falls back to the generic decoder and its validation and errors.
 * Headers objects may be shared by several messages: consumers copy them.
 */
export function readBroadcastBatch(input: Uint8Array): unknown[][] | undefined {
  const b = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const r = new Reader(b);
  const n = r.head(4);
  if (n === undefined) return undefined;
  const out: unknown[][] = [];
  let prevStart = 0;
  let prevEnd = 0;
  let topic = '';
  let headers: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    if (r.head(4) !== 4) return undefined;
    const seq = r.uint();
    if (seq === undefined) return undefined;
    const start = r.pos;
    if (i > 0 && r.sameAs(prevStart, prevEnd)) {
      r.pos += prevEnd - prevStart;
    } else {
      const t = r.text();
      const count = r.head(5);
      if (t === undefined || count === undefined) return undefined;
      const h: Record<string, string> = {};
      for (let k = 0; k < count; k++) {
        const key = r.text();
        const value = r.text();
        if (key === undefined || value === undefined || key === '__proto__') return undefined;
        h[key] = value;
      }
      topic = t;
      headers = h;
      prevStart = start;
      prevEnd = r.pos;
    }
    const len = r.head(2);
    if (len === undefined || r.pos + len > b.length) return undefined;
    out.push([seq, topic, headers, b.subarray(r.pos, r.pos + len)]);
    r.pos += len;
  }
  return r.pos === b.length ? out : undefined;
}

/**
 * `{n: sender, m: batch}` as encodeSenderBatch writes it (n first, then a
 * broadcast batch); `undefined` for anything else, so the caller falls back
 * to the generic decoder as with readBroadcastBatch.
 */
export function readSenderBatch(input: Uint8Array): { n: string; m: unknown[][] } | undefined {
  const r = new Reader(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
  if (r.head(5) !== 2 || r.text() !== 'n') return undefined;
  const n = r.text();
  if (n === undefined || r.text() !== 'm') return undefined;
  const m = readBroadcastBatch(input.subarray(r.pos));
  return m === undefined ? undefined : { n, m };
}

class Reader {
  pos = 0;
  private readonly b: Buffer;

  constructor(b: Buffer) {
    this.b = b;
  }

  /** The argument of a head of major type `major` (definite lengths only, below 2^32). */
  head(major: number): number | undefined {
    const b = this.b;
    if (this.pos >= b.length) return undefined;
    const first = b[this.pos]!;
    if (first >> 5 !== major) return undefined;
    const info = first & 0x1f;
    this.pos++;
    if (info < 24) return info;
    const need = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0;
    if (need === 0 || this.pos + need > b.length) return undefined;
    const v = need === 1 ? b[this.pos]! : need === 2 ? b.readUInt16BE(this.pos) : b.readUInt32BE(this.pos);
    this.pos += need;
    return v;
  }

  /** An unsigned integer, or a float64 holding one (how cbor-x writes those past 2^32). */
  uint(): number | undefined {
    const b = this.b;
    if (b[this.pos] === 0xfb && this.pos + 9 <= b.length) {
      const v = b.readDoubleBE(this.pos + 1);
      this.pos += 9;
      return v;
    }
    return this.head(0);
  }

  text(): string | undefined {
    const len = this.head(3);
    if (len === undefined || this.pos + len > this.b.length) return undefined;
    const s = this.b.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** Whether the bytes at the cursor equal those in [start, end). */
  sameAs(start: number, end: number): boolean {
    const b = this.b;
    const n = end - start;
    if (this.pos + n > b.length) return false;
    for (let i = 0; i < n; i++) if (b[this.pos + i] !== b[start + i]) return false;
    return true;
  }
}
