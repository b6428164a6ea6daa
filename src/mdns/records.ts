/**
 * Pure: announcements ↔ DNS records (PTR/SRV/TXT/A), received packets →
 * peers, and what to do with a received query. Inputs are packets as
 * multicast-dns decodes them, typed `unknown` because they come off the
 * network: nothing here throws on them; skipped records are tallied.
 */
import { bump, type Tally } from './stats.ts';
import {
  announcementFromTxt, byteLength, decodeTxt, encodeTxt, fillHost, hostName, instanceLabel, instanceName,
} from './txt.ts';
import type { AnnouncedPeer, PeerAnnouncement } from './types.ts';

/** Largest mDNS payload we send, bytes: fits a 1500-byte MTU with IP/UDP headers. */
export const MAX_PACKET_BYTES = 1400;
const HEADER_BYTES = 12;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** A resource record in the shape multicast-dns (dns-packet) encodes. */
export interface DnsRecord {
  name: string;
  type: 'PTR' | 'SRV' | 'TXT' | 'A';
  class: 'IN';
  /** Seconds; 0 says goodbye. */
  ttl: number;
  /** mDNS cache-flush bit: set on unique records (SRV, TXT, A), not on the shared PTR. */
  flush: boolean;
  data: string | string[] | SrvData;
}

export interface DnsQuestion {
  name: string;
  type: 'PTR';
  class: 'IN';
}

export interface EncodeOptions {
  serviceType: string;
  ttlS: number;
  /** Address of the interface the packet leaves by, when known: fills unspecified hosts and the A record. */
  interfaceAddress?: string | undefined;
}

/**
 * The records announcing `a`: PTR (service type → instance), SRV (instance →
 * host and gossip port), TXT (the announcement) and, when an IPv4 address is
 * known, A (host → address). All in one packet, so a receiver never has to
 * join records across packets.
 */
export function announcementRecords(a: PeerAnnouncement, opts: EncodeOptions): DnsRecord[] {
  const iface = opts.interfaceAddress;
  const filled: PeerAnnouncement = iface === undefined ? a : {
    ...a, gossipAddress: fillHost(a.gossipAddress, iface), rpcAddress: fillHost(a.rpcAddress, iface),
  };
  const instance = instanceName(a.nodeId, opts.serviceType);
  const host = hostName(a.nodeId);
  const gossip = splitPort(filled.gossipAddress);
  const ttl = opts.ttlS;
  const records: DnsRecord[] = [
    { name: opts.serviceType, type: 'PTR', class: 'IN', ttl, flush: false, data: instance },
    { name: instance, type: 'SRV', class: 'IN', ttl, flush: true, data: { priority: 0, weight: 0, port: gossip.port, target: host } },
    { name: instance, type: 'TXT', class: 'IN', ttl, flush: true, data: encodeTxt(filled) },
  ];
  const ipv4 = IPV4.test(gossip.host) && gossip.host !== '0.0.0.0' ? gossip.host : iface !== undefined && IPV4.test(iface) ? iface : undefined;
  if (ipv4 !== undefined) records.push({ name: host, type: 'A', class: 'IN', ttl, flush: true, data: ipv4 });
  return records;
}

function splitPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

/** Encoded size of a name without compression (dns-packet never compresses): its bytes plus two length bytes. */
const nameBytes = (name: string): number => byteLength(name) + 2;

/** Exact encoded size of a packet of `records` (and `questions`) as dns-packet writes it. */
export function packetBytes(records: readonly DnsRecord[], questions: readonly DnsQuestion[] = []): number {
  let n = HEADER_BYTES;
  for (const q of questions) n += nameBytes(q.name) + 4;
  for (const r of records) {
    n += nameBytes(r.name) + 10;
    if (r.type === 'PTR') n += nameBytes(r.data as string);
    else if (r.type === 'A') n += 4;
    else if (r.type === 'SRV') n += 6 + nameBytes((r.data as SrvData).target);
    else for (const s of r.data as string[]) n += 1 + byteLength(s);
  }
  return n;
}

/** A PTR we already hold, listed in our queries so its owner need not answer (known-answer suppression). */
export interface KnownAnswer {
  instance: string;
  /** Remaining TTL, seconds. */
  ttlS: number;
}

