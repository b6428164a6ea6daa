import { MeshError } from '../errors/index.ts';
import type { Broker, BrokerHandler, PublishOptions, SubscribeOptions, Subscription } from '../pubsub/types.ts';

/**
 * A broker built when the service starts. The mesh brokers need the live
 * membership, which exists only once the mesh has started, while the client
 * and server need a broker object from the start: this stands in for it.
 * Each start builds a fresh broker (a restarted service has a new membership).
 * The build may be async, so a broker's code is loaded only by services that use it.
 */
export class DeferredBroker implements Broker {
  private inner: Broker | undefined;
  private readonly build: () => Broker | Promise<Broker>;
  private readonly kind: string;

  constructor(kind: string, build: () => Broker | Promise<Broker>) {
    this.kind = kind;
    this.build = build;
  }

  get name(): string {
    return this.inner?.name ?? this.kind;
  }

  /** The broker in use, once started. */
  get current(): Broker | undefined {
    return this.inner;
  }

  async start(opts?: { signal?: AbortSignal }): Promise<void> {
    if (this.inner === undefined) {
      const built = await this.build();
      this.inner ??= built;
    }
    await this.inner.start(opts);
  }

  async stop(opts?: { signal?: AbortSignal }): Promise<void> {
    const inner = this.inner;
    this.inner = undefined;
    await inner?.stop(opts);
  }

  publish(topic: string, body: Uint8Array, opts?: PublishOptions): Promise<void> {
    return this.running().publish(topic, body, opts);
  }

  subscribe(topic: string, handler: BrokerHandler, opts?: SubscribeOptions): Promise<Subscription> {
    return this.running().subscribe(topic, handler, opts);
  }

  private running(): Broker {
    if (this.inner === undefined) throw new MeshError('NOT_RUNNING', `the ${this.kind} broker starts with the service; start it first`);
    return this.inner;
  }
}
