import type { Codecs } from '../codec/types.ts';
import type { Logger } from '../log/types.ts';
import {
  CONTENT_TYPE_HEADER, type Broker, type BrokerMessage, type MessageHandler, type SubscriberOptions, type Subscription,
} from '../pubsub/types.ts';
import type { Tracing } from './tracing-types.ts';

interface Entry {
  topic: string;
  handler: MessageHandler;
  queue: string | undefined;
}

/**
 * A service's subscribers of decoded messages. They are declared before the
 * service starts and subscribed once its broker runs (a mesh broker needs the
 * membership, which needs the RPC server's address).
 */
export class Subscribers {
  private readonly entries: Entry[] = [];
  private subscriptions: Subscription[] = [];

  add(topic: string, handler: MessageHandler, opts: SubscriberOptions = {}): void {
    this.entries.push({ topic, handler, queue: opts.queue });
  }

  /**
   * Subscribes each entry on `broker`, decoding messages with the codec their
   * content-type header names. A decode failure throws, so the broker counts
   * it (and, in a queue group, redelivers then dead-letters it). Idempotent.
   */
  async start(broker: Broker, codecs: Codecs, logger: Logger, signal?: AbortSignal, tracing?: Tracing): Promise<void> {
    if (this.subscriptions.length > 0) return;
    for (const e of this.entries) {
      const run = async (m: BrokerMessage): Promise<void> => {
        const codec = codecs.get(m.headers[CONTENT_TYPE_HEADER] ?? codecs.defaultContentType);
        const value = codec.decode(m.body);
        await e.handler(value, { id: m.id, topic: m.topic, metadata: m.headers, deliveryAttempt: m.deliveryAttempt });
      };
      // Tracing runs the handler with the message's trace context in scope (and a consumer span).
      const deliver = tracing === undefined ? run : (m: BrokerMessage): Promise<void> => tracing.deliver(m, e.queue, run);
      this.subscriptions.push(await broker.subscribe(e.topic, deliver, { queue: e.queue, signal }));
      logger.debug('subscribed', { topic: e.topic, queue: e.queue });
    }
  }

  /** Ends every subscription. Idempotent. */
  async stop(): Promise<void> {
    const subs = this.subscriptions;
    this.subscriptions = [];
    await Promise.all(subs.map((s) => s.unsubscribe()));
  }
}
