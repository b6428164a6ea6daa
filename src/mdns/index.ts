export type {
  AnnouncementMeta, PeerAnnouncement, LocalAnnouncement, AnnouncedPeer, DiscoveredPeer,
  MdnsEvent, MdnsEventType, MdnsListener, MdnsCallOptions, Discovery,
} from './types.ts';
export { MDNS_ERROR_CODES } from './types.ts';
export { MdnsDiscovery, type MdnsDiscoveryOptions } from './discovery.ts';
export { MDNS_DEFAULTS, resolveMdnsConfig, resolveAnnouncement, type MdnsConfig } from './config.ts';
export { MDNS_COUNTERS, type MdnsCounter } from './stats.ts';
export {
  announcementRecords, browseQuery, classifyQuery, decodeResponse, packetBytes, MAX_PACKET_BYTES,
  type DnsRecord, type DnsQuestion, type SrvData, type KnownAnswer, type DecodeContext, type DecodeResult, type QueryContext,
} from './records.ts';
export {
  instanceLabel, instanceName, hostName, encodeTxt, decodeTxt, announcementFromTxt,
  TXT_VERSION, MAX_TXT_BYTES, MAX_TXT_STRING_BYTES, MAX_META_ENTRIES, MAX_NODE_ID_BYTES, RESERVED_KEYS,
} from './txt.ts';
export type { MdnsSocketFactory, MdnsSocket, MdnsSocketOptions } from './sockets.ts';
