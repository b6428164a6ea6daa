import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostPort, formatHostPort } from '../../../src/net/address.ts';

test('parseHostPort accepts host:port and [v6]:port', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:80'), { host: '127.0.0.1', port: 80 });
  assert.deepEqual(parseHostPort('[::1]:7946'), { host: '::1', port: 7946 });
  assert.equal(formatHostPort('::1', 7946), '[::1]:7946');
});

test('parseHostPort rejects malformed addresses with INVALID_ARGUMENT', () => {
  for (const bad of ['', '127.0.0.1', ':80', 'h:99999', 'h:x', '::1:80', '[::1]80', 'a..b:1', 'h-:1']) {
    assert.throws(() => parseHostPort(bad), (e: any) => e.code === 'INVALID_ARGUMENT', bad);
  }
});
