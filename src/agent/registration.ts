import { MeshError, tryParseHostPort } from '../index.ts';
import { goDurationFromJson } from './go-duration.ts';
import type { CheckStatus } from './types.ts';

/**
 * Consul's `PUT /v1/agent/service/register` body, parsed and checked (pure).
 * Keys match as Consul's decoder matches them: any case, and snake_case the
 * same as CamelCase (the seed's curl sends `"port"`, go-micro sends `Port`);
 * unknown keys (Kind, Proxy, Connect, TaggedAddresses...) are ignored. Every
 * error is BAD_REQUEST naming the field (Consul's name) and what it accepts.
 */

/** One health check of a service, with Consul's defaults filled in. */
export interface CheckDefinition {
  /** CheckID; default `service:<serviceId>`, or `service:<serviceId>:<n>` (from 1) when the service has several. */
  id: string;
  /** Default `Service '<name>' check`, as Consul names it. */
  name: string;
  serviceId: string;
  serviceName: string;
  kind: 'http' | 'tcp' | 'ttl';
  http?: { url: string; method: string; headers: Record<string, string[]>; body: string; tlsSkipVerify: boolean };
  /** host:port. */
  tcp?: string;
  /** Set for http and tcp; at least MIN_CHECK_INTERVAL_MS. */
  intervalMs?: number;
  timeoutMs: number;
  /** Set for ttl. */
  ttlMs?: number;
  /** Consul starts a check critical unless the definition gives `Status`. */
  initialStatus: CheckStatus;
  notes: string;
  /** DeregisterCriticalServiceAfter, at least MIN_DEREGISTER_AFTER_MS; absent (or 0) = never. */
  deregisterCriticalAfterMs?: number;
}

export interface ServiceDefinition {
  id: string;
  name: string;
  tags: string[];
  /** Empty: the node's address. */
  address: string;
  port: number;
  meta: Record<string, string>;
  weights: { passing: number; warning: number };
  enableTagOverride: boolean;
  checks: CheckDefinition[];
}

export interface RegistrationLimits {
  maxChecksPerService: number;
  maxMetaEntries: number;
  maxTags: number;
  maxNameLength: number;
}

/** Consul's MinInterval (agent/checks): shorter intervals run at 1 s, with no error. */
export const MIN_CHECK_INTERVAL_MS = 1_000;
/** Consul's check_deregister_interval_min: shorter values are raised to 1 minute. */
export const MIN_DEREGISTER_AFTER_MS = 60_000;
/** Consul's default check timeout. */
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

// Consul's structs.ValidateServiceMetadata limits.
const META_KEY = /^[a-zA-Z0-9_-]{1,128}$/;
const META_VALUE_MAX = 512;
const MAX_WEIGHT = 65_535;
const STATUSES: readonly CheckStatus[] = ['passing', 'warning', 'critical'];
// What Node's http client accepts (RFC 9110 token; field values without CR, LF or NUL).
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
/** Check types Consul has that this agent does not run, by normalized key. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  args: 'Args (script)', scriptargs: 'Args (script)', script: 'Script', shell: 'Shell', grpc: 'GRPC', udp: 'UDP',
  h2ping: 'H2PING', dockercontainerid: 'DockerContainerID (Docker)', aliasnode: 'AliasNode (alias)',
  aliasservice: 'AliasService (alias)', osservice: 'OSService',
};

function bad(detail: string): MeshError {
  return new MeshError('BAD_REQUEST', detail, { id: 'micromesh.agent' });
}

function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `snake_case`, `CamelCase`, `lowercase` → one key. */
function norm(key: string): string {
  return key.replaceAll('_', '').toLowerCase();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object's fields by normalized key; null values count as absent (Go's decoder leaves the zero value). */
function fieldsOf(value: unknown, field: string): Map<string, unknown> {
  if (!isObject(value)) throw bad(`${field} must be a JSON object, got ${show(value)}`);
  const out = new Map<string, unknown>();
  // Later duplicates win, as in Go's encoding/json.
  for (const [k, v] of Object.entries(value)) if (v !== null) out.set(norm(k), v);
  return out;
}

function optString(f: Map<string, unknown>, key: string, field: string, fallback = ''): string {
  const v = f.get(key);
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw bad(`${field} must be a string, got ${show(v)}`);
  return v;
}

function optBool(f: Map<string, unknown>, key: string, field: string): boolean {
  const v = f.get(key);
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw bad(`${field} must be true or false, got ${show(v)}`);
  return v;
}

function intIn(f: Map<string, unknown>, key: string, field: string, min: number, max: number, fallback: number): number {
  const v = f.get(key);
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`${field} must be an integer in [${min}, ${max}], got ${show(v)}`);
  }
  return v;
}

/** A name or id: non-empty, at most `max` characters, no control characters. */
function nameIn(v: unknown, field: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || CONTROL.test(v)) {
    throw bad(`${field} must be a string of 1 to ${max} characters without control characters, got ${show(v)}`);
  }
  return v;
}

