import type { Clock, Random } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import { MdnsDiscovery } from '../mdns/discovery.ts';
import type { MdnsConfig } from '../mdns/config.ts';
import { decodeDigest } from '../membership/swim.ts';
import type { MemberView } from '../membership/types.ts';
import { servicesOf } from '../registry/mesh.ts';
import { MemoryRegistry } from '../registry/memory.ts';
import type { Registry } from '../registry/types.ts';
import type { Client } from '../rpc/types.ts';
import { fetchMembers, type FetchedMember } from '../swim/fetch.ts';
import type { Transport } from '../transport/types.ts';
import { fetchRecordsOver } from './records.ts';

export interface ReadMeshOptions {
  /** Gossip addresses to ask, tried in order. */
  seeds: readonly string[];
  /** Browse with mDNS for more candidates (browse only: nothing is announced). `false` to skip. */
  mdns: false | Partial<MdnsConfig>;
  cluster: string;
  keys?: readonly Uint8Array[];
  /** Longest wait for an mDNS answer, ms. Default 1000. */
  browseMs?: number;
  /** Timeout of each state fetch and record fetch, ms. Default 2000. */
  timeoutMs?: number;
  /** Dials the seeds' SWIM streams. */
  streams: Transport;
  /** Fetches records too large for SWIM metadata (`$mesh Membership.Record`). */
  client: Client;
  clock: Clock;
  random: Random;
  logger: Logger;
  signal?: AbortSignal;
}

export interface MeshView {
  /** The node whose membership this is. */
  seed: string;
  /** Its member list, dead and left members included. */
  members: FetchedMember[];
  /** Records of the live members (alive or suspect) that could be read. */
  records: MemberView[];
  /** Every live member's services, merged per (name, version). */
  /** The registry as read: every live member's services (or another registry's, for the CLI on etcd). */
  registry: Registry;
}

/**
 * A read-only look at the mesh for command-line clients: find a node (seeds,
 * then mDNS), read its membership without joining (`fetchMembers`), fetch the
 * records that are too large to ride in SWIM metadata, and index the
 * services. Nothing announces us, so nothing is left behind.
 */
export async function readMesh(o: ReadMeshOptions): Promise<MeshView> {
  const tried: string[] = [];
  const failures: string[] = [];
  for await (const seed of candidates(o)) {
    if (tried.includes(seed)) continue;
    tried.push(seed);
    let members: FetchedMember[];
    try {
      members = await fetchMembers(seed, {
        streams: o.streams, clock: o.clock, clusterName: o.cluster, keys: o.keys, timeoutMs: o.timeoutMs, signal: o.signal,
      });
    } catch (err) {
      o.logger.debug('could not read the membership of a seed', { seed, error: String(err) });
      failures.push(`${seed}: ${err instanceof MeshError ? `${err.code} ${err.detail}` : String(err)}`);
      continue;
    }
    const records = await readRecords(members, o);
    const registry = new MemoryRegistry({ clock: o.clock });
    for (const r of records) for (const s of servicesOf(r, o.logger)) await registry.register(s);
    return { seed, members, records, registry };
  }
  const heardByMdns = tried.length - o.seeds.length;
  const how = [
    o.seeds.length > 0 ? 'no seed answered' : 'no seeds given',
    o.mdns === false ? 'mDNS is off' : heardByMdns > 0 ? `mDNS found ${heardByMdns} peer(s), none answered` : 'mDNS found no peer',
  ];
  throw new MeshError('NO_MESH_FOUND', `no mesh found: ${how.join('; ')}${failures.length > 0 ? ` (${failures.join('; ')})` : ''}`);
}

/** Seeds first, then gossip addresses heard over mDNS, as they arrive. */
async function* candidates(o: ReadMeshOptions): AsyncGenerator<string> {
  yield* o.seeds;
  if (o.mdns === false) return;
  const discovery = new MdnsDiscovery({ cluster: o.cluster, config: o.mdns, clock: o.clock, random: o.random, logger: o.logger });
  const heard: string[] = [];
  let wake: (() => void) | undefined;
  const off = discovery.on('peer', (ev) => {
    heard.push(ev.peer.gossipAddress);
    wake?.();
  });
  try {
    await discovery.start({ signal: o.signal });
    const end = o.clock.now() + (o.browseMs ?? 1000);
    let next = 0;
    for (;;) {
      if (next < heard.length) {
        yield heard[next++]!;
        continue;
      }
      const left = end - o.clock.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const t = o.clock.setTimeout(resolve, left);
        wake = () => {
          o.clock.clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    off();
    await discovery.stop({ signal: AbortSignal.abort() }).catch(() => {});
  }
}

/** Records of live members: inline ones from their digests, the rest fetched concurrently. */
async function readRecords(members: FetchedMember[], o: ReadMeshOptions): Promise<MemberView[]> {
  const live = members.filter((m) => m.state === 'alive' || m.state === 'suspect');
  // A one-off look: no retry, a record that can't be fetched is left out.
  const fetchRecord = fetchRecordsOver(o.client, 0);
  const out = await Promise.all(live.map(async (m): Promise<MemberView | undefined> => {
    const d = decodeDigest(m.metadata);
    if (d === undefined) return undefined;
    if (d.d !== undefined) return { id: m.id, version: d.v, data: d.d };
    try {
      return await fetchRecord(d.r, { timeoutMs: o.timeoutMs ?? 2000 }) as MemberView;
    } catch (err) {
      o.logger.warn('could not fetch a member record', { member: m.id, address: d.r, error: String(err) });
      return undefined;
    }
  }));
  return out.filter((r): r is MemberView => r !== undefined);
}
