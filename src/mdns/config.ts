import * as v from 'valibot';
import { bool, definedOnly, intIn, numIn, parseConfig, str } from '../config/validate.ts';
import { MeshError } from '../errors/index.ts';
import { MAX_PACKET_BYTES, announcementRecords, packetBytes } from './records.ts';
import {
  MAX_META_ENTRIES, MAX_NODE_ID_BYTES, RESERVED_KEYS, isClusterName, isMetaKey, isNodeId, isPeerAddress, txtProblem,
} from './txt.ts';
import type { LocalAnnouncement, PeerAnnouncement } from './types.ts';

/** Settings of the mDNS discovery (DEVELOPERS.md rule 4). */
export interface MdnsConfig {
  /** Run at all. When false, `start()` does nothing (seeds only: `--no-mdns`). Default true. */
  enabled: boolean;
  /**
   * DNS-SD service type we announce and browse, `_name._udp.local` (name 1–15
   * characters `[A-Za-z0-9-]`). Default `_micromesh._udp.local`. Tests use
   * their own to stay apart from each other.
   */
  serviceType: string;
  /** UDP port, 5353 for real mDNS. Default 5353; tests may use another. */
  port: number;
  /**
   * IPv4 addresses of the local interfaces to use, one socket each; each
   * socket announces that interface's address and only accepts packets from
   * its subnet. Empty (default) means one socket that listens on every
   * interface but sends by the multicast route only (multicast-dns's
   * behaviour): a host on several LANs should list its interfaces.
   */
  interfaces: string[];
  /**
   * Address the sockets bind to. `0.0.0.0` (default) hears the group on every
   * interface joined; binding an interface address would hear no multicast
   * at all. `224.0.0.251` hears only mDNS group traffic (tests use it).
   */
  bindAddress: string;
  /** Hear our own multicast, hence other processes on this host. Default true. */
  loopback: boolean;
  /** IP TTL of multicast packets. RFC 6762 says 255 (receivers may check it). Default 255. */
  multicastTtl: number;
  /** Mean time between periodic browse queries, ms. Default 20000. */
  browseIntervalMs: number;
  /**
   * Each browse interval is drawn uniformly from
   * `browseIntervalMs × [1 − browseJitter, 1 + browseJitter]`, so nodes
   * started together do not query in lockstep. Default 0.25 (15–25 s).
   */
  browseJitter: number;
  /**
   * TTL of our records, seconds: peers forget us this long after last
   * hearing us. Must be at least twice the longest browse interval, so a
   * live peer is always refreshed in time. Default 120 (RFC 6762's for host records).
   */
  announceTtlS: number;
  /** Announcements and queries sent at start, `startupIntervalMs` apart (RFC 6762 §8.3 says at least 2). Default 2. */
  startupRepeats: number;
  /** Gap between the startup announcements/queries, ms. Default 1000. */
  startupIntervalMs: number;
  /** Answers to queries wait a random 0..this ms, so many responders do not collide (RFC 6762 §6). Default 120. */
  responseJitterMs: number;
  /** Most peers remembered; beyond, new peers are ignored and counted (`tableFull`). Default 1024. */
  maxPeers: number;
}

export const MDNS_DEFAULTS: Readonly<MdnsConfig> = Object.freeze({
  enabled: true,
  serviceType: '_micromesh._udp.local',
  port: 5353,
  interfaces: [],
  bindAddress: '0.0.0.0',
  loopback: true,
  multicastTtl: 255,
  browseIntervalMs: 20_000,
  browseJitter: 0.25,
  announceTtlS: 120,
  startupRepeats: 2,
  startupIntervalMs: 1000,
  responseJitterMs: 120,
  maxPeers: 1024,
});

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const ipv4 = v.pipe(v.string('must be an IPv4 address'), v.regex(IPV4, 'must be an IPv4 address'));
const SERVICE_TYPE = /^_[A-Za-z0-9](?:[A-Za-z0-9-]{0,13}[A-Za-z0-9])?\._(?:udp|tcp)\.local$/;

