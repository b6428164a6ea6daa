/**
 * Pure: instance naming and the TXT record that carries an announcement
 * (docs/protocol-mdns.md). Decoding never throws: anything unexpected is
 * counted in the tally and the record is skipped (DEVELOPERS.md rule 6).
 */
import { formatHostPort, tryParseHostPort } from '../net/address.ts';
import { bump, type Tally } from './stats.ts';
import type { AnnouncementMeta, PeerAnnouncement } from './types.ts';

/** Version of this TXT layout (`txtvers`). Raised only for incompatible changes; receivers skip other versions. */
export const TXT_VERSION = 1;
/** Largest TXT rdata we send or accept, bytes (each string plus its length byte). */
export const MAX_TXT_BYTES = 1024;
/** DNS character-string limit: one `key=value` string, bytes. */
export const MAX_TXT_STRING_BYTES = 255;
/** Most meta entries announced, or kept from a received TXT. */
export const MAX_META_ENTRIES = 8;
/** Longest node id, bytes of UTF-8. */
export const MAX_NODE_ID_BYTES = 128;

/** TXT keys with a fixed meaning; meta may not use them. */
export const RESERVED_KEYS = ['txtvers', 'cluster', 'id', 'proto', 'gossip', 'rpc'] as const;
const RESERVED = new Set<string>(RESERVED_KEYS);

const CLUSTER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const NODE_ID = /^[^\s\p{Cc}]+$/u;
const META_KEY = /^[a-z0-9][a-z0-9_-]{0,15}$/;
const SAFE_LABEL = /^[A-Za-z0-9_-]{1,63}$/;
const UNSIGNED = /^(?:0|[1-9]\d{0,4})$/;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export const byteLength = (s: string): number => utf8.encode(s).length;

export function isClusterName(s: unknown): s is string {
  return typeof s === 'string' && CLUSTER.test(s);
}

export function isNodeId(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && NODE_ID.test(s) && byteLength(s) <= MAX_NODE_ID_BYTES;
}

export function isMetaKey(s: string): boolean {
  return META_KEY.test(s) && !RESERVED.has(s);
}

/** A `host:port` with port in [1, 65535]. */
export function isPeerAddress(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const hp = tryParseHostPort(s);
  return hp !== undefined && hp.port >= 1;
}

/** `0.0.0.0` / `::`: "whatever address I was reached on". */
export function hasUnspecifiedHost(address: string): boolean {
  const host = tryParseHostPort(address)?.host;
  return host === '0.0.0.0' || host === '::';
}

/** Replaces an unspecified host by `host`; other addresses are returned as they are. */
export function fillHost(address: string, host: string): string {
  const hp = tryParseHostPort(address);
  return hp !== undefined && (hp.host === '0.0.0.0' || hp.host === '::') ? formatHostPort(host, hp.port) : address;
}

