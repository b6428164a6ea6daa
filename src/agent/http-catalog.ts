import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MeshError } from '../index.ts';
import { serfCheck } from './catalog.ts';
import {
  agentServiceJson, catalogServiceJson, checkJson, filterInstances, healthEntryJson, nodeIndex, nodeJson, servicesJson,
} from './consul-json.ts';
import { AGENT_ERROR_ID, blockingAnswer, flag, params, type AgentApi } from './http-context.ts';
import type { CatalogSnapshot } from './types.ts';

/**
 * Consul's catalog and health endpoints, every one blocking (`index`,
 * `wait`) on the part of the catalog it shows. Unknown services answer 200
 * `[]` (the Go client treats anything but 200 as an error, and Prometheus
 * then sleeps 15 s); unknown query parameters (`stale`, `near`,
 * `node-meta`, `filter`, `ns`...) are accepted and ignored.
 */
export function registerCatalogRoutes(app: FastifyInstance, api: AgentApi): void {
  const name = (req: FastifyRequest, key = 'name'): string => (req.params as Record<string, string>)[key] ?? '';
  const dc = (snap: CatalogSnapshot): string => snap.datacenter;
  const of = (snap: CatalogSnapshot, service: string) => snap.instances.filter((i) => i.service === service);

  app.get('/v1/catalog/datacenters', (req, reply) => blockingAnswer(api, req, reply, 'nodes', (s) => [s.datacenter]));
  app.get('/v1/catalog/services', (req, reply) => blockingAnswer(api, req, reply, 'services', servicesJson));
  app.get('/v1/catalog/nodes', (req, reply) => blockingAnswer(api, req, reply, 'nodes', (s) => s.nodes.map((n) => nodeJson(n, dc(s)))));
  app.get('/v1/catalog/service/:name', (req, reply) => blockingAnswer(api, req, reply, `service:${name(req)}`, (s) => {
    const nodes = nodeIndex(s);
    return filterInstances(of(s, name(req)), params(req, 'tag'), false).map((i) => catalogServiceJson(i, nodes.get(i.node), dc(s)));
  }));
  app.get('/v1/catalog/node/:node', (req, reply) => blockingAnswer(api, req, reply, `node:${name(req, 'node')}`, (s) => {
    const node = s.nodes.find((n) => n.name === name(req, 'node'));
    if (node === undefined) return null;
    const services: Record<string, unknown> = {};
    for (const i of s.instances) if (i.node === node.name) services[i.id] = agentServiceJson(i, node);
    return { Node: nodeJson(node, dc(s)), Services: services };
  }));

  app.get('/v1/health/service/:name', (req, reply) => blockingAnswer(api, req, reply, `service:${name(req)}`, (s) => {
    const nodes = nodeIndex(s);
    return filterInstances(of(s, name(req)), params(req, 'tag'), flag(req, 'passing')).map((i) => healthEntryJson(i, nodes.get(i.node), dc(s)));
  }));
  app.get('/v1/health/checks/:name', (req, reply) => blockingAnswer(api, req, reply, `service:${name(req)}`, (s) =>
    of(s, name(req)).flatMap((i) => i.checks.filter((c) => c.type !== '').map((c) => checkJson(c, i, i.node, i)))));
  app.get('/v1/health/node/:node', (req, reply) => blockingAnswer(api, req, reply, `node:${name(req, 'node')}`, (s) => {
    const node = s.nodes.find((n) => n.name === name(req, 'node'));
    if (node === undefined) return [];
        const own = s.instances.filter((i) => i.node === node.name).flatMap((i) => i.checks.filter((c) => c.type !== '').map((c) => checkJson(c, i, i.node, i)));
    return [checkJson(serfCheck(node.status), undefined, node.name, node), ...own];
  }));
  app.get('/v1/health/state/:state', (req, reply) => {
    const state = name(req, 'state');
    if (!['any', 'passing', 'warning', 'critical'].includes(state)) {
      throw new MeshError('BAD_REQUEST', `Invalid state "${state}": must be any, passing, warning or critical`, { id: AGENT_ERROR_ID });
    }
    return blockingAnswer(api, req, reply, 'global', (s) => {
      const out: unknown[] = [];
      for (const node of s.nodes) {
        const serf = serfCheck(node.status);
        if (state === 'any' || serf.status === state) out.push(checkJson(serf, undefined, node.name, node));
      }
      for (const i of s.instances) {
        for (const c of i.checks) if (c.type !== '' && (state === 'any' || c.status === state)) out.push(checkJson(c, i, i.node, i));
      }
      return out;
    });
  });
}
