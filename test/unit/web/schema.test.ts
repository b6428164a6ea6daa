// The browser app's schema helpers are plain functions: tested here in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequest, describe, formFields } from '../../../src/web/ui/schema.ts';

const schema = {
  type: 'object',
  required: ['name', 'address'],
  properties: {
    name: { type: 'string', description: 'who' },
    times: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
    on: { type: 'boolean' },
    color: { enum: ['red', 'blue'] },
    tags: { type: 'array', items: { type: 'string' } },
    address: { $ref: '#/$defs/Address' },
  },
  $defs: { Address: { type: 'object', required: ['city'], properties: { city: { type: 'string' }, zip: { type: 'integer' } } } },
};

test('describe lists fields as micro did: type, optional, nested objects indented, $refs followed', () => {
  assert.equal(describe(schema), [
    'name string  // who',
    'times int (optional)',
    'on boolean (optional)',
    'color "red"|"blue" (optional)',
    'tags []string (optional)',
    'address {',
    '  city string',
    '  zip int (optional)',
    '}',
  ].join('\n'));
  assert.equal(describe({ type: 'array', items: { type: 'number' } }), '[]number');
});

test('formFields: one input per field, nested paths, JSON for what a form cannot type; none for a non-object', () => {
  const fields = formFields(schema)!;
  assert.deepEqual(fields.map((f) => [f.path, f.kind, f.required]), [
    ['name', 'string', true], ['times', 'integer', false], ['on', 'boolean', false], ['color', 'enum', false],
    ['tags', 'json', false], ['address.city', 'string', true], ['address.zip', 'integer', false],
  ]);
  assert.equal(formFields({ type: 'string' }), undefined);
  assert.equal(formFields(undefined), undefined);
});

test('buildRequest types the inputs, leaves empty ones out, and passes unreadable numbers on for the server to name', () => {
  const fields = formFields(schema)!;
  assert.deepEqual(buildRequest(fields, { name: 'Ada', times: '3', on: true, color: '"blue"', tags: '["a"]', 'address.city': 'Oslo', 'address.zip': '' }),
    { name: 'Ada', times: 3, on: true, color: 'blue', tags: ['a'], address: { city: 'Oslo' } });
  assert.deepEqual(buildRequest(fields, { times: 'many' }), { times: 'many' });
  assert.throws(() => buildRequest(fields, { tags: '[oops' }), /tags: not JSON/);
});
