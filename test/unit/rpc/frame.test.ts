import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameParser, FrameType, HEADER_BYTES, encodeFrame, Flag } from '../../../src/rpc/frame.ts';
import { SeededRandom } from '../../../src/clock/seeded.ts';

interface Seen { frames: [number, number, number, number[]][]; oversized: [number, number, number][]; malformed: string[] }

function parser(max = 1024): { p: FrameParser; seen: Seen } {
  const seen: Seen = { frames: [], oversized: [], malformed: [] };
  const p = new FrameParser(max, {
    frame: (type, flags, stream, payload) => seen.frames.push([type, flags, stream, [...payload]]),
    oversized: (type, _flags, stream, bytes) => seen.oversized.push([type, stream, bytes]),
    malformed: (reason) => seen.malformed.push(reason),
  });
  return { p, seen };
}

const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((x) => [...x]));

test('frames round-trip whole, back to back, and split at every byte boundary', () => {
  const a = encodeFrame(FrameType.Data, Flag.EndStream, 7, new Uint8Array([1, 2, 3]));
  const b = encodeFrame(FrameType.End, 0, 0xfffffffe);
  const c = encodeFrame(FrameType.Credit, 0, 9, new Uint8Array(300).fill(5));
  const all = concat(a, b, c);
  const want = [[FrameType.Data, Flag.EndStream, 7, [1, 2, 3]], [FrameType.End, 0, 0xfffffffe, []], [FrameType.Credit, 0, 9, new Array(300).fill(5)]];
  const whole = parser();
  whole.p.push(all);
  assert.deepEqual(whole.seen.frames, want);
  for (let cut = 1; cut < all.length; cut++) {
    const s = parser();
    s.p.push(all.subarray(0, cut));
    s.p.push(all.subarray(cut));
    assert.deepEqual(s.seen.frames, want, `split at ${cut}`);
  }
  const bytewise = parser();
  for (const byte of all) bytewise.p.push(new Uint8Array([byte]));
  assert.deepEqual(bytewise.seen.frames, want);
});

test('a frame over the limit is skipped without buffering and the next frame still parses', () => {
  const { p, seen } = parser(16);
  const big = encodeFrame(FrameType.Request, 0, 3, new Uint8Array(100));
  const next = encodeFrame(FrameType.Data, 0, 5, new Uint8Array([9]));
  const all = concat(big, next);
  for (let i = 0; i < all.length; i += 7) p.push(all.subarray(i, i + 7));
  assert.deepEqual(seen.oversized, [[FrameType.Request, 3, 100]]);
  assert.deepEqual(seen.frames, [[FrameType.Data, 0, 5, [9]]]);
  assert.deepEqual(seen.malformed, []);
});

test('bad version, unknown type or impossible length are malformed, and input after that is ignored', () => {
  const cases: [string, Uint8Array][] = [];
  const v = encodeFrame(FrameType.Data, 0, 1);
  v[4] = 9;
  cases.push(['version', v]);
  const t = encodeFrame(FrameType.Data, 0, 1);
  t[5] = 200;
  cases.push(['type', t]);
  const l = encodeFrame(FrameType.Data, 0, 1);
  l[3] = 3;
  cases.push(['length', l]);
  for (const [what, bytes] of cases) {
    const { p, seen } = parser();
    p.push(bytes);
    p.push(encodeFrame(FrameType.Data, 0, 1, new Uint8Array([1])));
    assert.equal(seen.malformed.length, 1, what);
    assert.deepEqual(seen.frames, [], what);
  }
});

test('random bytes never throw: they end as malformed, oversized or frames', () => {
  const r = new SeededRandom(42);
  for (let run = 0; run < 500; run++) {
    const { p } = parser(64);
    const bytes = r.bytes(1 + r.int(200));
    assert.doesNotThrow(() => {
      for (let i = 0; i < bytes.length; i += 1 + r.int(20)) p.push(bytes.subarray(i, i + 1 + r.int(20)));
    });
  }
  assert.equal(HEADER_BYTES, 11);
});
