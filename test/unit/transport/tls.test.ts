// TcpTransport with tls: what a raw TLS client sees (TLS 1.3 only, a client
// certificate required), and dial errors keep their TCP codes before the handshake.
import assert from 'node:assert/strict';
import test from 'node:test';
import net from 'node:net';
import tls from 'node:tls';
import { MeshError, TcpTransport } from 'micromesh';
import { makeCa, makeNodeCert } from '../../../bin/cli/certs/make.ts';

const ca = await makeCa();
const server = await makeNodeCert(ca, { name: 'server', ips: ['127.0.0.1'] });
const client = await makeNodeCert(ca, { name: 'client' });

async function echoServer(): Promise<{ address: string; port: number; close(): Promise<void> }> {
  const t = new TcpTransport({ tls: { ca: ca.cert, ...server } });
  const l = await t.listen('127.0.0.1:0', (s) => s.attach({ data: (d) => s.write(d), close: () => {} }));
  return { address: l.address, port: Number(l.address.split(':')[1]), close: () => l.close() };
}

/** Connects with node:tls directly; resolves with the protocol, or the error, once the server has had its say. */
function raw(port: number, opts: tls.ConnectionOptions): Promise<{ protocol?: string | null; echoed?: string; error?: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, checkServerIdentity: () => undefined, ...opts });
    s.once('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    s.once('secureConnect', () => s.write('ping'));
    s.once('data', (d) => {
      resolve({ protocol: s.getProtocol(), echoed: String(d) });
      s.destroy();
    });
  });
}

test('a client with a certificate from the CA negotiates TLS 1.3 and is served', async () => {
  const srv = await echoServer();
  try {
    assert.deepEqual(await raw(srv.port, { cert: client.cert, key: client.key }), { protocol: 'TLSv1.3', echoed: 'ping' });
  } finally {
    await srv.close();
  }
});

test('the server refuses TLS 1.2 and a client without a certificate', async () => {
  const srv = await echoServer();
  try {
    const old = await raw(srv.port, { cert: client.cert, key: client.key, maxVersion: 'TLSv1.2' });
    assert.ok(old.error !== undefined, 'TLS 1.2 refused');
    const anonymous = await raw(srv.port, {});
    assert.ok(anonymous.error !== undefined, 'no client certificate refused');
  } finally {
    await srv.close();
  }
});

test('dialling with tls: nothing listening is CONNECTION_REFUSED, a bad server is TLS_REJECTED', async () => {
  const srv = await echoServer();
  const address = srv.address;
  await srv.close();
  const t = new TcpTransport({ tls: { ca: ca.cert, ...client } });
  await assert.rejects(t.dial(address), (e: unknown) => e instanceof MeshError && e.code === 'CONNECTION_REFUSED');
  // A server whose certificate comes from another CA.
  const other = await makeCa({ name: 'other' });
  const foreign = await makeNodeCert(other, { name: 'x' });
  const bad = await new TcpTransport({ tls: { ca: other.cert, ...foreign } }).listen('127.0.0.1:0', () => {});
  try {
    await assert.rejects(t.dial(bad.address), (e: unknown) => e instanceof MeshError && e.code === 'TLS_REJECTED');
  } finally {
    await bad.close();
  }
});

test('a key that does not match its certificate is INVALID_CONFIG at listen', async () => {
  const t = new TcpTransport({ tls: { ca: ca.cert, cert: server.cert, key: client.key } });
  await assert.rejects(t.listen('127.0.0.1:0', () => {}), (e: unknown) => e instanceof MeshError && e.code === 'INVALID_CONFIG');
});

test('plain bytes to a TLS listener close that connection only; the listener keeps serving', async () => {
  const srv = await echoServer();
  try {
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect(srv.port, '127.0.0.1', () => s.write(Buffer.alloc(64, 0x41)));
      s.on('error', () => {});
      s.on('close', () => resolve(true));
    });
    assert.ok(closed);
    assert.deepEqual(await raw(srv.port, { cert: client.cert, key: client.key }), { protocol: 'TLSv1.3', echoed: 'ping' });
  } finally {
    await srv.close();
  }
});