/** 32-bit FNV-1a of the UTF-8 bytes, as 8 hex digits: a stable, dependency-free name suffix. */
export function fnv1a32(s: string): string {
  let h = 0x811c9dc5;
  for (const b of utf8.encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/**
 * The DNS label naming a node's instance. Ids that are already safe labels
 * are used as they are (readable in `avahi-browse`); others are made safe and
 * suffixed with a hash of the full id, so distinct ids keep distinct labels.
 */
export function instanceLabel(nodeId: string): string {
  if (SAFE_LABEL.test(nodeId)) return nodeId;
  return `${nodeId.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 54)}-${fnv1a32(nodeId)}`;
}

/** `<label>.<serviceType>`, e.g. `node-1._micromesh._udp.local`. */
export function instanceName(nodeId: string, serviceType: string): string {
  return `${instanceLabel(nodeId)}.${serviceType}`;
}

/**
 * The SRV target host. A sub-name of `micromesh.local` rather than
 * `<label>.local`, so a node called like a real machine never claims that
 * machine's name on the LAN.
 */
export function hostName(nodeId: string): string {
  return `${instanceLabel(nodeId)}.micromesh.local`;
}

/** The TXT strings of an announcement (already validated), reserved keys first, meta sorted. */
export function encodeTxt(a: PeerAnnouncement): string[] {
  const out = [
    `txtvers=${TXT_VERSION}`, `cluster=${a.cluster}`, `id=${a.nodeId}`, `proto=${a.protocolVersion}`,
    `gossip=${a.gossipAddress}`, `rpc=${a.rpcAddress}`,
  ];
  for (const k of Object.keys(a.meta).sort()) out.push(`${k}=${a.meta[k]}`);
  return out;
}

/** TXT rdata size of `strings`: each string's bytes plus its length byte. */
export function txtBytes(strings: readonly string[]): number {
  let n = 0;
  for (const s of strings) n += 1 + byteLength(s);
  return n;
}

/** Why an announcement cannot be encoded, or undefined when it can. */
export function txtProblem(a: PeerAnnouncement): string | undefined {
  const strings = encodeTxt(a);
  const long = strings.find((s) => byteLength(s) > MAX_TXT_STRING_BYTES);
  if (long !== undefined) return `TXT entry "${long.slice(0, 40)}…" is over ${MAX_TXT_STRING_BYTES} bytes`;
  const size = txtBytes(strings);
  if (size > MAX_TXT_BYTES) return `TXT record would be ${size} bytes, over the ${MAX_TXT_BYTES}-byte limit`;
  return undefined;
}

function asText(part: unknown): string | undefined {
  if (typeof part === 'string') return part;
  if (part instanceof Uint8Array) {
    try {
      return strictUtf8.decode(part);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function partBytes(part: unknown): number {
  return typeof part === 'string' ? byteLength(part) : part instanceof Uint8Array ? part.length : 0;
}

/**
 * TXT data (dns-packet gives an array of Buffers) to a key → value map.
 * Keys are lower-cased (they are case-insensitive in DNS-SD); a repeated key
 * keeps its first value (RFC 6763 §6.4). Undefined, counted, when the data is
 * not TXT-shaped, not UTF-8, or too large.
 */
export function decodeTxt(data: unknown, tally: Tally): Map<string, string> | undefined {
  const parts: unknown[] = Array.isArray(data) ? data : [data];
  let size = 0;
  for (const p of parts) {
    if (typeof p !== 'string' && !(p instanceof Uint8Array)) {
      bump(tally, 'malformedTxt');
      return undefined;
    }
    size += 1 + partBytes(p);
  }
  if (size > MAX_TXT_BYTES) {
    bump(tally, 'oversizedTxt');
    return undefined;
  }
  const out = new Map<string, string>();
  for (const p of parts) {
    const s = asText(p);
    if (s === undefined || partBytes(p) > MAX_TXT_STRING_BYTES) {
      bump(tally, 'malformedTxt');
      return undefined;
    }
    if (s.length === 0) continue; // an empty string is DNS-SD's "no attributes"
    const eq = s.indexOf('=');
    const key = (eq < 0 ? s : s.slice(0, eq)).toLowerCase();
    if (key.length === 0 || out.has(key)) {
      bump(tally, 'ignoredKeys');
      continue;
    }
    // A key without "=" is a DNS-SD boolean attribute; none of ours is one.
    if (eq < 0) {
      bump(tally, RESERVED.has(key) ? 'invalidFields' : 'ignoredKeys');
      continue;
    }
    out.set(key, s.slice(eq + 1));
  }
  return out;
}

/**
 * The announcement in a decoded TXT map, or undefined (counted) when the
 * version is not ours or a required key is missing or invalid.
 */
export function announcementFromTxt(txt: Map<string, string>, tally: Tally): PeerAnnouncement | undefined {
  const version = txt.get('txtvers');
  if (version === undefined) return miss(tally);
  if (version !== String(TXT_VERSION)) {
    bump(tally, 'unsupportedVersion');
    return undefined;
  }
  const cluster = txt.get('cluster');
  const nodeId = txt.get('id');
  const proto = txt.get('proto');
  const gossipAddress = txt.get('gossip');
  const rpcAddress = txt.get('rpc');
  if (cluster === undefined || nodeId === undefined || proto === undefined || gossipAddress === undefined || rpcAddress === undefined) {
    return miss(tally);
  }
  const protocolVersion = UNSIGNED.test(proto) ? Number(proto) : NaN;
  if (!isClusterName(cluster) || !isNodeId(nodeId) || !(protocolVersion <= 0xffff) || !isPeerAddress(gossipAddress) || !isPeerAddress(rpcAddress)) {
    bump(tally, 'invalidFields');
    return undefined;
  }
  const meta: AnnouncementMeta = {};
  let kept = 0;
  for (const [k, v] of txt) {
    if (RESERVED.has(k)) continue;
    if (!isMetaKey(k) || kept >= MAX_META_ENTRIES) {
      bump(tally, 'ignoredKeys');
      continue;
    }
    meta[k] = v;
    kept++;
  }
  return { cluster, nodeId, gossipAddress, rpcAddress, protocolVersion, meta };
}

function miss(tally: Tally): undefined {
  bump(tally, 'missingFields');
  return undefined;
}
