import { MeshError } from '../index.ts';

/**
 * Which endpoints HTTP may reach. Patterns are `service` or
 * `service/Endpoint`, `*` matching any run of characters: `greeter`,
 * `greeter/Greeter.*`, `*\/Admin.*`. Deny wins; a non-empty allow list
 * admits only what it matches. Internal endpoints (the `$mesh` service) are
 * never exposed; `Debug.*` only when an allow pattern names `Debug` itself.
 */

export interface AccessRules {
  allow: string[];
  deny: string[];
}

interface Pattern {
  service: RegExp;
  endpoint: RegExp | undefined;
  /** Whether the endpoint part names Debug explicitly (not through `*`). */
  namesDebug: boolean;
}

const glob = (text: string): RegExp => new RegExp(`^${text.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

function compile(text: string): Pattern {
  const t = text.trim();
  if (!/^[\w.*$-]+(\/[\w.*-]+)?$/.test(t)) throw new MeshError('INVALID_CONFIG', `access pattern must be "service" or "service/Endpoint" (with * wildcards), got ${JSON.stringify(text)}`);
  const [service, endpoint] = t.split('/') as [string, string | undefined];
  return { service: glob(service), endpoint: endpoint === undefined ? undefined : glob(endpoint), namesDebug: endpoint?.startsWith('Debug.') === true };
}

const matches = (p: Pattern, service: string, endpoint: string): boolean =>
  p.service.test(service) && (p.endpoint === undefined || p.endpoint.test(endpoint));

/** Compiles the rules once; the result answers per (service, endpoint). Throws INVALID_CONFIG on a bad pattern. */
export function accessPolicy(rules: Partial<AccessRules> = {}): (service: string, endpoint: string) => boolean {
  const allow = (rules.allow ?? []).map(compile);
  const deny = (rules.deny ?? []).map(compile);
  return (service, endpoint) => {
    if (service.startsWith('$')) return false;
    if (deny.some((p) => matches(p, service, endpoint))) return false;
    if (endpoint.startsWith('Debug.')) return allow.some((p) => p.namesDebug && matches(p, service, endpoint));
    return allow.length === 0 || allow.some((p) => matches(p, service, endpoint));
  };
}
