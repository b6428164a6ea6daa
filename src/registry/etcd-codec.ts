import { MeshError } from '../errors/index.ts';
import type { Endpoint, Metadata, Node, Service } from './types.ts';

/**
 * go-micro's etcd layout (registry/etcd/etcd.go, v1.18 to v6): one key per
 * node, `path.Join(prefix, name, nodeId)` with `/` replaced by `-` in both,
 * holding the JSON of the service record with exactly that one node. The
 * field mapping is in docs/registry-etcd.md.
 */

/** The key of one node; `prefix` ends with `/` (etcd-config normalises it). Equal to go-micro's `path.Join`. */
export function nodeKey(prefix: string, name: string, nodeId: string): string {
  const n = name.replaceAll('/', '-');
  const id = nodeId.replaceAll('/', '-');
  // path.Join would resolve these and step out of the prefix (go-micro has that bug): refuse them.
  for (const [what, part] of [['service name', n], ['node id', id]] as const) {
    if (part === '.' || part === '..') {
      throw new MeshError('INVALID_ARGUMENT', `an etcd ${what} cannot be "${part}"`, { id: 'micromesh.registry' });
    }
  }
  return `${prefix}${n}/${id}`;
}

/**
 * The value go-micro writes: our endpoints have no `request`/`response`
 * (their schemas travel in endpoint metadata), so those are null, which Go's
 * `*Value` decodes as nil.
 */
export function encodeRecord(s: Service, node: Node): string {
  return JSON.stringify({
    name: s.name,
    version: s.version,
    metadata: s.metadata,
    endpoints: s.endpoints.map((e) => ({ name: e.name, request: null, response: null, metadata: e.metadata })),
    nodes: [{ id: node.id, address: node.address, metadata: node.metadata }],
  });
}

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/** Go marshals a nil map as null; non-string values (not go-micro's) are dropped rather than guessed at. */
function metadataOf(x: unknown): Metadata {
  const out: Metadata = {};
  if (isObject(x)) for (const [k, val] of Object.entries(x)) if (typeof val === 'string') out[k] = val;
  return out;
}

/**
 * A record read from etcd, or the reason it is not one. Keeps what maps
 * (name, version, metadata, endpoint names and metadata, nodes) and ignores
 * the rest (go-micro's request/response value trees, unknown fields).
 */
export function decodeRecord(raw: string): Service | string {
  let x: unknown;
  try {
    x = JSON.parse(raw);
  } catch {
    return 'not JSON';
  }
  if (!isObject(x)) return 'not a JSON object';
  if (typeof x.name !== 'string' || x.name === '') return 'no service name';
  if (x.version !== undefined && x.version !== null && typeof x.version !== 'string') return 'version is not a string';
  if (!Array.isArray(x.nodes) || x.nodes.length === 0) return 'no nodes';
  const nodes: Node[] = [];
  for (const n of x.nodes) {
    if (!isObject(n) || typeof n.id !== 'string' || n.id === '' || typeof n.address !== 'string' || n.address === '') {
      return 'a node without id or address';
    }
    nodes.push({ id: n.id, address: n.address, metadata: metadataOf(n.metadata) });
  }
  const endpoints: Endpoint[] = [];
  if (Array.isArray(x.endpoints)) {
    for (const e of x.endpoints) {
      if (isObject(e) && typeof e.name === 'string' && e.name !== '') endpoints.push({ name: e.name, metadata: metadataOf(e.metadata) });
    }
  }
  return { name: x.name, version: typeof x.version === 'string' ? x.version : '', metadata: metadataOf(x.metadata), endpoints, nodes };
}
