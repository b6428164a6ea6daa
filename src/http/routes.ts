import { MeshError, type Metadata } from '../index.ts';

/**
 * HTTP routes a service declares in its endpoints' registry metadata, so the
 * gateway (and the sidecar's outbound side) serve them with no gateway
 * config: `GET /users/:id` → `Users.Get`, path parameters merged into the
 * request. The metadata keys are spelled here once.
 *
 * @example
 * svc.handle('Users', users, { metadata: routes({ Get: 'GET /users/:id', List: 'GET /users' }) });
 * svc.handle('Posts', posts, { metadata: rest('/posts') });
 */

/** Endpoint metadata: comma-separated `METHOD /path` routes. */
export const HTTP_ROUTES_METADATA = 'http';

/**
 * Node metadata of a service that speaks HTTP itself (a web app embedded
 * with micromesh, or an app registered through the sidecar): the `host:port`
 * of its HTTP server. The gateway reverse-proxies `/<service>/...` to it.
 */
export const HTTP_ADDRESS_METADATA = 'http-address';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface RouteSpec {
  method: HttpMethod;
  /** find-my-way syntax: `/users/:id`, `/files/*`. */
  path: string;
}

const SPEC = /^([A-Z]+)\s+(\/\S*)$/;

/** Parses one `METHOD /path`; throws INVALID_ARGUMENT naming what is wrong. */
export function parseRoute(text: string): RouteSpec {
  const m = SPEC.exec(text.trim());
  if (m === null) throw new MeshError('INVALID_ARGUMENT', `route must be "METHOD /path", got ${JSON.stringify(text)}`);
  const method = m[1] as HttpMethod;
  if (!HTTP_METHODS.includes(method)) throw new MeshError('INVALID_ARGUMENT', `route method must be one of ${HTTP_METHODS.join(', ')}, got ${method}`);
  if (m[2]!.includes(',')) throw new MeshError('INVALID_ARGUMENT', `route path may not contain ",", got ${m[2]}`);
  return { method, path: m[2]! };
}

/** The routes an endpoint's metadata declares; malformed entries are reported through `bad` and skipped. */
export function routesOf(metadata: Readonly<Metadata> | undefined, bad?: (text: string, err: MeshError) => void): RouteSpec[] {
  const raw = metadata?.[HTTP_ROUTES_METADATA];
  if (raw === undefined || raw === '') return [];
  const out: RouteSpec[] = [];
  for (const text of raw.split(',')) {
    if (text.trim() === '') continue;
    try {
      out.push(parseRoute(text));
    } catch (err) {
      bad?.(text, err as MeshError);
    }
  }
  return out;
}

/** Endpoint metadata declaring routes per method: `routes({ Get: 'GET /users/:id' })`, for `handle(..., { metadata })`. */
export function routes(byMethod: Record<string, string | string[]>): Record<string, Metadata> {
  const out: Record<string, Metadata> = {};
  for (const [method, given] of Object.entries(byMethod)) {
    const specs = (Array.isArray(given) ? given : [given]).map(parseRoute);
    out[method] = { [HTTP_ROUTES_METADATA]: specs.map((s) => `${s.method} ${s.path}`).join(',') };
  }
  return out;
}

/** moleculer-web's REST shorthand, for methods the handler has: List, Get, Create, Update, Patch, Remove. */
const REST: Record<string, (base: string) => string> = {
  List: (b) => `GET ${b || '/'}`,
  Get: (b) => `GET ${b}/:id`,
  Create: (b) => `POST ${b || '/'}`,
  Update: (b) => `PUT ${b}/:id`,
  Patch: (b) => `PATCH ${b}/:id`,
  Remove: (b) => `DELETE ${b}/:id`,
};

/** `rest('/users')`: List → GET /users, Get → GET /users/:id, Create → POST, Update → PUT, Patch → PATCH, Remove → DELETE. */
export function rest(base: string): (method: string) => Metadata | undefined {
  const b = base.replace(/\/+$/, '');
  parseRoute(`GET ${b || '/'}`);
  return (method) => {
    if (!Object.hasOwn(REST, method)) return undefined; // not toString & co.
    return { [HTTP_ROUTES_METADATA]: REST[method]!(b) };
  };
}

/** Node metadata marking an HTTP server at `address` (`host:port`), for `ServiceOptions.nodeMetadata`. */
export function httpNode(address: string): Metadata {
  return { [HTTP_ADDRESS_METADATA]: address };
}
