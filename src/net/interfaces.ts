import { networkInterfaces } from 'node:os';
import { MeshError } from '../errors/index.ts';

/** The host's interfaces as `os.networkInterfaces` returns them (a seam for tests). */
export type NetworkInterfacesFn = typeof networkInterfaces;

const UNSPECIFIED = new Set(['0.0.0.0', '::', '']);

/** Whether `host` means "all interfaces" and so cannot be announced to peers. */
export function isUnspecified(host: string): boolean {
  return UNSPECIFIED.has(host);
}

/**
 * The IPv4 address to announce for a node bound to all interfaces: the first
 * non-internal IPv4 address (what Go Micro's addr.Extract does, preferring
 * private ranges), else 127.0.0.1.
 */
export function primaryIPv4(nics: NetworkInterfacesFn = networkInterfaces): string {
  const candidates: string[] = [];
  for (const list of Object.values(nics())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) candidates.push(a.address);
  }
  const priv = candidates.find((a) => /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(a));
  return priv ?? candidates[0] ?? '127.0.0.1';
}

/**
 * The IPv4 address of the interface called `nameOrAddress` (e.g. `eth0`), or
 * that address itself when it belongs to an interface. Throws MeshError
 * `INVALID_CONFIG` naming the known interfaces otherwise.
 */
export function interfaceIPv4(nameOrAddress: string, nics: NetworkInterfacesFn = networkInterfaces): string {
  const all = nics();
  const byName = all[nameOrAddress]?.find((a) => a.family === 'IPv4');
  if (byName !== undefined) return byName.address;
  for (const list of Object.values(all)) for (const a of list ?? []) if (a.family === 'IPv4' && a.address === nameOrAddress) return a.address;
  const known = Object.entries(all).map(([n, l]) => `${n} (${(l ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address).join(', ') || 'no IPv4'})`);
  throw new MeshError('INVALID_CONFIG', `interface "${nameOrAddress}" not found; known: ${known.join('; ')}`);
}
