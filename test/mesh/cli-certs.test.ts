// `micromesh certs` as users run it: the files it writes carry mutual TLS
// between two services, and the member commands' --tls-* flags are checked.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { createService, MemoryRegistry, silentLogger } from 'micromesh';
import { cli } from '../support/cli.ts';

test('certs ca and certs node write a CA and node certificates that two services use to call each other', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'micromesh-certs-'));
  try {
    const ca = await cli(['certs', 'ca', '--out', join(dir, 'ca')]);
    assert.equal(ca.code, 0, ca.stderr);
    assert.deepEqual(JSON.parse(ca.stdout), { cert: join(dir, 'ca', 'ca.crt'), key: join(dir, 'ca', 'ca.key') });
    assert.equal((await stat(join(dir, 'ca', 'ca.key'))).mode & 0o777, 0o600);
    for (const name of ['a', 'b']) {
      const r = await cli(['certs', 'node', name, '--ca', join(dir, 'ca'), '--out', dir, '--ip', '127.0.0.1,::1', '--days', '30']);
      assert.equal(r.code, 0, r.stderr);
    }
    const caCert = new X509Certificate(await readFile(join(dir, 'ca', 'ca.crt')));
    const a = new X509Certificate(await readFile(join(dir, 'a.crt')));
    assert.ok(caCert.ca && a.checkIssued(caCert) && a.verify(caCert.publicKey));
    assert.equal(a.subjectAltName, 'DNS:a, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.ok(Date.parse(a.validTo) - Date.now() < 31 * 86_400_000);

    // A second CA into the same directory is refused: its key would be replaced.
    const again = await cli(['certs', 'ca', '--out', join(dir, 'ca')]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /INVALID_ARGUMENT: .*ca\.key exists/);

    const registry = new MemoryRegistry();
    const tls = async (n: string) => ({ ca: caCert.toString(), cert: await readFile(join(dir, `${n}.crt`)), key: await readFile(join(dir, `${n}.key`), 'utf8') });
    const sa = createService({ name: 'a', registry, logger: silentLogger, tls: await tls('a') }).handle('E', { Say: (r: unknown) => r });
    const sb = createService({ name: 'b', registry, logger: silentLogger, tls: await tls('b') });
    await sa.start();
    await sb.start();
    try {
      assert.deepEqual(await sb.client.call('a', 'E.Say', { x: 1 }), { x: 1 });
    } finally {
      await sb.stop();
      await sa.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('certs node checks its name and addresses; run wants all three --tls files', async () => {
  const bad = await cli(['certs', 'node', '../x', '--ca', '/nonexistent', '--out', '/tmp']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /INVALID_ARGUMENT: node name/);
  const ip = await cli(['certs', 'node', 'n', '--ca', '/nonexistent', '--out', '/tmp', '--ip', 'nope']);
  assert.match(ip.stderr, /INVALID_ARGUMENT: --ip/);
  const partial = await cli(['--no-mdns', 'run', '--tls-ca', '/nonexistent']);
  assert.equal(partial.code, 1);
  assert.match(partial.stderr, /INVALID_ARGUMENT: mutual TLS needs .*missing --tls-cert, --tls-key/);
});

test('client commands (call, keys list) reach a mutual-TLS mesh with --tls-* and are refused without', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'micromesh-certs-'));
  try {
    assert.equal((await cli(['certs', 'ca', '--out', join(dir, 'ca')])).code, 0);
    for (const name of ['node', 'cli']) assert.equal((await cli(['certs', 'node', name, '--ca', join(dir, 'ca'), '--out', dir, '--ip', '127.0.0.1'])).code, 0);
    const key = Buffer.alloc(32, 7);
    const svc = createService({
      name: 'greeter', address: '127.0.0.1:0', logger: silentLogger,
      tls: { ca: await readFile(join(dir, 'ca', 'ca.crt'), 'utf8'), cert: await readFile(join(dir, 'node.crt'), 'utf8'), key: await readFile(join(dir, 'node.key'), 'utf8') },
      mesh: { mdns: false, gossipAddress: '127.0.0.1:0', keys: [new Uint8Array(key)] },
    }).handle('Greeter', { Hello: (r: { name: string }) => ({ msg: `Hello ${r.name}` }) });
    await svc.start();
    try {
      const mesh = ['--no-mdns', '--join', svc.mesh!.swim.address, '--key', key.toString('base64')];
      const tls = ['--tls-ca', join(dir, 'ca', 'ca.crt'), '--tls-cert', join(dir, 'cli.crt'), '--tls-key', join(dir, 'cli.key')];
      const ok = await cli([...mesh, '--json', 'call', 'greeter', 'Greeter.Hello', '{"name":"Ada"}', ...tls]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(JSON.parse(ok.stdout), { msg: 'Hello Ada' });
      const plain = await cli([...mesh, 'call', 'greeter', 'Greeter.Hello', '{"name":"Ada"}']);
      assert.equal(plain.code, 1);
      assert.match(plain.stderr, /CONNECTION_LOST/, 'a plain connection is closed by the TLS server');
      const keys = await cli([...mesh, '--json', 'keys', 'list', ...tls]);
      assert.equal(keys.code, 0, keys.stderr);
      assert.match(keys.stdout, new RegExp(svc.id));
    } finally {
      await svc.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
