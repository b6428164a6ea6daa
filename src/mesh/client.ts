import { CONTENT_TYPE_HEADER, type Broker } from '../pubsub/types.ts';
import { RpcClient, type RpcClientOptions } from '../rpc/client.ts';
import type { CallScope } from '../rpc/scope.ts';
import type { Tracing } from './tracing-types.ts';
import type { ClientPublishOptions, ServiceClient } from './types.ts';

/**
 * The service's client: RPC calls and streams (RpcClient, inherited so calls
 * pay no wrapper), plus `publish` through the service's broker. Publishing
 * lives here, in the composition layer, because pubsub sits above rpc.
 */
export class MeshClient extends RpcClient implements ServiceClient {
  private readonly broker: Broker;
  private readonly scope: CallScope;
  private readonly tracing: Tracing | undefined;

  constructor(opts: RpcClientOptions, broker: Broker, tracing?: Tracing) {
    super(opts);
    this.broker = broker;
    this.scope = opts.scope;
    this.tracing = tracing;
  }

  /** Encodes with the client's codec (or `contentType`) and publishes, with the enclosing handler's metadata. */
  async publish(topic: string, message: unknown, opts: ClientPublishOptions = {}): Promise<void> {
    const codec = this.codec(opts.contentType);
    const headers = { ...this.scope.current()?.metadata, ...opts.metadata, [CONTENT_TYPE_HEADER]: codec.contentType };
    const body = codec.encode(message);
    const send = (): Promise<void> => this.broker.publish(topic, body, { headers, signal: opts.signal });
    // Tracing adds a producer span and puts its context in the headers.
    await (this.tracing === undefined ? send() : this.tracing.publish(topic, headers, opts.metadata, body.length, send));
  }
}
