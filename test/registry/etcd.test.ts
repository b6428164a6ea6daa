// EtcdRegistry against a real etcd that the tests start on 127.0.0.1: the
// registry compliance suite unchanged, go-micro's key layout both ways, an
// etcd restart (with and without its data) under a registered node, a
// SIGKILLed owner's node expiring with its lease, malformed values skipped,
// and the etcd3 client loaded only on first use. Deadlines only, no timings.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { EtcdRegistry, type EtcdRegistryOptions } from '../../src/registry/etcd.ts';
import type { Registry, Service } from '../../src/registry/types.ts';
import type { Logger } from '../../src/log/types.ts';
import { registryCompliance, node, svc } from '../compliance/registry.ts';
import { etcdGate, type Etcd } from '../support/etcd.ts';
import { spawnTs } from '../support/process.ts';

const gate = await etcdGate();
const skip = gate.skip;
let shared: Promise<Etcd> | undefined;
const etcd = (): Promise<Etcd> => (shared ??= gate.start());
after(async () => {
  if (shared !== undefined) await (await shared).dispose();
});

let seq = 0;
const unique = (label: string): string => `etcd-${label}-${process.pid}-${++seq}`;
const open: Registry[] = [];
async function registry(opts: EtcdRegistryOptions = {}): Promise<EtcdRegistry> {
  const r = new EtcdRegistry({ hosts: (await etcd()).url, ...opts });
  open.push(r);
  return r;
}
after(async () => {
  for (const r of open) await (r as EtcdRegistry).close();
});

