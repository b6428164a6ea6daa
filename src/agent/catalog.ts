import { tryParseHostPort, type ServiceRecord } from '../index.ts';
import type { CatalogInstance, CatalogNode, CatalogSnapshot } from './types.ts';

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
}

/** Node metadata key whose comma-separated value becomes the instance's Consul tags. */
export const TAGS_METADATA = 'tags';

/** A name safe as one DNS label: lower case, [a-z0-9-], at most 63 characters. */
export function dnsLabel(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63) || '-';
}

const hostOf = (address: string): string => tryParseHostPort(address)?.host ?? '';

/**
 * The catalog as Consul would list it (pure), without its index: nodes are
 * the live members (alive or suspect; a member with no gossip presence,
 * such as a node listed by etcd, is a node of its own address), instances
 * the registry's nodes. An instance's status follows its member: alive is
 * passing, suspect a warning (still listed, still in DNS, as Consul lists a
 * warning). Its address is empty when it is the node's (Consul's rule: use
 * the node's), its tags come from the `tags` metadata, its meta is the
 * node's metadata plus `version`. Sorted, so equal catalogs compare equal.
 */
export function catalogOf(src: CatalogSource): Omit<CatalogSnapshot, 'index'> {
  const nodes = new Map<string, CatalogNode>();
  const state = new Map<string, AgentMember['state']>();
  for (const m of src.members) {
    state.set(m.id, m.state);
    if (m.state !== 'alive' && m.state !== 'suspect') continue;
    nodes.set(m.id, { name: dnsLabel(m.id), id: m.id, address: hostOf(m.address), meta: {} });
  }
  const instances: CatalogInstance[] = [];
  for (const svc of src.services) {
    for (const n of svc.nodes) {
      const hp = tryParseHostPort(n.address);
      if (hp === undefined) continue;
      let node = nodes.get(n.id);
      // A registry node SWIM does not know (etcd lists it) is a node of its own; one SWIM holds dead is gone.
      if (node === undefined && !state.has(n.id)) {
        node = { name: dnsLabel(n.id), id: n.id, address: hp.host, meta: {} };
        nodes.set(n.id, node);
      }
      if (node === undefined) continue;
      const { [TAGS_METADATA]: tags = '', ...meta } = n.metadata;
      instances.push({
        node: node.name, id: n.id, service: svc.name, address: hp.host === node.address ? '' : hp.host, port: hp.port,
        tags: tags.split(',').map((t) => t.trim()).filter((t) => t.length > 0), meta: { ...meta, version: svc.version },
        status: state.get(n.id) === 'suspect' ? 'warning' : 'passing',
      });
    }
  }
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  instances.sort((a, b) => (a.service + '\u0000' + a.node + '\u0000' + a.id < b.service + '\u0000' + b.node + '\u0000' + b.id ? -1 : 1));
  return { datacenter: src.datacenter, nodes: [...nodes.values()].sort(byName), instances };
}

/**
 * Consul's index for a changing catalog: starts at 1 and goes up by one
 * whenever the catalog differs from the last one stamped, so a blocking
 * query (and Prometheus, which drops an answer whose index did not move)
 * sees every change and only changes.
 */
export class CatalogIndex {
  private index = 0;
  private last = '';
  private snapshot: CatalogSnapshot | undefined;

  stamp(catalog: Omit<CatalogSnapshot, 'index'>): CatalogSnapshot {
    const key = JSON.stringify(catalog);
    if (this.snapshot === undefined || key !== this.last) {
      this.last = key;
      this.snapshot = { ...catalog, index: ++this.index };
    }
    return this.snapshot;
  }
}
