import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StaticRegistry, staticNodeId } from '../../../src/registry/static.ts';
import { tryParseHostPort } from '../../../src/net/address.ts';
import { VirtualClock } from '../../../src/clock/virtual.ts';
import type { RegistryEvent } from '../../../src/registry/types.ts';
import { MeshError } from '../../../src/errors/index.ts';
import { registryCompliance, node, svc } from '../../compliance/registry.ts';

// Configured names that no compliance test uses, so the suite sees only its own records.
registryCompliance('static', {
  setup: async () => ({
    registry: new StaticRegistry({ services: { 'fixed.greeter': ['127.0.0.1:9000', '127.0.0.1:9001'] } }),
    teardown: async () => {},
  }),
});

test('static registry: configured services resolve, with ids derived from the address', async () => {
  const r = new StaticRegistry({ services: { greeter: ['10.0.0.1:8080', 'Host-B.local:80', '[::1]:9000', '10.0.0.1:8080'] } });
  const [s] = await r.getService('greeter');
  assert.equal(s!.version, '');
  assert.deepEqual(s!.nodes.map((n) => [n.id, n.address]), [
    ['static:10.0.0.1:8080', '10.0.0.1:8080'],
    ['static:host-b.local:80', 'Host-B.local:80'],
    ['static:[::1]:9000', '[::1]:9000'],
  ]);
  assert.equal(staticNodeId('10.0.0.1', 8080), 'static:10.0.0.1:8080');
  assert.deepEqual(await r.getService('other'), []);
  assert.deepEqual((await r.listServices()).map((x) => x.name), ['greeter']);
  // Same configuration, same ids, in another process.
  const again = new StaticRegistry({ services: { greeter: ['10.0.0.1:8080'] } });
  assert.equal((await again.getService('greeter'))[0]!.nodes[0]!.id, 'static:10.0.0.1:8080');
});

test("static registry: '*' resolves any name without its own entry", async () => {
  const r = new StaticRegistry({ services: { '*': ['127.0.0.1:7000'], billing: ['127.0.0.1:7100'] } });
  assert.deepEqual((await r.getService('anything'))[0]!.nodes.map((n) => n.address), ['127.0.0.1:7000']);
  assert.equal((await r.getService('anything'))[0]!.name, 'anything');
  assert.deepEqual((await r.getService('billing'))[0]!.nodes.map((n) => n.address), ['127.0.0.1:7100']);
  assert.deepEqual((await r.listServices()).map((s) => s.name), ['billing']);
});

test('static registry: bad addresses throw INVALID_CONFIG naming the entry', () => {
  const cases: Array<[Record<string, string[]>, RegExp]> = [
    [{ greeter: ['10.0.0.1'] }, /static\.services\["greeter"\]\[0\] must be host:port with a port in \[1, 65535\], got "10.0.0.1"/],
    [{ greeter: ['10.0.0.1:80', 'h:0'] }, /\["greeter"\]\[1\].*got "h:0"/],
    [{ greeter: ['h:65536'] }, /got "h:65536"/],
    [{ greeter: ['h:port'] }, /got "h:port"/],
    [{ greeter: [':80'] }, /got ":80"/],
    [{ greeter: ['::1:80'] }, /got "::1:80"/],
    [{ greeter: [] }, /static\.services\["greeter"\] must be a non-empty list/],
    [{ '*': [42 as unknown as string] }, /\["\*"\]\[0\].*got 42/],
  ];
  for (const [services, re] of cases) {
    assert.throws(() => new StaticRegistry({ services }), (err: unknown) => {
      assert.ok(err instanceof MeshError);
      assert.equal(err.code, 'INVALID_CONFIG');
      assert.match(err.detail, re);
      return true;
    });
  }
  assert.deepEqual(tryParseHostPort('[fe80::1%eth0]:53'), { host: 'fe80::1%eth0', port: 53 });
  assert.equal(tryParseHostPort('a..b:1'), undefined);
});

test('static registry: configured nodes cannot be deregistered; dynamic ones can', async () => {
  const r = new StaticRegistry({ services: { greeter: ['127.0.0.1:9000'] } });
  await assert.rejects(r.deregister(svc('greeter', '', [node('static:127.0.0.1:9000')])), { code: 'INVALID_ARGUMENT', message: /configured statically/ });
  await r.register(svc('greeter', '', [node('dyn', '127.0.0.1:9500')]));
  assert.deepEqual((await r.getService('greeter'))[0]!.nodes.map((n) => n.id), ['static:127.0.0.1:9000', 'dyn']);
  await r.deregister(svc('greeter', '', [node('dyn')]));
  assert.deepEqual((await r.getService('greeter'))[0]!.nodes.map((n) => n.id), ['static:127.0.0.1:9000']);
});

test('static registry: dynamic records merge with the configured one, in lookups and in watch events', async () => {
  const r = new StaticRegistry({ services: { greeter: ['127.0.0.1:9000'] } });
  const w = r.watch({ service: 'greeter' });
  await r.register(svc('greeter', '', [node('dyn', '127.0.0.1:9500')], { metadata: { via: 'register' } }));
  await r.register(svc('greeter', '2.0.0', [node('v2', '127.0.0.1:9600')]));
  await r.deregister(svc('greeter', '', [node('dyn')]));
  const got = await r.getService('greeter');
  assert.deepEqual(got.map((s) => `${s.version}:${s.nodes.map((n) => n.id).join()}`), [':static:127.0.0.1:9000', '2.0.0:v2']);
  const it = w[Symbol.asyncIterator]();
  const events: RegistryEvent[] = [];
  for (let i = 0; i < 3; i++) events.push((await it.next()).value as RegistryEvent);
  assert.deepEqual(events.map((e) => `${e.type}:${e.service.version}:${e.service.nodes.map((n) => n.id).join()}`), [
    'update::static:127.0.0.1:9000,dyn', // the configured record existed already
    'add:2.0.0:v2',
    'update::static:127.0.0.1:9000', // the dynamic part left; the configured record stays
  ]);
  assert.equal(events[0]!.service.metadata.via, 'register');
  w.stop();
});

test('static registry: ttlMs expires dynamic registrations on the injected clock', async () => {
  const clock = new VirtualClock();
  const r = new StaticRegistry({ services: { greeter: ['127.0.0.1:9000'] }, clock });
  await r.register(svc('greeter', '1', [node('dyn')]), { ttlMs: 500 });
  assert.equal((await r.getService('greeter')).length, 2);
  clock.advance(500);
  assert.deepEqual((await r.getService('greeter')).map((s) => s.version), ['']);
});
