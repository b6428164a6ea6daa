import type { Metadata, Node, Service } from '../registry/types.ts';
import type { Filter } from './types.ts';

/**
 * Built-in filters (Go Micro's FilterVersion, FilterLabel, FilterEndpoint).
 * Each is a pure function of the services it is given: it never mutates them
 * and returns new objects when it narrows a service's nodes. Each carries a
 * readable `name` (e.g. `byVersion(1.0.0)`), which NONE_AVAILABLE errors
 * quote. To hit the selector's fast path, build a filters array once and
 * pass the same array to every `select`.
 */

function named(name: string, f: Filter): Filter {
  Object.defineProperty(f, 'name', { value: name });
  return f;
}

/** Keeps the services whose version is one of `versions`. */
export function byVersion(...versions: string[]): Filter {
  return named(`byVersion(${versions.join(', ')})`, (services) => services.filter((s) => versions.includes(s.version)));
}

/** Keeps, in every service, the nodes that pass `keep`; services left with no node are dropped. */
export function byNode(keep: (node: Node, service: Service) => boolean, label = 'byNode'): Filter {
  return named(label, (services) => {
    const out: Service[] = [];
    for (const s of services) {
      const nodes = s.nodes.filter((n) => keep(n, s));
      if (nodes.length === s.nodes.length) out.push(s);
      else if (nodes.length > 0) out.push({ ...s, nodes });
    }
    return out;
  });
}

/**
 * Keeps nodes by their metadata: `byMetadata('zone', 'eu')` keeps nodes whose
 * `zone` is `eu`; `byMetadata((md) => md.zone?.startsWith('eu'))` takes a
 * predicate instead.
 */
export function byMetadata(key: string, value: string): Filter;
export function byMetadata(predicate: (metadata: Metadata, node: Node) => boolean, label?: string): Filter;
export function byMetadata(a: string | ((metadata: Metadata, node: Node) => boolean), b?: string): Filter {
  if (typeof a === 'function') return byNode((n) => a(n.metadata, n), b ?? 'byMetadata(predicate)');
  const value = b;
  return byNode((n) => Object.hasOwn(n.metadata, a) && n.metadata[a] === value, `byMetadata(${a}=${value})`);
}

/** Keeps the services that declare the endpoint `name` (e.g. `Greeter.Hello`). */
export function byEndpoint(name: string): Filter {
  return named(`byEndpoint(${name})`, (services) => services.filter((s) => s.endpoints.some((e) => e.name === name)));
}

/** A filter's readable name, for error details. */
export function filterName(f: Filter): string {
  return f.name.length > 0 ? f.name : 'anonymous filter';
}
