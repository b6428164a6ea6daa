/**
 * mDNS discovery: the public contract.
 *
 * Every micromesh node on a LAN announces one DNS-SD service instance of our
 * own service type (`_micromesh._udp.local` by default) and browses for the
 * others. Discovery only finds candidates to join: SWIM owns membership. So
 * the discovery layer reports what it hears (`peer`) and what it stops
 * hearing (`expired`), and the mesh joins SWIM through the reported gossip
 * addresses. It keeps browsing periodically, so the two halves of a healed
 * partition find each other again even after SWIM forgot the dead members.
 *
 * The wire format (records, TXT keys, limits) is in docs/protocol-mdns.md.
 */
import type { MdnsCounter } from './stats.ts';

/** Extra key/values announced beside the fixed fields (see `MAX_META_ENTRIES`). */
export type AnnouncementMeta = Record<string, string>;

/** What a node says about itself on the LAN. */
export interface PeerAnnouncement {
  /**
   * Cluster name. Nodes only report peers of their own cluster, so several
   * meshes can share a LAN. 1–63 characters `[A-Za-z0-9_.-]`, starting with a
   * letter or digit. Compared exactly (case-sensitive).
   */
  cluster: string;
  /** The node's id, unique in the cluster (SWIM's member id). 1–128 printable characters, no spaces. */
  nodeId: string;
  /**
   * Where the node's SWIM endpoint listens, `host:port`. An unspecified host
   * (`0.0.0.0`, `[::]`) means "the address I was heard from": the announcer
   * fills in the interface's address when it knows it, and the receiver
   * otherwise substitutes the packet's source address.
   */
  gossipAddress: string;
  /** Where the node's RPC server listens, `host:port`; an unspecified host as for `gossipAddress`. */
  rpcAddress: string;
  /**
   * micromesh protocol version the node speaks (SWIM and RPC wire formats),
   * an integer in [0, 65535]. Discovery reports peers of any version; the
   * mesh decides whom it can join.
   */
  protocolVersion: number;
  /**
   * A few more key/values, e.g. a zone or a role. At most 8 entries; keys
   * 1–16 characters `[a-z0-9_-]` starting with a letter or digit, not one of
   * the reserved TXT keys; each `key=value` at most 255 bytes in UTF-8.
   */
  meta: AnnouncementMeta;
}

/** Our own announcement: the cluster comes from the discovery options. */
export type LocalAnnouncement = Omit<PeerAnnouncement, 'cluster' | 'meta'> & { meta?: AnnouncementMeta };

/** A peer as decoded from one packet (pure: no local time). */
export interface AnnouncedPeer extends PeerAnnouncement {
  /** Full DNS-SD instance name, e.g. `node-1._micromesh._udp.local`. */
  instance: string;
  /** TTL of its TXT record, seconds. 0 is a goodbye. */
  ttlS: number;
  /** IP address the packet came from. */
  source: string;
}

/** A peer as held by a running discovery. */
export interface DiscoveredPeer extends AnnouncedPeer {
  /** Local interface address it was heard on; undefined when bound to all interfaces. */
  via: string | undefined;
  /** When it was first heard, `Clock.now()` ms. */
  firstSeenAtMs: number;
  /** When it was last heard (any refresh), `Clock.now()` ms. */
  lastSeenAtMs: number;
  /** When it expires unless heard again, `Clock.now()` ms. */
  expiresAtMs: number;
}

/**
 * Discovery events, delivered synchronously in the order packets arrive.
 * - `peer`: a peer heard for the first time (`previous` undefined), or heard
 *   again with a changed announcement (`previous` is the old one). Plain
 *   refreshes raise no event.
 * - `expired`: a peer went away: its TTL ran out (`ttl`) or it said goodbye
 *   (`goodbye`, a record with TTL 0, sent when it stops).
 */
export type MdnsEvent =
  | { type: 'peer'; peer: DiscoveredPeer; previous: DiscoveredPeer | undefined }
  | { type: 'expired'; peer: DiscoveredPeer; reason: 'ttl' | 'goodbye' };

export type MdnsEventType = MdnsEvent['type'];
export type MdnsListener<T extends MdnsEventType | '*' = '*'> = (event: T extends '*' ? MdnsEvent : Extract<MdnsEvent, { type: T }>) => void;

/** Options of async calls. */
export interface MdnsCallOptions {
  signal?: AbortSignal;
}

/** The discovery layer, as the mesh sees it. */
export interface Discovery {
  /**
   * Binds the sockets, announces (when it has an announcement) and browses.
   * Idempotent. Fails with `MDNS_UNAVAILABLE` when multicast cannot work here
   * (port taken, unknown interface, no multicast route), `CANCELLED` when the
   * signal aborts, `NOT_RUNNING` after `stop()`. A no-op when disabled.
   */
  start(opts?: MdnsCallOptions): Promise<void>;
  /**
   * Sends a goodbye (TTL 0) for our instance, then closes the sockets.
   * Idempotent; a stopped discovery cannot be restarted. An aborted signal
   * skips waiting for the goodbye to be sent.
   */
  stop(opts?: MdnsCallOptions): Promise<void>;
  /** Sends a browse query now on every socket (the periodic browse goes on). */
  browse(opts?: MdnsCallOptions): Promise<void>;
  /** Replaces our announcement and announces it at once (peers see a `peer` event with `previous`). */
  update(announcement: LocalAnnouncement, opts?: MdnsCallOptions): Promise<void>;
  /** Peers currently known, in discovery order. */
  peers(): DiscoveredPeer[];
  /** Subscribes to events of one type, or all (`*`); returns the unsubscribe function. */
  on<T extends MdnsEventType | '*'>(type: T, listener: MdnsListener<T>): () => void;
  /** Counters (see `MdnsCounter`). */
  stats(): Readonly<Record<MdnsCounter, number>>;
  /** Whether `start()` completed and `stop()` was not called. */
  readonly running: boolean;
}

/** Error codes raised by this layer (beside the kernel's INVALID_CONFIG, CANCELLED, NOT_RUNNING). */
export const MDNS_ERROR_CODES = {
  /** Multicast DNS cannot run here: port in use, interface unknown, no multicast route. */
  MDNS_UNAVAILABLE: { status: 503, retryable: false },
} as const;