/**
 * A browse query: one PTR question for the service type, with as many
 * known answers as fit the packet (RFC 6762 §7.1). Answers left out only
 * cost their owners a redundant reply.
 */
export function browseQuery(serviceType: string, known: readonly KnownAnswer[]): { questions: DnsQuestion[]; answers: DnsRecord[] } {
  const questions: DnsQuestion[] = [{ name: serviceType, type: 'PTR', class: 'IN' }];
  const answers: DnsRecord[] = [];
  let size = packetBytes([], questions);
  for (const k of known) {
    const r: DnsRecord = { name: serviceType, type: 'PTR', class: 'IN', ttl: Math.floor(k.ttlS), flush: false, data: k.instance };
    const add = packetBytes([r]) - HEADER_BYTES;
    if (size + add > MAX_PACKET_BYTES) break;
    answers.push(r);
    size += add;
  }
  return { questions, answers };
}

export interface QueryContext {
  serviceType: string;
  /** Our node id; undefined when we only browse (then nothing is ours to answer). */
  nodeId: string | undefined;
  /** Our announced TTL, seconds: a known answer with at least half of it suppresses our reply. */
  ttlS: number;
}

/**
 * Whether a query asks for our instance: PTR/ANY for the service type,
 * SRV/TXT/ANY for our instance, A/ANY for our host. `suppress` when it asks
 * only by PTR and already lists our PTR with at least half our TTL left.
 */
export function classifyQuery(packet: unknown, ctx: QueryContext, tally: Tally): 'answer' | 'suppress' | 'ignore' {
  if (ctx.nodeId === undefined) return 'ignore';
  const st = ctx.serviceType.toLowerCase();
  const instance = instanceName(ctx.nodeId, ctx.serviceType).toLowerCase();
  const host = hostName(ctx.nodeId).toLowerCase();
  let byPtr = false;
  let direct = false;
  for (const q of listOf(packet, 'questions')) {
    if (!isObject(q) || typeof q.name !== 'string' || typeof q.type !== 'string') {
      bump(tally, 'malformedRecords');
      continue;
    }
    const name = q.name.toLowerCase();
    const any = q.type === 'ANY';
    if (name === st && (any || q.type === 'PTR')) byPtr = true;
    else if (name === instance && (any || q.type === 'SRV' || q.type === 'TXT')) direct = true;
    else if (name === host && (any || q.type === 'A')) direct = true;
    else if (!name.endsWith(st)) bump(tally, 'otherService');
  }
  if (direct) return 'answer';
  if (!byPtr) return 'ignore';
  for (const r of listOf(packet, 'answers')) {
    if (isObject(r) && r.type === 'PTR' && typeof r.name === 'string' && r.name.toLowerCase() === st
      && typeof r.data === 'string' && r.data.toLowerCase() === instance
      && typeof r.ttl === 'number' && r.ttl * 2 >= ctx.ttlS) return 'suppress';
  }
  return 'answer';
}

export interface DecodeContext {
  serviceType: string;
  /** Announcements of other clusters are skipped (counted `otherCluster`). */
  cluster: string;
  /** Our node id: our own announcements heard back are skipped (counted `self`). */
  selfId: string | undefined;
  /** The packet's source address, substituted for unspecified hosts the A record does not resolve. */
  source: string;
}

export interface DecodeResult {
  /** Announcements with a TTL above 0. */
  peers: AnnouncedPeer[];
  /** Announcements with TTL 0: their nodes are leaving. */
  goodbyes: AnnouncedPeer[];
}

interface Candidate {
  txt: Record<string, unknown> | undefined;
  srv: SrvData | undefined;
  ptrSeen: boolean;
}

/**
 * The peers announced in a response packet. A peer needs its TXT record (it
 * carries everything); the SRV and A records only resolve an unspecified
 * gossip/RPC host. Each packet is decoded on its own.
 */
