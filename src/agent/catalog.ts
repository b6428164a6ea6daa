import { tryParseHostPort, type ServiceRecord } from '../index.ts';
import { AGENT_METADATA, META_PREFIX, SERF_CHECK, TAGS_METADATA } from './names.ts';
import type { CatalogCheck, CatalogInstance, CatalogNode, CatalogSnapshot, CheckStatus, EntryIndex } from './types.ts';

/** A mesh member as SWIM sees it: the agent's nodes. */
export interface AgentMember {
  id: string;
  /** Its gossip address, `host:port`: the host is the node's address. */
  address: string;
  state: 'alive' | 'suspect' | 'dead' | 'left';
}

export interface CatalogSource {
  /** The cluster name (Consul's datacenter). */
  datacenter: string;
  members: readonly AgentMember[];
  /** The registry's services, every version. */
  services: readonly ServiceRecord[];
  /** This agent's own checks by CheckID, with their output (which the registry record leaves out). */
  localChecks?: { agent: string; checks: ReadonlyMap<string, CatalogCheck> };
}

type Unstamped<T> = Omit<T, keyof EntryIndex>;
export type UnstampedCatalog = { datacenter: string; nodes: Unstamped<CatalogNode>[]; instances: Unstamped<CatalogInstance>[] };

/** A name safe as one DNS label: lower case, [a-z0-9-], at most 63 characters. */
export function dnsLabel(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63) || '-';
}

const hostOf = (address: string): string => tryParseHostPort(address)?.host ?? '';
const RANK: Record<CheckStatus, number> = { passing: 0, warning: 1, critical: 2 };
const STATUSES = new Set<string>(['passing', 'warning', 'critical']);

/** The worst of `checks` (Consul's aggregate; none is passing). */
export function worstOf(checks: readonly { status: CheckStatus }[]): CheckStatus {
  let worst: CheckStatus = 'passing';
  for (const c of checks) if (RANK[c.status] > RANK[worst]) worst = c.status;
  return worst;
}

/**
 * The catalog as Consul would list it (pure), without its indexes: nodes
 * are the live members (alive or suspect; a registry node no member owns,
 * such as one listed by etcd, is a node of its own address), instances the
 * registry's nodes. Each instance carries its node's serfHealth check
 * (alive passing, suspect warning: still listed and in DNS, as Consul lists
 * a warning) and, when an agent registered it, that agent's checks. Its
 * address is empty when it is the node's (Consul's rule: use the node's);
 * tags come from the `tags` metadata; meta is the node's metadata plus
 * `version`, or for an agent-registered instance its registered Meta.
 * Sorted, so equal catalogs compare equal.
 */
export function catalogOf(src: CatalogSource): UnstampedCatalog {
  const nodes = new Map<string, Unstamped<CatalogNode>>();
  const state = new Map<string, AgentMember['state']>();
  for (const m of src.members) {
    state.set(m.id, m.state);
    if (m.state !== 'alive' && m.state !== 'suspect') continue;
    nodes.set(m.id, { name: dnsLabel(m.id), id: m.id, address: hostOf(m.address), meta: {}, status: m.state === 'suspect' ? 'warning' : 'passing' });
  }
  const instances: Unstamped<CatalogInstance>[] = [];
  for (const svc of src.services) {
    for (const n of svc.nodes) {
      const hp = tryParseHostPort(n.address);
      if (hp === undefined) continue;
      const agent = n.metadata[AGENT_METADATA.agent];
      const owner = agent ?? n.id;
      let node = nodes.get(owner);
      // A registry node SWIM does not know (etcd lists it) is a node of its own; one SWIM holds dead is gone.
      if (node === undefined && !state.has(owner)) {
        node = { name: dnsLabel(owner), id: owner, address: hp.host, meta: {}, status: 'passing' };
        nodes.set(owner, node);
      }
      if (node === undefined) continue;
      const serf = serfCheck(node.status);
      const { [TAGS_METADATA]: tags = '', ...rest } = n.metadata;
      const own = agent === undefined ? [] : agentChecks(n.metadata[AGENT_METADATA.checks], agent === src.localChecks?.agent ? src.localChecks.checks : undefined);
      const checks = [serf, ...own];
      const address = agent === undefined ? (hp.host === node.address ? '' : hp.host) : (n.metadata[AGENT_METADATA.address] ?? '');
      instances.push({
        node: node.name, id: agent === undefined ? n.id : (n.metadata[AGENT_METADATA.serviceId] ?? n.id), service: svc.name, address, port: hp.port,
        tags: tags.split(',').map((t) => t.trim()).filter((t) => t.length > 0),
        meta: agent === undefined ? { ...rest, version: svc.version } : consulMeta(rest),
        checks, status: worstOf(checks),
      });
    }
  }
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const key = (i: Unstamped<CatalogInstance>): string => `${i.service}\u0000${i.node}\u0000${i.id}`;
  instances.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return { datacenter: src.datacenter, nodes: [...nodes.values()].sort(byName), instances };
}