const schema = v.pipe(v.strictObject({
  enabled: bool('must be a boolean'),
  serviceType: v.pipe(v.string('must be a string'), v.regex(SERVICE_TYPE, 'must look like _name._udp.local (name: 1-15 of [A-Za-z0-9-])')),
  port: intIn(1, 65535),
  interfaces: v.pipe(
    v.array(ipv4, 'must be an array of IPv4 addresses'),
    v.maxLength(16, 'must list at most 16 interfaces'),
    v.check((a) => new Set(a).size === a.length, 'must not list an address twice'),
  ),
  bindAddress: ipv4,
  loopback: bool('must be a boolean'),
  multicastTtl: intIn(1, 255),
  browseIntervalMs: intIn(100, 3_600_000),
  browseJitter: numIn(0, 0.9),
  announceTtlS: intIn(1, 4500),
  startupRepeats: intIn(1, 10),
  startupIntervalMs: intIn(10, 60_000),
  responseJitterMs: intIn(0, 1000),
  maxPeers: intIn(1, 65_536),
}), v.forward(v.check(
  (c) => c.announceTtlS * 1000 >= 2 * longestBrowseMs(c),
  (issue) => `must be at least twice the longest browse interval (${longestBrowseMs(issue.input)} ms = browseIntervalMs × (1 + browseJitter))`,
), ['announceTtlS']));

function longestBrowseMs(c: { browseIntervalMs: number; browseJitter: number }): number {
  return Math.ceil(c.browseIntervalMs * (1 + c.browseJitter));
}

/** Defaults overlaid with `overrides` (undefined fields ignored), validated; INVALID_CONFIG names the field and range. */
export function resolveMdnsConfig(overrides?: Partial<MdnsConfig>): MdnsConfig {
  return parseConfig(schema, { ...MDNS_DEFAULTS, ...definedOnly(overrides) }, 'mdns');
}

const ADDRESS = 'must be host:port with port in [1, 65535]';
const addressField = v.pipe(v.string(ADDRESS), v.check((s: string) => isPeerAddress(s), ADDRESS));
const CLUSTER = 'must be 1-63 of [A-Za-z0-9_.-], starting with a letter or digit';
const META_KEY = `must be a key of 1-16 of [a-z0-9_-], starting with a letter or digit, and not one of ${RESERVED_KEYS.join(', ')}`;

const announcementSchema = v.strictObject({
  cluster: v.pipe(v.string('must be a string'), v.check((s: string) => isClusterName(s), CLUSTER)),
  nodeId: v.pipe(str(MAX_NODE_ID_BYTES), v.check((s: string) => isNodeId(s), `must be 1-${MAX_NODE_ID_BYTES} bytes of printable characters without spaces`)),
  gossipAddress: addressField,
  rpcAddress: addressField,
  protocolVersion: intIn(0, 65535),
  meta: v.pipe(
    v.record(v.pipe(v.string(), v.check((s: string) => isMetaKey(s), META_KEY)), v.string('values must be strings'), 'must be an object of strings'),
    v.check((m) => Object.keys(m).length <= MAX_META_ENTRIES, `must have at most ${MAX_META_ENTRIES} entries`),
  ),
});

/**
 * Validates our announcement and checks it fits: each TXT string within 255
 * bytes, the TXT within its limit, the whole announcement packet within
 * `MAX_PACKET_BYTES` for `serviceType`. INVALID_CONFIG names what is wrong.
 */
export function resolveAnnouncement(cluster: string, local: LocalAnnouncement, serviceType: string): PeerAnnouncement {
  const a = parseConfig(announcementSchema, { cluster, meta: {}, ...definedOnly(local) }, 'mdns.announcement') as PeerAnnouncement;
  const problem = txtProblem(a);
  if (problem !== undefined) throw new MeshError('INVALID_CONFIG', `mdns.announcement: ${problem}; shorten the meta values or node id`);
  // 255.255.255.255 stands for the longest interface address the A record may carry.
  const size = packetBytes(announcementRecords(a, { serviceType, ttlS: 0, interfaceAddress: '255.255.255.255' }));
  if (size > MAX_PACKET_BYTES) {
    throw new MeshError('INVALID_CONFIG', `mdns.announcement: the announcement packet would be ${size} bytes, over the ${MAX_PACKET_BYTES}-byte limit; shorten the meta values or node id`);
  }
  return a;
}

/** Validates the cluster name alone (browse-only discovery has no announcement). */
export function resolveCluster(cluster: unknown): string {
  if (!isClusterName(cluster)) {
    throw new MeshError('INVALID_CONFIG', `mdns.cluster ${CLUSTER}, got ${JSON.stringify(cluster)}`);
  }
  return cluster;
}
