import { tryParseHostPort } from '../net/address.ts';
import type { AdminMember, HttpSdGroup } from './types.ts';

/**
 * The labels of each http_sd group. They are all `__meta_*`: Prometheus
 * offers them to relabelling and then drops them, so nothing is added to
 * every series unless the scrape config says so. There is deliberately no
 * plain `service` label: the metrics carry their own `service` label, and
 * Prometheus would rename one of them `exported_service`.
 */
export const HTTP_SD_LABELS = Object.freeze({
  /** The member's node id. */
  nodeId: '__meta_micromesh_node_id',
  /** Its service names, sorted, Consul-tag style: `,api,greeter,` (match with `.*,greeter,.*`). */
  services: '__meta_micromesh_services',
  /** Its services' versions, sorted and joined the same way: `,1.0.0,2.1.0,`. */
  version: '__meta_micromesh_version',
  /** Its SWIM state: `alive` or `suspect`. */
  state: '__meta_micromesh_state',
});

/** States whose members are still scraped: a suspect may be alive (Prometheus marks it down if not). */
const LISTED = new Set(['alive', 'suspect']);

/**
 * One http_sd group per member that is alive or suspect and publishes a
 * valid admin address (a `host:port` with a port above 0). Two members with
 * the same address (a node restarted under a new id while the old one is
 * still suspect) give one group, the alive one's (else the smaller id).
 * Sorted by address, so the answer is stable between polls.
 */
export function httpSdGroups(members: readonly AdminMember[]): HttpSdGroup[] {
  const byAddress = new Map<string, AdminMember>();
  for (const m of members) {
    if (!LISTED.has(m.state)) continue;
    const hp = tryParseHostPort(m.admin);
    if (hp === undefined || hp.port === 0) continue;
    const seen = byAddress.get(m.admin);
    if (seen === undefined || preferred(m, seen)) byAddress.set(m.admin, m);
  }
  return [...byAddress.keys()].sort(compare).map((address) => {
    const m = byAddress.get(address)!;
    return {
      targets: [address],
      labels: {
        [HTTP_SD_LABELS.nodeId]: m.id,
        [HTTP_SD_LABELS.services]: tagList(m.services.map((s) => s.name)),
        [HTTP_SD_LABELS.version]: tagList(m.services.map((s) => s.version)),
        [HTTP_SD_LABELS.state]: m.state,
      },
    };
  });
}

function preferred(a: AdminMember, b: AdminMember): boolean {
  if ((a.state === 'alive') !== (b.state === 'alive')) return a.state === 'alive';
  return compare(a.id, b.id) < 0;
}

/** Distinct non-empty values, sorted, with a comma at both ends (`,a,b,`; `` for none) as Prometheus' Consul SD joins tags. */
export function tagList(values: readonly string[]): string {
  const distinct = [...new Set(values.filter((s) => s !== ''))].sort(compare);
  return distinct.length === 0 ? '' : `,${distinct.join(',')},`;
}

/** Code-unit order, the same on every node whatever its locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
