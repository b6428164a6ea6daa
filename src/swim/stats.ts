/**
 * The counters a SWIM node keeps (exposed by `stats()`). They are what the
 * simulator and the dashboard measure: traffic, drops of bad input by reason,
 * probe outcomes and the suspicion lifecycle.
 */
export const SWIM_COUNTERS = [
  // Traffic (UDP and stream frames alike; bytes include envelopes).
  'packetsSent', 'bytesSent', 'packetsReceived', 'bytesReceived', 'streamBytesSent', 'streamBytesReceived',
  /** Gossip rounds that sent at least one packet, and eager ones among them. */
  'gossipRounds', 'eagerGossipRounds',
  // Bad input, dropped: by reason.
  /** Not an envelope, undecodable CBOR, or a message of the wrong shape. */
  'droppedMalformed',
  /** Envelope version or flags we do not speak. */
  'droppedBadVersion',
  /** Another cluster name. */
  'droppedWrongCluster',
  /** Plaintext while we require encryption. */
  'droppedUnencrypted',
  /** Encrypted with no key of ours (or tampered), or encrypted while we have no keys. */
  'droppedUndecryptable',
  /** Messages of a type this version does not know (skipped, the rest of the packet is used). */
  'unknownMessages',
  /** Alive messages whose metadata exceeds metaMaxBytes. */
  'droppedMetaTooLarge',
  /** Stream frames over pushPullMaxBytes. */
  'droppedFrameTooLarge',
  /** Pings addressed to another node id (a stale address). */
  'misaddressedPings',
  /** Acks and nacks for no pending probe (late, or duplicated). */
  'unexpectedAcks',
  // Probing.
  'probes', 'probesSucceeded', 'probesFailed', 'indirectProbesSent', 'nacksReceived', 'relayedPings',
  'tcpProbes', 'tcpProbesSucceeded',
  /** Members declared dead at once because their own port refused a TCP probe. */
  'refusedDeaths',
  /** Direct pings refused at once (ICMP port unreachable): the indirect round and TCP ping started early (watchRefusals). */
  'probesRefused',
  /** Probes that failed over UDP but succeeded over TCP ("UDP may be blocked"). */
  'udpOnlyFailures',
  /** Probes dropped without a verdict because their timer fired a probe interval late (this node was not running). */
  'lateProbes',
  /** Suspicion timers that fired a probe interval late and waited a grace period to read the inbox first. */
  'lateSuspicionTimers',
  /**
   * Probe and suspicion timers that fired late (this node was paused, for
   * less than a probe interval) and let the input that arrived meanwhile be
   * read before acting: a refutation or an ack may be waiting in the socket.
   */
  'lateTimersDeferred',
  // Suspicion lifecycle, as seen by this node.
  /** Suspicions this node started (it suspected an alive member). */
  'suspicionsStarted',
  /** Suspicions this node learned (started by it or by others): alive → suspect transitions. */
  'suspicionsSeen',
  'suspicionConfirmations',
  /** Suspicion timers of this node that ran out, declaring the member dead. */
  'deathsDeclared',
  /** Of those, ones that ran out before k confirmations arrived (memberlist's degraded.timeout). */
  'degradedTimeouts',
  /** Suspicions that ran out short of k confirmations and were checked with one more probe before convicting. */
  'suspicionChecks',
  /** Stale accusations about us answered with our current alive (the accuser had missed our refutation). */
  'staleAccusationsAnswered',
  /** Times this node refuted a suspicion or death about itself. */
  'refutations',
  /** Another process claimed this node's id from another address. */
  'nameConflicts',
  // Push-pull.
  'pushPulls', 'pushPullFailures', 'pushPullsServed', 'pushPullsRefused', 'streamErrors',
  /** Push-pulls brought forward by a burst of new members, so gossip's tail is repaired in seconds. */
  'burstPushPulls',
  /** Broadcasts dropped because the queue was full. */
  'broadcastsDropped',
  /** Event listeners that threw. */
  'listenerErrors',
  /** Unexpected errors caught while handling input (a bug if ever non-zero; the input is dropped). */
  'internalErrors',
] as const;

export type SwimCounter = (typeof SWIM_COUNTERS)[number];
