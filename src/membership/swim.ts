import { Encoder } from 'cbor-x';
import { MeshError } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import type { Member, SwimEvent, SwimNode } from '../swim/types.ts';
import { withEntry } from './record.ts';
import type { MemberView, Membership, MembershipEvent, MembershipListener, RecordData } from './types.ts';

/** Asks the node at `address` for its whole record; resolves with what it answered (validated here). */
export type RecordFetch = (address: string, opts: { timeoutMs: number }) => Promise<unknown>;

export interface SwimMembershipOptions {
  swim: SwimNode;
  /**
   * Fetches a record too large to ride in SWIM metadata from the address its
   * digest names (the mesh does it over RPC, and serves ours the same way).
   */
  fetchRecord: RecordFetch;
  /** This node's RPC address, where peers fetch its record. */
  rpcAddress: string;
  logger: Logger;
  /** Largest record accepted (ours or a peer's), bytes of CBOR. Default 1 MiB. */
  maxRecordBytes?: number;
  /** Timeout of one record fetch, ms. Default 2000. */
  fetchTimeoutMs?: number;
}

/**
 * The digest each node keeps in its SWIM metadata: the record's version, the
 * RPC address to fetch it from, and the record itself when it fits. SWIM
 * metadata is a few hundred bytes (it rides in single UDP packets), so big
 * records (many services, long endpoint lists) travel by fetch instead, and
 * only when their version changes.
 */
export interface Digest {
  /** Record version. */
  v: number;
  /** RPC address serving the record. */
  r: string;
  /** The record, when it fits in the metadata. */
  d?: RecordData;
}

/** Decodes a member's SWIM metadata into its digest; undefined when it is not one. Never throws. */
export function decodeDigest(metadata: Uint8Array, cbor = new Encoder({ useRecords: false, mapsAsObjects: true })): Digest | undefined {
  if (metadata.length === 0) return undefined;
  try {
    const d = cbor.decode(metadata) as Partial<Digest> | undefined;
    if (d === undefined || d === null || typeof d.v !== 'number' || typeof d.r !== 'string') return undefined;
    if (d.d !== undefined && (d.d === null || typeof d.d !== 'object')) return undefined;
    return d as Digest;
  } catch {
    return undefined;
  }
}

interface Known {
  view: MemberView;
  /** Whether `join` was emitted (the member is live and its record known). */
  announced: boolean;
  /** A fetch in progress for this version or higher. */
  fetching: number;
}

/**
 * Membership on SWIM: liveness from SWIM's failure detector, records from
 * SWIM metadata digests plus RPC fetches. A member is listed (and `join` is
 * emitted) once its record is known; `leave` follows SWIM's `dead` or `leave`
 * at once, so a crashed node's services vanish when SWIM declares it dead.
 */
export class SwimMembership implements Membership {
  readonly localId: string;
  private readonly o: SwimMembershipOptions;
  private readonly cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
  private record: MemberView;
  private readonly known = new Map<string, Known>();
  private readonly listeners = new Set<MembershipListener>();
  private readonly queue: MembershipEvent[] = [];
  private flushing = false;
  private readonly unsubscribe: () => void;
  private readonly maxRecordBytes: number;
  private closed = false;

  constructor(o: SwimMembershipOptions) {
    this.o = o;
    this.localId = o.swim.id;
    this.maxRecordBytes = o.maxRecordBytes ?? 1 << 20;
    this.record = { id: this.localId, version: 1, data: {} };
    this.unsubscribe = o.swim.on('*', (ev) => this.onSwim(ev));
    this.publish();
    for (const m of o.swim.members()) if (!m.isSelf && (m.state === 'alive' || m.state === 'suspect')) this.upsert(m);
  }

  local(): MemberView {
    return this.record;
  }

  setLocal(key: string, value: unknown): void {
    const next = withEntry(this.record, key, value);
    const size = this.cbor.encode(next.data).length;
    if (size > this.maxRecordBytes) {
      throw new MeshError('MEMBERSHIP_RECORD_TOO_LARGE', `this node's record would be ${size} bytes; the limit is ${this.maxRecordBytes} bytes`);
    }
    this.record = next;
    this.publish();
  }

  members(): MemberView[] {
    const out: MemberView[] = [];
    for (const k of this.known.values()) if (k.announced) out.push(k.view);
    return out;
  }

  member(id: string): MemberView | undefined {
    const k = this.known.get(id);
    return k?.announced ? k.view : undefined;
  }

