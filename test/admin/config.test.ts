import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_DEFAULTS, resolveAdminConfig } from '../../src/admin/index.ts';
import { MeshError } from '../../src/errors/index.ts';

test('defaults fill the limits; :port listens on every interface', () => {
  const c = resolveAdminConfig({ address: ':9100' });
  assert.deepEqual(c.listen, { host: '0.0.0.0', port: 9100 });
  assert.equal(c.maxBodyBytes, ADMIN_DEFAULTS.maxBodyBytes);
  assert.deepEqual(resolveAdminConfig({ address: '[::1]:0' }).listen, { host: '::1', port: 0 });
  assert.equal(resolveAdminConfig({ address: '127.0.0.1:0', maxUrlBytes: 100, sourceTimeoutMs: undefined }).maxUrlBytes, 100);
});

test('a bad address or limit fails with INVALID_CONFIG naming the field and range', () => {
  const bad = (o: Parameters<typeof resolveAdminConfig>[0], re: RegExp) => assert.throws(() => resolveAdminConfig(o), (e: unknown) => {
    assert.ok(e instanceof MeshError);
    assert.equal(e.code, 'INVALID_CONFIG');
    assert.match(e.detail, re);
    return true;
  });
  bad({ address: 'nope' }, /admin\.address must be host:port or :port with port in \[0, 65535\], got "nope"/);
  bad({ address: '127.0.0.1:70000' }, /admin\.address/);
  bad({ address: '127.0.0.1:0', maxBodyBytes: -1 }, /admin\.maxBodyBytes must be an integer in \[0, 65536\], got -1/);
  bad({ address: '127.0.0.1:0', headersTimeoutMs: 5000, requestTimeoutMs: 1000 }, /admin\.requestTimeoutMs must be at least headersTimeoutMs/);
});
