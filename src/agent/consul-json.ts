import type { CatalogCheck, CatalogInstance, CatalogNode, CatalogSnapshot } from './types.ts';

/**
 * Consul's JSON shapes (api/catalog.go, api/health.go, api/agent.go), built
 * from one snapshot (pure). Field names and types are Consul's exactly:
 * real clients decode them (Go is case-insensitive but type-strict,
 * python-consul and node-consul read the names as written).
 */

type Json = Record<string, unknown>;

const weights = { Passing: 1, Warning: 1 };

export function nodeJson(n: CatalogNode, dc: string): Json {
  return {
    ID: n.id, Node: n.name, Address: n.address, Datacenter: dc,
    TaggedAddresses: { lan: n.address, lan_ipv4: n.address, wan: n.address, wan_ipv4: n.address },
    Meta: { ...n.meta }, CreateIndex: n.createIndex, ModifyIndex: n.modifyIndex,
  };
}

function serviceAddresses(i: CatalogInstance, node: CatalogNode | undefined): Json {
  const address = i.address || node?.address || '';
  return { lan: { Address: address, Port: i.port }, wan: { Address: address, Port: i.port } };
}

/** One `/v1/catalog/service/<name>` entry (CatalogService). */
export function catalogServiceJson(i: CatalogInstance, node: CatalogNode | undefined, dc: string): Json {
  return {
    ID: node?.id ?? '', Node: i.node, Address: node?.address ?? '', Datacenter: dc,
    TaggedAddresses: node === undefined ? {} : { lan: node.address, wan: node.address },
    NodeMeta: { ...node?.meta },
    ServiceKind: '', ServiceID: i.id, ServiceName: i.service, ServiceTags: [...i.tags], ServiceAddress: i.address,
    ServiceTaggedAddresses: serviceAddresses(i, node), ServiceWeights: weights, ServiceMeta: { ...i.meta }, ServicePort: i.port,
    ServiceSocketPath: '', ServiceEnableTagOverride: false, ServiceProxy: { MeshGateway: {}, Expose: {} }, ServiceConnect: {},
    CreateIndex: i.createIndex, ModifyIndex: i.modifyIndex,
  };
}

/** The `Service` of a health entry or `/v1/catalog/node/<node>` (AgentService). */
export function agentServiceJson(i: CatalogInstance, node: CatalogNode | undefined, dc?: string): Json {
  return {
    ID: i.id, Service: i.service, Tags: [...i.tags], Address: i.address, TaggedAddresses: serviceAddresses(i, node),
    Meta: { ...i.meta }, Port: i.port, Weights: weights, EnableTagOverride: false,
    Proxy: { MeshGateway: {}, Expose: {} }, Connect: {}, PeerName: '', ...(dc === undefined ? {} : { Datacenter: dc }),
    CreateIndex: i.createIndex, ModifyIndex: i.modifyIndex,
  };
}

/** One HealthCheck; the node's serfHealth has no service fields. */
export function checkJson(c: CatalogCheck, i: CatalogInstance | undefined, node: string, index: { createIndex: number; modifyIndex: number }): Json {
  const serf = i === undefined || c.type === '';
  return {
    Node: node, CheckID: c.id, Name: c.name, Status: c.status, Notes: c.notes, Output: c.output,
    ServiceID: serf ? '' : i.id, ServiceName: serf ? '' : i.service, ServiceTags: serf ? [] : [...i.tags],
    Type: c.type, Interval: '', Timeout: '', ExposedPort: 0, Definition: {},
    CreateIndex: index.createIndex, ModifyIndex: index.modifyIndex,
  };
}

/** One `/v1/health/service/<name>` entry (ServiceEntry). */
export function healthEntryJson(i: CatalogInstance, node: CatalogNode | undefined, dc: string): Json {
  return {
    Node: node === undefined ? { Node: i.node } : nodeJson(node, dc),
    Service: agentServiceJson(i, node),
    Checks: i.checks.map((c) => checkJson(c, i, i.node, c.type === '' && node !== undefined ? node : i)),
  };
}

/** The node of `i` in `snap`. */
export function nodeIndex(snap: CatalogSnapshot): Map<string, CatalogNode> {
  return new Map(snap.nodes.map((n) => [n.name, n]));
}

/** `/v1/catalog/services`: each name with the union of its tags. */
export function servicesJson(snap: CatalogSnapshot): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const i of snap.instances) {
    const tags = new Set(out[i.service] ?? []);
    for (const t of i.tags) tags.add(t);
    out[i.service] = [...tags].sort();
  }
  return out;
}

/**
 * `?tag=` filters (repeatable: every tag must be present) and `passing`
 * (only instances whose checks all pass; Consul also drops warnings).
 */
export function filterInstances(list: readonly CatalogInstance[], tags: readonly string[], passingOnly: boolean): CatalogInstance[] {
  return list.filter((i) => tags.every((t) => i.tags.includes(t)) && (!passingOnly || i.status === 'passing'));
}
