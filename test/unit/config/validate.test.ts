import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { intIn, parseConfig, definedOnly, str } from '../../../src/config/validate.ts';
import { MeshError } from '../../../src/errors/index.ts';

const schema = v.strictObject({ probeIntervalMs: intIn(10, 60_000), name: str(8) });

test('valid config passes through typed', () => {
  assert.deepEqual(parseConfig(schema, { probeIntervalMs: 1000, name: 'lan' }, 'swim'), { probeIntervalMs: 1000, name: 'lan' });
});

test('invalid config names the field, the allowed range and the value', () => {
  assert.throws(() => parseConfig(schema, { probeIntervalMs: 5, name: 'lan', bogus: 1 }, 'swim'), (err: unknown) => {
    assert.ok(err instanceof MeshError);
    assert.equal(err.code, 'INVALID_CONFIG');
    assert.match(err.detail, /swim\.probeIntervalMs must be an integer in \[10, 60000\], got 5/);
    assert.match(err.detail, /swim\.bogus is not a known setting/);
    return true;
  });
  assert.throws(() => parseConfig(schema, { probeIntervalMs: 1.5, name: 'x' }, 'swim'), /integer in \[10, 60000\], got 1.5/);
});

test('definedOnly drops undefined so it never overrides a default', () => {
  assert.deepEqual(definedOnly({ a: 1, b: undefined }), { a: 1 });
});