/** Polls until `ok` accepts `read()`'s result, failing with the last result after `limitMs`. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, limitMs = 10_000): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  for (;;) {
    const value = await read();
    if (ok(value)) return { value, ms: performance.now() - start };
    if (performance.now() - start > limitMs) assert.fail(`no ${what} within ${limitMs} ms; last saw ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ids = (l: Service[]): string[] => l.flatMap((s) => s.nodes.map((n) => n.id)).sort();

if (skip === false) {
  registryCompliance('etcd', {
    setup: async () => {
      const r = await registry();
      return { registry: r, teardown: () => r.close() };
    },
  });
} else {
  test('etcd registry: compliance suite', { skip }, () => undefined);
}

test('etcd registry: options are validated with the field and range', { skip }, async () => {
  assert.throws(() => new EtcdRegistry({ ttlMs: 1000 }), { code: 'INVALID_CONFIG', message: /etcd\.ttlMs must be an integer in \[2000, 3600000\] \(etcd's shortest lease is 2 s\), got 1000/ });
  assert.throws(() => new EtcdRegistry({ hosts: 'tcp://x' }), { code: 'INVALID_CONFIG', message: /etcd\.hosts/ });
  assert.throws(() => new EtcdRegistry({ dialTimeoutMs: 1 }), { code: 'INVALID_CONFIG', message: /etcd\.dialTimeoutMs must be an integer in \[100, 600000\]/ });
  const r = await registry();
  await assert.rejects(r.register(svc(unique('ttl'), '1', [node('a')]), { ttlMs: 1500 }), { code: 'INVALID_ARGUMENT', message: /at least 2000/ });
});

test("etcd registry: keys and values in go-micro's layout", { skip }, async () => {
  const r = await registry();
  const name = `${unique('layout')}/sub`;
  const endpoints = [{ name: 'Greeter.Hello', metadata: { 'request-schema': '{"type":"object"}' } }];
  await r.register(svc(name, '1.2.0', [node('node/1', '127.0.0.1:9000', { zone: 'eu' })], { metadata: { team: 'x' }, endpoints }));
  const raw = new Etcd3({ hosts: (await etcd()).url });
  try {
    const key = `/micro/registry/${name.replaceAll('/', '-')}/node-1`;
    const value = await raw.get(key).string();
    assert.ok(value !== null, `no key ${key}; keys: ${(await raw.getAll().prefix('/micro/registry/').keys()).join(', ')}`);
    assert.deepEqual(JSON.parse(value), {
      name,
      version: '1.2.0',
      metadata: { team: 'x' },
      endpoints: [{ name: 'Greeter.Hello', request: null, response: null, metadata: { 'request-schema': '{"type":"object"}' } }],
      nodes: [{ id: 'node/1', address: '127.0.0.1:9000', metadata: { zone: 'eu' } }],
    });
    assert.notEqual((await raw.get(key).exec()).kvs[0]!.lease, '0', 'the key is under a lease');
  } finally {
    raw.close();
  }
});

test('etcd registry: a record written by go-micro is read back as a service', { skip }, async () => {
  const name = unique('go');
  const raw = new Etcd3({ hosts: (await etcd()).url });
  try {
    // As go-micro v2 marshals registry.Service: nil maps are null, request/response are value trees.
    await raw.put(`/micro/registry/${name}/${name}-4c1a`).value(JSON.stringify({
      name, version: 'latest', metadata: null,
      endpoints: [{ name: 'Say.Hello', request: { name: 'Request', type: 'Request', values: [{ name: 'name', type: 'string', values: null }] }, response: { name: 'Response', type: 'Response', values: null }, metadata: { stream: 'false' } }],
      nodes: [{ id: `${name}-4c1a`, address: '10.1.2.3:41234', metadata: { broker: 'http', protocol: 'grpc', registry: 'etcd', server: 'grpc', transport: 'grpc' } }],
    }));
    const r = await registry();
    const { value } = await until(() => r.getService(name), (l) => l.length === 1, 'go-micro record');
    assert.deepEqual(value[0], {
      name, version: 'latest', metadata: {},
      endpoints: [{ name: 'Say.Hello', metadata: { stream: 'false' } }],
      nodes: [{ id: `${name}-4c1a`, address: '10.1.2.3:41234', metadata: { broker: 'http', protocol: 'grpc', registry: 'etcd', server: 'grpc', transport: 'grpc' } }],
    });
    // Deregistering it from here deletes go-micro's key (version-checked).
    await r.deregister(svc(name, 'other', [node(`${name}-4c1a`)]));
    assert.equal((await r.getService(name)).length, 1, 'another version leaves it alone');
    await r.deregister(svc(name, 'latest', [node(`${name}-4c1a`)]));
    assert.deepEqual(await r.getService(name), []);
  } finally {
    raw.close();
  }
});

test('etcd registry: malformed values under the prefix are skipped, counted and logged', { skip }, async () => {
  const prefix = `/${unique('bad')}/`;
  const raw = new Etcd3({ hosts: (await etcd()).url });
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => undefined, info: () => undefined, error: () => undefined,
    warn: (msg) => warnings.push(msg), child: () => logger,
  };
  try {
    await raw.put(`${prefix}x/1`).value('not json');
    await raw.put(`${prefix}x/2`).value('{"foo":1}');
    const r = await registry({ prefix, logger });
    await r.register(svc('good', '1', [node('g')]));
    await raw.put(`${prefix}x/3`).value('{"name":"x","nodes":[{"id":""}]}'); // arrives by the watch
    await until(async () => r.malformed, (n) => n >= 3, 'three malformed values');
    assert.deepEqual((await r.listServices()).map((s) => s.name), ['good']);
    assert.equal(warnings.filter((w) => /not a go-micro service record/.test(w)).length, 1, 'logged once, rate-limited');
  } finally {
    raw.close();
  }
});

test('etcd registry: close revokes the leases (the node leaves at once) and is idempotent', { skip }, async () => {
  const name = unique('close');
  const a = await registry();
  const b = await registry();
  await a.register(svc(name, '1', [node('a1')]));
  await until(() => b.getService(name), (l) => ids(l).join() === 'a1', 'the node');
  await Promise.all([a.close(), a.close()]);
  await until(() => b.getService(name), (l) => l.length === 0, 'the node gone after close', 3000);
  await assert.rejects(a.getService(name), { code: 'NOT_RUNNING' });
});

test("etcd registry: a SIGKILLed owner's node leaves when its lease expires", { skip }, async (t) => {
  const name = unique('kill');
  const observer = await registry();
  const child = spawnTs(fileURLToPath(new URL('../support/etcd-node.ts', import.meta.url)), [(await etcd()).url, name, 'k1']);
  await child.waitFor(/READY/);
  await until(() => observer.getService(name), (l) => ids(l).join() === 'k1', 'the child node');
  await child.kill('SIGKILL');
  // TTL 2 s; etcd checks expiry every 500 ms and the watch delivers: a generous deadline, never a timing assert.
  const { ms } = await until(() => observer.getService(name), (l) => l.length === 0, 'expiry of the killed node', 2000 + 3000);
  t.diagnostic(`gone ${Math.round(ms)} ms after SIGKILL (TTL 2000 ms)`);
});

for (const wipe of [false, true]) {
  const what = wipe ? 'restarted empty (its data lost)' : 'down longer than the lease, then back';
  test(`etcd registry: etcd ${what} → the node is registered again within one TTL`, { skip }, async (t) => {
    const own = await gate.start(); // its own etcd: the other tests keep theirs
    const raw = new Etcd3({ hosts: own.url });
    try {
      const name = unique(wipe ? 'wipe' : 'restart');
      const key = `/micro/registry/${name}/r1`;
      const ttlMs = 3000;
      const a = new EtcdRegistry({ hosts: own.url, ttlMs });
      const b = new EtcdRegistry({ hosts: own.url });
      open.push(a, b);
      await a.register(svc(name, '1', [node('r1', '127.0.0.1:7000')]));
      await until(() => b.getService(name), (l) => ids(l).join() === 'r1', 'the node');
      const oldLease = (await raw.get(key).exec()).kvs[0]!.lease;
      await own.stop();
      // Long enough for the client to declare the lease lost (2 × TTL without a keep-alive).
      await new Promise((r) => setTimeout(r, 2 * ttlMs + 500));
      assert.deepEqual(ids(await b.getService(name)), ['r1'], 'the last index is served while etcd is down');
      await own.start({ wipe });
      // Back under a new lease, put there by the registry itself.
      const leaseOf = async (): Promise<string> => (await raw.get(key).exec().catch(() => ({ kvs: [] }))).kvs[0]?.lease ?? 'none';
      const { ms } = await until(leaseOf, (l) => l !== 'none' && l !== '0' && l !== oldLease, 'the node under a new lease', ttlMs);
      t.diagnostic(`registered again ${Math.round(ms)} ms after etcd answered (TTL ${ttlMs} ms)`);
      // Past the old lease's TTL it is still there, kept alive; a fresh registry and the old watcher both see it.
      await new Promise((r) => setTimeout(r, ttlMs + 500));
      assert.notEqual(await leaseOf(), 'none');
      const c = new EtcdRegistry({ hosts: own.url });
      open.push(c);
      assert.deepEqual(ids(await c.getService(name)), ['r1']);
      await until(() => b.getService(name), (l) => ids(l).join() === 'r1', 'the node in the watching registry');
    } finally {
      raw.close();
      await own.dispose();
    }
  });
}

test('etcd registry: import("micromesh") loads no etcd3; the first lookup does', async () => {
  const index = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
  const etcd = fileURLToPath(new URL('../../src/registry/etcd.ts', import.meta.url));
  const probe = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(spec, ctx, next) { if (/^(etcd3|@grpc\\/grpc-js)(\\/|$)/.test(spec)) seen.push(spec); return next(spec, ctx); } });
    await import(${JSON.stringify(index)});
    // micromesh/etcd: the registry's own module, then its client on first use.
    const m = await import(${JSON.stringify(etcd)});
    const r = new m.EtcdRegistry({ hosts: 'http://127.0.0.1:1', dialTimeoutMs: 500 });
    const before = seen.length;
    const err = await r.listServices().then(() => 'no error', (e) => e.code);
    await r.close();
    console.log(JSON.stringify({ before, after: seen.length, err }));`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', probe], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)));
  });
  const { before, after: loaded, err } = JSON.parse(out) as { before: number; after: number; err: string };
  assert.equal(before, 0, 'importing micromesh and constructing an EtcdRegistry load no etcd3');
  assert.ok(loaded > 0, 'the first lookup loads it');
  assert.equal(err, 'UNAVAILABLE');
});
