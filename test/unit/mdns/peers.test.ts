import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerTable, sameAnnouncement } from '../../../src/mdns/peers.ts';
import type { AnnouncedPeer } from '../../../src/mdns/types.ts';

const heard = (id: string, over: Partial<AnnouncedPeer> = {}): AnnouncedPeer => ({
  cluster: 'c', nodeId: id, gossipAddress: '10.0.0.1:7946', rpcAddress: '10.0.0.1:8080', protocolVersion: 1, meta: {},
  instance: `${id}._micromesh._udp.local`, ttlS: 10, source: '10.0.0.1', ...over,
});

test('mdns peers: new, refreshed and changed observations', () => {
  const t = new PeerTable(10);
  const first = t.observe(heard('a'), 1000, '10.0.0.9');
  assert.equal(first.kind, 'new');
  assert.deepEqual(first.kind === 'new' && [first.peer.firstSeenAtMs, first.peer.lastSeenAtMs, first.peer.expiresAtMs, first.peer.via], [1000, 1000, 11_000, '10.0.0.9']);
  const again = t.observe(heard('a', { source: '10.0.0.2', ttlS: 20 }), 5000, undefined);
  assert.equal(again.kind, 'refreshed', 'source, TTL and interface are not the announcement');
  assert.equal(t.get('a')!.expiresAtMs, 25_000);
  assert.equal(t.get('a')!.firstSeenAtMs, 1000);
  const changed = t.observe(heard('a', { meta: { zone: 'b' } }), 6000, undefined);
  assert.equal(changed.kind, 'changed');
  assert.deepEqual(changed.kind === 'changed' && changed.previous.meta, {});
  assert.equal(first.kind === 'new' && first.peer.lastSeenAtMs, 1000, 'peers handed out are never mutated');
});

test('mdns peers: sameAnnouncement compares every announced field and meta by content', () => {
  const a = heard('a', { meta: { x: '1', y: '2' } });
  assert.equal(sameAnnouncement(a, heard('a', { meta: { y: '2', x: '1' } })), true);
  const diffs: Partial<AnnouncedPeer>[] = [{ gossipAddress: 'h:1' }, { rpcAddress: 'h:1' }, { protocolVersion: 2 }, { cluster: 'd' }, { meta: { x: '1' } }, { meta: { x: '1', z: '2' } }];
  for (const diff of diffs) {
    assert.equal(sameAnnouncement(a, heard('a', diff)), false, JSON.stringify(diff));
  }
});

test('mdns peers: expiry, goodbye, the next expiry and a full table', () => {
  const t = new PeerTable(2);
  t.observe(heard('a', { ttlS: 5 }), 0, undefined);
  t.observe(heard('b', { ttlS: 3 }), 0, undefined);
  assert.deepEqual(t.observe(heard('c'), 0, undefined), { kind: 'full' });
  assert.equal(t.observe(heard('a', { ttlS: 5 }), 1000, undefined).kind, 'refreshed', 'known peers refresh even when full');
  assert.equal(t.nextExpiryMs(), 3000);
  assert.deepEqual(t.expire(2999), []);
  assert.deepEqual(t.expire(3000).map((p) => p.nodeId), ['b']);
  assert.equal(t.nextExpiryMs(), 6000);
  assert.equal(t.goodbye(heard('zz')), undefined);
  assert.equal(t.goodbye(heard('a'))?.nodeId, 'a');
  assert.equal(t.size, 0);
  assert.equal(t.nextExpiryMs(), undefined);
});

test('mdns peers: known answers carry the whole seconds left, longest first, none under a second', () => {
  const t = new PeerTable(10);
  t.observe(heard('a', { ttlS: 10 }), 0, undefined);
  t.observe(heard('b', { ttlS: 30 }), 0, undefined);
  t.observe(heard('c', { ttlS: 1 }), 0, undefined);
  assert.deepEqual(t.knownAnswers(500), [
    { instance: 'b._micromesh._udp.local', ttlS: 29 }, { instance: 'a._micromesh._udp.local', ttlS: 9 },
  ]);
  assert.deepEqual(t.list().map((p) => p.nodeId), ['a', 'b', 'c']);
});
