// The Codec compliance suite (DEVELOPERS.md rule 9): every codec (CBOR, JSON,
// and whatever a CodecSet offers) must pass it, plus the Codecs lookup table.
// Values are the shapes the RPC layer and the brokers send; bad bytes must
// fail with DECODE_FAILED, never anything else (rule 6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Codec, Codecs } from '../../src/codec/types.ts';
import { MeshError } from '../../src/errors/index.ts';
import { SeededRandom } from '../../src/clock/seeded.ts';

export interface CodecCapabilities {
  /** Uint8Array values round-trip as bytes (JSON has no byte string: it cannot). */
  binary: boolean;
  /** BigInt values round-trip; without it, encoding one throws ENCODE_FAILED. */
  bigint: boolean;
}

/** Tests by key, for `todo`. */
export type CodecTest = 'contentType' | 'roundTrip' | 'binary' | 'bytes' | 'garbage' | 'truncated' | 'unencodable' | 'bigint' | 'nonData';

export interface CodecComplianceOptions {
  /** A fresh codec. */
  make: () => Codec;
  capabilities: CodecCapabilities;
  /** Known bugs: the test is listed as `todo` with this reason and not run. */
  todo?: Partial<Record<CodecTest, string>>;
}

const isCode = (code: string) => (err: unknown): boolean => {
  assert.ok(err instanceof MeshError, `expected a MeshError, got ${String(err)}`);
  assert.equal(err.code, code);
  return true;
};

/** Decodes `bytes`: a value, or MeshError DECODE_FAILED; anything else fails the test. */
function decodeOrFail(c: Codec, bytes: Uint8Array, what: string): void {
  try {
    c.decode(bytes);
  } catch (err) {
    assert.ok(err instanceof MeshError && err.code === 'DECODE_FAILED', `${what}: ${String(err)}`);
  }
}

/** What RPC requests, responses and records look like. Every value survives JSON and CBOR alike. */
export const SHAPES: Record<string, unknown> = {
  'a request': { name: 'Ada', n: 3, nested: { list: [1, 'two', null], ok: true } },
  'an empty object': {},
  'an empty array': [],
  'an empty string': '',
  'unicode strings': { ascii: 'plain', accents: 'ünïcödé', cjk: '中文字符', emoji: '😀👍🏽', rtl: 'שלום', combining: 'e\u0301', nul: 'a\u0000b', keyé: 'v' },
  numbers: { zero: 0, one: 1, neg: -1, int32: -(2 ** 31), big: Number.MAX_SAFE_INTEGER, minSafe: Number.MIN_SAFE_INTEGER, float: 1.5, negFloat: -0.25, pi: Math.PI, tiny: 5e-324, huge: 1.7976931348623157e308 },
  booleans: [true, false],
  null: null,
  'a top-level string': 'just text',
  'a top-level number': -7.125,
  'a top-level boolean': false,
  'nested arrays': [[[]], [[1], [2, [3, [4]]]], [{ a: [{ b: {} }] }]],
  'a service record': {
    name: 'greeter', version: '1.0.0', metadata: { team: 'x' },
    endpoints: [{ name: 'Greeter.Hello', metadata: { stream: 'false' } }],
    nodes: [{ id: 'n1', address: '127.0.0.1:9000', metadata: {} }],
  },
  'many keys': Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i])),
  'deep nesting': Array.from({ length: 100 }).reduce<unknown>((v) => ({ v }), 'bottom'),
  'a large message': { s: 'y'.repeat(200_000), list: Array.from({ length: 10_000 }, (_, i) => i * 3) },
};

