import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultCodecs } from '../../../src/codec/index.ts';
import { MeshError } from '../../../src/errors/index.ts';

const codecs = defaultCodecs();

test('CBOR is the default; both codecs round-trip structured values', () => {
  assert.equal(codecs.defaultContentType, 'application/cbor');
  const value = { name: 'Ada', n: 3, nested: { list: [1, 'two', null], ok: true } };
  for (const ct of ['application/cbor', 'application/json']) {
    const c = codecs.get(ct);
    assert.deepEqual(c.decode(c.encode(value)), value);
  }
  const cbor = codecs.get('application/cbor');
  const bytes = new Uint8Array([1, 2, 3]);
  const back = cbor.decode(cbor.encode({ bytes })) as { bytes: Uint8Array };
  assert.ok(back.bytes instanceof Uint8Array);
  assert.deepEqual([...back.bytes], [1, 2, 3]);
});

test('an unknown content type is a clear typed error naming the supported ones', () => {
  assert.throws(() => codecs.get('application/x-protobuf'), (err: unknown) => {
    assert.ok(err instanceof MeshError);
    assert.equal(err.code, 'UNSUPPORTED_CONTENT_TYPE');
    assert.match(err.detail, /application\/cbor, application\/json/);
    return true;
  });
});

test('malformed bytes give DECODE_FAILED, never a crash', () => {
  for (const ct of codecs.list()) {
    assert.throws(() => codecs.get(ct).decode(new Uint8Array([0xff, 0x00, 0x7b])), (err: unknown) =>
      err instanceof MeshError && err.code === 'DECODE_FAILED');
  }
  assert.equal(codecs.get('application/json').decode(new Uint8Array(0)), undefined);
});

test('CBOR: decoded byte strings survive later decodes, truncation is an error, large messages round-trip', () => {
  const cbor = codecs.get('application/cbor');
  const first = cbor.decode(cbor.encode({ bytes: new Uint8Array([1, 2, 3, 4]) })) as { bytes: Uint8Array };
  // Decoding another message must not change what an earlier decode returned.
  cbor.decode(cbor.encode({ bytes: new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]) }));
  assert.deepEqual([...first.bytes], [1, 2, 3, 4]);
  // A prefix of a message decoded just before: the rest must not be read from anywhere.
  const whole = cbor.encode({ s: 'x'.repeat(40), n: 70_000 });
  cbor.decode(whole);
  for (const cut of [1, 5, whole.length - 1]) {
    assert.throws(() => cbor.decode(whole.subarray(0, cut)), (err: unknown) => err instanceof MeshError && err.code === 'DECODE_FAILED', `cut at ${cut}`);
  }
  // Large messages decode the same.
  const back = cbor.decode(cbor.encode({ blob: new Uint8Array(100_000).fill(7), s: 'y'.repeat(20_000) })) as { blob: Uint8Array; s: string };
  assert.equal(back.blob.length, 100_000);
  assert.ok(back.blob.every((b) => b === 7));
  assert.equal(back.s, 'y'.repeat(20_000));
});
