import type { MetricFamily } from '../index.ts';
import type { AgentStats } from './types.ts';

/** HTTP answers by status class: a burst of 4xx is a misbehaving client, of 5xx a fault here. */
export class HttpCounts {
  readonly byClass = new Map<string, number>();

  count(status: number): void {
    const cls = `${Math.floor(status / 100)}xx`;
    this.byClass.set(cls, (this.byClass.get(cls) ?? 0) + 1);
  }
}

/** The agent's families for the service's metrics registry (read at scrape time only). */
export function agentFamilies(s: AgentStats, http: HttpCounts): MetricFamily[] {
  const gauge = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: 'gauge', samples: [{ labels: {}, value }] });
  return [
    {
      name: 'micromesh_agent_dns_queries_total', help: 'DNS queries answered, by transport', type: 'counter',
      samples: [{ labels: { transport: 'udp' }, value: s.udpQueries }, { labels: { transport: 'tcp' }, value: s.tcpQueries }],
    },
    { name: 'micromesh_agent_dns_malformed_total', help: 'DNS packets dropped as malformed (undecodable, a response, oversized)', type: 'counter', samples: [{ labels: {}, value: s.malformed }] },
    { name: 'micromesh_agent_dns_tcp_refused_total', help: 'DNS TCP connections refused over the connection limit', type: 'counter', samples: [{ labels: {}, value: s.tcpRefused }] },
    {
      name: 'micromesh_agent_http_requests_total', help: 'Consul HTTP API answers, by status class', type: 'counter',
      samples: [...http.byClass].map(([cls, value]) => ({ labels: { status_class: cls }, value })),
    },
    gauge('micromesh_agent_catalog_index', 'The catalog\'s X-Consul-Index', s.index),
    gauge('micromesh_agent_catalog_nodes', 'Nodes in the catalog', s.nodes),
    gauge('micromesh_agent_catalog_instances', 'Service instances in the catalog', s.instances),
    gauge('micromesh_agent_local_services', 'Services registered through this agent', s.localServices),
    gauge('micromesh_agent_blocked_queries', 'Blocking queries waiting now', s.blockedQueries),
  ];
}
