/**
 * SWIM membership with the Lifeguard extensions: the public contract.
 *
 * Every micromesh process runs one {@link SwimNode}. Nodes probe each other
 * (randomised round-robin, direct ping, k indirect pings with nacks, a TCP
 * fallback), spread state changes by piggybacking on probes and by gossip,
 * and reconcile full state with one random peer now and then (push-pull). The
 * mesh registry stores service records in each node's metadata and listens to
 * the events below; it never reads SWIM internals.
 *
 * Time and chance are injected (Clock, Random), so the same code runs on real
 * sockets and in the simulator under a VirtualClock.
 */
import type { Clock, Random } from '../clock/types.ts';
import type { Logger } from '../log/types.ts';
import type { PacketNetwork, Transport } from '../transport/types.ts';
import type { SwimConfig, SwimProfile } from './config.ts';
import type { SwimCounter } from './stats.ts';

/**
 * What a node believes about a member.
 * - `alive`: answering probes (or not yet caught failing);
 * - `suspect`: a probe failed; the member has until its suspicion timeout to refute;
 * - `dead`: the suspicion ran out, or its process refused a connection;
 * - `left`: the member announced a graceful leave.
 * Dead and left members stay listed for `deadReapMs`, then are forgotten.
 */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** A read-only snapshot of one member, as returned by `members()` and carried by events. */
export interface Member {
  /** The node's name, unique in the cluster. */
  readonly id: string;
  /** Where it receives SWIM packets and streams, `host:port` (the same port for UDP and TCP). */
  readonly address: string;
  readonly state: MemberState;
  /**
   * The member's incarnation: only the member itself raises it (to refute a
   * suspicion or publish new metadata). A process starts at its wall-clock
   * time in ms, so a restarted node always outranks its previous life.
   */
  readonly incarnation: number;
  /** Opaque application metadata (the registry's service records); empty when none. Do not mutate. */
  readonly metadata: Uint8Array;
  /** Raised by the member each time it publishes new metadata (0 for the initial one). */
  readonly metaVersion: number;
  /** When this node last saw the member change state, on this node's clock (`Clock.now()`, ms). */
  readonly stateChangedAtMs: number;
  /** True for the local node's own entry. */
  readonly isSelf: boolean;
}

/**
 * Membership events. Delivery contract:
 * - events are delivered synchronously, in the order the state changes
 *   happened, after the change that caused them is complete;
 * - never re-entrantly: if a listener calls back into the node (say
 *   `setMetadata`), the events that causes are queued and delivered after the
 *   current listener returns, to every listener, in order;
 * - a listener that throws is logged and counted (`listenerErrors`); the others still run;
 * - listeners must be quick: they run on the packet path.
 *
 * Types:
 * - `join`: a member we did not know (or that had left) is alive. Also fired
 *   for the local node at start;
 * - `update`: a live member changed its metadata or address (also for the local node);
 * - `suspect`: an alive member is now suspect;
 * - `alive`: a suspect or dead member is alive again (it refuted, or restarted);
 * - `dead`: a member failed (suspicion timed out, or its process refused a connection);
 * - `leave`: a member left gracefully (also fired for the local node on `leave()`);
 * - `conflict`: another process claims this node's name from another address
 *   with a higher incarnation (two nodes were given one name). This node
 *   stops refuting and should be stopped and renamed.
 *
 * Treat join, alive and update alike as "upsert this member", dead and leave as "remove".
 */
export type SwimEvent =
  | { readonly type: 'join' | 'update' | 'suspect' | 'alive' | 'dead' | 'leave'; readonly member: Member; readonly atMs: number }
  | { readonly type: 'conflict'; readonly member: Member; readonly otherAddress: string; readonly otherIncarnation: number; readonly atMs: number };

export type SwimEventType = SwimEvent['type'];
export type SwimListener = (event: SwimEvent) => void;

/** The result of one probe: `alive` (acked), `suspect` (no answer), `dead` (refused), `unknown` (no such member). */
export type ProbeOutcome = 'alive' | 'suspect' | 'dead' | 'unknown';

export interface SwimNodeOptions {
  /** Unique node name. Default: 16 random hex characters from `random`. */
  name?: string;
  /** Where to bind UDP and TCP, `host:port`; port 0 picks one free for both. */
  bindAddress: string;
  /** The address other nodes should use, when it differs from the bound one (e.g. bound to 0.0.0.0); port 0 means the bound port. */
  advertiseAddress?: string;
  /** Config profile, default `lan`. */
  profile?: SwimProfile;
  /** Overrides of the profile's values; validated (MeshError `INVALID_CONFIG` names the field and range). */
  config?: Partial<SwimConfig>;
  /** Initial metadata; at most `metaMaxBytes` (MeshError `SWIM_META_TOO_LARGE`). */
  metadata?: Uint8Array;
  /** Datagram network for probes and gossip (UdpNetwork, or MemoryPacketNetwork in tests). */
  packets: PacketNetwork;
  /** Stream transport for push-pull, join and the TCP fallback probe (TcpTransport, or MemoryNetwork). */
  streams: Transport;
  /** Default SystemClock. */
  clock?: Clock;
  /** Default SystemRandom. Draws probe order, gossip targets, stagger and (with a keyring) nonces. */
  random?: Random;
  /** Default silent. */
  logger?: Logger;
  /**
   * AES-256-GCM keys (32 bytes each); the first encrypts, all decrypt.
   * Without keys, traffic is plaintext and encrypted packets are dropped.
   */
  keys?: readonly Uint8Array[];
  /** The starting incarnation. Default `floor(clock.wallTime())`, so a restart outranks the previous life. */
  incarnation?: number;
  /**
   * Run the probe, gossip and push-pull loops on the clock. Default true. Set
   * false to drive the node only through the step methods.
   */
  startLoops?: boolean;
}

