import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CBOR_TYPE, JSON_TYPE, chooseProtocol, decodeBody, encodeBody, formatOf, mergeRequest, parseJson, responseFormat,
} from '../../../src/http/body.ts';
import { CborCodec, MeshError } from '../../../src/index.ts';

const cbor = new CborCodec();

/** Asserts `fn` throws a MeshError with `code` whose detail matches `detail`. */
function throwsMesh(fn: () => unknown, code: string, detail?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MeshError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.id, 'micromesh.http');
    if (detail !== undefined) assert.match(err.detail, detail);
    return true;
  });
}

test('formatOf: JSON by default and for every JSON type, CBOR for application/cbor, else undefined', () => {
  const table: [string | undefined, 'json' | 'cbor' | undefined][] = [
    [undefined, 'json'],
    ['', 'json'],
    ['application/json', 'json'],
    ['application/json; charset=utf-8', 'json'],
    ['Application/JSON', 'json'],
    [' application/json ;charset=utf-8', 'json'],
    ['application/vnd.api+json', 'json'],
    ['application/problem+json; charset=utf-8', 'json'],
    ['application/json-rpc', 'json'],
    ['text/json', 'json'],
    ['application/cbor', 'cbor'],
    ['APPLICATION/CBOR; foo=bar', 'cbor'],
    ['text/plain', undefined],
    ['application/x-www-form-urlencoded', undefined],
    ['multipart/form-data; boundary=x', undefined],
    ['application/jsonx', undefined],
    ['application/octet-stream', undefined],
  ];
  for (const [type, format] of table) assert.equal(formatOf(type), format, String(type));
});

test('responseFormat answers in the body format, or CBOR when the client accepts only CBOR', () => {
  assert.equal(responseFormat(undefined, undefined), 'json');
  assert.equal(responseFormat(CBOR_TYPE, undefined), 'cbor');
  assert.equal(responseFormat(CBOR_TYPE, JSON_TYPE), 'cbor');
  assert.equal(responseFormat(JSON_TYPE, undefined), 'json');
  assert.equal(responseFormat(undefined, CBOR_TYPE), 'cbor');
  assert.equal(responseFormat(JSON_TYPE, CBOR_TYPE), 'cbor');
  assert.equal(responseFormat(undefined, `${CBOR_TYPE}, ${JSON_TYPE};q=0.5`), 'json');
  assert.equal(responseFormat(undefined, '*/*'), 'json');
  assert.equal(responseFormat(undefined, 'application/vnd.api+json'), 'json');
});

test('parseJson parses valid JSON', () => {
  assert.deepEqual(parseJson('{"a":[1,"x",null]}'), { a: [1, 'x', null] });
  assert.equal(parseJson(' 42 '), 42);
});

test('parseJson: malformed JSON is BAD_REQUEST naming the position, line, column and nearby text', () => {
  throwsMesh(() => parseJson('{"a":1,}'), 'BAD_REQUEST', /^malformed JSON at position 7 \(line 1 column 8\) near "\{\\"a\\":1,\}"$/);
  throwsMesh(() => parseJson('{\n "a": 1,\n}'), 'BAD_REQUEST', /at position 11 \(line 3 column 1\)/);
  throwsMesh(() => parseJson(''), 'BAD_REQUEST', /at position 0 \(line 1 column 1\) near ""/);
  throwsMesh(() => parseJson('[1,}'), 'BAD_REQUEST', /at position 3 /);
  // The nearby text is at most 10 characters either side.
  throwsMesh(() => parseJson(`{"long": "${'x'.repeat(40)}" oops}`), 'BAD_REQUEST', /at position 52 .* near "x{8}\\" oops}"$/);
  assert.throws(() => parseJson('{x'), { status: 400 });
});

test('parseJson: deeply nested malformed JSON is still BAD_REQUEST', () => {
  throwsMesh(() => parseJson('['.repeat(100_000)), 'BAD_REQUEST', /at position 100000/);
});

test('decodeBody: JSON (by default), CBOR, and empty bodies', () => {
  assert.deepEqual(decodeBody(Buffer.from('{"name":"ann"}'), JSON_TYPE), { name: 'ann' });
  assert.deepEqual(decodeBody(Buffer.from('{"name":"ann"}'), undefined), { name: 'ann' });
  assert.deepEqual(decodeBody(Buffer.from('"é"'), 'application/json; charset=utf-8'), 'é');
  const value = { name: 'ann', bytes: Buffer.from([1, 2, 3]), n: [1, 2.5, null] }; // CBOR bytes decode as Buffers
  assert.deepEqual(decodeBody(Buffer.from(cbor.encode(value)), CBOR_TYPE), value);
  assert.equal(decodeBody(undefined, JSON_TYPE), undefined);
  assert.equal(decodeBody(Buffer.alloc(0), JSON_TYPE), undefined);
  assert.equal(decodeBody(Buffer.alloc(0), CBOR_TYPE), undefined);
  assert.equal(decodeBody(Buffer.alloc(0), 'text/plain'), undefined);
});

test('decodeBody: an unsupported content type is UNSUPPORTED_CONTENT_TYPE (415) naming it', () => {
  for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
    throwsMesh(() => decodeBody(Buffer.from('a=1'), type), 'UNSUPPORTED_CONTENT_TYPE', new RegExp(`content type "${type}" is not supported here; send application/json or application/cbor`));
  }
  assert.throws(() => decodeBody(Buffer.from('x'), 'text/plain'), { status: 415 });
});

