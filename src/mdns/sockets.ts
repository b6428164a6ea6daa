/**
 * The thin layer over multicast-dns: which sockets to open, opening one,
 * sending with a completion promise, and turning socket failures into
 * `MDNS_UNAVAILABLE` errors that say what to do.
 */
import { createRequire } from 'node:module';
import type { NetworkInterfaceInfo } from 'node:os';
import type makeMdns from 'multicast-dns';
import { MeshError } from '../errors/index.ts';
import type { MdnsConfig } from './config.ts';
import type { DnsQuestion, DnsRecord } from './records.ts';

export type MdnsSocket = makeMdns.MulticastDNS;
export type MdnsSocketOptions = makeMdns.Options;
/** Creates one multicast-dns instance; tests inject one over an in-memory network. */
export type MdnsSocketFactory = (opts: MdnsSocketOptions) => MdnsSocket;
export type NetworkInterfacesFn = () => NodeJS.Dict<NetworkInterfaceInfo[]>;

/** Loaded on first use: a process with mDNS off never pays for multicast-dns and dns-packet. */
const load = createRequire(import.meta.url);
export const defaultSocketFactory: MdnsSocketFactory = (opts) => (load('multicast-dns') as typeof makeMdns)(opts);

/** One socket to open: bound to one interface, or (undefined) to all. */
export interface SocketPlan {
  interfaceAddress: string | undefined;
  /** The interface's IPv4 subnet, to ignore packets that arrive from elsewhere. */
  subnet: { base: number; mask: number } | undefined;
}

const ipToInt = (ip: string): number => ip.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);

/** Whether `address` (IPv4) lies in `subnet`; non-IPv4 addresses never do. */
export function inSubnet(address: string, subnet: { base: number; mask: number }): boolean {
  if (!/^\d{1,3}(?:\.\d{1,3}){3}$/.test(address)) return false;
  return ((ipToInt(address) & subnet.mask) >>> 0) === subnet.base;
}

/**
 * The sockets to open for `config.interfaces`. Throws `MDNS_UNAVAILABLE`
 * naming the address when one is not an IPv4 address of this host.
 */
export function planSockets(config: MdnsConfig, nics: NodeJS.Dict<NetworkInterfaceInfo[]>): SocketPlan[] {
  if (config.interfaces.length === 0) return [{ interfaceAddress: undefined, subnet: undefined }];
  const all = Object.values(nics).flatMap((list) => list ?? []).filter((n) => n.family === 'IPv4');
  return config.interfaces.map((address) => {
    const nic = all.find((n) => n.address === address);
    if (nic === undefined) {
      const have = all.map((n) => n.address).join(', ') || 'none';
      throw new MeshError('MDNS_UNAVAILABLE', `mdns: ${address} is not an IPv4 address of this host (have: ${have})`, { status: 503, retryable: false });
    }
    const mask = ipToInt(nic.netmask);
    return { interfaceAddress: address, subnet: { base: (ipToInt(address) & mask) >>> 0, mask } };
  });
}

const HINTS: Record<string, string> = {
  EADDRINUSE: 'another process holds the port without SO_REUSEADDR; stop it, or use another mdns.port',
  EACCES: 'not allowed to bind the port',
  ENETUNREACH: 'no route for multicast; add one (ip route add 224.0.0.0/4 dev IFACE) or pick interfaces with mdns.interfaces',
  EHOSTUNREACH: 'no route for multicast; add one (ip route add 224.0.0.0/4 dev IFACE) or pick interfaces with mdns.interfaces',
  EADDRNOTAVAIL: 'the interface address is not available for multicast',
  ENODEV: 'the interface does not support multicast',
  EPERM: 'multicast is blocked (firewall?)',
};

/** A socket failure at start, as `MDNS_UNAVAILABLE` with a hint. */
export function unavailable(err: unknown, where: string): MeshError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const hint = code !== undefined ? HINTS[code] : undefined;
  const msg = err instanceof Error ? err.message : String(err);
  return new MeshError('MDNS_UNAVAILABLE', `mdns ${where}: ${msg}${hint !== undefined ? ` (${hint})` : ''}`, { status: 503, retryable: false, cause: err });
}

/**
 * Opens one socket and resolves once it is bound with its group membership
 * joined. An explicitly chosen interface whose membership fails is an error;
 * with all interfaces, each failure only reaches `onWarning`.
 */
export function openSocket(
  factory: MdnsSocketFactory, plan: SocketPlan, config: MdnsConfig, signal: AbortSignal | undefined,
): Promise<MdnsSocket> {
  const where = `on ${plan.interfaceAddress ?? 'all interfaces'} port ${config.port}`;
  if (signal?.aborted) return Promise.reject(new MeshError('CANCELLED', `mdns start ${where}: aborted`, { cause: signal.reason }));
  let socket: MdnsSocket;
  try {
    socket = factory({
      port: config.port,
      // Without `bind`, multicast-dns binds to the interface address and hears no multicast at all.
      bind: config.bindAddress,
      ...(plan.interfaceAddress !== undefined ? { interface: plan.interfaceAddress } : {}),
      loopback: config.loopback,
      ttl: config.multicastTtl,
      reuseAddr: true,
    });
  } catch (err) {
    return Promise.reject(unavailable(err, where));
  }
  return new Promise((resolve, reject) => {
    const done = (err?: MeshError): void => {
      socket.off('ready', onReady);
      socket.off('error', onError);
      socket.off('warning', onWarning);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) return resolve(socket);
      socket.on('error', () => {}); // late errors of a socket being discarded
      socket.destroy();
      reject(err);
    };
    let membershipError: Error | undefined;
    const onReady = (): void => done(membershipError && plan.interfaceAddress !== undefined ? unavailable(membershipError, where) : undefined);
    const onError = (err: Error): void => done(unavailable(err, where));
    const onWarning = (err: NodeJS.ErrnoException): void => {
      if (err.syscall === 'addMembership') membershipError ??= err;
    };
    const onAbort = (): void => done(new MeshError('CANCELLED', `mdns start ${where}: aborted`, { cause: signal!.reason }));
    socket.on('ready', onReady);
    socket.on('error', onError);
    socket.on('warning', onWarning);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Sends a query; resolves with the send error (undefined on success), never rejects. */
export function sendQuery(socket: MdnsSocket, questions: DnsQuestion[], answers: DnsRecord[]): Promise<Error | undefined> {
  return new Promise((resolve) => {
    try {
      // Our records are dns-packet's shapes; its type is a wide union the literal types do not name.
      socket.query({ questions, answers } as unknown as makeMdns.QueryOutgoingPacket, (err) => resolve(err ?? undefined));
    } catch (err) {
      resolve(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/** Sends a response; resolves with the send error (undefined on success), never rejects. */
export function sendResponse(socket: MdnsSocket, answers: DnsRecord[]): Promise<Error | undefined> {
  return new Promise((resolve) => {
    try {
      socket.respond({ answers } as unknown as makeMdns.ResponseOutgoingPacket, (err) => resolve(err ?? undefined));
    } catch (err) {
      resolve(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

export function closeSocket(socket: MdnsSocket): Promise<void> {
  return new Promise((resolve) => {
    socket.on('error', () => {}); // a closing socket may still report; nothing to do about it
    try {
      socket.destroy(() => resolve());
    } catch {
      resolve();
    }
  });
}
