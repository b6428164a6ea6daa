import type { MeshSnapshot } from '../model.ts';
import { ApiError, getJson, postJson, type NodeCall, type ServiceDetail, type ServiceSummary } from './api.ts';
import { pretty, table } from './format.ts';
import { describe } from './schema.ts';

/**
 * The browser terminal's commands: the CLI's `services`, `service`, `call`,
 * `health`, `members` and `publish`, answered through the dashboard's API
 * and printed as the CLI prints them.
 */

export const HELP = `Commands:
  services                          list services (name, versions, nodes)
  service NAME                      a service's versions, nodes and endpoints with request/response fields
  call SERVICE ENDPOINT [JSON]      call an endpoint, e.g. call greeter Greeter.Hello {"name":"Ada"}
  health SERVICE                    Debug.Health of every node of a service
  members                           the mesh members: id, address, state, incarnation
  publish TOPIC [JSON]              publish a message, e.g. publish orders.created {"id":1}
  clear                             clear the screen
  help                              this text`;

/** Splits `cmd a b rest of line` into the first `n` words and the rest (a JSON body keeps its spaces). */
function words(line: string, n: number): [string[], string] {
  const out: string[] = [];
  let rest = line.trim();
  while (out.length < n && rest !== '') {
    const m = /^(\S+)\s*/.exec(rest)!;
    out.push(m[1]!);
    rest = rest.slice(m[0].length);
  }
  return [out, rest];
}

function json(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Runs one line; resolves with the text to print, rejects with the error to print. */
export async function run(line: string, readOnly: boolean): Promise<string> {
  const [[cmd], after] = words(line, 1);
  switch (cmd) {
    case undefined:
      return '';
    case 'help':
      return HELP;
    case 'services': {
      const { services } = await getJson<{ services: ServiceSummary[] }>('api/services');
      if (services.length === 0) return 'no services';
      return table([['NAME', 'VERSIONS', 'NODES'], ...services.map((s) => [s.name, s.versions.join(','), String(s.nodes)])]);
    }
    case 'service': {
      const [[name]] = words(after, 1);
      if (name === undefined) throw new Error('usage: service NAME');
      const d = await getJson<ServiceDetail>(`api/services/${encodeURIComponent(name)}`);
      const out: string[] = [];
      for (const v of d.versions) {
        out.push(`service  ${d.name}`, `version  ${v.version}`, '');
        out.push(table([['ID', 'ADDRESS', 'METADATA'], ...v.nodes.map((n) => [n.id, n.address, Object.entries(n.metadata).map(([k, x]) => `${k}=${x}`).join(',')])]), '');
        for (const e of v.endpoints) {
          out.push(`Endpoint: ${e.name}${e.stream !== 'unary' ? ` (${e.stream} stream)` : ''}`);
          out.push('', 'Request: {', indent(e.request ? describe(e.request) : e.schemaRef ? '(large schema: see the service page)' : '(not declared)'), '}');
          out.push('', 'Response: {', indent(e.response ? describe(e.response) : e.schemaRef ? '(large schema: see the service page)' : '(not declared)'), '}', '');
        }
      }
      return out.join('\n');
    }
    case 'call': {
      if (readOnly) throw new Error('read-only dashboard: calls are off');
      const [[service, endpoint], body] = words(after, 2);
      if (service === undefined || endpoint === undefined) throw new Error('usage: call SERVICE ENDPOINT [JSON]');
      return pretty(await postJson('rpc', { service, endpoint, request: json(body) }));
    }
    case 'health': {
      const [[name]] = words(after, 1);
      if (name === undefined) throw new Error('usage: health SERVICE');
      const { nodes } = await getJson<{ nodes: NodeCall<{ status?: string }>[] }>(`api/health?service=${encodeURIComponent(name)}`);
      if (nodes.length === 0) return `service ${name} has no nodes`;
      return table([['NODE', 'ADDRESS', 'VERSION', 'STATUS'], ...nodes.map((n) => [n.node, n.address, n.version, n.error ? `${n.error.code}: ${n.error.detail}` : (n.result?.status ?? 'ok')])]);
    }
    case 'members': {
      const s = await getJson<MeshSnapshot>('api/mesh');
      if (s.members.length === 0) return 'this node is not on a mesh';
      return table([['ID', 'ADDRESS', 'STATE', 'INCARNATION'], ...s.members.map((m) => [m.id, m.address, m.state, String(m.incarnation)])]);
    }
    case 'publish': {
      if (readOnly) throw new Error('read-only dashboard: publishing is off');
      const [[topic], body] = words(after, 1);
      if (topic === undefined) throw new Error('usage: publish TOPIC [JSON]');
      await postJson('api/publish', { topic, message: json(body) });
      return `published to ${topic}`;
    }
    default:
      throw new Error(`unknown command "${cmd}"; type help`);
  }
}

function indent(text: string): string {
  return text.split('\n').map((l) => `  ${l}`).join('\n');
}

/** An error as the terminal prints it: the stable code first when there is one. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `error ${err.error.code} (HTTP ${err.error.status}): ${err.error.detail}`;
  return `error: ${(err as Error).message ?? String(err)}`;
}
