// Flags and environment shared by every command, read here once and turned
// into plain options (no ambient environment below bin/).
import { InvalidArgumentError } from 'commander';
import { interfaceIPv4 } from '../../src/net/interfaces.ts';
import { parseDurationMs } from '../../src/sidecar/duration.ts';
import type { MdnsConfig } from '../../src/mdns/config.ts';

export interface GlobalFlags {
  join?: string;
  registry: string;
  broker: string;
  cluster: string;
  key?: string;
  mdns: boolean;
  mdnsPort?: number;
  interface?: string;
  json?: boolean;
  logLevel: string;
}

export interface MeshFlags {
  seeds: string[];
  cluster: string;
  keys: Uint8Array[] | undefined;
  mdns: false | Partial<MdnsConfig>;
  /** The interface's IPv4 when --interface is given. */
  host: string | undefined;
  /** Where services are listed: the mesh (SWIM), or etcd endpoints. */
  registry: RegistryChoice;
  /** How messages travel: the mesh brokers, or NATS servers. */
  broker: BrokerChoice;
}

export type RegistryChoice = { kind: 'mesh' } | { kind: 'etcd'; hosts: string[] };
export type BrokerChoice = { kind: 'direct' | 'gossip' } | { kind: 'nats'; servers: string[] };

/** `--registry`: `mesh` (default) or `etcd://host:port[,host:port...]` (MICROMESH_REGISTRY). */
export function parseRegistry(text: string): RegistryChoice {
  if (text === 'mesh') return { kind: 'mesh' };
  const m = /^etcds?:\/\/(.+)$/.exec(text);
  if (m === null) throw new InvalidArgumentError(`--registry must be mesh or etcd://host:port[,host:port]; got "${text}"`);
  const tls = text.startsWith('etcds:');
  return { kind: 'etcd', hosts: m[1]!.split(',').map((h) => `${tls ? 'https' : 'http'}://${h.trim()}`) };
}

/** `--broker`: `direct` (default), `gossip`, or `nats://host:port[,host:port...]` (MICROMESH_BROKER). */
export function parseBroker(text: string): BrokerChoice {
  if (text === 'direct' || text === 'gossip') return { kind: text };
  const m = /^(nats|tls):\/\/(.+)$/.exec(text);
  if (m === null) throw new InvalidArgumentError(`--broker must be direct, gossip or nats://host:port[,host:port]; got "${text}"`);
  return { kind: 'nats', servers: m[2]!.split(',').map((h) => `${m[1]}://${h.trim()}`) };
}

export function meshFlags(g: GlobalFlags): MeshFlags {
  const seeds = (g.join ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const host = g.interface === undefined ? undefined : interfaceIPv4(g.interface);
  const mdns: false | Partial<MdnsConfig> = g.mdns
    ? { ...(host ? { interfaces: [host] } : {}), ...(g.mdnsPort ? { port: g.mdnsPort } : {}) }
    : false;
  return {
    seeds, cluster: g.cluster, keys: g.key === undefined ? undefined : [parseKey(g.key)], mdns, host,
    registry: parseRegistry(g.registry), broker: parseBroker(g.broker),
  };
}

/** A gossip key: 32 bytes in base64 (as `micromesh keygen` prints). */
export function parseKey(text: string): Uint8Array {
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new InvalidArgumentError(`--key must be 32 bytes in base64 (micromesh keygen makes one), got ${key.length} bytes`);
  return new Uint8Array(key);
}

export function parseMetadata(value: string, prev: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`metadata must be key=value, got "${value}"`);
  return { ...prev, [value.slice(0, i)]: value.slice(i + 1) };
}

export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`request must be JSON: ${(err as Error).message}`);
  }
}

export function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`port must be an integer in [0, 65535], got "${text}"`);
  return n;
}


/** A whole number flag (its range is checked where it is used, with the field named). */
export function parseInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`must be a non-negative integer, got "${text}"`);
  return n;
}

/** A duration flag: `250ms`, `5s`, `2m`, `1h`, or bare milliseconds. */
export function parseDuration(text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new InvalidArgumentError(`must be a duration like 500ms or 5s; got "${text}"`);
  return ms;
}
