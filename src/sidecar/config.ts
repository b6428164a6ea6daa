import * as v from 'valibot';
import { config, tryParseHostPort } from '../index.ts';

const { definedOnly, intIn, parseConfig } = config;

/** What the sidecar needs to know of its app. Every field but `appAddress` optional on input. */
export interface SidecarConfig {
  /** The app's HTTP server, `host:port`. Required. */
  appAddress: string;
  /** GET this URL every healthIntervalMs: 2xx is passing, anything else critical. Default none (always passing). */
  healthUrl: string | undefined;
  /** Time between health checks, ms. [100, 3600000], default 5000. Each check waits at most min(this, 2000). */
  healthIntervalMs: number;
  /** The app's endpoints, `Handler.Method`. Default: asked from the app (`GET /.well-known/micromesh`). */
  endpoints: string[] | undefined;
  /** Where a call goes on the app: `{service}`, `{handler}`, `{method}` and `{endpoint}` are replaced. Default `/{handler}/{method}`. */
  pathTemplate: string;
}

export type SidecarConfigInput = Partial<SidecarConfig> & { appAddress: string };

export const SIDECAR_DEFAULTS: Omit<SidecarConfig, 'appAddress'> = {
  healthUrl: undefined,
  healthIntervalMs: 5000,
  endpoints: undefined,
  pathTemplate: '/{handler}/{method}',
};

/** A handler name as the server takes it, then a method: `Foo.Bar`. `Debug` stays the service's own (Debug.Health). */
export const ENDPOINT_NAME = /^(?!Debug\.)[A-Za-z_][\w-]*\.[A-Za-z_$][\w$]*$/;
const PLACEHOLDERS = new Set(['service', 'handler', 'method', 'endpoint']);

const schema = v.strictObject({
  appAddress: v.pipe(v.string('must be host:port'), v.check((a) => tryParseHostPort(a) !== undefined && !a.endsWith(':0'), 'must be host:port with a port in [1, 65535]')),
  healthUrl: v.optional(v.pipe(v.string('must be an http:// URL'), v.check((u) => /^https?:\/\//.test(u) && URL.canParse(u), 'must be an http:// or https:// URL'))),
  healthIntervalMs: v.optional(intIn(100, 3_600_000)),
  endpoints: v.optional(v.pipe(
    v.array(v.pipe(v.string('must be Handler.Method'), v.regex(ENDPOINT_NAME, 'must be Handler.Method (not Debug.*)')), 'must be a list of Handler.Method names'),
    v.minLength(1, 'must name at least one endpoint'),
  )),
  pathTemplate: v.optional(v.pipe(
    v.string('must be a path'),
    v.regex(/^\/[\w.~/{}-]*$/, 'must be a path starting with / (letters, digits, . _ ~ - / and {placeholders})'),
    v.check((t) => [...t.matchAll(/\{([^}]*)\}/g)].every((m) => PLACEHOLDERS.has(m[1]!)), 'may use only {service}, {handler}, {method} and {endpoint}'),
  )),
});

/** Validates `input`; errors name the field (`sidecar.field`), what is allowed and the value. */
export function resolveSidecarConfig(input: SidecarConfigInput): SidecarConfig {
  const given = parseConfig(schema, definedOnly(input), 'sidecar');
  return { ...SIDECAR_DEFAULTS, ...definedOnly(given) } as SidecarConfig;
}

/** The path of `endpoint` on the app under `template`. */
export function appPath(template: string, service: string, endpoint: string): string {
  const [handler, method] = endpoint.split('.') as [string, string];
  const values: Record<string, string> = { service, handler, method, endpoint };
  return template.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(values[k]!));
}
