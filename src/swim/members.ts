import type { Random } from '../clock/types.ts';
import type { Suspicion } from './suspicion.ts';
import { WireState, type WireStateCode } from './wire.ts';
import type { Member, MemberState } from './types.ts';

const STATE_NAMES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];
const EMPTY = new Uint8Array(0);

/**
 * One member as a node holds it. Kept small on purpose: a node of a
 * 3,000-member cluster holds 3,000 of these (about 150 bytes each plus the id,
 * address and metadata), and no timer or closure per member; only a suspect
 * carries a Suspicion.
 */
export class MemberRecord {
  readonly id: string;
  address: string;
  state: WireStateCode = WireState.Alive;
  incarnation: number;
  meta: Uint8Array;
  metaVersion: number;
  stateChangeMs: number;
  suspicion: Suspicion | undefined = undefined;
  /** Position in the table's probe order, or −1 (self, or removed). */
  orderIndex = -1;
  /** Place on the probe ring every node sorts the same way (see MemberTable.scheduledProbeTarget). */
  readonly ringKey: number;

  constructor(id: string, address: string, incarnation: number, meta: Uint8Array, metaVersion: number, nowMs: number) {
    this.id = detach(id);
    this.address = detach(address);
    this.incarnation = incarnation;
    this.meta = meta.length === 0 ? EMPTY : meta;
    this.metaVersion = metaVersion;
    this.stateChangeMs = nowMs;
    this.ringKey = fnv1a(this.id);
  }

  get isLive(): boolean {
    return this.state === WireState.Alive || this.state === WireState.Suspect;
  }

  /** A frozen-shape snapshot for the public API. */
  snapshot(isSelf: boolean): Member {
    return {
      id: this.id, address: this.address, state: STATE_NAMES[this.state]!, incarnation: this.incarnation,
      metadata: this.meta, metaVersion: this.metaVersion, stateChangedAtMs: this.stateChangeMs, isSelf,
    };
  }
}

/**
 * A standalone copy of `s`, for strings kept as long as a member is. Strings
 * decoded from a packet are V8 slices of one string holding all of the
 * packet's text, so keeping one keeps the whole text alive: a member learned
 * from a gossip packet of 20 alive messages cost 1.2 KB instead of 0.25 KB.
 */
