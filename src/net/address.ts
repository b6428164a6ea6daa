import { MeshError } from '../errors/index.ts';

/**
 * `host:port` addresses, shared by every concept (a kernel module like
 * errors and config). IPv6 hosts are bracketed: `[::1]:8080`.
 */
export interface HostPort {
  host: string;
  port: number;
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]|([A-Za-z0-9_.-]+)):(\d{1,5})$/;

/** Splits `host:port`; undefined when it is not one or the port is outside 0..65535. */
export function tryParseHostPort(address: string): HostPort | undefined {
  const m = HOST_PORT.exec(address);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? m[2]!;
  if (m[1] === undefined && (host.startsWith('.') || host.endsWith('-') || host.includes('..'))) return undefined;
  return { host, port };
}

/** Splits `host:port`. Throws MeshError `INVALID_ARGUMENT` naming the address when malformed. */
export function parseHostPort(address: string): HostPort {
  const hp = tryParseHostPort(address);
  if (hp === undefined) {
    throw new MeshError('INVALID_ARGUMENT', `invalid address "${address}": expected host:port with port in [0, 65535]`);
  }
  return hp;
}

/** Formats a host and port, bracketing IPv6 literals. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
