// Mutual TLS for RPC: services with certificates from the mesh's CA call
// each other (unary and streams); a peer without one, with one from another
// CA, or with an expired one can neither call nor be called, and the call
// fails with TLS_REJECTED (or, for a plain caller, a connection error) at
// once rather than hanging.
import assert from 'node:assert/strict';
import test from 'node:test';
import { createService, MemoryNetwork, MemoryRegistry, MeshError, silentLogger, type Service, type ServiceOptions } from 'micromesh';
import { makeCa, makeNodeCert, type CertPair } from '../../bin/cli/certs/make.ts';

const ca = await makeCa();
const other = await makeCa({ name: 'another CA' });
const tlsOf = async (issuer: CertPair, name: string, extra: { notBefore?: Date; days?: number } = {}): Promise<ServiceOptions['tls']> => {
  const n = await makeNodeCert(issuer, { name, ips: ['127.0.0.1'], ...extra });
  return { ca: ca.cert, cert: n.cert, key: n.key };
};

function service(name: string, registry: MemoryRegistry, tls: ServiceOptions['tls']): Service {
  return createService({ name, registry, logger: silentLogger, ...(tls ? { tls } : {}), rpc: { retries: 0, callTimeoutMs: 3000 } }).handle('Echo', {
    Say: (r: { n: number }) => ({ n: r.n }),
    async *Count({ to }: { to: number }) {
      for (let i = 1; i <= to; i++) yield i;
    },
  });
}

async function pair(serverTls: ServiceOptions['tls'], clientTls: ServiceOptions['tls']): Promise<{ server: Service; client: Service; stop(): Promise<void> }> {
  const registry = new MemoryRegistry();
  const server = service('server', registry, serverTls);
  const client = service('client', registry, clientTls);
  await server.start();
  await client.start();
  return { server, client, stop: async () => { await client.stop(); await server.stop(); } };
}

const code = (c: string) => (e: unknown): boolean => e instanceof MeshError && e.code === c;

test('two services with certificates from the CA call each other, unary and streaming, both ways', async () => {
  const p = await pair(await tlsOf(ca, 'server'), await tlsOf(ca, 'client'));
  try {
    assert.deepEqual(await p.client.client.call('server', 'Echo.Say', { n: 1 }), { n: 1 });
    assert.deepEqual(await p.server.client.call('client', 'Echo.Say', { n: 2 }), { n: 2 });
    const got: number[] = [];
    for await (const n of await p.client.client.stream<{ to: number }, number>('server', 'Echo.Count', { to: 5 })) got.push(n);
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
  } finally {
    await p.stop();
  }
});

test('a TLS service refuses a plain caller, and a plain service a TLS caller; both keep serving', async () => {
  const p = await pair(await tlsOf(ca, 'server'), undefined);
  const registry = new MemoryRegistry();
  const plainServer = service('plain', registry, undefined);
  const tlsClient = service('tls-client', registry, await tlsOf(ca, 'c'));
  await plainServer.start();
  try {
    // The plain caller cannot tell TLS from a broken peer: its connection is closed under it.
    await assert.rejects(p.client.client.call('server', 'Echo.Say', { n: 1 }), (e: unknown) =>
      e instanceof MeshError && ['CONNECTION_LOST', 'PROTOCOL_ERROR', 'TLS_REJECTED'].includes(e.code));
    await assert.rejects(tlsClient.client.call('plain', 'Echo.Say', { n: 1 }), code('TLS_REJECTED'));
    // Neither server was harmed.
    assert.deepEqual(await p.server.client.call('server', 'Echo.Say', { n: 3 }, { address: p.server.address }), { n: 3 });
    assert.deepEqual(await plainServer.client.call('plain', 'Echo.Say', { n: 4 }), { n: 4 });
  } finally {
    await tlsClient.stop();
    await plainServer.stop();
    await p.stop();
  }
});

for (const [what, bad] of [
  ['a certificate from another CA', () => tlsOf(other, 'intruder')],
  ['an expired certificate', () => tlsOf(ca, 'old', { notBefore: new Date('2020-01-01T00:00:00Z'), days: 30 })],
] as const) {
  test(`${what} is refused, as caller and as callee`, async () => {
    const p = await pair(await tlsOf(ca, 'server'), await bad());
    try {
      await assert.rejects(p.client.client.call('server', 'Echo.Say', { n: 1 }), code('TLS_REJECTED'));
      await assert.rejects(p.server.client.call('client', 'Echo.Say', { n: 1 }), code('TLS_REJECTED'));
    } finally {
      await p.stop();
    }
  });
}

test('on the mesh: SWIM joins over plain gossip, and the services call each other and publish over TLS', async () => {
  const mesh = (join: string[] = []) => ({ mdns: false as const, join, profile: 'local' as const, swim: { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 } });
  const got: unknown[] = [];
  const a = createService({ name: 'a', address: '127.0.0.1:0', logger: silentLogger, tls: await tlsOf(ca, 'a'), mesh: mesh() })
    .handle('Echo', { Say: (r: unknown) => r })
    .subscribe('news', (m) => { got.push(m); });
  await a.start();
  const b = createService({ name: 'b', address: '127.0.0.1:0', logger: silentLogger, tls: await tlsOf(ca, 'b'), mesh: mesh([a.mesh!.swim.address]) });
  await b.start();
  try {
    await until(async () => (await b.registry.getService('a')).length === 1);
    assert.deepEqual(await b.client.call('a', 'Echo.Say', { n: 1 }), { n: 1 });
    await until(async () => {
      await b.client.publish('news', { n: 2 }).catch(() => {});
      return got.length > 0;
    });
    assert.deepEqual(got[0], { n: 2 });
  } finally {
    await b.stop();
    await a.stop();
  }
});

async function until(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(await cond(), 'condition not met within 10 s');
}

test('tls is validated: each field must be PEM, named in the error', () => {
  const registry = new MemoryRegistry();
  for (const [tls, field] of [
    [{ ca: '', cert: 'x', key: 'y' }, 'tls.ca'],
    [{ ca: '-----BEGIN CERTIFICATE-----', cert: 42, key: 'y' }, 'tls.cert'],
    [{ ca: '-----BEGIN CERTIFICATE-----', cert: Buffer.from('-----BEGIN CERTIFICATE-----'), key: undefined }, 'tls.key'],
  ] as const) {
    assert.throws(() => createService({ name: 'bad', registry, logger: silentLogger, tls: tls as never }),
      (e: unknown) => e instanceof MeshError && e.code === 'INVALID_CONFIG' && e.message.includes(field));
  }
  // tls configures the default transport; a transport of one's own would silently ignore it.
  assert.throws(() => createService({ name: 'own', registry, logger: silentLogger, transport: new MemoryNetwork().transport(), tls: { ca: 'x', cert: 'y', key: 'z' } }),
    (e: unknown) => e instanceof MeshError && e.code === 'INVALID_CONFIG' && e.message.includes('tls'));
});
