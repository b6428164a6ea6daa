export type {
  Headers, BrokerMessage, BrokerHandler, PublishOptions, SubscribeOptions, Subscription, Broker,
  MessageContext, MessageHandler, SubscriberOptions,
} from './types.ts';
export { CONTENT_TYPE_HEADER } from './types.ts';
export {
  MAX_TOPIC_LENGTH, DEAD_LETTER_PREFIX, DEAD_LETTER_HEADERS,
  parsePattern, parseTopic, tokensMatch, topicMatches, deadLetterTopic, isDeadLetterTopic, messageIds,
} from './topic.ts';
export {
  MemoryBroker, type MemoryBrokerOptions, type MemoryBrokerConfig, type MemoryBrokerCounter, type MemoryBrokerStats,
} from './memory.ts';
export { DirectBroker, type PeerBrokerOptions, type PeerBrokerStats } from './direct.ts';
export { PEER_BROKER_DEFAULTS, type PeerBrokerConfig } from './peer-config.ts';
export { GossipBroker } from './gossip/broker.ts';
export { GOSSIP_BROKER_DEFAULTS, type GossipBrokerOptions, type GossipBrokerConfig } from './gossip/config.ts';
export { topicsOf, ALL_TOPICS_PATTERN, type TopicView, type TopicSubscriber, type TopicMatch, type TopicListing, type SkippedRecord } from './subs-list.ts';
/** NatsBroker itself: `micromesh/nats` (loaded only by those who use it). */
export type { NatsBrokerOptions, NatsBrokerStats, NatsBrokerCounter } from './nats.ts';
export type { NatsBrokerConfig, NatsBrokerConfigInput } from './nats-config.ts';
