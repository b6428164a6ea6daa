import { MeshError } from '../errors/index.ts';

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses `host:port` or `[v6]:port`. Throws MeshError `INVALID_ARGUMENT`
 * naming the address when it is malformed or the port is out of 0..65535.
 */
export function parseHostPort(address: string): HostPort {
  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    if (end < 0 || address[end + 1] !== ':') throw bad(address);
    host = address.slice(1, end);
    portText = address.slice(end + 2);
  } else {
    const i = address.lastIndexOf(':');
    if (i <= 0) throw bad(address);
    host = address.slice(0, i);
    portText = address.slice(i + 1);
    if (host.includes(':')) throw bad(address);
  }
  if (!/^\d{1,5}$/.test(portText)) throw bad(address);
  const port = Number(portText);
  if (port > 65535 || host.length === 0) throw bad(address);
  return { host, port };
}

/** Formats a host and port, bracketing IPv6 literals. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function bad(address: string): MeshError {
  return new MeshError('INVALID_ARGUMENT', `invalid address "${address}": expected host:port with port in [0, 65535]`);
}
