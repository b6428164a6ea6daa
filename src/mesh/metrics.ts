import { counterFamilies, snakeCase } from '../metrics/families.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import type { MetricFamily, Sample, ScalarFamily } from '../metrics/types.ts';
import type { Broker } from '../pubsub/types.ts';
import type { RpcStats } from '../rpc/stats.ts';
import { DefaultSelector } from '../selector/selector.ts';
import type { Selector } from '../selector/types.ts';
import { SWIM_COUNTERS } from '../swim/stats.ts';
import { DeferredBroker } from './broker.ts';
import type { CallStats } from './health.ts';
import type { ClientCallMeter } from '../metrics/calls.ts';
import type { MeshNode } from './node.ts';

/** What the metrics of one service read; every part is read at scrape time only. */
export interface MetricParts {
  name: string;
  version: string;
  rpc: RpcStats;
  serverInFlight: () => number;
  connections: () => number;
  /** Bytes written by connections still open (the RPC counter adds a connection's when it closes). */
  openBytesWritten: () => number;
  calls: CallStats;
  client: ClientCallMeter | undefined;
  selector: Selector;
  mesh: MeshNode | undefined;
  broker: Broker;
  /** Trace context that arrived malformed (ignored), when tracing is on. */
  invalidTraceContext: (() => number) | undefined;
}

const gauge = (name: string, help: string, samples: Sample[]): ScalarFamily => ({ name, help, type: 'gauge', samples });
const one = (value: number): Sample[] => [{ labels: {}, value }];

/** Registers a collector per layer into `registry` (the service's own). */
export function registerServiceMetrics(registry: MetricsRegistry, p: MetricParts): void {
  registry.add(() => [
    gauge('micromesh_service_info', 'This node\'s service, by name and version (always 1)', [{ labels: { service: p.name, version: p.version }, value: 1 }]),
    ...counterFamilies('micromesh_rpc', { ...p.rpc.snapshot(), bytesWritten: p.rpc.get('bytesWritten') + p.openBytesWritten() }, RPC_HELP),
    gauge('micromesh_rpc_connections', 'RPC connections open (dialled and accepted)', one(p.connections())),
    ...p.calls.families(p.serverInFlight()),
    ...(p.client?.families() ?? []),
    ...(p.invalidTraceContext ? [{
      name: 'micromesh_tracing_invalid_context_total', help: 'Incoming traceparent/tracestate values that were malformed and ignored', type: 'counter' as const,
      samples: one(p.invalidTraceContext()),
    }] : []),
  ]);
  const base = p.selector instanceof DefaultSelector ? p.selector : undefined;
  if (base !== undefined) registry.add(() => selectorFamilies(base));
  const mesh = p.mesh;
  if (mesh !== undefined) registry.add(() => meshFamilies(mesh));
  registry.add(() => brokerFamilies(p.broker));
}

const RPC_HELP: Record<string, string> = {
  retries: 'rpc: client retries (attempts after the first)',
  hedges: 'rpc: second attempts of hedged calls, sent to another node after the p95 latency',
  timeouts: 'rpc: calls whose deadline expired (client side)',
  bytesRead: 'rpc: bytes read from RPC connections',
  bytesWritten: 'rpc: bytes written to RPC connections',
  idleClosed: 'rpc: connections this side closed after they carried no stream for rpc.idleTimeoutMs',
};

function selectorFamilies(s: DefaultSelector): MetricFamily[] {
  const f = s.figures();
  return [
    { name: 'micromesh_selector_ejections_total', help: 'Nodes ejected after consecutive failures (a node ejected again counts again)', type: 'counter', samples: one(f.ejections) },
    gauge('micromesh_selector_ejected_nodes', 'Nodes ejected now, every service', one(f.ejectedNow)),
    gauge('micromesh_selector_suspected_nodes', 'Nodes SWIM suspects now: they get no new calls while another node is healthy', one(f.suspectedNow)),
    {
      name: 'micromesh_selector_picks_total', help: 'Nodes chosen for calls, by strategy', type: 'counter',
      samples: Object.entries(f.picks).map(([strategy, value]) => ({ labels: { strategy }, value })),
    },
    { name: 'micromesh_selector_ejected_picks_total', help: 'Choices made while every candidate node was ejected (the one back soonest was used)', type: 'counter', samples: one(f.ejectedPicks) },
  ];
}