/** A node's serfHealth check: SWIM's verdict (type empty, as Consul's). */
export function serfCheck(status: CheckStatus): CatalogCheck {
  const output = status === 'passing' ? 'Agent alive and reachable' : 'Agent suspected by SWIM (not acknowledging probes)';
  return { id: SERF_CHECK.id, name: SERF_CHECK.name, status, notes: '', output, type: '' };
}

/** An agent-registered instance's checks from its record, each overlaid by the local check of that id (with output) when the agent is us. */
function agentChecks(raw: string | undefined, local: ReadonlyMap<string, CatalogCheck> | undefined): CatalogCheck[] {
  let list: unknown;
  try {
    list = JSON.parse(raw ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  const out: CatalogCheck[] = [];
  for (const c of list as unknown[]) {
    // A peer's record is untrusted: anything but [id, name, status, type, notes] strings is skipped.
    if (!Array.isArray(c) || c.length < 4 || !c.slice(0, 5).every((x) => typeof x === 'string') || !STATUSES.has(c[2] as string)) continue;
    const [id, name, status, type, notes = ''] = c as string[];
    out.push(local?.get(id!) ?? { id: id!, name: name!, status: status as CheckStatus, type: type!, notes: notes!, output: '' });
  }
  return out;
}

function consulMeta(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (k.startsWith(META_PREFIX)) out[k.slice(META_PREFIX.length)] = v;
  return out;
}

/**
 * Consul's indexes for a changing catalog: the snapshot's index starts at 1
 * and goes up by one whenever the catalog differs from the last one
 * stamped, so a blocking query (and Prometheus, which drops an answer
 * whose index did not move) sees every change and only changes. Each node
 * and instance gets CreateIndex (when first seen) and ModifyIndex (when it
 * last changed), and each scope (see CatalogSnapshot.scopes) the index of
 * its last change.
 */
export class CatalogIndex {
  private index = 0;
  private last = '';
  private snapshot: CatalogSnapshot | undefined;
  private entries = new Map<string, { json: string } & EntryIndex>();
  private scopeState = new Map<string, { json: string; index: number }>();

  stamp(catalog: UnstampedCatalog): CatalogSnapshot {
    const key = JSON.stringify(catalog);
    if (this.snapshot !== undefined && key === this.last) return this.snapshot;
    this.last = key;
    const index = ++this.index;
    const entries = new Map<string, { json: string } & EntryIndex>();
    const stampOne = <T extends object>(id: string, e: T): T & EntryIndex => {
      const json = JSON.stringify(e);
      const prev = this.entries.get(id);
      const ix = prev === undefined ? { createIndex: index, modifyIndex: index } : { createIndex: prev.createIndex, modifyIndex: prev.json === json ? prev.modifyIndex : index };
      entries.set(id, { json, ...ix });
      return { ...e, ...ix };
    };
    const nodes = catalog.nodes.map((n) => stampOne(`n\u0000${n.name}`, n));
    const instances = catalog.instances.map((i) => stampOne(`i\u0000${i.node}\u0000${i.id}\u0000${i.service}`, i));
    this.entries = entries;
    this.snapshot = { datacenter: catalog.datacenter, index, nodes, instances, scopes: this.scopesOf(catalog, index) };
    return this.snapshot;
  }

  /** Each scope's content; a scope whose content changed (or appeared) takes `index`, one that vanished is dropped (its parent scope moved with it). */
  private scopesOf(catalog: UnstampedCatalog, index: number): Map<string, number> {
    const parts = new Map<string, unknown[]>();
    const add = (scope: string, v: unknown): void => {
      const list = parts.get(scope);
      if (list === undefined) parts.set(scope, [v]);
      else list.push(v);
    };
    const tags = new Map<string, Set<string>>();
    const nodeOf = new Map(catalog.nodes.map((n) => [n.name, n]));
    for (const i of catalog.instances) {
      const t = tags.get(i.service) ?? new Set<string>();
      for (const tag of i.tags) t.add(tag);
      tags.set(i.service, t);
      add(`service:${i.service}`, [i, nodeOf.get(i.node)]);
      add(`node:${i.node}`, i);
    }
    for (const n of catalog.nodes) add(`node:${n.name}`, n);
    parts.set('services', [...tags].map(([s, t]) => [s, [...t].sort()]));
    parts.set('nodes', catalog.nodes);
    const next = new Map<string, { json: string; index: number }>();
    const out = new Map<string, number>();
    for (const [scope, v] of parts) {
      const json = JSON.stringify(v);
      const prev = this.scopeState.get(scope);
      const at = prev !== undefined && prev.json === json ? prev.index : index;
      next.set(scope, { json, index: at });
      out.set(scope, at);
    }
    this.scopeState = next;
    return out;
  }
}

/**
 * The index a blocking query on `scope` reports and waits past. A
 * `service:`/`node:` scope that is absent falls back to its parent
 * (`services`/`nodes`), which moved when it vanished, so the fallback
 * never goes backwards.
 */
export function scopeIndex(snap: CatalogSnapshot, scope: string): number {
  const own = snap.scopes.get(scope);
  if (own !== undefined) return own;
  if (scope.startsWith('service:')) return snap.scopes.get('services') ?? snap.index;
  if (scope.startsWith('node:')) return snap.scopes.get('nodes') ?? snap.index;
  return snap.index;
}
