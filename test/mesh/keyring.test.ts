// Gossip key rotation across a running mesh with `micromesh keys`: three
// in-process services on 127.0.0.1 (mDNS off), the CLI run as a user would.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createService, silentLogger, MeshError, type Service } from '../../src/index.ts';
import { keyFingerprint } from '../../src/mesh/keyring.ts';
import { INTERNAL_SERVICE, KEYRING_INSTALL, KEYRING_LIST, KEYRING_USE } from '../../src/rpc/internal.ts';
import { cli } from '../support/cli.ts';

const local = { address: '127.0.0.1:0', logger: silentLogger } as const;
const FAST = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 };
const services: Service[] = [];
after(async () => { for (const s of services.splice(0)) await s.stop().catch(() => undefined); });

async function start(name: string, keys: Uint8Array[] | undefined, join: string[] = []): Promise<Service> {
  const s = createService({ name, ...local, mesh: { mdns: false, join, profile: 'local', swim: FAST, ...(keys ? { keys } : {}) } });
  services.push(s);
  await s.start();
  return s;
}

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every node sees every other alive. */
function whole(nodes: Service[]): boolean {
  const ids = nodes.map((n) => n.mesh!.swim.id).sort();
  return nodes.every((n) => {
    const alive = n.mesh!.swim.members().filter((m) => m.state === 'alive').map((m) => m.id).sort();
    return JSON.stringify(alive) === JSON.stringify(ids);
  });
}

const b64 = (k: Uint8Array): string => Buffer.from(k).toString('base64');

interface ListOut { total: number; keys: { fingerprint: string; nodes: number }[]; nodes: { id: string; ok: boolean; primary?: string }[] }
interface ChangeOut { key: string; nodes: { id: string; ok: boolean; code?: string; detail?: string }[] }

test('keys install, use, remove rotate the gossip key across a running mesh; it stays whole throughout', async () => {
  const k1 = new Uint8Array(randomBytes(32));
  const k2 = new Uint8Array(randomBytes(32));
  const a = await start('a', [k1]);
  const seed = [a.mesh!.swim.address];
  const b = await start('b', [k1], seed);
  const c = await start('c', [k1], seed);
  const mesh = [a, b, c];
  await until(() => whole(mesh), 'three members alive everywhere');
  const keys = (key: Uint8Array, ...args: string[]) => cli(['--json', '--no-mdns', '--join', seed[0]!, '--key', b64(key), 'keys', ...args]);
  // Not one packet among the three may fail to decrypt, at any moment of the rotation.
  const undecryptable = (): number => mesh.reduce((n, s) => n + s.mesh!.swim.stats().droppedUndecryptable, 0);

  let r = await keys(k1, 'install', b64(k2));
  assert.equal(r.code, 0, r.stderr);
  const installed = JSON.parse(r.stdout) as ChangeOut;
  assert.equal(installed.key, keyFingerprint(k2));
  assert.deepEqual(installed.nodes.map((n) => n.ok), [true, true, true]);
  assert.ok(whole(mesh));

  r = await keys(k1, 'list');
  assert.equal(r.code, 0, r.stderr);
  let list = JSON.parse(r.stdout) as ListOut;
  assert.equal(list.total, 3);
  assert.deepEqual(list.keys, [{ fingerprint: keyFingerprint(k1), nodes: 3 }, { fingerprint: keyFingerprint(k2), nodes: 3 }]);
  assert.ok(list.nodes.every((n) => n.primary === keyFingerprint(k1)));
  assert.ok(!r.stdout.includes(b64(k1)) && !r.stdout.includes(b64(k2)), 'list shows fingerprints, never keys');

  // Serf's rule: only an installed key becomes primary; the primary cannot be removed.
  const k3 = new Uint8Array(randomBytes(32));
  r = await keys(k1, 'use', b64(k3));
  assert.equal(r.code, 1);
  assert.deepEqual((JSON.parse(r.stdout) as ChangeOut).nodes.map((n) => n.code), ['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
  r = await keys(k1, 'remove', b64(k1));
  assert.equal(r.code, 1);
  assert.deepEqual((JSON.parse(r.stdout) as ChangeOut).nodes.map((n) => n.code), ['FAILED_PRECONDITION', 'FAILED_PRECONDITION', 'FAILED_PRECONDITION']);

  r = await keys(k1, 'use', b64(k2));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(a.mesh!.swim.keyring!.keys().map(keyFingerprint), [keyFingerprint(k2), keyFingerprint(k1)]);
  await until(() => whole(mesh), 'mesh whole after use');

  r = await keys(k2, 'remove', b64(k1));
  assert.equal(r.code, 0, r.stderr);
  for (const s of mesh) assert.deepEqual(s.mesh!.swim.keyring!.keys().map(keyFingerprint), [keyFingerprint(k2)]);
  r = await keys(k2, 'list');
  list = JSON.parse(r.stdout) as ListOut;
  assert.deepEqual(list.keys, [{ fingerprint: keyFingerprint(k2), nodes: 3 }]);
  assert.ok(whole(mesh));
  assert.equal(undecryptable(), 0);

  // The rotated mesh admits a node holding only the new key, and no longer one holding only the old.
  const d = await start('d', [k2], seed);
  await until(() => whole([...mesh, d]), 'a k2-only node joins');
  const e = await start('e', [k1], seed);
  assert.equal(e.mesh!.peerCount(), 0);
  assert.equal(a.mesh!.swim.member(e.mesh!.swim.id), undefined);
});

test('keyring endpoints refuse a bad key size, and refuse on a plaintext node', async () => {
  const k1 = new Uint8Array(randomBytes(32));
  const a = await start('ka', [k1]);
  const plain = await start('plain', undefined);
  const call = (s: Service, endpoint: string, req: object) => s.client.call(INTERNAL_SERVICE, endpoint, req, { address: s.address!, retries: 0 });
  await assert.rejects(call(a, KEYRING_INSTALL.endpoint, { key: b64(randomBytes(16)) }), (e: unknown) =>
    e instanceof MeshError && e.code === 'BAD_REQUEST' && /32 bytes, got 16 bytes/.test(e.detail));
  await assert.rejects(call(a, KEYRING_USE.endpoint, { key: 42 }), (e: unknown) => e instanceof MeshError && e.code === 'BAD_REQUEST');
  await assert.rejects(call(plain, KEYRING_LIST.endpoint, {}), (e: unknown) => e instanceof MeshError && e.code === 'FAILED_PRECONDITION');
  assert.deepEqual(await call(a, KEYRING_LIST.endpoint, {}), { keys: [keyFingerprint(k1)], primary: keyFingerprint(k1) });
  // The CLI checks the size before reaching any node.
  const r = await cli(['--no-mdns', '--join', a.mesh!.swim.address, '--key', b64(k1), 'keys', 'install', b64(randomBytes(16))]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /32 bytes in base64.*got 16 bytes/);
});
