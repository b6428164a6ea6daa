import * as dnsPacket from 'dns-packet';
import type { Answer, Packet } from 'dns-packet';
import type { Random } from '../index.ts';
import { addrToHex, parseDnsName } from './dns-names.ts';
import type { CatalogInstance, CatalogSnapshot } from './types.ts';

export interface DnsAnswerOptions {
  /** Consul's `domain`, default `consul`. */
  domain: string;
  /** TTL of every record, seconds (Consul's default 0: nothing cached). */
  ttlSeconds: number;
}

const RCODE = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** The UDP answer size without EDNS (RFC 1035). */
const CLASSIC_UDP_BYTES = 512;
/** What we advertise and accept at most over UDP with EDNS. */
const EDNS_UDP_BYTES = 4096;

/**
 * Consul's DNS answer to `query` from `snap` (pure; the server shell sends
 * it). Authoritative, no recursion: names outside the domain are REFUSED,
 * unknown names get NXDOMAIN with the SOA. Service lookups list only
 * instances not critical, shuffled; SRV targets are `<node>.node.<dc>.<domain>`
 * (or `<hex ip>.addr...` for an instance with its own address) with their
 * A/AAAA in ADDITIONAL. Over UDP (`udp` true) an answer larger than the
 * client's buffer (512 bytes, or its EDNS size up to 4096) is cut and
 * flagged TC, so the client retries over TCP.
 */
export function dnsAnswer(query: Packet, snap: CatalogSnapshot, o: DnsAnswerOptions, random: Random, udp: boolean): Packet {
  const opt = query.additionals?.find((a) => a.type === 'OPT');
  const res: Packet = {
    type: 'response', id: query.id ?? 0, flags: dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED),
    questions: query.questions ?? [], answers: [], authorities: [],
    additionals: opt === undefined ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_BYTES, flags: 0 } as Answer],
  };
  const rcode = (code: number): Packet => ({ ...res, flags: (res.flags! & ~0xf) | code });
  const q = query.questions?.length === 1 ? query.questions[0]! : undefined;
  if (q === undefined || query.type === 'response') return rcode(RCODE.FORMERR);
  if ((q.class ?? 'IN') !== 'IN' && q.class !== 'ANY') return rcode(RCODE.NOTIMP);
  const name = parseDnsName(q.name, o.domain);
  if (name.kind === 'outside') return { ...rcode(RCODE.REFUSED), flags: ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | RCODE.REFUSED };
  const dc = snap.datacenter.toLowerCase();
  const domain = o.domain.replace(/\.$/, '');
  const soa = (): Answer => ({
    name: domain, type: 'SOA', ttl: o.ttlSeconds,
    data: { mname: `ns.${domain}`, rname: `hostmaster.${domain}`, serial: snap.index >>> 0, refresh: 3600, retry: 600, expire: 86400, minimum: 0 },
  });
  const nx = (): Packet => ({ ...rcode(RCODE.NXDOMAIN), authorities: [soa()] });
  if (name.kind === 'unknown' || ('dc' in name && name.dc !== undefined && name.dc !== dc)) return nx();
  const wants = (t: string): boolean => q.type === t || (q.type as string) === 'ANY';
  const addrRecord = (owner: string, ip: string): Answer | undefined => {
    const family = ip.includes(':') ? 'AAAA' : 'A';
    return wants(family) ? { name: owner, type: family, ttl: o.ttlSeconds, data: ip } : undefined;
  };
  const answers: Answer[] = [];
  const additionals: Answer[] = [];

  if (name.kind === 'node' || name.kind === 'addr') {
    const node = name.kind === 'node' ? snap.nodes.find((n) => n.name.toLowerCase() === name.node) : undefined;
    if (name.kind === 'node' && node === undefined) return nx();
    const a = addrRecord(q.name, node?.address ?? (name.kind === 'addr' ? name.address : ''));
    if (a !== undefined) answers.push(a);
    const txt: Answer | undefined = node === undefined || Object.keys(node.meta).length === 0 ? undefined
      : { name: q.name, type: 'TXT', ttl: o.ttlSeconds, data: Object.entries(node.meta).map(([k, v]) => `${k}=${v}`) };
    if (txt !== undefined) (wants('TXT') ? answers : additionals).push(txt);
  } else {
    const all = snap.instances.filter((i) => i.service.toLowerCase() === name.service && (name.tag === undefined || i.tags.some((t) => t.toLowerCase() === name.tag)));
    const healthy = random.shuffle(all.filter((i) => i.status !== 'critical'));
    if (healthy.length === 0) return nx();
    const nodeAddress = new Map(snap.nodes.map((n) => [n.name, n.address]));
    const ipOf = (i: CatalogInstance): string => i.address || nodeAddress.get(i.node) || '';
    if (q.type === 'SRV') {
      const seen = new Set<string>();
      for (const i of healthy) {
        const ip = ipOf(i);
        const own = i.address !== '' && i.address !== nodeAddress.get(i.node);
        const target = own ? `${addrToHex(ip)}.addr.${dc}.${domain}` : `${i.node}.node.${dc}.${domain}`;
        answers.push({ name: q.name, type: 'SRV', ttl: o.ttlSeconds, data: { priority: 1, weight: 1, port: i.port, target } });
        if (!seen.has(target) && ip !== '') {
          seen.add(target);
          additionals.push({ name: target, type: ip.includes(':') ? 'AAAA' : 'A', ttl: o.ttlSeconds, data: ip });
        }
      }
    } else {
      const seen = new Set<string>();
      for (const i of healthy) {
        const ip = ipOf(i);
        if (seen.has(ip)) continue;
        seen.add(ip);
        const a = addrRecord(q.name, ip);
        if (a !== undefined) answers.push(a);
      }
    }
  }
  const out: Packet = { ...res, answers, authorities: answers.length === 0 ? [soa()] : [], additionals: [...additionals, ...res.additionals!] };
  return udp ? fitUdp(out, opt === undefined ? CLASSIC_UDP_BYTES : Math.min(EDNS_UDP_BYTES, Math.max(CLASSIC_UDP_BYTES, (opt as { udpPayloadSize?: number }).udpPayloadSize ?? 0))) : out;
}

/** Cuts an answer to `limit` bytes: ADDITIONAL records first (keeping OPT), then answers, flagging TC when any answer went. */
function fitUdp(p: Packet, limit: number): Packet {
  if (dnsPacket.encodingLength(p) <= limit) return p;
  const opt = p.additionals!.filter((a) => a.type === 'OPT');
  const cut: Packet = { ...p, additionals: opt, answers: [...p.answers!] };
  while (cut.answers!.length > 0 && dnsPacket.encodingLength(cut) > limit) cut.answers!.pop();
  if (cut.answers!.length < p.answers!.length) cut.flags = cut.flags! | dnsPacket.TRUNCATED_RESPONSE;
  return cut;
}
