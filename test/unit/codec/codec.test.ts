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
