/**
 * Membership: the shared view of which peers are live, and what each
 * publishes about itself.
 *
 * Every node owns a small versioned record of key/value entries (its
 * services under `services`, its pubsub subscriptions under `subs`, its
 * libp2p identity under `libp2p`, its RPC address under `rpc`...). Setting a
 * key bumps the record's version and reaches every live member; a member
 * that dies or leaves disappears with its whole record. Concepts that need
 * to know about peers (the mesh registry, the direct and gossip brokers)
 * depend on this interface only; the mesh implements it on SWIM gossip, and
 * `MemoryMembership` implements it in-process for tests.
 */

/** Values must be CBOR-encodable plain data. */
export type RecordData = Readonly<Record<string, unknown>>;

export interface MemberView {
  /** Node id (stable for the life of the process). */
  readonly id: string;
  /** Incremented by the owner on every change of `data`. */
  readonly version: number;
  readonly data: RecordData;
}

export type MembershipEvent =
  /** A member became live (first seen, or back after being declared dead). */
  | { type: 'join'; member: MemberView }
  /** A live member published a new version of its record. */
  | { type: 'update'; member: MemberView }
  /** A member was declared dead, or left gracefully. `member` is its last record. */
  | { type: 'leave'; member: MemberView; reason: 'dead' | 'left' };

export type MembershipListener = (event: MembershipEvent) => void;

export interface Membership {
  /** This node's id. */
  readonly localId: string;
  /** This node's current record. */
  local(): MemberView;
  /**
   * Sets (or with `undefined`, removes) one key of this node's record and
   * disseminates the new version. Throws MeshError `MEMBERSHIP_RECORD_TOO_LARGE`
   * when the encoded record would exceed the implementation's limit.
   */
  setLocal(key: string, value: unknown): void;
  /** Every live member other than this node. */
  members(): MemberView[];
  /** One live member, or undefined. */
  member(id: string): MemberView | undefined;
  /**
   * Listens for changes. Events are delivered in order, never re-entrantly
   * (a listener may call back into the membership), and never for this
   * node itself. A listener that throws is logged and delivery goes on (to
   * it and to the others). Returns the unsubscribe function.
   */
  subscribe(listener: MembershipListener): () => void;
  /**
   * Tells the failure detector that a connection to `id` was refused or
   * reset, so it can check that member now instead of at its next probe.
   */
  reportUnreachable(id: string, refused: boolean): void;
}
