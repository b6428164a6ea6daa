// The agent's DNS server answering Debian's dig (a real client, dnsutils) over UDP and TCP: service SRV with node
// targets, tag and RFC 2782 forms, a node's A, NXDOMAIN, REFUSED outside the domain, a large answer retried over
// TCP after TC; garbage packets dropped and counted while the server keeps answering.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import { SystemClock, SeededRandom, silentLogger } from 'micromesh';
import { DnsServer } from '../../src/agent/dns-server.ts';
import { dnsAnswer } from '../../src/agent/dns.ts';
import { snapshotOf } from '../support/agent-snapshot.ts';
import { serverGate } from '../support/servers.ts';

const gate = await serverGate('/usr/bin/dig', 'apt-get install dnsutils');
const run = promisify(execFile);

const snap = snapshotOf({
  datacenter: 'dc1', index: 3,
  nodes: [
    { name: 'mm-1', id: 'a', address: '127.0.0.11', meta: { 'consul-network-segment': '' } },
    { name: 'mm-2', id: 'b', address: '127.0.0.12', meta: {} },
    ...Array.from({ length: 40 }, (_, i) => ({ name: `bulk-node-number-${i}`, id: `x${i}`, address: `127.0.1.${i + 1}`, meta: {} })),
  ],
  instances: [
    { node: 'mm-1', id: 'greeter-1', service: 'greeter', address: '', port: 18500, tags: ['v1'], meta: {}, status: 'passing' },
    { node: 'mm-2', id: 'greeter-2', service: 'greeter', address: '', port: 18501, tags: [], meta: {}, status: 'passing' },
    ...Array.from({ length: 40 }, (_, i) => ({ node: `bulk-node-number-${i}`, id: `b${i}`, service: 'bulk', address: '', port: 9000 + i, tags: [], meta: {}, status: 'passing' as const })),
  ],
});
let server: DnsServer;
before(async () => {
  if (gate.skip) return;
  const random = new SeededRandom(1);
  server = new DnsServer({
    address: '127.0.0.1:0', logger: silentLogger, clock: new SystemClock(),
    answer: (q, udp) => dnsAnswer(q, snap, { domain: 'consul', ttlSeconds: 0 }, random, udp),
  });
  await server.start();
});
after(() => server?.stop());

async function dig(...args: string[]): Promise<string> {
  const port = server.address!.split(':').at(-1)!;
  return (await run('/usr/bin/dig', ['@127.0.0.1', '-p', port, '+time=2', '+tries=1', ...args])).stdout;
}

test('dig: SRV of a service, with node targets and their A records; a node\'s A; tag and RFC 2782 forms', gate, async () => {
  const full = await dig('greeter.service.consul', 'SRV');
  assert.match(full, /flags: qr aa rd;/);
  assert.match(full, /status: NOERROR/);
  assert.match(full, /greeter\.service\.consul\.\s+0\s+IN\s+SRV\s+1 1 18500 mm-1\.node\.dc1\.consul\./);
  assert.match(full, /mm-2\.node\.dc1\.consul\.\s+0\s+IN\s+A\s+127\.0\.0\.12/);
  assert.equal((await dig('+short', 'mm-1.node.consul')).trim(), '127.0.0.11');
  assert.equal((await dig('+short', 'mm-1.node.dc1.consul')).trim(), '127.0.0.11', 'the SRV target resolves');
  assert.equal((await dig('+short', 'v1.greeter.service.consul', 'SRV')).trim(), '1 1 18500 mm-1.node.dc1.consul.');
  assert.equal((await dig('+short', '_greeter._v1.service.consul', 'SRV')).trim(), '1 1 18500 mm-1.node.dc1.consul.');
  assert.deepEqual((await dig('+short', 'greeter.service.consul')).trim().split('\n').sort(), ['127.0.0.11', '127.0.0.12']);
});

test('dig: unknown names get NXDOMAIN with the SOA; names outside the domain are REFUSED', gate, async () => {
  const nx = await dig('nope.service.consul');
  assert.match(nx, /status: NXDOMAIN/);
  assert.match(nx, /AUTHORITY SECTION:\s+consul\.\s+0\s+IN\s+SOA\s+ns\.consul\. hostmaster\.consul\./);
  assert.match(await dig('example.com'), /status: REFUSED/);
});

test('dig: a large answer is truncated over UDP and dig gets it whole over TCP', gate, async () => {
  const udpOnly = await dig('+ignore', '+noedns', 'bulk.service.consul', 'SRV');
  assert.match(udpOnly, /flags: qr aa tc rd;/);
  const retried = await dig('+noedns', 'bulk.service.consul', 'SRV');
  assert.match(retried, /ANSWER: 40,/);
  assert.match(await dig('+tcp', '+short', 'greeter.service.consul', 'SRV'), /1 1 1850[01] mm-[12]\.node\.dc1\.consul\./);
  assert.ok(server.stats().tcpQueries >= 2);
});

test('garbage packets are dropped and counted; the server keeps answering', gate, async () => {
  const before = server.stats().malformed;
  const sock = dgram.createSocket('udp4');
  const port = Number(server.address!.split(':').at(-1));
  for (const junk of [Buffer.from([1, 2, 3]), Buffer.alloc(0), Buffer.from('not dns at all, not at all')]) {
    await new Promise<void>((resolve) => sock.send(junk, port, '127.0.0.1', () => resolve()));
  }
  sock.close();
  assert.equal((await dig('+short', 'mm-2.node.consul')).trim(), '127.0.0.12');
  assert.ok(server.stats().malformed >= before + 2, `malformed counted: ${JSON.stringify(server.stats())}`);
});
