/**
 * micromesh/agent: Consul without Consul. Any mesh member answers Consul's
 * catalog, health and agent HTTP API and its DNS from its own view of the
 * mesh, and takes registrations of outside services (docs/agent.md).
 *
 * import { createService } from 'micromesh';
 * import { consulAgent } from 'micromesh/agent';
 * createService({ name: 'shop', addons: [consulAgent({ httpAddress: '127.0.0.1:8500' })] });
 */
export { createAgent, consulAgent, type Agent, type AgentOptions } from './agent.ts';
export { AGENT_DEFAULTS, resolveAgentConfig, type AgentConfig, type AgentConfigInput } from './config.ts';
export type { AgentStats, CatalogSnapshot, CatalogNode, CatalogInstance, CatalogCheck, CheckStatus } from './types.ts';