test('decodeBody: malformed JSON or CBOR is BAD_REQUEST', () => {
  throwsMesh(() => decodeBody(Buffer.from('{"a":'), JSON_TYPE), 'BAD_REQUEST', /malformed JSON at position 5/);
  for (const bytes of [[0xff], [0xbf], [0x1c], [0x62, 0x61], [0xa1]]) {
    throwsMesh(() => decodeBody(Buffer.from(bytes), CBOR_TYPE), 'BAD_REQUEST', /^malformed CBOR body: /);
  }
});

test('encodeBody: JSON with bytes as base64, bigints as strings, Maps as objects', () => {
  const { bytes, contentType } = encodeBody({
    u: new Uint8Array([0, 1, 2, 3]).subarray(1, 3), // a view: only its own bytes
    b: Buffer.from('hi'),
    n: 10n,
    m: new Map<string, unknown>([['x', 1n], ['y', new Uint8Array([1])]]),
    plain: [1, 'two', null, true],
  }, 'json');
  assert.equal(contentType, 'application/json; charset=utf-8');
  assert.deepEqual(JSON.parse(bytes as string), { u: 'AQI=', b: 'aGk=', n: '10', m: { x: '1', y: 'AQ==' }, plain: [1, 'two', null, true] });
  assert.equal(encodeBody(new Uint8Array([1, 2, 3]), 'json').bytes, '"AQID"');
  assert.equal(encodeBody(Buffer.from([0xff]), 'json').bytes, '"/w=="');
  assert.equal(encodeBody(2n ** 70n, 'json').bytes, '"1180591620717411303424"');
});

test('encodeBody: undefined (or anything JSON drops) becomes null', () => {
  assert.equal(encodeBody(undefined, 'json').bytes, 'null');
  assert.equal(encodeBody(undefined, 'json', true).bytes, 'null');
  assert.equal(encodeBody(() => 1, 'json').bytes, 'null');
  assert.equal(encodeBody({ a: undefined, b: 1 }, 'json').bytes, '{"b":1}');
});

test('encodeBody jsonOnly: plain JSON.stringify, so values JSON lacks are not converted', () => {
  assert.equal(encodeBody({ a: [1, 'x'] }, 'json', true).bytes, '{"a":[1,"x"]}');
  assert.equal(encodeBody(Buffer.from('hi'), 'json', true).bytes, '{"type":"Buffer","data":[104,105]}');
  throwsMesh(() => encodeBody({ n: 1n }, 'json', true), 'ENCODE_FAILED', /response cannot be encoded as JSON/);
});

test('encodeBody: a value JSON cannot hold is ENCODE_FAILED', () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  throwsMesh(() => encodeBody(circular, 'json'), 'ENCODE_FAILED', /response cannot be encoded as JSON/);
});

test('encodeBody: CBOR round-trips through the library codec; undefined becomes null', () => {
  const value = { name: 'ann', bytes: Buffer.from([9, 8]), n: 10n };
  const out = encodeBody(value, 'cbor');
  assert.equal(out.contentType, CBOR_TYPE);
  assert.ok(Buffer.isBuffer(out.bytes));
  assert.deepEqual(cbor.decode(out.bytes as Buffer), value);
  // A second encoding leaves the first intact.
  const other = encodeBody({ other: 'x'.repeat(100) }, 'cbor');
  assert.deepEqual(cbor.decode(out.bytes as Buffer), value);
  assert.deepEqual(cbor.decode(other.bytes as Buffer), { other: 'x'.repeat(100) });
  assert.deepEqual([...encodeBody(undefined, 'cbor').bytes as Buffer], [0xf6]);
});

test('mergeRequest: no body gives the query and path parameters, or {}', () => {
  assert.deepEqual(mergeRequest(undefined, undefined, undefined), {});
  assert.deepEqual(mergeRequest(undefined, {}, {}), {});
  assert.deepEqual(mergeRequest(undefined, { q: 'x', id: 'query' }, undefined), { q: 'x', id: 'query' });
  assert.deepEqual(mergeRequest(undefined, { q: 'x', id: 'query' }, { id: '7' }), { q: 'x', id: '7' });
});

test('mergeRequest: the body wins over the query, path parameters over both', () => {
  assert.deepEqual(
    mergeRequest({ a: 'body', id: 'body' }, { a: 'query', b: 'query', id: 'query' }, { id: '7' }),
    { a: 'body', b: 'query', id: '7' },
  );
  assert.deepEqual(mergeRequest({ a: 'body' }, { a: 'query', b: 'query' }, undefined), { a: 'body', b: 'query' });
});

test('mergeRequest: with neither query nor parameters the body passes as is', () => {
  const body = { a: 1 };
  assert.equal(mergeRequest(body, undefined, undefined), body);
  assert.equal(mergeRequest(body, {}, {}), body);
  for (const other of [null, 0, 'text', [1, 2], false]) assert.equal(mergeRequest(other, {}, undefined), other);
});

test('mergeRequest: a non-object body keeps the query out, and with path parameters is BAD_REQUEST', () => {
  for (const body of [null, 5, 'text', [1, 2], true]) {
    assert.deepEqual(mergeRequest(body, { q: 'x' }, undefined), body);
    throwsMesh(() => mergeRequest(body, undefined, { id: '7' }), 'BAD_REQUEST', /path parameters needs an object body/);
    throwsMesh(() => mergeRequest(body, { q: 'x' }, { id: '7' }), 'BAD_REQUEST');
  }
});

test('chooseProtocol prefers cbor, then json, else the first offered, else none', () => {
  assert.equal(chooseProtocol(new Set(['json', 'cbor'])), 'cbor');
  assert.equal(chooseProtocol(new Set(['mqtt', 'json'])), 'json');
  assert.equal(chooseProtocol(new Set(['mqtt', 'graphql-ws'])), 'mqtt');
  assert.equal(chooseProtocol(new Set()), false);
});
