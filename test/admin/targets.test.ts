import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HTTP_SD_LABELS, httpSdGroups, tagList, type AdminMember } from '../../src/admin/index.ts';

const member = (id: string, admin: string, state = 'alive', services: [string, string][] = [['greeter', '1.0.0']]): AdminMember => ({
  id, state, admin, services: services.map(([name, version]) => ({ name, version })),
});

test('one group per live member with its node id, services, versions and state as __meta labels', () => {
  const groups = httpSdGroups([
    member('n2', '127.0.0.1:9102', 'suspect', [['users', '2.0.0'], ['api', '1.0.0'], ['users', '2.0.0']]),
    member('n1', '127.0.0.1:9101'),
  ]);
  assert.deepEqual(groups, [
    {
      targets: ['127.0.0.1:9101'],
      labels: {
        __meta_micromesh_node_id: 'n1', __meta_micromesh_services: ',greeter,', __meta_micromesh_version: ',1.0.0,', __meta_micromesh_state: 'alive',
      },
    },
    {
      targets: ['127.0.0.1:9102'],
      labels: {
        __meta_micromesh_node_id: 'n2', __meta_micromesh_services: ',api,users,', __meta_micromesh_version: ',1.0.0,2.0.0,', __meta_micromesh_state: 'suspect',
      },
    },
  ]);
});

test('no plain service label: it would clash with the metrics\' own', () => {
  const [g] = httpSdGroups([member('n1', '127.0.0.1:9101')]);
  for (const name of Object.keys(g!.labels)) assert.ok(name.startsWith('__meta_micromesh_'), name);
  assert.deepEqual(Object.values(HTTP_SD_LABELS).sort(), Object.keys(g!.labels).sort());
});

test('dead and left members, members without an admin address and malformed addresses are left out', () => {
  const groups = httpSdGroups([
    member('dead', '127.0.0.1:9101', 'dead'),
    member('left', '127.0.0.1:9102', 'left'),
    member('none', ''),
    member('garbage', 'http://127.0.0.1:9103/metrics'),
    member('port0', '127.0.0.1:0'),
    member('ok', '[::1]:9104'),
  ]);
  assert.deepEqual(groups.map((g) => g.targets), [['[::1]:9104']]);
  assert.deepEqual(httpSdGroups([]), []);
});

test('the same address twice gives one group: the alive member, else the smaller id', () => {
  const a = httpSdGroups([member('old', '10.0.0.1:9100', 'suspect'), member('new', '10.0.0.1:9100', 'alive')]);
  assert.equal(a.length, 1);
  assert.equal(a[0]!.labels[HTTP_SD_LABELS.nodeId], 'new');
  const b = httpSdGroups([member('b', '10.0.0.1:9100', 'suspect'), member('a', '10.0.0.1:9100', 'suspect')]);
  assert.equal(b[0]!.labels[HTTP_SD_LABELS.nodeId], 'a');
});

test('the output does not depend on the order of the members', () => {
  const ms = [member('c', '10.0.0.3:9100'), member('a', '10.0.0.1:9100'), member('b', '10.0.0.2:9100', 'suspect')];
  const one = JSON.stringify(httpSdGroups(ms));
  assert.equal(JSON.stringify(httpSdGroups([...ms].reverse())), one);
  assert.equal(JSON.stringify(httpSdGroups([ms[1]!, ms[2]!, ms[0]!])), one);
});

test('tagList: distinct, sorted, separators at both ends, empty for none', () => {
  assert.equal(tagList(['b', 'a', 'b']), ',a,b,');
  assert.equal(tagList([]), '');
  assert.equal(tagList(['', '']), '');
});
