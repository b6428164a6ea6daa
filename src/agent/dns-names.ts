/**
 * Consul's DNS names, parsed (pure). Below the domain (`consul` by default),
 * optionally with `.<dc>.dc` or a bare `.<dc>`:
 *   <node>.node                      a node
 *   [<tag>.]<service>.service        a service, optionally one tag
 *   _<service>._<tag>[.service]      RFC 2782; `_tcp` / `_udp` mean any tag
 *   <hex IP>.addr                    an SRV target for an instance with its own address
 */
export type DnsName =
  | { kind: 'node'; node: string; dc?: string }
  | { kind: 'addr'; address: string; dc?: string }
  | { kind: 'service'; service: string; tag?: string; dc?: string }
  /** Inside the domain but no name Consul answers. */
  | { kind: 'unknown' }
  /** Outside the domain: refused (no recursion). */
  | { kind: 'outside' };

export function parseDnsName(qname: string, domain: string): DnsName {
  const labels = qname.toLowerCase().replace(/\.$/, '').split('.');
  const dom = domain.toLowerCase().replace(/\.$/, '').split('.').filter((l) => l.length > 0);
  if (labels.length < dom.length || dom.some((l, i) => labels[labels.length - dom.length + i] !== l)) return { kind: 'outside' };
  const rest = labels.slice(0, labels.length - dom.length);
  if (rest.some((l) => l.length === 0)) return { kind: 'unknown' };
  // `.<dc>.dc` before the domain names the datacenter.
  let dc: string | undefined;
  if (rest.length >= 3 && rest[rest.length - 1] === 'dc') {
    dc = rest[rest.length - 2];
    rest.length -= 2;
  }
  // ...or a bare `<dc>` after node, addr or service (the form of Consul's own SRV targets: `<node>.node.<dc>.consul`).
  if (dc === undefined && rest.length === 3 && (rest[1] === 'node' || rest[1] === 'addr' || rest[1] === 'service')) {
    dc = rest[2];
    rest.length -= 1;
  }
  const last = rest[rest.length - 1];
  if (last === 'node' && rest.length === 2) return { kind: 'node', node: rest[0]!, dc };
  if (last === 'addr' && rest.length === 2) {
    const address = addrFromHex(rest[0]!);
    return address === undefined ? { kind: 'unknown' } : { kind: 'addr', address, dc };
  }
  if (rest[0]?.startsWith('_') && rest[1]?.startsWith('_')) {
    // RFC 2782: _service._tag[.service][.dc]
    const tail = rest.slice(2);
    if (tail[0] === 'service') tail.shift();
    if (tail.length === 1 && dc === undefined) dc = tail.shift();
    if (tail.length > 0) return { kind: 'unknown' };
    const tag = rest[1]!.slice(1);
    return { kind: 'service', service: rest[0].slice(1), tag: tag === 'tcp' || tag === 'udp' ? undefined : tag, dc };
  }
  if (last === 'service' && (rest.length === 2 || rest.length === 3)) {
    return rest.length === 2 ? { kind: 'service', service: rest[0]!, dc } : { kind: 'service', service: rest[1]!, tag: rest[0]!, dc };
  }
  return { kind: 'unknown' };
}

/** An IP as Consul's `.addr` label: IPv4 as 8 hex digits, IPv6 as 32. */
export function addrToHex(ip: string): string {
  if (ip.includes(':')) {
    const [head = '', tail = ''] = ip.split('::');
    const h = head === '' ? [] : head.split(':');
    const t = tail === '' ? [] : tail.split(':');
    const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
    return groups.map((g) => g.padStart(4, '0')).join('').toLowerCase();
  }
  return ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
}

function addrFromHex(hex: string): string | undefined {
  if (/^[0-9a-f]{8}$/.test(hex)) return [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
  if (/^[0-9a-f]{32}$/.test(hex)) return Array.from({ length: 8 }, (_, i) => parseInt(hex.slice(i * 4, i * 4 + 4), 16).toString(16)).join(':');
  return undefined;
}
