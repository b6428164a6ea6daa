/**
 * Go Micro's `micro` resolver: a URL path names a service and an endpoint.
 * Pure, so every row of its table is a unit test.
 *
 *   /greeter/hello            → greeter   Greeter.Hello
 *   /greeter/say/hello        → greeter   Say.Hello
 *   /v1/greeter/hello         → greeter   Greeter.Hello   (version v1)
 *   /foo/bar/get-user         → foo       Bar.GetUser
 *   /foo/bar/baz/cat          → foo.bar   Baz.Cat
 *
 * Two segments name the service and the method of the handler named after
 * the service; more name the service (all but the last two, joined by `.`)
 * and `Handler.Method`. A leading `v<digits>` segment selects that version.
 * Method segments are title-cased per `-` part (`get-user` → `GetUser`).
 */

export interface ResolvedPath {
  service: string;
  endpoint: string;
  /** From a leading `/v1/` segment. */
  version: string | undefined;
}

const SEGMENT = /^[A-Za-z0-9_][\w-]*$/;
const VERSION = /^v\d+$/;

/** `get-user` → `GetUser`. */
export function titleCase(segment: string): string {
  let out = '';
  for (const part of segment.split('-')) if (part.length > 0) out += part[0]!.toUpperCase() + part.slice(1);
  return out;
}

/** Joins a namespace and a name as Go Micro does: `ns.name`, or concatenated when `ns` ends in `.` or `-`. */
export function withNamespace(namespace: string, name: string): string {
  if (namespace === '') return name;
  return /[.-]$/.test(namespace) ? namespace + name : `${namespace}.${name}`;
}

/** The service and endpoint a path names, or undefined when it names none (fewer than two usable segments). */
export function resolvePath(path: string, namespace = ''): ResolvedPath | undefined {
  const q = path.indexOf('?');
  const parts = (q < 0 ? path : path.slice(0, q)).split('/').filter((p) => p.length > 0);
  let version: string | undefined;
  if (parts.length >= 3 && VERSION.test(parts[0]!)) version = parts.shift();
  if (parts.length < 2 || !parts.every((p) => SEGMENT.test(p))) return undefined;
  const name = parts.length === 2 ? parts[0]! : parts.slice(0, -2).join('.');
  const handler = parts.length === 2 ? parts[0]! : parts[parts.length - 2]!;
  const method = parts[parts.length - 1]!;
  return { service: withNamespace(namespace, name), endpoint: `${titleCase(handler)}.${titleCase(method)}`, version };
}

/** The first path segment when it can be a service name (for the HTTP proxy), else undefined. */
export function firstSegment(path: string): string | undefined {
  const m = /^\/([A-Za-z0-9][\w.-]*)(?:[/?]|$)/.exec(path);
  return m?.[1];
}
