import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MeshError, badRequest, unauthorized, forbidden, notFound, timeout, conflict, internal, unavailable,
  fromWire, toMeshError, isRetryable,
} from '../../../src/errors/index.ts';

test('constructors carry Go Micro statuses and retry flags', () => {
  const table: [MeshError, string, number, boolean][] = [
    [badRequest('x'), 'BAD_REQUEST', 400, false],
    [unauthorized('x'), 'UNAUTHORIZED', 401, false],
    [forbidden('x'), 'FORBIDDEN', 403, false],
    [notFound('x'), 'NOT_FOUND', 404, false],
    [timeout('x'), 'TIMEOUT', 408, true],
    [conflict('x'), 'CONFLICT', 409, false],
    [internal('x'), 'INTERNAL', 500, false],
    [unavailable('x'), 'UNAVAILABLE', 503, true],
  ];
  for (const [err, code, status, retryable] of table) {
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    assert.equal(err.retryable, retryable);
    assert.equal(isRetryable(err), retryable);
  }
});

test('wire round trip keeps id, code, detail and status; retryable derives from the code', () => {
  const e = new MeshError('CONNECTION_LOST', 'peer went away', { id: 'greeter' });
  const back = fromWire(JSON.parse(JSON.stringify(e.toWire())));
  assert.deepEqual(back.toWire(), { id: 'greeter', code: 'CONNECTION_LOST', detail: 'peer went away', status: 503 });
  assert.equal(back.retryable, true);
});

test('unknown codes use the status to decide retryability; malformed wire errors do not throw', () => {
  assert.equal(fromWire({ id: 'x', code: 'APP_BUSY', detail: 'd', status: 503 }).retryable, true);
  assert.equal(fromWire({ id: 'x', code: 'APP_NOPE', detail: 'd', status: 422 }).retryable, false);
  const junk = fromWire('garbage');
  assert.equal(junk.code, 'INTERNAL');
  assert.equal(fromWire(null).code, 'INTERNAL');
});

test('toMeshError maps plain errors to INTERNAL and aborts to CANCELLED', () => {
  assert.equal(toMeshError(new Error('boom')).code, 'INTERNAL');
  assert.equal(toMeshError(new DOMException('stop', 'AbortError')).code, 'CANCELLED');
  const e = notFound('y');
  assert.equal(toMeshError(e), e);
});
