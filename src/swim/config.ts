import * as v from 'valibot';
import { bool, definedOnly, intIn, parseConfig } from '../config/validate.ts';
import { MeshError } from '../errors/index.ts';

/**
 * SWIM settings. Durations are in milliseconds. The three profiles start from
 * HashiCorp memberlist's DefaultLANConfig / DefaultWANConfig /
 * DefaultLocalConfig; where we differ, the field says so.
 */
export interface SwimConfig {
  /**
   * Time between two probes of the round-robin. Lower detects failures sooner
   * at the cost of more traffic (about two small packets per interval).
   * Lifeguard stretches it by (healthScore + 1) when this node is itself slow.
   */
  probeIntervalMs: number;
  /**
   * How long a direct ping waits for its ack before indirect probes start.
   * Should exceed the 99th-percentile round trip; must not exceed the probe
   * interval. Not scaled by health: waiting longer does not help UDP.
   */
  probeTimeoutMs: number;
  /** Peers asked to ping a member whose direct probe failed (k). More = fewer false suspicions, more traffic. 0 disables. */
  indirectChecks: number;
  /**
   * Minimum suspicion timeout = suspicionMult × max(1, log10 N) × probeIntervalMs.
   * Higher = more time to refute (fewer false deaths), slower detection.
   * Lifeguard wants suspicionMult − 2 independent confirmations to reach it.
   */
  suspicionMult: number;
  /** Maximum suspicion timeout = this × the minimum; unconfirmed suspicions wait this long. 1 = fixed timeout. */
  suspicionMaxTimeoutMult: number;
  /** Lifeguard's local health multiplier bound: the health score runs 0 .. this − 1. 1 disables it. */
  awarenessMaxMultiplier: number;
  /**
   * Lifeguard on (memberlist's behaviour) or off (plain SWIM with suspicion):
   * off disables nacks, health scaling, the buddy system, and makes the
   * suspicion timeout fixed at its minimum. For comparison runs.
   */
  lifeguard: boolean;
  /**
   * Ours, not memberlist's: a probe verdict or suspicion timer that fires
   * late (this process was paused: GC, SIGSTOP, CPU starvation) first lets
   * the socket be read, since the ack or refutation may be waiting there.
   * Off = memberlist's behaviour, where such a timer convicts at once. For
   * comparison runs; leave it on.
   */
  stallAwareTimers: boolean;
  /**
   * Each broadcast is sent ceil(retransmitMult × log10(N + 1)) + retransmitMult
   * times (memberlist: retransmitMult × ceil(log10(N + 1)); see math.ts).
   * Higher = surer dissemination, more bytes.
   */
  retransmitMult: number;
  /** Time between gossip rounds. Lower = faster spread, more packets under churn. 0 disables the loop. */
  gossipIntervalMs: number;
  /** Peers each gossip round sends to. */
  gossipNodes: number;
  /**
   * Also send one gossip round at once when this node learns of a failure,
   * a suspicion or a refutation (at most one extra round per gossip
   * interval). Ours, not memberlist's: it cuts the time for a death to reach
   * everyone from hundreds of ms per hop to a network round trip.
   */
  gossipEagerly: boolean;
  /** Dead and left members still receive gossip this long, so a wrongly declared node hears it and refutes. */
  gossipToTheDeadMs: number;
  /**
   * Dead and left members are forgotten this long after their last state
   * change. Longer protects against stale state returning through push-pull;
   * shorter frees the name and memory sooner.
   */
  deadReapMs: number;
  /**
   * Base interval of the full-state sync with one random live member; grows
   * with N as memberlist's does (×(ceil(log2 N − 5) + 1) above 32 members).
   * Heals what gossip missed. 0 disables the loop (join still push-pulls).
   */
  pushPullIntervalMs: number;
  /** Deadline for a whole stream exchange (dial, push-pull or join). memberlist's TCPTimeout. */
  streamTimeoutMs: number;
  /** Ping over TCP when UDP probes fail, so a UDP-only outage does not look like a failure. */
  tcpFallbackProbe: boolean;
  /**
   * A TCP probe refused by the member's own port proves its process is gone
   * (the host answered, nothing listens): declare it dead at once instead of
   * waiting out the suspicion. Timeouts never count as refusals. On for lan
   * and local; off for wan, where middleboxes may reset connections.
   */
  refusedAsDead: boolean;
  /**
   * A direct ping refused at once (ICMP port unreachable, seen by transports
   * that can: UDP sends the ping from a socket connected to the target)
   * starts the indirect round and the TCP ping without waiting out
   * probeTimeoutMs. Not a verdict: the probe still ends in an ack, a
   * refused TCP ping (refusedAsDead) or a suspicion. Ours; no extra packets.
   */
  watchRefusals: boolean;
  /**
   * Probe targets follow one schedule shared by all nodes (a shift on a ring
   * of the members, by probe round = wall time ÷ probeIntervalMs) instead
   * of each node's own shuffled order, so every member is probed once per
   * round rather than by chance: the wait until someone probes a crashed
   * member is at most about two intervals instead of unbounded (e⁻ᵗ).
   * Same probes per node. Clock skew or differing views only make some
   * rounds uncoordinated. Ours; off gives memberlist's shuffled round-robin.
   */
  coordinatedProbes: boolean;
  /** Upper bound of one UDP packet we build, bytes (also capped by the packet transport's own limit). */
  maxPacketBytes: number;
  /** Upper bound of a node's metadata, bytes. Must agree across the cluster: larger metadata from others is dropped. */
  metaMaxBytes: number;
  /** Upper bound of one stream frame (a push-pull state), bytes. Larger frames are refused and counted. */
  pushPullMaxBytes: number;
  /** Inbound push-pulls served at once; more are refused (the caller retries at its next interval). */
  maxConcurrentPushPulls: number;
  /** Broadcasts waiting for gossip; past it, the most-sent are dropped (push-pull repairs). */
  broadcastQueueMax: number;
  /** How long `leave()` waits for its announcement to be gossiped before stopping. */
  leaveTimeoutMs: number;
  /**
   * Cluster name carried by every packet and stream frame (authenticated
   * when encrypting). Traffic with another name is dropped, so two meshes on
   * one network never merge. At most 64 bytes of UTF-8.
   */
  clusterName: string;
}

