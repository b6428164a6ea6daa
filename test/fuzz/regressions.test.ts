/**
 * Crashes the fuzz targets found, each as its minimal reproducer: these
 * inputs threw a TypeError out of a decoder before the fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoercionCache } from '../../src/http/coerce.ts';
import { requestTimeoutMs } from '../../src/http/metadata.ts';
import { REQUEST_SCHEMA_METADATA } from '../../src/rpc/endpoint-meta.ts';
import { FrameType, encodeFrame } from '../../src/rpc/frame.ts';
import { TARGETS } from './targets.ts';

const target = (name: string) => TARGETS.find((t) => t.name === name)!;

test('rpc: a Hello whose CBOR is not a map (null, undefined, a number, a string) closes the connection as a protocol error (null was a TypeError out of the socket handler)', () => {
  for (const payload of [[0xf6], [0xf7], [0x01], [0x60]]) {
    assert.equal(target('rpc.session').run(encodeFrame(FrameType.Hello, 0, 0, Uint8Array.from(payload))), 'rejected');
  }
  assert.equal(target('rpc.session').run(encodeFrame(FrameType.Hello, 0, 0, Uint8Array.of(0xa0))), 'accepted', 'an empty map is a Hello with defaults');
});

test('http: a request schema whose anyOf/oneOf is not a list plans no coercion (was a TypeError)', () => {
  const cache = new CoercionCache();
  assert.equal(cache.of({ [REQUEST_SCHEMA_METADATA]: '{"properties":{"x":{"anyOf":5}}}' }), undefined);
  assert.equal(cache.of({ [REQUEST_SCHEMA_METADATA]: '{"properties":{"x":{"oneOf":{"type":"number"}}}}' }), undefined);
});

test('http: a Timeout header given as an empty list counts as absent (was a TypeError)', () => {
  assert.equal(requestTimeoutMs({ timeout: [] }, 1000), undefined);
  assert.equal(requestTimeoutMs({ timeout: [], 'x-micro-timeout': '2' }, 60_000), undefined);
  assert.equal(requestTimeoutMs({ timeout: ['250ms'] }, 1000), 250);
});
