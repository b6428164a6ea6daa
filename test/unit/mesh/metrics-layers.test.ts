// The mesh's collectors over fake layers: the mDNS and SWIM families read what the components report (no multicast needed here;
// the netns tests run real mDNS), and a broker's drop counters become one family by reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from '../../../src/metrics/registry.ts';
import type { MetricFamily, Sample } from '../../../src/metrics/types.ts';
import { registerServiceMetrics, type MetricParts } from '../../../src/mesh/metrics.ts';
import { CallStats } from '../../../src/mesh/health.ts';
import { createRpcStats } from '../../../src/rpc/stats.ts';
import { SWIM_COUNTERS } from '../../../src/swim/stats.ts';
import { MDNS_COUNTERS } from '../../../src/mdns/stats.ts';
import { VirtualClock } from '../../../src/clock/virtual.ts';
import type { Broker } from '../../../src/pubsub/types.ts';

const value = (fs: MetricFamily[], name: string, labels: Record<string, string> = {}): number | undefined => {
  const f = fs.find((x) => x.name === name);
  const s = f?.samples.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v)) as Sample | undefined;
  return s?.value;
};

test('SWIM, mDNS and broker families come from the components\' own figures', () => {
  const swim = Object.fromEntries(SWIM_COUNTERS.map((k) => [k, 0]));
  Object.assign(swim, { deathsDeclared: 2, probesFailed: 5, healthScore: 3, alive: 7, suspect: 1, dead: 2, left: 0, queuedBroadcasts: 4 });
  const mdns = Object.fromEntries(MDNS_COUNTERS.map((k) => [k, 0]));
  Object.assign(mdns, { queriesSent: 3, peersDiscovered: 6, malformedPackets: 1 });
  const mesh = { swim: { stats: () => swim }, discovery: { stats: () => mdns, peers: () => [{}, {}] } };
  const broker = { name: 'direct', stats: () => ({ published: 9, delivered: 8, dropped: 1, malformed: 2, held: 3, subscriptions: 1, redelivered: 4, deadLettered: 1 }) };
  const registry = new MetricsRegistry();
  const parts: MetricParts = {
    name: 'svc', version: '1', rpc: createRpcStats(), serverInFlight: () => 0, connections: () => 0, openBytesWritten: () => 0,
    calls: new CallStats(new VirtualClock(), 'svc'), client: undefined, selector: { select: () => Promise.reject(new Error('x')), mark() {}, reset() {}, close() {} },
    mesh: mesh as unknown as MetricParts['mesh'], broker: broker as unknown as Broker, invalidTraceContext: () => 6,
  };
  registerServiceMetrics(registry, parts);
  const fs = registry.collect();
  assert.equal(value(fs, 'micromesh_swim_deaths_declared_total'), 2);
  assert.equal(value(fs, 'micromesh_swim_probes_failed_total'), 5);
  assert.equal(value(fs, 'micromesh_swim_local_health_score'), 3);
  assert.equal(value(fs, 'micromesh_swim_members', { state: 'suspect' }), 1);
  assert.equal(value(fs, 'micromesh_swim_queued_broadcasts'), 4);
  assert.equal(value(fs, 'micromesh_mdns_queries_sent_total'), 3);
  assert.equal(value(fs, 'micromesh_mdns_peers_discovered_total'), 6);
  assert.equal(value(fs, 'micromesh_mdns_malformed_packets_total'), 1);
  assert.equal(value(fs, 'micromesh_mdns_peers'), 2);
  assert.equal(value(fs, 'micromesh_broker_published_total', { broker: 'direct' }), 9);
  assert.equal(value(fs, 'micromesh_broker_dropped_total', { reason: 'overflow' }), 1);
  assert.equal(value(fs, 'micromesh_broker_dropped_total', { reason: 'malformed' }), 2);
  assert.equal(value(fs, 'micromesh_broker_queue_held_messages'), 3);
  assert.equal(value(fs, 'micromesh_broker_redelivered_total'), 4);
  assert.equal(value(fs, 'micromesh_broker_dead_lettered_total'), 1);
  assert.equal(value(fs, 'micromesh_tracing_invalid_context_total'), 6);
  // A selector other than the DefaultSelector has no figures to report: no selector family, no failure.
  assert.equal(fs.find((f) => f.name.startsWith('micromesh_selector_')), undefined);
});