export function detach(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** 32-bit FNV-1a of a string's UTF-16 units: spreads ids around the probe ring, the same on every node. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const byRingKey = (a: MemberRecord, b: MemberRecord): number => a.ringKey - b.ringKey || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The membership table: every known member by id, plus the randomised
 * round-robin probe order (SWIM's extension that bounds the time until a
 * failed member is first probed). The local node is in `byId` but never in
 * the probe order, so a node never probes or gossips to itself.
 */
export class MemberTable {
  readonly self: MemberRecord;
  private readonly byId = new Map<string, MemberRecord>();
  private readonly order: MemberRecord[] = [];
  private cursor = 0;
  private readonly random: Random;
  /** Dead and left members, so reaping scans these few rather than everyone. */
  private readonly departed = new Set<MemberRecord>();
  /** Self and the live members, by ring key; rebuilt on first use after a change. */
  private ring: MemberRecord[] = [];
  private ringDirty = true;
  private selfOnRing = 0;

  constructor(self: MemberRecord, random: Random) {
    this.self = self;
    this.random = random;
    this.byId.set(self.id, self);
  }

  /** Members known, self and unreaped dead included: memberlist's N. */
  get size(): number {
    return this.byId.size;
  }

  get(id: string): MemberRecord | undefined {
    return this.byId.get(id);
  }

  /** Finds a member by its address (a linear scan: for API calls, not the packet path). */
  byAddress(address: string): MemberRecord | undefined {
    for (const m of this.byId.values()) if (m.address === address && m !== this.self) return m;
    return undefined;
  }

  values(): IterableIterator<MemberRecord> {
    return this.byId.values();
  }

  /**
   * Adds a new member at a random position of the probe order (appending
   * would probe newcomers last and stretch their worst-case detection time).
   */
  add(m: MemberRecord): void {
    this.byId.set(m.id, m);
    this.ringDirty = true;
    const n = this.order.length;
    this.order.push(m);
    m.orderIndex = n;
    const j = this.random.int(n + 1);
    if (j !== n) {
      const other = this.order[j]!;
      this.order[j] = m;
      this.order[n] = other;
      m.orderIndex = j;
      other.orderIndex = n;
    }
  }

  /** Records a state change, keeping the departed set in step. */
  setState(m: MemberRecord, state: WireStateCode, nowMs: number): void {
    if (m.isLive !== (state === WireState.Alive || state === WireState.Suspect)) this.ringDirty = true;
    m.state = state;
    m.stateChangeMs = nowMs;
    if (m === this.self) return;
    if (state === WireState.Dead || state === WireState.Left) this.departed.add(m);
    else this.departed.delete(m);
  }

  /**
   * The next member to probe: walks the order, skipping dead and left
   * members; at the end of a pass, reshuffles. Undefined when nobody is live.
   */
  nextProbeTarget(): MemberRecord | undefined {
    // The rest of this pass plus one whole reshuffled pass.
    const n = this.order.length;
    for (let tried = 0; tried < 2 * n; tried++) {
      if (this.cursor >= this.order.length) this.reshuffle();
      const m = this.order[this.cursor++]!;
      if (m.isLive) return m;
    }
    return undefined;
  }

  /**
   * The member to probe in probe round `round` when rounds are coordinated
   * (coordinatedProbes). Every node sorts the live members, itself
   * included, on one ring (by a hash of the id), and in round r the node at
   * ring position i probes position i + 1 + (r mod (M − 1)) of the M: a shift, so
   * with the same view and round every member is probed by exactly one
   * node per round, instead of by a Poisson number of them (none at all in
   * e⁻¹ of the rounds) with independently shuffled orders. Over M − 1
   * consecutive rounds each node still probes every other member once.
   * Dead and left members are off the ring: on it, their turns to probe
   * would leave their targets unprobed (a cluster with five recent deaths
   * among 55 missed one round in eleven). Where views differ, targets only
   * repeat or go unprobed for that round.
   */
  scheduledProbeTarget(round: number): MemberRecord | undefined {
    if (this.ringDirty) this.rebuildRing();
    const ring = this.ring;
    const m = ring.length;
    if (m < 2) return undefined;
    const start = this.selfOnRing + 1 + (round % (m - 1));
    for (let k = 0; k < m; k++) {
      const t = ring[(start + k) % m]!;
      if (t !== this.self && t.isLive) return t;
    }
    return undefined;
  }

  /**
   * Up to `k` distinct random members passing `accept`, never self. In a
   * large table, draws at most 3 × size random positions, as memberlist's
   * kRandomNodes does, so picking costs O(k) rather than O(N); in a small one
   * (N ≤ 4k), scans, so nobody eligible is missed by bad luck.
   */
  randomMembers(k: number, accept: (m: MemberRecord) => boolean): MemberRecord[] {
    const out: MemberRecord[] = [];
    const n = this.order.length;
    if (k <= 0) return out;
    if (n <= 4 * k) {
      for (const m of this.order) if (accept(m)) out.push(m);
      this.random.shuffle(out);
      if (out.length > k) out.length = k;
      return out;
    }
    for (let i = 0; i < 3 * n && out.length < k; i++) {
      const m = this.order[this.random.int(n)]!;
      if (!accept(m) || out.includes(m)) continue;
      out.push(m);
    }
    return out;
  }

  /** Removes dead and left members whose last change is at least `reapMs` old; returns them. */
  reap(nowMs: number, reapMs: number): MemberRecord[] {
    const gone: MemberRecord[] = [];
    for (const m of this.departed) if (nowMs - m.stateChangeMs >= reapMs) gone.push(m);
    for (const m of gone) this.remove(m);
    return gone;
  }

  /** Counts by state (self included). O(N): for stats, not hot paths. */
  countByState(): [alive: number, suspect: number, dead: number, left: number] {
    const c: [number, number, number, number] = [0, 0, 0, 0];
    for (const m of this.byId.values()) c[m.state]++;
    return c;
  }

  private rebuildRing(): void {
    this.ring = [...this.byId.values()].filter((m) => m === this.self || m.isLive).sort(byRingKey);
    this.selfOnRing = this.ring.indexOf(this.self);
    this.ringDirty = false;
  }

  private remove(m: MemberRecord): void {
    this.ringDirty = true;
    this.departed.delete(m);
    if (this.byId.get(m.id) === m) this.byId.delete(m.id);
    const i = m.orderIndex;
    if (i >= 0 && this.order[i] === m) {
      this.order.splice(i, 1);
      for (let j = i; j < this.order.length; j++) this.order[j]!.orderIndex = j;
      if (this.cursor > i) this.cursor--;
    }
    m.orderIndex = -1;
  }

  private reshuffle(): void {
    this.random.shuffle(this.order);
    for (let j = 0; j < this.order.length; j++) this.order[j]!.orderIndex = j;
    this.cursor = 0;
  }
}
