import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MeshError } from '../index.ts';
import { parseJson } from '../http/index.ts';
import { agentServiceJson, checkJson, nodeIndex } from './consul-json.ts';
import { AGENT_ERROR_ID, checkToken, param, sendJson, type AgentApi } from './http-context.ts';
import { parseCheckUpdate, parseRegistration, type RegistrationLimits } from './registration.ts';
import type { CheckStatus } from './types.ts';

/** Serf's member status codes (/v1/agent/members `Status`): alive 1, left 3, failed 4. */
const SERF_STATUS = { alive: 1, suspect: 1, left: 3, dead: 4 } as const;

/**
 * Consul's agent endpoints: this node's view of itself, its members, and
 * the services registered through it (register, deregister, TTL check
 * updates, maintenance); and /v1/status, which a leaderless mesh answers
 * with this node's own address as "leader" (every node answers for the
 * mesh from its own view; none coordinates) and the live members as peers.
 * Writes take the ACL token when one is set; the body is JSON whatever its
 * content type says (`curl --data` sends form-encoded).
 */
export function registerAgentRoutes(app: FastifyInstance, api: AgentApi, limits: RegistrationLimits): void {
  const id = (req: FastifyRequest): string => (req.params as Record<string, string>).id ?? '';
  const body = (req: FastifyRequest): unknown => {
    const raw = req.body as Buffer | undefined;
    return raw === undefined || raw.length === 0 ? undefined : parseJson(raw.toString('utf8'));
  };
  const local = () => {
    const snap = api.current();
    const node = snap.nodes.find((n) => n.id === api.self.id);
    return { snap, node, mine: snap.instances.filter((i) => node !== undefined && i.node === node.name) };
  };

  app.get('/v1/agent/self', (_req, reply) => {
    const s = api.self;
    return sendJson(reply, {
      Config: {
        Datacenter: s.datacenter, PrimaryDatacenter: s.datacenter, NodeName: s.nodeName, NodeID: s.id, Server: true,
        Revision: 'micromesh', Version: s.version, BuildDate: '',
      },
      DebugConfig: {},
      Coord: null,
      Member: api.members().map((m) => memberJson(m, s.datacenter)).find((m) => m.Tags.id === s.id) ?? null,
      Meta: {},
      xDS: null,
    });
  });
  app.get('/v1/agent/members', (_req, reply) => sendJson(reply, api.members().map((m) => memberJson(m, api.self.datacenter))));
  app.get('/v1/agent/services', (_req, reply) => {
    const { snap, node, mine } = local();
    const out: Record<string, unknown> = {};
    for (const i of mine) out[i.id] = agentServiceJson(i, node, snap.datacenter);
    return sendJson(reply, out);
  });
  app.get('/v1/agent/service/:id', (req, reply) => {
    const { snap, node, mine } = local();
    const i = mine.find((x) => x.id === id(req));
    if (i === undefined) throw new MeshError('NOT_FOUND', `unknown service ID: ${id(req)}`, { id: AGENT_ERROR_ID });
    return sendJson(reply, agentServiceJson(i, node, snap.datacenter));
  });
  app.get('/v1/agent/checks', (_req, reply) => {
    const { mine } = local();
    const out: Record<string, unknown> = {};
    const nodes = nodeIndex(api.current());
    for (const i of mine) for (const c of i.checks) if (c.type !== '') out[c.id] = checkJson(c, i, nodes.get(i.node)?.name ?? i.node, i);
    return sendJson(reply, out);
  });

  app.put('/v1/agent/service/register', async (req, reply) => {
    checkToken(api, req);
    await api.local.register(parseRegistration(body(req), limits));
    await api.refresh();
    return reply.send('');
  });
  // Consul before 1.0 took GET for these writes, and Debian's python3-consul 0.7.1 still sends it;
  // a browser's GET (it carries Origin or Sec-Fetch-Mode) is refused, so a web page cannot make one.
  const writeRoute = (url: string, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>): void => {
    app.put(url, handler);
    app.get(url, (req, reply) => {
      if (req.headers.origin !== undefined || req.headers['sec-fetch-mode'] !== undefined) {
        throw new MeshError('METHOD_NOT_ALLOWED', `${url.replace(/:id$/, '<id>')} takes PUT (GET only from non-browser clients)`, { id: AGENT_ERROR_ID });
      }
      return handler(req, reply);
    });
  };
  writeRoute('/v1/agent/service/deregister/:id', async (req, reply) => {
    checkToken(api, req);
    await api.local.deregister(id(req));
    await api.refresh();
    return reply.send('');
  });
  app.put('/v1/agent/service/maintenance/:id', async (req, reply) => {
    checkToken(api, req);
    const enable = param(req, 'enable')?.toLowerCase();
    if (enable !== 'true' && enable !== 'false') throw new MeshError('BAD_REQUEST', 'Missing or invalid value for "enable": must be true or false', { id: AGENT_ERROR_ID });
    if (!(await api.local.maintenance(id(req), enable === 'true', param(req, 'reason') ?? ''))) {
      throw new MeshError('NOT_FOUND', `Unknown service ID "${id(req)}"`, { id: AGENT_ERROR_ID });
    }
    await api.refresh();
    return reply.send('');
  });
  const ttl = (status: CheckStatus) => async (req: FastifyRequest, reply: FastifyReply) => {
    checkToken(api, req);
    if (!(await api.local.updateCheck(id(req), status, param(req, 'note') ?? ''))) {
      throw new MeshError('NOT_FOUND', `Unknown check ID "${id(req)}". Ensure that the check ID is passed, not the check name.`, { id: AGENT_ERROR_ID });
    }
    await api.refresh();
    return reply.send('');
  };
  writeRoute('/v1/agent/check/pass/:id', ttl('passing'));
  writeRoute('/v1/agent/check/warn/:id', ttl('warning'));
  writeRoute('/v1/agent/check/fail/:id', ttl('critical'));
  app.put('/v1/agent/check/update/:id', async (req, reply) => {
    checkToken(api, req);
    const u = parseCheckUpdate(body(req));
    if (!(await api.local.updateCheck(id(req), u.status, u.output))) throw new MeshError('NOT_FOUND', `Unknown check ID "${id(req)}"`, { id: AGENT_ERROR_ID });
    await api.refresh();
    return reply.send('');
  });

  app.get('/v1/status/leader', (_req, reply) => sendJson(reply, api.self.gossip));
  app.get('/v1/status/peers', (_req, reply) => sendJson(reply, api.members().filter((m) => m.state === 'alive' || m.state === 'suspect').map((m) => (m.host.includes(':') ? `[${m.host}]:${m.port}` : `${m.host}:${m.port}`))));
}

function memberJson(m: { name: string; host: string; port: number; state: keyof typeof SERF_STATUS; id: string }, dc: string) {
  return {
    Name: m.name, Addr: m.host, Port: m.port,
    Tags: { dc, id: m.id, role: 'node', segment: '', vsn: '2', vsn_min: '2', vsn_max: '3', build: 'micromesh' },
    Status: SERF_STATUS[m.state], ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 4,
  };
}