function duration(f: Map<string, unknown>, key: string, field: string): number | undefined {
  const v = f.get(key);
  if (v === undefined) return undefined;
  const ms = goDurationFromJson(v);
  if (ms === undefined) {
    throw bad(`${field} must be a Go duration such as "10s", "1m30s" or "500ms" (or a number of nanoseconds), got ${show(v)}`);
  }
  return ms;
}

function status(v: unknown, field: string): CheckStatus {
  if (typeof v !== 'string' || !(STATUSES as readonly string[]).includes(v)) {
    throw bad(`${field} must be one of ${STATUSES.join(', ')}, got ${show(v)}`);
  }
  return v as CheckStatus;
}

function tagsOf(v: unknown, max: number): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw bad(`Tags must be an array of strings, got ${show(v)}`);
  if (v.length > max) throw bad(`Tags must have at most ${max} entries, got ${v.length}`);
  return v.map((t, i) => {
    if (typeof t !== 'string') throw bad(`Tags[${i}] must be a string, got ${show(t)}`);
    return t;
  });
}

function metaOf(v: unknown, max: number): Record<string, string> {
  if (v === undefined) return {};
  if (!isObject(v)) throw bad(`Meta must be an object of string values, got ${show(v)}`);
  const entries = Object.entries(v);
  if (entries.length > max) throw bad(`Meta must have at most ${max} entries, got ${entries.length}`);
  const out: Record<string, string> = {};
  for (const [k, val] of entries) {
    if (!META_KEY.test(k)) throw bad(`Meta key ${show(k)} must be 1 to 128 letters, digits, '_' or '-'`);
    if (k.toLowerCase().startsWith('consul-')) throw bad(`Meta.${k}: the prefix "consul-" is reserved`);
    if (typeof val !== 'string') throw bad(`Meta.${k} must be a string, got ${show(val)}`);
    if (val.length > META_VALUE_MAX) throw bad(`Meta.${k} must be at most ${META_VALUE_MAX} characters, got ${val.length}`);
    out[k] = val;
  }
  return out;
}

function weightsOf(v: unknown): { passing: number; warning: number } {
  if (v === undefined) return { passing: 1, warning: 1 };
  const f = fieldsOf(v, 'Weights');
  return {
    passing: intIn(f, 'passing', 'Weights.Passing', 1, MAX_WEIGHT, 1),
    warning: intIn(f, 'warning', 'Weights.Warning', 0, MAX_WEIGHT, 1),
  };
}

function headersOf(v: unknown, field: string): Record<string, string[]> {
  if (v === undefined) return {};
  if (!isObject(v)) throw bad(`${field} must be an object of string arrays ({"Name": ["value"]}), got ${show(v)}`);
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(v)) {
    if (!TOKEN.test(name)) throw bad(`${field}: ${show(name)} is not a valid header name`);
    if (!Array.isArray(values)) throw bad(`${field}.${name} must be an array of strings, got ${show(values)}`);
    out[name] = values.map((x, i) => {
      if (typeof x !== 'string' || BAD_HEADER_VALUE.test(x)) throw bad(`${field}.${name}[${i}] must be a string without CR, LF or NUL, got ${show(x)}`);
      return x;
    });
  }
  return out;
}

function httpOf(f: Map<string, unknown>, field: string): NonNullable<CheckDefinition['http']> {
  const url = optString(f, 'http', `${field}.HTTP`);
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw bad(`${field}.HTTP must be an http:// or https:// URL, got ${show(url)}`);
  }
  const method = optString(f, 'method', `${field}.Method`, 'GET') || 'GET';
  if (!TOKEN.test(method)) throw bad(`${field}.Method must be an HTTP method such as GET, got ${show(method)}`);
  return {
    url,
    method,
    headers: headersOf(f.get('header'), `${field}.Header`),
    body: optString(f, 'body', `${field}.Body`),
    tlsSkipVerify: optBool(f, 'tlsskipverify', `${field}.TLSSkipVerify`),
  };
}

type CheckDraft = Omit<CheckDefinition, 'id' | 'name' | 'serviceId' | 'serviceName'> & { id?: string; name?: string };

