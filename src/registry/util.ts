import { MeshError } from '../errors/index.ts';
import type { Endpoint, Metadata, Node, Service } from './types.ts';

/**
 * Helpers shared by registry implementations: deep copies (a registry never
 * hands out or keeps references to callers' objects), input validation and
 * record comparison.
 */

export function copyMetadata(m: Metadata | undefined): Metadata {
  const out: Metadata = {};
  if (m !== undefined) for (const k of Object.keys(m)) out[k] = String(m[k]);
  return out;
}

export function copyNode(n: Node): Node {
  return { id: n.id, address: n.address, metadata: copyMetadata(n.metadata) };
}

export function copyEndpoint(e: Endpoint): Endpoint {
  return { name: e.name, metadata: copyMetadata(e.metadata) };
}

export function copyService(s: Service): Service {
  return {
    name: s.name,
    version: s.version,
    metadata: copyMetadata(s.metadata),
    endpoints: (s.endpoints ?? []).map(copyEndpoint),
    nodes: (s.nodes ?? []).map(copyNode),
  };
}

function sameMetadata(a: Metadata, b: Metadata): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

/** Structural equality of two records (node and endpoint order matter). */
export function sameService(a: Service, b: Service): boolean {
  if (a.name !== b.name || a.version !== b.version || !sameMetadata(a.metadata, b.metadata)) return false;
  if (a.endpoints.length !== b.endpoints.length || a.nodes.length !== b.nodes.length) return false;
  for (let i = 0; i < a.endpoints.length; i++) {
    const x = a.endpoints[i]!;
    const y = b.endpoints[i]!;
    if (x.name !== y.name || !sameMetadata(x.metadata, y.metadata)) return false;
  }
  for (let i = 0; i < a.nodes.length; i++) {
    const x = a.nodes[i]!;
    const y = b.nodes[i]!;
    if (x.id !== y.id || x.address !== y.address || !sameMetadata(x.metadata, y.metadata)) return false;
  }
  return true;
}

const bad = (detail: string): MeshError => new MeshError('INVALID_ARGUMENT', detail, { id: 'micromesh.registry' });

function checkMetadata(m: unknown, where: string): void {
  if (m === undefined) return;
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw bad(`${where}.metadata must be an object of strings`);
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') throw bad(`${where}.metadata.${k} must be a string, got ${typeof v}`);
  }
}

/**
 * Throws MeshError `INVALID_ARGUMENT` naming the first bad field. Names and
 * node ids/addresses must be non-empty strings; the version may be empty
 * (it is still a key); metadata values must be strings.
 */
export function validateService(s: unknown): asserts s is Service {
  if (s === null || typeof s !== 'object') throw bad('service must be an object');
  const svc = s as Partial<Service>;
  if (typeof svc.name !== 'string' || svc.name.length === 0) throw bad('service.name must be a non-empty string');
  const where = `service ${svc.name}`;
  if (typeof svc.version !== 'string') throw bad(`${where}: version must be a string`);
  checkMetadata(svc.metadata, where);
  if (svc.endpoints !== undefined && !Array.isArray(svc.endpoints)) throw bad(`${where}: endpoints must be an array`);
  for (const e of svc.endpoints ?? []) {
    if (typeof e?.name !== 'string' || e.name.length === 0) throw bad(`${where}: every endpoint needs a non-empty name`);
    checkMetadata(e.metadata, `${where} endpoint ${e.name}`);
  }
  if (svc.nodes !== undefined && !Array.isArray(svc.nodes)) throw bad(`${where}: nodes must be an array`);
  for (const n of svc.nodes ?? []) {
    if (typeof n?.id !== 'string' || n.id.length === 0) throw bad(`${where}: every node needs a non-empty id`);
    if (typeof n.address !== 'string' || n.address.length === 0) throw bad(`${where} node ${n.id}: address must be a non-empty string`);
    checkMetadata(n.metadata, `${where} node ${n.id}`);
  }
}

/** Throws MeshError `CANCELLED` when the signal has aborted. */
export function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MeshError('CANCELLED', 'operation aborted', { id: 'micromesh.registry', cause: signal.reason });
}
