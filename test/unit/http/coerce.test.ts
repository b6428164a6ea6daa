import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoercionCache, coerce } from '../../../src/http/coerce.ts';

const meta = (schema: unknown): Record<string, string> => ({ 'request-schema': JSON.stringify(schema) });
const schema = {
  type: 'object',
  properties: {
    count: { type: 'integer' }, ratio: { type: 'number' }, on: { type: 'boolean' }, name: { type: 'string' },
    maybe: { anyOf: [{ type: 'integer' }, { type: 'null' }] }, either: { type: ['string', 'number'] },
    ids: { type: 'array', items: { type: 'integer' } },
  },
};

test('query and path text becomes the number, integer or boolean the request schema declares', () => {
  const plan = new CoercionCache().of(meta(schema));
  assert.deepEqual(coerce({ count: '2', ratio: '0.5', on: 'true', name: '42', maybe: '7', either: '3', ids: ['1', '2'] }, plan),
    { count: 2, ratio: 0.5, on: true, name: '42', maybe: 7, either: '3', ids: [1, 2] });
  assert.deepEqual(coerce({ ids: '5' }, plan), { ids: [5] }, 'one value of an array field is a one-item array');
});

test('text that does not read cleanly stays text, for the server to name the field', () => {
  const plan = new CoercionCache().of(meta(schema));
  assert.deepEqual(coerce({ count: 'many', ratio: '1e400', on: 'yes', maybe: '2.5', ids: ['x'] }, plan),
    { count: 'many', ratio: '1e400', on: 'yes', maybe: '2.5', ids: ['x'] });
  assert.deepEqual(coerce({ count: '' }, plan), { count: '' });
  assert.deepEqual(coerce({ count: ' 0x10' }, plan), { count: ' 0x10' });
});

test('no schema, a malformed one or one without typed fields changes nothing, and the input is never mutated', () => {
  const cache = new CoercionCache();
  const values = { count: '2' };
  assert.equal(coerce(values, cache.of(undefined)), values);
  assert.equal(coerce(values, cache.of({ 'request-schema': '{not json' })), values);
  assert.equal(coerce(values, cache.of(meta({ type: 'object', properties: { count: { type: 'string' } } }))), values);
  const plan = cache.of(meta(schema));
  const out = coerce(values, plan);
  assert.deepEqual(values, { count: '2' });
  assert.deepEqual(out, { count: 2 });
});
