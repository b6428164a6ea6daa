import { MeshError, type Metadata } from '../index.ts';

/**
 * Request headers → call metadata, and back. Only a documented allowlist
 * (tracing, authorization, forwarding) and headers with the metadata prefix
 * cross: hop-by-hop and framing headers (Host, Content-Length, Cookie...)
 * say nothing to a service and would leak the HTTP layer into it.
 */

export interface HeaderRules {
  /** Lower-case header names passed as is. */
  allowed: ReadonlySet<string>;
  /** Lower-case prefix; `x-micro-tenant` passes as `tenant`. */
  prefix: string;
}

/** The rules of a config, built once (not per request). */
export function headerRules(c: { metadataHeaders: readonly string[]; metadataPrefix: string }): HeaderRules {
  return { allowed: new Set(c.metadataHeaders.map((h) => h.toLowerCase())), prefix: c.metadataPrefix.toLowerCase() };
}

type Headers = Record<string, string | string[] | undefined>;

/** The metadata a request carries: allowlisted and prefixed headers, the request id, and X-Forwarded-For with the client appended. */
export function headersToMetadata(headers: Headers, rules: HeaderRules, requestId: string, clientIp: string | undefined): Metadata {
  const md: Metadata = {};
  const { allowed, prefix } = rules;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (prefix !== '' && name.startsWith(prefix) && name.length > prefix.length) {
      md[name.slice(prefix.length)] = text;
    } else if (allowed.has(name)) {
      md[name] = text;
    }
  }
  if (allowed.has('x-request-id')) md['x-request-id'] = requestId;
  if (allowed.has('x-forwarded-for') && clientIp !== undefined) {
    md['x-forwarded-for'] = md['x-forwarded-for'] ? `${md['x-forwarded-for']}, ${clientIp}` : clientIp;
  }
  return md;
}

/** Metadata → request headers toward an app (the sidecar): allowlisted names as is, the rest under the prefix. */
export function metadataToHeaders(md: Readonly<Metadata>, rules: HeaderRules): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(md)) {
    const key = k.toLowerCase();
    if (!/^[\w-]+$/.test(key) || /[\r\n]/.test(val)) continue; // not expressible as a header
    out[rules.allowed.has(key) ? key : `${rules.prefix}${key}`] = val;
  }
  return out;
}

/**
 * The call deadline a request asks for: `Timeout` (Go Micro's, seconds, or
 * with a unit: `250ms`, `2s`), else `X-Micro-Timeout`; capped at `maxMs`.
 * Undefined when absent; BAD_REQUEST when malformed.
 */
export function requestTimeoutMs(headers: Headers, maxMs: number): number | undefined {
  const raw = headers.timeout ?? headers['x-micro-timeout'];
  const first = Array.isArray(raw) ? raw[0] : raw; // an empty list (a header without a value) counts as absent
  if (first === undefined) return undefined;
  const text = first.trim();
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text);
  if (m === null) throw new MeshError('BAD_REQUEST', `Timeout header must be seconds or a duration like 250ms or 2s, got "${text}"`, { id: 'micromesh.http' });
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : 1000);
  if (!(ms > 0)) throw new MeshError('BAD_REQUEST', `Timeout header must be positive, got "${text}"`, { id: 'micromesh.http' });
  return Math.min(Math.ceil(ms), maxMs);
}
