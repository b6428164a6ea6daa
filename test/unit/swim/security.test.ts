import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Envelope, Keyring, ENCRYPTION_OVERHEAD } from '../../../src/swim/security.ts';
import { MeshError } from '../../../src/errors/index.ts';

const key = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const body = new Uint8Array([0x82, 0x02, 0x07]);

test('plaintext envelope: version, flags, cluster name, body', () => {
  const env = new Envelope('prod', undefined);
  const p = env.seal([body.subarray(0, 1), body.subarray(1)], 3);
  assert.deepEqual([...p], [1, 0, 4, ...Buffer.from('prod'), 0x82, 0x02, 0x07]);
  assert.equal(env.overhead, 7);
  assert.deepEqual([...(env.open(p) as Uint8Array)], [...body]);
});

test('a different cluster name, version or reserved flag is rejected', () => {
  const prod = new Envelope('prod', undefined);
  const p = prod.seal([body], 3);
  assert.equal(new Envelope('staging', undefined).open(p), 'wrongCluster');
  assert.equal(new Envelope('', undefined).open(p), 'wrongCluster');
  assert.equal(new Envelope('prox', undefined).open(p), 'wrongCluster');
  assert.equal(prod.open(new Uint8Array([2, 0, 0])), 'badVersion');
  assert.equal(prod.open(new Uint8Array([1, 4, 0])), 'badVersion');
  assert.equal(prod.open(new Uint8Array([1, 0])), 'malformed');
  assert.equal(prod.open(new Uint8Array([1, 0, 9, 1])), 'malformed');
});

test('encrypted envelope: 28 bytes of overhead, the header authenticated, other keys and plaintext refused', () => {
  const ring = new Keyring([key(1)]);
  const env = new Envelope('prod', ring);
  const p = env.seal([body], 3);
  assert.equal(p.length, 7 + 3 + ENCRYPTION_OVERHEAD);
  assert.equal(p[1], 1, 'encrypted flag');
  assert.deepEqual([...(env.open(p) as Uint8Array)], [...body]);
  assert.equal(new Envelope('prod', new Keyring([key(2)])).open(p), 'undecryptable');
  assert.equal(new Envelope('prod', undefined).open(p), 'undecryptable', 'a node without keys drops encrypted traffic');
  assert.equal(env.open(new Envelope('prod', undefined).seal([body], 3)), 'unencrypted');
  const tampered = p.slice();
  tampered[tampered.length - 20] ^= 1;
  assert.equal(env.open(tampered), 'undecryptable');
  // The cluster name is authenticated: rewriting it (same length) cannot pass.
  const relabelled = p.slice();
  relabelled[3] = 'q'.charCodeAt(0);
  assert.equal(new Envelope('qrod', ring).open(relabelled), 'undecryptable');
});

test('keyring rotation without downtime: add everywhere, use, remove', () => {
  const a = new Keyring([key(1)]);
  const b = new Keyring([key(1)]);
  const ea = new Envelope('', a);
  const eb = new Envelope('', b);
  // Step 1: install the new key on both; still encrypting with the old one.
  a.addKey(key(2));
  b.addKey(key(2));
  assert.ok(eb.open(ea.seal([body], 3)) instanceof Uint8Array);
  // Step 2: a switches first; b can still read it, and a can still read b.
  a.useKey(key(2));
  assert.ok(eb.open(ea.seal([body], 3)) instanceof Uint8Array);
  assert.ok(ea.open(eb.seal([body], 3)) instanceof Uint8Array);
  b.useKey(key(2));
  // Step 3: remove the old key.
  a.removeKey(key(1));
  b.removeKey(key(1));
  assert.deepEqual(a.keys().map((k) => k[0]), [2]);
  assert.ok(eb.open(ea.seal([body], 3)) instanceof Uint8Array);
  assert.equal(new Envelope('', new Keyring([key(1)])).open(ea.seal([body], 3)), 'undecryptable');
});

test('keyring errors are typed', () => {
  const isCode = (code: string) => (err: unknown) => err instanceof MeshError && err.code === code;
  assert.throws(() => new Keyring([new Uint8Array(16)]), isCode('SWIM_INVALID_KEY'));
  assert.throws(() => new Keyring([]), isCode('SWIM_INVALID_KEY'));
  const ring = new Keyring([key(1), key(2)]);
  assert.throws(() => ring.removeKey(key(1)), isCode('SWIM_KEY_IN_USE'));
  ring.removeKey(key(9)); // not installed: a no-op
  ring.addKey(key(2)); // already installed: a no-op
  assert.equal(ring.keys().length, 2);
});
