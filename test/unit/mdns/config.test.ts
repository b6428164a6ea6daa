import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MDNS_DEFAULTS, resolveAnnouncement, resolveCluster, resolveMdnsConfig } from '../../../src/mdns/config.ts';
import { MeshError } from '../../../src/errors/index.ts';

const ST = '_micromesh._udp.local';
const local = { nodeId: 'n1', gossipAddress: '0.0.0.0:7946', rpcAddress: '10.0.0.1:8080', protocolVersion: 1 };

function rejects(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof MeshError && err.code === 'INVALID_CONFIG' && re.test(err.detail) || assert.fail(String(err)));
}

test('mdns config: defaults are valid and undefined overrides keep them', () => {
  assert.deepEqual(resolveMdnsConfig(), MDNS_DEFAULTS);
  assert.deepEqual(resolveMdnsConfig({ port: undefined }), MDNS_DEFAULTS);
  assert.equal(resolveMdnsConfig({ port: 15353, interfaces: ['10.0.0.1'] }).port, 15353);
});

test('mdns config: errors name the field, the allowed range and the value', () => {
  rejects(() => resolveMdnsConfig({ port: 0 }), /^mdns\.port must be an integer in \[1, 65535\], got 0$/);
  rejects(() => resolveMdnsConfig({ browseIntervalMs: 5 }), /mdns\.browseIntervalMs must be an integer in \[100, 3600000\], got 5/);
  rejects(() => resolveMdnsConfig({ browseJitter: 1 }), /mdns\.browseJitter must be a number in \[0, 0\.9\], got 1/);
  rejects(() => resolveMdnsConfig({ interfaces: ['eth0'] }), /mdns\.interfaces\.0 must be an IPv4 address/);
  rejects(() => resolveMdnsConfig({ interfaces: ['10.0.0.1', '10.0.0.1'] }), /mdns\.interfaces must not list an address twice/);
  rejects(() => resolveMdnsConfig({ serviceType: '_micromesh._udp' }), /mdns\.serviceType must look like _name\._udp\.local/);
  rejects(() => resolveMdnsConfig({ serviceType: '_much-too-long-name._udp.local' }), /mdns\.serviceType/);
  rejects(() => resolveMdnsConfig({ bogus: 1 } as never), /mdns\.bogus is not a known setting/);
  rejects(() => resolveMdnsConfig({ announceTtlS: 10, browseIntervalMs: 5000 }),
    /mdns\.announceTtlS must be at least twice the longest browse interval \(6250 ms/);
  assert.equal(resolveMdnsConfig({ announceTtlS: 13, browseIntervalMs: 5000 }).announceTtlS, 13);
});

test('mdns config: the announcement is validated field by field and must fit a packet', () => {
  assert.deepEqual(resolveAnnouncement('prod', local, ST), { cluster: 'prod', meta: {}, ...local });
  rejects(() => resolveAnnouncement('prod', { ...local, nodeId: 'a b' }, ST), /mdns\.announcement\.nodeId must be 1-128 bytes of printable/);
  rejects(() => resolveAnnouncement('prod', { ...local, gossipAddress: '10.0.0.1' }, ST), /mdns\.announcement\.gossipAddress must be host:port/);
  rejects(() => resolveAnnouncement('prod', { ...local, rpcAddress: '10.0.0.1:0' }, ST), /mdns\.announcement\.rpcAddress/);
  rejects(() => resolveAnnouncement('prod', { ...local, protocolVersion: 1.5 }, ST), /protocolVersion must be an integer in \[0, 65535\]/);
  rejects(() => resolveAnnouncement('-x', local, ST), /mdns\.announcement\.cluster must be 1-63/);
  rejects(() => resolveAnnouncement('prod', { ...local, meta: { id: 'x' } }, ST), /mdns\.announcement\.meta\.id must be a key of 1-16 .* not one of txtvers, cluster, id/);
  rejects(() => resolveAnnouncement('prod', { ...local, meta: { Zone: 'x' } }, ST), /meta/);
  const nine = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'v']));
  rejects(() => resolveAnnouncement('prod', { ...local, meta: nine }, ST), /must have at most 8 entries/);
  rejects(() => resolveAnnouncement('prod', { ...local, meta: { k: 'v'.repeat(300) } }, ST), /over 255 bytes; shorten/);
  const big = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, 'v'.repeat(140)]));
  rejects(() => resolveAnnouncement('prod', { ...local, meta: big }, ST), /over the 1024-byte limit/);
  const fits = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, 'v'.repeat(120)]));
  rejects(() => resolveAnnouncement('prod', { ...local, nodeId: 'n'.repeat(128), meta: fits }, ST), /announcement packet would be \d+ bytes, over the 1400-byte limit/);
  assert.equal(resolveCluster('a.b_c-1'), 'a.b_c-1');
  rejects(() => resolveCluster(''), /mdns\.cluster must be 1-63/);
});