/** One check object (`field` is where it sits: `Check`, `Checks[2]`). */
function checkOf(f: Map<string, unknown>, field: string, limits: RegistrationLimits): CheckDraft {
  for (const [key, label] of Object.entries(UNSUPPORTED)) {
    const v = f.get(key);
    if (v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)) {
      throw bad(`${field}: ${label} checks are not supported by this agent; use HTTP, TCP or TTL`);
    }
  }
  const kinds = (['http', 'tcp', 'ttl'] as const).filter((k) => f.get(k) !== undefined && f.get(k) !== '');
  if (kinds.length === 0) {
    throw bad(`${field} must set one of HTTP, TCP or TTL (Script/Args, GRPC, UDP, H2PING, Docker and Alias checks are not supported)`);
  }
  if (kinds.length > 1) throw bad(`${field} must set only one of HTTP, TCP or TTL, got ${kinds.map((k) => k.toUpperCase()).join(' and ')}`);
  const kind = kinds[0]!;
  const interval = duration(f, 'interval', `${field}.Interval`);
  const ttl = duration(f, 'ttl', `${field}.TTL`);
  const timeout = duration(f, 'timeout', `${field}.Timeout`);
  const after = duration(f, 'deregistercriticalserviceafter', `${field}.DeregisterCriticalServiceAfter`);
  const draft: CheckDraft = {
    kind,
    timeoutMs: timeout === undefined || timeout === 0 ? DEFAULT_CHECK_TIMEOUT_MS : timeout,
    initialStatus: f.get('status') === undefined || f.get('status') === '' ? 'critical' : status(f.get('status'), `${field}.Status`),
    notes: optString(f, 'notes', `${field}.Notes`),
  };
  const id = optString(f, 'checkid', `${field}.CheckID`);
  if (id !== '') draft.id = nameIn(id, `${field}.CheckID`, limits.maxNameLength);
  const name = optString(f, 'name', `${field}.Name`);
  if (name !== '') draft.name = nameIn(name, `${field}.Name`, limits.maxNameLength);
  if (after !== undefined && after > 0) draft.deregisterCriticalAfterMs = Math.max(after, MIN_DEREGISTER_AFTER_MS);
  if (kind === 'ttl') {
    if (ttl === 0) throw bad(`${field}.TTL must be more than 0`);
    if (interval !== undefined && interval > 0) throw bad(`${field}: Interval and TTL cannot both be set (a TTL check is updated by its service, not probed)`);
    draft.ttlMs = ttl;
    return draft;
  }
  if (interval === undefined || interval === 0) throw bad(`${field}.Interval is required for ${kind.toUpperCase()} checks (a Go duration such as "10s")`);
  draft.intervalMs = Math.max(interval, MIN_CHECK_INTERVAL_MS);
  if (kind === 'http') {
    draft.http = httpOf(f, field);
  } else {
    const tcp = optString(f, 'tcp', `${field}.TCP`);
    if (tryParseHostPort(tcp) === undefined) throw bad(`${field}.TCP must be host:port with port in [0, 65535], got ${show(tcp)}`);
    draft.tcp = tcp;
  }
  return draft;
}

/**
 * Parses a service registration. Throws MeshError BAD_REQUEST naming the
 * field and what it accepts. Clamped, as Consul does without an error:
 * check intervals below 1 s run every 1 s (MinInterval), and
 * DeregisterCriticalServiceAfter below 1 minute is raised to 1 minute.
 */
export function parseRegistration(body: unknown, limits: RegistrationLimits): ServiceDefinition {
  const f = fieldsOf(body, 'the request body');
  if (f.get('name') === undefined) throw bad('Name is required: the service name');
  const name = nameIn(f.get('name'), 'Name', limits.maxNameLength);
  const rawId = f.get('id');
  const id = rawId === undefined || rawId === '' ? name : nameIn(rawId, 'ID', limits.maxNameLength);

  const drafts: { draft: CheckDraft; field: string }[] = [];
  const single = f.get('check');
  if (single !== undefined) {
    const cf = fieldsOf(single, 'Check');
    // Consul skips an empty Check object (CheckType.Empty).
    if (cf.size > 0) drafts.push({ draft: checkOf(cf, 'Check', limits), field: 'Check' });
  }
  const many = f.get('checks');
  if (many !== undefined) {
    if (!Array.isArray(many)) throw bad(`Checks must be an array of check objects, got ${show(many)}`);
    if (many.length > limits.maxChecksPerService) {
      throw bad(`Checks must have at most ${limits.maxChecksPerService} entries, got ${many.length}`);
    }
    many.forEach((c, i) => drafts.push({ draft: checkOf(fieldsOf(c, `Checks[${i}]`), `Checks[${i}]`, limits), field: `Checks[${i}]` }));
  }
  if (drafts.length > limits.maxChecksPerService) {
    throw bad(`Check and Checks together must have at most ${limits.maxChecksPerService} checks, got ${drafts.length}`);
  }

  const seen = new Set<string>();
  const checks = drafts.map(({ draft, field }, i): CheckDefinition => {
    const checkId = draft.id ?? (drafts.length > 1 ? `service:${id}:${i + 1}` : `service:${id}`);
    if (seen.has(checkId)) throw bad(`${field}.CheckID ${show(checkId)} is used twice in this service; check ids must be unique`);
    seen.add(checkId);
    return { ...draft, id: checkId, name: draft.name ?? `Service '${name}' check`, serviceId: id, serviceName: name };
  });

  return {
    id,
    name,
    tags: tagsOf(f.get('tags'), limits.maxTags),
    address: optString(f, 'address', 'Address'),
    port: intIn(f, 'port', 'Port', 0, 65_535, 0),
    meta: metaOf(f.get('meta'), limits.maxMetaEntries),
    weights: weightsOf(f.get('weights')),
    enableTagOverride: optBool(f, 'enabletagoverride', 'EnableTagOverride'),
    checks,
  };
}

/** `PUT /v1/agent/check/update/<id>` body: `{Status, Output}`; Status is required. */
export function parseCheckUpdate(body: unknown): { status: CheckStatus; output: string } {
  const f = fieldsOf(body, 'the request body');
  return { status: status(f.get('status'), 'Status'), output: optString(f, 'output', 'Output') };
}