export type SwimProfile = 'lan' | 'wan' | 'local';

const LAN: SwimConfig = Object.freeze({
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  awarenessMaxMultiplier: 8,
  lifeguard: true,
  stallAwareTimers: true,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipEagerly: true,
  gossipToTheDeadMs: 30_000,
  deadReapMs: 30_000,
  pushPullIntervalMs: 30_000,
  streamTimeoutMs: 10_000,
  tcpFallbackProbe: true,
  refusedAsDead: true,
  watchRefusals: true,
  coordinatedProbes: true,
  maxPacketBytes: 1400,
  metaMaxBytes: 512,
  pushPullMaxBytes: 8 * 1024 * 1024,
  maxConcurrentPushPulls: 128,
  broadcastQueueMax: 16_384,
  leaveTimeoutMs: 2000,
  clusterName: '',
});

/** Higher latency and loss: slower probes, longer suspicion, no refused fast path. */
const WAN: SwimConfig = Object.freeze({
  ...LAN,
  probeIntervalMs: 5000,
  probeTimeoutMs: 3000,
  suspicionMult: 6,
  gossipIntervalMs: 500,
  gossipNodes: 4,
  gossipToTheDeadMs: 60_000,
  deadReapMs: 60_000,
  pushPullIntervalMs: 60_000,
  streamTimeoutMs: 30_000,
  refusedAsDead: false,
  leaveTimeoutMs: 5000,
});

