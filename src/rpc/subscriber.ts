import type { Codecs } from '../codec/types.ts';
import type { Logger } from '../log/types.ts';
import type { Broker, BrokerMessage, Subscription } from '../pubsub/types.ts';
import type { MessageHandler } from './types.ts';

export interface SubscriberEntry {
  topic: string;
  handler: MessageHandler;
  queue: string | undefined;
}

/** Header naming the content type of a published message. */
export const CONTENT_TYPE_HEADER = 'content-type';

/**
 * Subscribes each server subscriber on the broker, decoding messages with the
 * codec named by their content-type header. A decode failure throws, so the
 * broker counts it (and, in a queue group, redelivers then dead-letters it).
 */
export async function subscribeAll(broker: Broker, entries: SubscriberEntry[], codecs: Codecs, logger: Logger,
  signal?: AbortSignal): Promise<Subscription[]> {
  const subs: Subscription[] = [];
  for (const e of entries) {
    const deliver = async (m: BrokerMessage): Promise<void> => {
      const codec = codecs.get(m.headers[CONTENT_TYPE_HEADER] ?? codecs.defaultContentType);
      const value = codec.decode(m.body);
      await e.handler(value, { id: m.id, topic: m.topic, metadata: m.headers, deliveryAttempt: m.deliveryAttempt });
    };
    subs.push(await broker.subscribe(e.topic, deliver, { queue: e.queue, signal }));
    logger.debug('subscribed', { topic: e.topic, queue: e.queue });
  }
  return subs;
}
