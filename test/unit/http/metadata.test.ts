import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerRules, headersToMetadata, metadataToHeaders, requestTimeoutMs } from '../../../src/http/metadata.ts';
import { DEFAULT_METADATA_HEADERS } from '../../../src/http/config.ts';
import { MeshError } from '../../../src/index.ts';

const rules = headerRules({ metadataHeaders: DEFAULT_METADATA_HEADERS, metadataPrefix: 'x-micro-' });

test('headerRules lower-cases the allowlist and the prefix', () => {
  const r = headerRules({ metadataHeaders: ['Authorization', 'X-Trace'], metadataPrefix: 'X-App-' });
  assert.deepEqual([...r.allowed].sort(), ['authorization', 'x-trace']);
  assert.equal(r.prefix, 'x-app-');
});

test('only allowlisted and prefixed headers become metadata; the prefix is stripped', () => {
  const md = headersToMetadata({
    authorization: 'Bearer t',
    traceparent: '00-abc-def-01',
    'x-micro-tenant': 'acme',
    'x-micro-user-id': '42',
    host: 'api.example',
    cookie: 'sid=1',
    'content-length': '12',
    connection: 'keep-alive',
    'x-other': 'no',
  }, rules, 'req-1', undefined);
  assert.deepEqual(md, {
    authorization: 'Bearer t',
    traceparent: '00-abc-def-01',
    tenant: 'acme',
    'user-id': '42',
    'x-request-id': 'req-1',
  });
});

test('repeated headers are joined with ", "; absent values are skipped', () => {
  const md = headersToMetadata({ 'accept-language': ['en', 'fr'], 'x-micro-tag': ['a', 'b'], 'user-agent': undefined }, rules, 'r', undefined);
  assert.equal(md['accept-language'], 'en, fr');
  assert.equal(md.tag, 'a, b');
  assert.equal('user-agent' in md, false);
});

test('the prefix alone is no metadata name; an empty prefix strips nothing', () => {
  assert.equal('' in headersToMetadata({ 'x-micro-': 'v' }, rules, 'r', undefined), false);
  const none = headerRules({ metadataHeaders: [], metadataPrefix: '' });
  assert.deepEqual(headersToMetadata({ 'x-micro-tenant': 'acme', authorization: 'x' }, none, 'r', '10.0.0.1'), {});
});

test('x-request-id is the request id given, replacing one the client sent, when allowlisted', () => {
  assert.equal(headersToMetadata({ 'x-request-id': 'client-chosen' }, rules, 'req-9', undefined)['x-request-id'], 'req-9');
  const noId = headerRules({ metadataHeaders: ['authorization'], metadataPrefix: 'x-micro-' });
  assert.equal('x-request-id' in headersToMetadata({ 'x-request-id': 'c' }, noId, 'req-9', undefined), false);
});

test('x-forwarded-for gets the client address appended, or starts with it', () => {
  assert.equal(headersToMetadata({}, rules, 'r', '10.0.0.7')['x-forwarded-for'], '10.0.0.7');
  assert.equal(headersToMetadata({ 'x-forwarded-for': '1.2.3.4' }, rules, 'r', '10.0.0.7')['x-forwarded-for'], '1.2.3.4, 10.0.0.7');
  assert.equal(headersToMetadata({ 'x-forwarded-for': ['1.2.3.4', '5.6.7.8'] }, rules, 'r', '::1')['x-forwarded-for'], '1.2.3.4, 5.6.7.8, ::1');
  assert.equal(headersToMetadata({ 'x-forwarded-for': '1.2.3.4' }, rules, 'r', undefined)['x-forwarded-for'], '1.2.3.4');
  assert.equal('x-forwarded-for' in headersToMetadata({}, rules, 'r', undefined), false);
  const noXff = headerRules({ metadataHeaders: ['x-request-id'], metadataPrefix: 'x-micro-' });
  assert.equal('x-forwarded-for' in headersToMetadata({ 'x-forwarded-for': '1.2.3.4' }, noXff, 'r', '10.0.0.7'), false);
});

test('metadataToHeaders keeps allowlisted names and prefixes the rest, lower-cased', () => {
  assert.deepEqual(metadataToHeaders({ authorization: 'Bearer t', Traceparent: '00-a-b-01', tenant: 'acme', 'User-Id': '42', x_y: '1' }, rules), {
    authorization: 'Bearer t',
    traceparent: '00-a-b-01',
    'x-micro-tenant': 'acme',
    'x-micro-user-id': '42',
    'x-micro-x_y': '1',
  });
});

test('metadataToHeaders drops what a header cannot carry: CR/LF in values, odd names', () => {
  const out = metadataToHeaders({
    ok: 'v',
    split: 'a\r\nx-injected: 1',
    lf: 'a\nb',
    cr: 'a\rb',
    'has space': 'v',
    'colon:name': 'v',
    'dot.name': 'v',
    '': 'v',
    'ünï': 'v',
  }, rules);
  assert.deepEqual(out, { 'x-micro-ok': 'v' });
});

test('headers → metadata → headers round-trips the prefixed and allowlisted ones', () => {
  const md = headersToMetadata({ authorization: 'a', 'x-micro-tenant': 't' }, rules, 'r', undefined);
  assert.deepEqual(metadataToHeaders(md, rules), { authorization: 'a', 'x-micro-tenant': 't', 'x-request-id': 'r' });
});

test('requestTimeoutMs reads seconds, or a duration in ms or s, capped at the maximum', () => {
  const table: [string, number][] = [
    ['2', 2000],
    ['0.5', 500],
    ['250ms', 250],
    ['2s', 2000],
    ['1.5ms', 2], // rounded up to a whole ms
    ['0.0001', 1],
    [' 3 ', 3000],
    ['120', 60_000], // capped
    ['60001ms', 60_000],
    ['1' + '0'.repeat(400), 60_000],
  ];
  for (const [value, ms] of table) assert.equal(requestTimeoutMs({ timeout: value }, 60_000), ms, value);
});

test('requestTimeoutMs: absent is undefined; X-Micro-Timeout when Timeout is absent; the first of repeated values', () => {
  assert.equal(requestTimeoutMs({}, 60_000), undefined);
  assert.equal(requestTimeoutMs({ timeout: undefined }, 60_000), undefined);
  assert.equal(requestTimeoutMs({ 'x-micro-timeout': '3' }, 60_000), 3000);
  assert.equal(requestTimeoutMs({ 'x-micro-timeout': '750ms' }, 60_000), 750);
  assert.equal(requestTimeoutMs({ timeout: '1', 'x-micro-timeout': '3' }, 60_000), 1000);
  assert.equal(requestTimeoutMs({ timeout: ['4', '9'] }, 60_000), 4000);
});

test('requestTimeoutMs: malformed or zero is BAD_REQUEST naming the value', () => {
  for (const value of ['abc', '', '-1', '2 s', '2m', '1e3', '.5', '5.', 'Infinity', '0x10', '0', '0.0', '0ms', '0s']) {
    assert.throws(() => requestTimeoutMs({ timeout: value }, 60_000), (err: unknown) => {
      assert.ok(err instanceof MeshError);
      assert.equal(err.code, 'BAD_REQUEST');
      assert.equal(err.status, 400);
      assert.equal(err.id, 'micromesh.http');
      assert.ok(err.detail.includes(`"${value.trim()}"`), err.detail);
      return true;
    }, value);
  }
  assert.throws(() => requestTimeoutMs({ 'x-micro-timeout': 'soon' }, 60_000), { code: 'BAD_REQUEST' });
});