export function codecCompliance(name: string, opts: CodecComplianceOptions): void {
  const caps = opts.capabilities;
  const run = (key: CodecTest, title: string, needs: true | string, body: (c: Codec) => void): void => {
    const todo = opts.todo?.[key];
    const skip = needs === true ? false : needs;
    test(`${name} codec: ${title}`, { skip, todo: todo && `not run, known bug: ${todo}` }, todo !== undefined ? () => {} : () => body(opts.make()));
  };

  run('contentType', 'contentType is a non-empty MIME type, the same on every read and every instance', true, (c) => {
    assert.match(c.contentType, /^[a-z]+\/[a-z0-9.+-]+$/);
    assert.equal(c.contentType, c.contentType);
    assert.equal(opts.make().contentType, c.contentType);
  });

  run('roundTrip', 'every message shape round-trips; undefined is an empty body both ways', true, (c) => {
    for (const [shape, value] of Object.entries(SHAPES)) {
      const bytes = c.encode(value);
      assert.ok(bytes instanceof Uint8Array, shape);
      assert.deepEqual(c.decode(bytes), value, shape);
      assert.deepEqual(c.decode(c.encode(value)), value, `${shape}, encoded twice`);
    }
    assert.equal(c.decode(c.encode(undefined)), undefined);
    assert.equal(c.decode(new Uint8Array(0)), undefined);
  });

  run('binary', 'byte strings round-trip as bytes: empty, nested, large, and from a view into a larger buffer', caps.binary || 'the codec has no byte strings', (c) => {
    const bytesOf = (v: unknown): number[] => {
      assert.ok(v instanceof Uint8Array, `not bytes: ${String(v)}`);
      return [...v];
    };
    assert.deepEqual(bytesOf(c.decode(c.encode(new Uint8Array([0, 1, 254, 255])))), [0, 1, 254, 255]);
    assert.deepEqual(bytesOf(c.decode(c.encode(new Uint8Array(0)))), []);
    const back = c.decode(c.encode({ body: new Uint8Array([9, 8, 7]), list: [new Uint8Array([1])] })) as { body: unknown; list: unknown[] };
    assert.deepEqual([bytesOf(back.body), bytesOf(back.list[0])], [[9, 8, 7], [1]]);
    const big = c.decode(c.encode(new Uint8Array(100_000).fill(7))) as Uint8Array;
    assert.equal(big.length, 100_000);
    assert.ok(big.every((b) => b === 7));
    const outer = new Uint8Array([1, 2, 3, 4, 5, 6]);
    assert.deepEqual(bytesOf(c.decode(c.encode(outer.subarray(2, 5)))), [3, 4, 5]);
    // A decoded value must not change when the codec decodes something else.
    const first = c.decode(c.encode({ b: new Uint8Array([1, 2, 3, 4]) })) as { b: Uint8Array };
    c.decode(c.encode({ b: new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]) }));
    assert.deepEqual([...first.b], [1, 2, 3, 4]);
  });

  run('bytes', 'encoded bytes stay valid after later encodes, and decode from a view into a larger buffer', true, (c) => {
    // Frames written in one event-loop turn are batched: an encoding must not be overwritten by the next.
    const a = c.encode({ first: 'a'.repeat(50) });
    const copy = Uint8Array.from(a);
    for (let i = 0; i < 20; i++) c.encode({ second: 'b'.repeat(50 + i), i });
    assert.deepEqual([...a], [...copy]);
    // Frames are parsed out of a larger read buffer.
    const framed = new Uint8Array(a.length + 10).fill(0xff);
    framed.set(a, 5);
    assert.deepEqual(c.decode(framed.subarray(5, 5 + a.length)), { first: 'a'.repeat(50) });
    const decoded = c.decode(a) as { first: string };
    a.fill(0); // the value must not be a view over the input
    assert.equal(decoded.first, 'a'.repeat(50));
  });

  run('garbage', 'garbage, mutated messages and trailing bytes give DECODE_FAILED or a value, never another error', true, (c) => {
    assert.throws(() => c.decode(new Uint8Array([0xff, 0x00, 0x7b])), isCode('DECODE_FAILED'));
    assert.throws(() => c.decode(Uint8Array.from([...c.encode({ a: 1 }), 0x01])), isCode('DECODE_FAILED'), 'trailing byte');
    const rnd = new SeededRandom(7);
    for (let i = 0; i < 2000; i++) decodeOrFail(c, rnd.bytes(1 + rnd.int(64)), `random bytes #${i}`);
    const valid = c.encode(SHAPES['a service record']);
    for (let i = 0; i < 2000; i++) {
      const b = Uint8Array.from(valid);
      for (let k = 1 + rnd.int(3); k > 0; k--) b[rnd.int(b.length)] = rnd.int(256);
      decodeOrFail(c, b, `mutation #${i}`);
    }
    // Hostile headers: huge declared lengths, deep nesting (CBOR and JSON spellings both).
    const hostile = [
      [0x5a, 0xff, 0xff, 0xff, 0xff, 0x00], [0x9a, 0xff, 0xff, 0xff, 0xff, 0x00], [0x9b, ...new Array(8).fill(0xff), 0x00],
      [0xbb, ...new Array(8).fill(0xff), 0x00], new Array(200_000).fill(0x81), [...new TextEncoder().encode('['.repeat(200_000))],
      [...new TextEncoder().encode('"\\ud800')], [0x22, 0xff, 0xfe, 0x22],
    ];
    for (const [i, h] of hostile.entries()) decodeOrFail(c, Uint8Array.from(h), `hostile input #${i}`);
  });

  run('truncated', 'every proper prefix of a message gives DECODE_FAILED', true, (c) => {
    const whole = c.encode({ s: 'x'.repeat(40), n: 70_000, list: [1, -2.5, { z: true }], u: 'ü😀' });
    c.decode(whole); // decoding the whole just before must leave nothing for a prefix to read on from
    for (let cut = 1; cut < whole.length; cut++) {
      assert.throws(() => c.decode(whole.subarray(0, cut)), isCode('DECODE_FAILED'), `cut at ${cut} of ${whole.length}`);
    }
  });

  run('unencodable', 'cyclic and too deeply nested values throw ENCODE_FAILED', true, (c) => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.throws(() => c.encode(cyclic), isCode('ENCODE_FAILED'));
    const list: unknown[] = [1];
    list.push(list);
    assert.throws(() => c.encode({ list }), isCode('ENCODE_FAILED'));
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.throws(() => c.encode(deep), isCode('ENCODE_FAILED'));
  });

  run('bigint', caps.bigint ? 'BigInt values round-trip' : 'BigInt values throw ENCODE_FAILED', true, (c) => {
    const value = { n: 2n ** 70n, neg: -(2n ** 64n) - 1n };
    if (caps.bigint) assert.deepEqual(c.decode(c.encode(value)), value);
    else assert.throws(() => c.encode(value), isCode('ENCODE_FAILED'));
  });

  // "Throws ENCODE_FAILED if the value can't be represented" (codec/types.ts).
  run('nonData', 'a function or a symbol as the message throws ENCODE_FAILED', true, (c) => {
    assert.throws(() => c.encode(() => 1), isCode('ENCODE_FAILED'));
    assert.throws(() => c.encode(Symbol('s')), isCode('ENCODE_FAILED'));
  });
}

export interface CodecsComplianceOptions {
  make: () => Codecs;
}

/** The content-type table: every listed type resolves to a codec speaking it; an unknown one is UNSUPPORTED_CODEC. */
export function codecsCompliance(name: string, opts: CodecsComplianceOptions): void {
  test(`${name} codecs: the default is listed; every listed type resolves to a codec of that type`, () => {
    const set = opts.make();
    const types = set.list();
    assert.ok(types.length > 0);
    assert.equal(new Set(types).size, types.length, 'a type is listed twice');
    assert.ok(types.includes(set.defaultContentType));
    for (const t of types) {
      assert.ok(set.has(t));
      assert.equal(set.get(t).contentType, t);
    }
  });

  test(`${name} codecs: an unknown content type is UNSUPPORTED_CODEC; has() says false`, () => {
    const set = opts.make();
    for (const t of ['application/x-unknown', '', 'APPLICATION/CBOR-nope']) {
      assert.equal(set.has(t), false);
      assert.throws(() => set.get(t), isCode('UNSUPPORTED_CODEC'));
    }
  });
}