export function decodeResponse(packet: unknown, ctx: DecodeContext, tally: Tally): DecodeResult {
  const st = ctx.serviceType.toLowerCase();
  const suffix = `.${st}`;
  const byInstance = new Map<string, Candidate>();
  const addresses = new Map<string, string>();
  const candidate = (label: string): Candidate => {
    let c = byInstance.get(label);
    if (c === undefined) byInstance.set(label, (c = { txt: undefined, srv: undefined, ptrSeen: false }));
    return c;
  };
  for (const r of [...listOf(packet, 'answers'), ...listOf(packet, 'additionals')]) {
    if (!isObject(r) || typeof r.name !== 'string' || typeof r.type !== 'string' || !validTtl(r.ttl)) {
      bump(tally, 'malformedRecords');
      continue;
    }
    const name = r.name.toLowerCase();
    if (r.type === 'A') {
      if (typeof r.data === 'string' && IPV4.test(r.data)) addresses.set(name, r.data);
      continue; // A records are judged once we know which hosts our SRVs name
    }
    if (name === st) {
      const label = r.type === 'PTR' && typeof r.data === 'string' ? labelOf(r.data.toLowerCase(), suffix) : undefined;
      if (label === undefined) bump(tally, 'malformedRecords');
      else candidate(label).ptrSeen = true;
      continue;
    }
    const label = labelOf(name, suffix);
    if (label === undefined) {
      bump(tally, 'otherService');
      continue;
    }
    if (r.type === 'TXT') {
      const c = candidate(label);
      if (c.txt === undefined) c.txt = r;
    } else if (r.type === 'SRV' && isSrv(r.data)) {
      candidate(label).srv ??= r.data;
    } else {
      bump(tally, 'malformedRecords');
    }
  }

  const result: DecodeResult = { peers: [], goodbyes: [] };
  const targets = new Set<string>();
  for (const [label, c] of byInstance) {
    if (c.srv !== undefined) targets.add(c.srv.target.toLowerCase());
    if (c.txt === undefined) {
      if (c.ptrSeen) bump(tally, 'incomplete');
      continue;
    }
    const peer = decodeInstance(label, c, addresses, ctx, tally);
    if (peer !== undefined) (peer.ttlS === 0 ? result.goodbyes : result.peers).push(peer);
  }
  for (const name of addresses.keys()) if (!targets.has(name)) bump(tally, 'otherService');
  return result;
}

function decodeInstance(label: string, c: Candidate, addresses: Map<string, string>, ctx: DecodeContext, tally: Tally): AnnouncedPeer | undefined {
  const txt = decodeTxt(c.txt!.data, tally);
  if (txt === undefined) return undefined;
  const a = announcementFromTxt(txt, tally);
  if (a === undefined) return undefined;
  // The name must be the one the id derives, so a goodbye for a name always concerns the same node.
  if (instanceLabel(a.nodeId).toLowerCase() !== label) {
    bump(tally, 'invalidFields');
    return undefined;
  }
  if (a.cluster !== ctx.cluster) {
    bump(tally, 'otherCluster');
    return undefined;
  }
  if (a.nodeId === ctx.selfId) {
    bump(tally, 'self');
    return undefined;
  }
  const host = (c.srv !== undefined ? addresses.get(c.srv.target.toLowerCase()) : undefined) ?? ctx.source;
  return {
    ...a,
    gossipAddress: fillHost(a.gossipAddress, host),
    rpcAddress: fillHost(a.rpcAddress, host),
    instance: instanceName(a.nodeId, ctx.serviceType),
    ttlS: c.txt!.ttl as number,
    source: ctx.source,
  };
}

/** The single label before `suffix`, or undefined when `name` is not `<label><suffix>`. */
function labelOf(name: string, suffix: string): string | undefined {
  if (!name.endsWith(suffix)) return undefined;
  const label = name.slice(0, -suffix.length);
  return label.length > 0 && label.length <= 63 && !label.includes('.') ? label : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function listOf(packet: unknown, key: string): unknown[] {
  const v = isObject(packet) ? packet[key] : undefined;
  return Array.isArray(v) ? v : [];
}

function validTtl(ttl: unknown): ttl is number {
  return typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 0 && ttl <= 0x7fffffff;
}

function isSrv(d: unknown): d is SrvData {
  return isObject(d) && typeof d.target === 'string' && typeof d.port === 'number' && Number.isInteger(d.port) && d.port >= 0 && d.port <= 0xffff;
}