/** Counters plus a few gauges; see stats.ts for what each counter means. */
export type SwimStats = Readonly<Record<SwimCounter, number>> & {
  /** Lifeguard's local health score, 0 (healthy) .. awarenessMaxMultiplier − 1. */
  readonly healthScore: number;
  /** Members by state, the local node included. */
  readonly alive: number;
  readonly suspect: number;
  readonly dead: number;
  readonly left: number;
  /** Broadcasts waiting to be gossiped. */
  readonly queuedBroadcasts: number;
};

/** Key management for a running node (rotation without downtime: add everywhere, use, then remove). */
export interface SwimKeyring {
  /** Installs a key for decryption. Throws `SWIM_INVALID_KEY` unless it is 32 bytes. */
  addKey(key: Uint8Array): void;
  /** Makes an installed key (or a new one, installing it) the key used to encrypt. */
  useKey(key: Uint8Array): void;
  /** Uninstalls a key. Throws `SWIM_KEY_IN_USE` for the primary key. */
  removeKey(key: Uint8Array): void;
  /** Installed keys, primary first. */
  keys(): Uint8Array[];
}

export interface SwimNode {
  /** This node's name. */
  readonly id: string;
  /** The advertised `host:port`; set once `start()` resolves. */
  readonly address: string;
  /** The validated config in force. */
  readonly config: Readonly<SwimConfig>;
  /** Keys, when the node was created with some; undefined for a plaintext node. */
  readonly keyring: SwimKeyring | undefined;

  /** Binds sockets and starts the loops. Idempotent. Fails with MeshError `UNAVAILABLE` if the address is taken. */
  start(opts?: { signal?: AbortSignal }): Promise<void>;
  /** Stops at once without telling anyone (peers will detect it). Idempotent; a stopped node cannot restart. */
  stop(): Promise<void>;
  /**
   * Announces a graceful leave, waits until the announcement has been
   * gossiped (or `timeoutMs`, default `config.leaveTimeoutMs`), then stops.
   */
  leave(opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<void>;
  /**
   * Push-pulls full state with each seed (`host:port`; our own address is
   * skipped). Resolves with how many answered. Harmless when already joined,
   * so the mesh may call it periodically to heal partitions. Fails with
   * `SWIM_JOIN_FAILED` when seeds were given and none answered,
   * `NOT_RUNNING` before start.
   */
  join(seeds: readonly string[], opts?: { signal?: AbortSignal }): Promise<number>;

  /** Every known member, the local node included, dead and left ones until reaped. */
  members(): Member[];
  /** One member by id, or undefined. */
  member(id: string): Member | undefined;
  /** Count of members believed alive or suspect, the local node included. */
  liveCount(): number;

  /** Publishes new metadata (raises incarnation and metaVersion). Throws `SWIM_META_TOO_LARGE` past `metaMaxBytes`. */
  setMetadata(metadata: Uint8Array): void;

  /** Subscribes to one event type, or `*` for all; returns the unsubscribe function. */
  on(type: SwimEventType | '*', listener: SwimListener): () => void;

  /**
   * Probes one member now (by id or address), outside the round-robin. The
   * usual probe rules apply: suspicion on failure, dead at once on a refused
   * TCP probe when `refusedAsDead` is on.
   */
  probeNow(target: string, opts?: { signal?: AbortSignal }): Promise<ProbeOutcome>;
  /**
   * Tells SWIM that a connection to a member (by id or SWIM address) failed.
   * With `refused` (the peer's host answered that nothing listens) the node
   * confirms by dialing the member's own SWIM port: refused again means dead
   * at once (when `refusedAsDead` is on). Otherwise it probes the member now.
   * Returns false when the target is unknown. Never throws.
   */
  reportUnreachable(target: string, info?: { refused?: boolean }): boolean;

  /** Step: starts one round-robin probe (completion runs on the clock). */
  probeOnce(): void;
  /** Step: sends one gossip round (nothing when no broadcast is queued). */
  gossipOnce(): void;
  /** Step: one push-pull with a random live member. Resolves true if it completed. */
  pushPullOnce(opts?: { signal?: AbortSignal }): Promise<boolean>;

  /** Lifeguard's local health score (0 = healthy). */
  healthScore(): number;
  /** Counters and gauges, a fresh snapshot. */
  stats(): SwimStats;
}
