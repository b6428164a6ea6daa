import { CONTENT_TYPE_HEADER, type Broker } from '../pubsub/types.ts';
import { RpcClient, type RpcClientOptions } from '../rpc/client.ts';
import type { CallScope } from '../rpc/scope.ts';
import type { ClientPublishOptions, ServiceClient } from './types.ts';

/**
 * The service's client: RPC calls and streams (RpcClient, inherited so calls
 * pay no wrapper), plus `publish` through the service's broker. Publishing
 * lives here, in the composition layer, because pubsub sits above rpc.
 */
export class MeshClient extends RpcClient implements ServiceClient {
  private readonly broker: Broker;
  private readonly scope: CallScope;

  constructor(opts: RpcClientOptions, broker: Broker) {
    super(opts);
    this.broker = broker;
    this.scope = opts.scope;
  }

  /** Encodes with the client's codec (or `contentType`) and publishes, with the enclosing handler's metadata. */
  async publish(topic: string, message: unknown, opts: ClientPublishOptions = {}): Promise<void> {
    const codec = this.codec(opts.contentType);
    const headers = { ...this.scope.current()?.metadata, ...opts.metadata, [CONTENT_TYPE_HEADER]: codec.contentType };
    await this.broker.publish(topic, codec.encode(message), { headers, signal: opts.signal });
  }
}
