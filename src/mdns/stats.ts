/**
 * Counters kept by the mDNS discovery. Everything dropped is counted under
 * the reason it was dropped (DEVELOPERS.md rule 6).
 */
export type MdnsCounter =
  // traffic
  | 'packetsReceived' | 'queriesReceived' | 'responsesReceived'
  /** Queries sent (startup and periodic browses, `browse()`). */
  | 'queriesSent'
  /** Responses sent: answers to queries plus unsolicited announcements. */
  | 'responsesSent'
  /** Queries that asked for us and got an answer scheduled. */
  | 'queriesAnswered'
  /** Queries that asked for us but already listed our record with enough TTL (known-answer suppression). */
  | 'answersSuppressed'
  | 'goodbyesSent'
  // peers
  | 'peersDiscovered' | 'peersChanged' | 'peersExpired' | 'goodbyesReceived'
  /** New peers ignored because the table held `maxPeers`. */
  | 'tableFull'
  // skipped input (never an error: other mDNS traffic shares the group)
  /** Packets multicast-dns could not decode at all. */
  | 'malformedPackets'
  /** Records of our service whose data has the wrong shape for their type. */
  | 'malformedRecords'
  /** TXT records that are not a list of `key=value` UTF-8 strings, or repeat a key. */
  | 'malformedTxt'
  /** TXT records larger than `MAX_TXT_BYTES`. */
  | 'oversizedTxt'
  /** TXT records lacking a required key. */
  | 'missingFields'
  /** TXT records with a required key whose value is invalid (bad address, version...). */
  | 'invalidFields'
  /** TXT records with a `txtvers` other than ours. */
  | 'unsupportedVersion'
  /** Unknown TXT keys that are not valid meta keys, or meta beyond the limit; ignored, the record is kept. */
  | 'ignoredKeys'
  /** Records for names outside our service type (other mDNS services on the LAN). */
  | 'otherService'
  /** Announcements of another cluster. */
  | 'otherCluster'
  /** Our own announcements heard back. */
  | 'self'
  /** PTR records naming an instance whose TXT is not in the same packet. */
  | 'incomplete'
  /** Packets heard on an explicitly bound socket from outside that interface's subnet. */
  | 'otherSubnet'
  // local failures, swallowed after start
  | 'sendErrors' | 'socketErrors' | 'listenerErrors';

export const MDNS_COUNTERS: readonly MdnsCounter[] = [
  'packetsReceived', 'queriesReceived', 'responsesReceived', 'queriesSent', 'responsesSent',
  'queriesAnswered', 'answersSuppressed', 'goodbyesSent',
  'peersDiscovered', 'peersChanged', 'peersExpired', 'goodbyesReceived', 'tableFull',
  'malformedPackets', 'malformedRecords', 'malformedTxt', 'oversizedTxt', 'missingFields', 'invalidFields',
  'unsupportedVersion', 'ignoredKeys', 'otherService', 'otherCluster', 'self', 'incomplete', 'otherSubnet',
  'sendErrors', 'socketErrors', 'listenerErrors',
];

/** Counts produced by the pure decoders, added to the counters by the shell. */
export type Tally = Partial<Record<MdnsCounter, number>>;

export function bump(tally: Tally, key: MdnsCounter, n = 1): void {
  tally[key] = (tally[key] ?? 0) + n;
}
