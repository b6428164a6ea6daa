import { PROTOBUF_CONTENT_TYPE, createClient, type CallOptions, type Client, type ServiceDefinition, type TypedClient } from '../index.ts';

export interface ProtoClientOptions {
  /** The micromesh service to call. Default: the proto service's name in lower case (`greeter`). */
  service?: string;
  /** Default `application/protobuf`; `application/json` or `application/cbor` carry the same messages as their JSON form. */
  contentType?: string;
  /** Merged under each call's own options. */
  defaults?: CallOptions;
}

/**
 * What generated clients extend: the definition's typed client, calling
 * `service` in protobuf unless told otherwise.
 */
export class ProtoClientBase<Impl> {
  protected readonly rpc: TypedClient<Impl>;
  /** The service this client calls. */
  readonly service: string;

  constructor(client: Client, definition: ServiceDefinition<Impl>, opts: ProtoClientOptions = {}) {
    this.service = opts.service ?? definition.name.toLowerCase();
    const defaults: CallOptions = { contentType: opts.contentType ?? PROTOBUF_CONTENT_TYPE, ...opts.defaults };
    this.rpc = createClient(client, this.service, definition, { defaults });
  }
}
