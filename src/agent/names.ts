/**
 * Names the agent's parts share, defined once: the registry metadata that
 * carries a service registered through an agent (PUT
 * /v1/agent/service/register) to every node, and Consul's fixed check ids.
 */

/** Registry node metadata keys of an agent-registered instance (docs/PROTOCOL.md, "Agent-registered services"). */
export const AGENT_METADATA = {
  /** The registering agent's node id: the instance's Consul node. */
  agent: 'consul-agent',
  /** Consul's ServiceID (unique per agent). */
  serviceId: 'consul-id',
  /** The Address as registered; empty means the node's. */
  address: 'consul-address',
  /** The service's checks: JSON `[[CheckID, Name, Status, Type, Notes], ...]` (output stays on the agent). */
  checks: 'consul-checks',
} as const;

/** Registry node metadata keys with this prefix are the instance's Consul Meta (prefix removed). */
export const META_PREFIX = 'meta.';

/** Node metadata key whose comma-separated value becomes the instance's Consul tags. */
export const TAGS_METADATA = 'tags';

/** The node-level check every Consul instance carries: SWIM's verdict on the node. */
export const SERF_CHECK = { id: 'serfHealth', name: 'Serf Health Status' } as const;

/** Consul's maintenance check ids (api/health.go). */
export const SERVICE_MAINTENANCE_PREFIX = '_service_maintenance:';