  subscribe(listener: MembershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reportUnreachable(id: string, refused: boolean): void {
    this.o.swim.reportUnreachable(id, { refused });
  }

  /** Stops listening to SWIM. Idempotent. */
  close(): void {
    this.closed = true;
    this.unsubscribe();
  }

  /** Writes our digest into SWIM metadata, inlining the record when it fits. */
  private publish(): void {
    const limit = this.o.swim.config.metaMaxBytes;
    let bytes = this.cbor.encode({ v: this.record.version, r: this.o.rpcAddress, d: this.record.data } satisfies Digest);
    if (bytes.length > limit) bytes = this.cbor.encode({ v: this.record.version, r: this.o.rpcAddress } satisfies Digest);
    this.o.swim.setMetadata(bytes);
  }

  private onSwim(ev: SwimEvent): void {
    if (this.closed || ev.member.isSelf) return;
    switch (ev.type) {
      case 'join':
      case 'alive':
      case 'update':
        return this.upsert(ev.member);
      case 'dead':
      case 'leave':
        return this.remove(ev.member.id, ev.type === 'dead' ? 'dead' : 'left');
      default:
        return; // suspect: still live; conflict: handled by the mesh
    }
  }

  private upsert(m: Member): void {
    const digest = this.decodeDigest(m);
    if (digest === undefined) return;
    let k = this.known.get(m.id);
    if (k !== undefined && k.view.version >= digest.v) {
      // Known record; the member may be coming back from dead.
      if (!k.announced) this.announce(k);
      return;
    }
    if (digest.d !== undefined) {
      const view = { id: m.id, version: digest.v, data: digest.d };
      if (k === undefined) this.known.set(m.id, (k = { view, announced: false, fetching: 0 }));
      else k.view = view;
      this.announce(k);
      return;
    }
    if (k === undefined) this.known.set(m.id, (k = { view: { id: m.id, version: 0, data: {} }, announced: false, fetching: 0 }));
    if (k.fetching >= digest.v) return;
    k.fetching = digest.v;
    void this.fetch(m.id, digest);
  }

  private async fetch(id: string, digest: Digest): Promise<void> {
    try {
      const r = await this.o.fetchRecord(digest.r, { timeoutMs: this.o.fetchTimeoutMs ?? 2000 }) as Partial<MemberView> | null;
      const k = this.known.get(id);
      if (k === undefined || this.closed || r === null || typeof r !== 'object' || r.id !== id || typeof r.version !== 'number' || r.version <= k.view.version) return;
      const data = r.data === undefined || r.data === null ? {} : r.data;
      if (typeof data !== 'object') return;
      k.view = { id, version: r.version, data };
      const m = this.o.swim.member(id);
      if (m !== undefined && (m.state === 'alive' || m.state === 'suspect')) this.announce(k);
    } catch (err) {
      this.o.logger.warn('could not fetch a member record', { member: id, address: digest.r, error: String(err) });
    } finally {
      const k = this.known.get(id);
      if (k !== undefined && k.fetching === digest.v) k.fetching = 0;
      // A newer digest may have arrived while we fetched.
      const m = this.o.swim.member(id);
      if (m !== undefined && (m.state === 'alive' || m.state === 'suspect') && k !== undefined && k.fetching === 0) {
        const d = this.decodeDigest(m);
        if (d !== undefined && d.v > k.view.version && d.v !== digest.v) this.upsert(m);
      }
    }
  }

  private announce(k: Known): void {
    const type = k.announced ? 'update' : 'join';
    k.announced = true;
    this.emit({ type, member: k.view });
  }

  private remove(id: string, reason: 'dead' | 'left'): void {
    const k = this.known.get(id);
    if (k === undefined) return;
    this.known.delete(id);
    if (k.announced) this.emit({ type: 'leave', member: k.view, reason });
  }

  private decodeDigest(m: Member): Digest | undefined {
    const d = decodeDigest(m.metadata, this.cbor);
    if (d === undefined && m.metadata.length > 0) this.o.logger.debug('undecodable member digest', { member: m.id });
    return d;
  }

  /** In order and never re-entrantly: events queued during a listener wait for it to return. */
  private emit(ev: MembershipEvent): void {
    this.queue.push(ev);
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const next = this.queue.shift()!;
        for (const l of [...this.listeners]) {
          try {
            l(next);
          } catch (err) {
            this.o.logger.warn('membership listener failed', { error: String(err) });
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
