import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byEndpoint, byMetadata, byNode, byVersion, filterName } from '../../../src/selector/filters.ts';
import type { Service } from '../../../src/registry/types.ts';
import { node, svc } from './fixture.ts';

const services = (): Service[] => [
  svc('greeter', '1.0.0', [node('a', { zone: 'eu' }), node('b', { zone: 'us' })], ['Greeter.Hello']),
  svc('greeter', '2.0.0', [node('c', { zone: 'eu', canary: 'true' })], ['Greeter.Hello', 'Greeter.Bye']),
];
const ids = (list: Service[]): string[] => list.flatMap((s) => s.nodes.map((n) => n.id));

test('byVersion keeps the listed versions', () => {
  assert.deepEqual(ids(byVersion('2.0.0')(services())), ['c']);
  assert.deepEqual(ids(byVersion('1.0.0', '2.0.0')(services())), ['a', 'b', 'c']);
  assert.deepEqual(byVersion('3')(services()), []);
});

test('byMetadata keeps nodes by key/value or predicate, dropping emptied services, without mutating input', () => {
  const input = services();
  assert.deepEqual(ids(byMetadata('zone', 'eu')(input)), ['a', 'c']);
  assert.deepEqual(ids(byMetadata('zone', 'asia')(input)), []);
  assert.deepEqual(ids(byMetadata((md) => md.canary === 'true')(input)), ['c']);
  assert.deepEqual(ids(byMetadata('toString', 'x')(input)), [], 'inherited properties are not metadata');
  assert.deepEqual(ids(input), ['a', 'b', 'c']);
  const same = byMetadata('zone', 'eu')(input);
  assert.equal(same[1], input[1], 'an untouched service is passed through as is');
});

test('byEndpoint keeps services that declare the endpoint', () => {
  assert.deepEqual(ids(byEndpoint('Greeter.Bye')(services())), ['c']);
  assert.deepEqual(ids(byEndpoint('Greeter.Hello')(services())), ['a', 'b', 'c']);
  assert.deepEqual(byEndpoint('Nope.Nope')(services()), []);
});

test('filters carry readable names for error details', () => {
  assert.equal(filterName(byVersion('1', '2')), 'byVersion(1, 2)');
  assert.equal(filterName(byMetadata('zone', 'eu')), 'byMetadata(zone=eu)');
  assert.equal(filterName(byMetadata(() => true, 'canaries')), 'canaries');
  assert.equal(filterName(byEndpoint('A.B')), 'byEndpoint(A.B)');
  assert.equal(filterName(byNode(() => true)), 'byNode');
  assert.equal(filterName(((s: Service[]) => s) as never), 'anonymous filter');
});