/** One host (loopback): tight timeouts, fewer retransmits. */
const LOCAL: SwimConfig = Object.freeze({
  ...LAN,
  probeTimeoutMs: 200,
  indirectChecks: 1,
  suspicionMult: 3,
  retransmitMult: 2,
  gossipIntervalMs: 100,
  gossipToTheDeadMs: 15_000,
  deadReapMs: 15_000,
  pushPullIntervalMs: 15_000,
  streamTimeoutMs: 1000,
  leaveTimeoutMs: 1000,
});

/** The named profiles, frozen. */
export const SWIM_PROFILES: Readonly<Record<SwimProfile, Readonly<SwimConfig>>> = Object.freeze({ lan: LAN, wan: WAN, local: LOCAL });

const DAY_MS = 86_400_000;
const CLUSTER_NAME = 'must be a string of at most 64 bytes';
const schema = v.strictObject({
  probeIntervalMs: intIn(10, 600_000),
  probeTimeoutMs: intIn(1, 600_000),
  indirectChecks: intIn(0, 16),
  suspicionMult: intIn(1, 64),
  suspicionMaxTimeoutMult: intIn(1, 64),
  awarenessMaxMultiplier: intIn(1, 64),
  lifeguard: bool(),
  stallAwareTimers: bool(),
  retransmitMult: intIn(1, 64),
  gossipIntervalMs: intIn(0, 600_000),
  gossipNodes: intIn(0, 64),
  gossipEagerly: bool(),
  gossipToTheDeadMs: intIn(0, DAY_MS),
  deadReapMs: intIn(0, DAY_MS),
  pushPullIntervalMs: intIn(0, DAY_MS),
  streamTimeoutMs: intIn(10, 600_000),
  tcpFallbackProbe: bool(),
  refusedAsDead: bool(),
  watchRefusals: bool(),
  coordinatedProbes: bool(),
  maxPacketBytes: intIn(512, 65_000),
  metaMaxBytes: intIn(0, 64_000),
  pushPullMaxBytes: intIn(65_536, 1 << 30),
  maxConcurrentPushPulls: intIn(1, 10_000),
  broadcastQueueMax: intIn(16, 10_000_000),
  leaveTimeoutMs: intIn(0, 600_000),
  clusterName: v.pipe(v.string(CLUSTER_NAME), v.check((s) => Buffer.byteLength(s) <= 64, CLUSTER_NAME)),
});

/** Room an alive message needs besides its metadata (header, name, address, numbers). */
const ALIVE_OVERHEAD_BYTES = 400;

/**
 * The config for `profile` with `overrides` applied (undefined values keep the
 * profile's). Throws MeshError `INVALID_CONFIG` naming each bad field and its
 * allowed range, e.g. "swim.probeTimeoutMs must be an integer in [1, 600000], got -1".
 */
export function resolveSwimConfig(profile: SwimProfile = 'lan', overrides?: Partial<SwimConfig>): SwimConfig {
  const base = SWIM_PROFILES[profile];
  if (base === undefined) {
    throw new MeshError('INVALID_CONFIG', `swim.profile must be one of lan, wan, local, got ${JSON.stringify(profile)}`);
  }
  const cfg = parseConfig(schema, { ...base, ...definedOnly(overrides) }, 'swim') as SwimConfig;
  if (cfg.probeTimeoutMs > cfg.probeIntervalMs) {
    throw new MeshError('INVALID_CONFIG',
      `swim.probeTimeoutMs must be in [1, probeIntervalMs = ${cfg.probeIntervalMs}], got ${cfg.probeTimeoutMs}`);
  }
  if (cfg.metaMaxBytes + ALIVE_OVERHEAD_BYTES > cfg.maxPacketBytes) {
    throw new MeshError('INVALID_CONFIG',
      `swim.metaMaxBytes must be in [0, maxPacketBytes − ${ALIVE_OVERHEAD_BYTES} = ${cfg.maxPacketBytes - ALIVE_OVERHEAD_BYTES}] so an alive message fits one packet, got ${cfg.metaMaxBytes}`);
  }
  return Object.freeze(cfg);
}