function meshFamilies(mesh: MeshNode): MetricFamily[] {
  const st = mesh.swim.stats();
  const counts: Record<string, number> = {};
  for (const k of SWIM_COUNTERS) counts[k] = st[k];
  const out: MetricFamily[] = [
    ...counterFamilies('micromesh_swim', counts, SWIM_HELP),
    gauge('micromesh_swim_members', 'Members this node knows, by SWIM state (itself included)', (['alive', 'suspect', 'dead', 'left'] as const).map((state) => ({ labels: { state }, value: st[state] }))),
    gauge('micromesh_swim_local_health_score', 'Lifeguard local health score: 0 is healthy; higher means this node is slow to process and stretches its timeouts', one(st.healthScore)),
    gauge('micromesh_swim_queued_broadcasts', 'Broadcasts waiting to be gossiped', one(st.queuedBroadcasts)),
  ];
  const mdns = mesh.discovery;
  if (mdns !== undefined) {
    out.push(...counterFamilies('micromesh_mdns', mdns.stats(), MDNS_HELP));
    out.push(gauge('micromesh_mdns_peers', 'Peers mDNS knows now', one(mdns.peers().length)));
  }
  return out;
}

const SWIM_HELP: Record<string, string> = {
  bytesSent: 'swim: gossip bytes sent over UDP (envelopes included)',
  bytesReceived: 'swim: gossip bytes received over UDP (envelopes included)',
  droppedMalformed: 'swim: packets dropped as undecodable or of the wrong shape',
  indirectProbesSent: 'swim: indirect probes asked of other members',
  suspicionsStarted: 'swim: suspicions this node raised',
  refutations: 'swim: suspicions about this node it refuted',
  deathsDeclared: 'swim: members this node declared dead',
  pushPulls: 'swim: push-pull state syncs this node started',
};

const MDNS_HELP: Record<string, string> = {
  queriesSent: 'mdns: queries sent',
  queriesAnswered: 'mdns: queries for this node answered',
  peersDiscovered: 'mdns: peers found',
};

/** Counter keys of the brokers that are reasons to drop a message; the rest of their numbers are counters or gauges below. */
const DROP_REASONS: Record<string, string> = {
  dropped: 'overflow', unmatched: 'no_subscriber', malformed: 'malformed', badRecords: 'bad_record',
  refused: 'refused', bounced: 'bounced', publishFailures: 'publish_failed', deliveryFailures: 'delivery_failed',
};
const BROKER_GAUGES: Record<string, string> = {
  subscriptions: 'Subscriptions on this node',
  peers: 'Nodes this broker delivers to',
  held: 'Queue-group messages held by this node until a member acknowledges them',
  queueGroups: 'Queue groups this broker knows',
  libp2pPeers: 'libp2p peers connected (gossip broker)',
  connected: '1 while connected to the broker servers (NATS)',
};

/** Published, delivered, dropped by reason, redelivered, dead-lettered, held: one shape for every broker. */
function brokerFamilies(b: Broker): MetricFamily[] {
  const inner = b instanceof DeferredBroker ? b.current : b;
  const stats = (inner as { stats?: () => Record<string, unknown> } | undefined)?.stats?.();
  if (stats === undefined) return [];
  const broker = { broker: inner!.name };
  const counters: Record<string, number> = {};
  const drops: Sample[] = [];
  const gauges: MetricFamily[] = [];
  for (const [k, v] of Object.entries(stats)) {
    const value = typeof v === 'boolean' ? Number(v) : v;
    if (typeof value !== 'number') continue;
    if (k in DROP_REASONS) drops.push({ labels: { ...broker, reason: DROP_REASONS[k]! }, value });
    else if (k in BROKER_GAUGES) gauges.push(gauge(`micromesh_broker_${k === 'held' ? 'queue_held_messages' : snakeCase(k)}`, BROKER_GAUGES[k]!, [{ labels: broker, value }]));
    else counters[k] = value;
  }
  return [
    ...counterFamilies('micromesh_broker', counters, BROKER_HELP, broker),
    { name: 'micromesh_broker_dropped_total', help: 'Messages dropped, by reason', type: 'counter', samples: drops },
    ...gauges,
  ];
}

const BROKER_HELP: Record<string, string> = {
  published: 'broker: messages published by this node',
  delivered: 'broker: messages handed to this node\'s subscribers',
  redelivered: 'broker: queue-group messages delivered again after a failure',
  deadLettered: 'broker: messages moved to a dead-letter topic after their last attempt',
};
