/**
 * A Client for callers that hold values in their JSON form (the API
 * gateway's HTTP bodies): endpoints whose definitions it was given are
 * called with their message types, in protobuf by default, the request
 * parsed from its JSON form and the answer turned back into it; any other
 * endpoint is called as asked. A typed endpoint answers JSON callers itself
 * (the service converts), so this is for a hop that should carry protobuf.
 */
import { failed } from '../codec/bind.ts';
import { PROTOBUF_CONTENT_TYPE } from '../codec/protobuf.ts';
import type { EndpointTypes } from '../codec/types.ts';
import type { CallOptions, Client, ClientStream, ServiceDefinition } from './types.ts';

export interface JsonBridgeOptions {
  /** The content type typed endpoints are called in. Default `application/protobuf`. */
  contentType?: string;
}

export function jsonBridge(client: Client, definitions: readonly ServiceDefinition[], opts: JsonBridgeOptions = {}): Client {
  const byEndpoint = new Map<string, EndpointTypes>();
  for (const d of definitions) {
    for (const [method, m] of Object.entries(d.methods)) if (m.types !== undefined) byEndpoint.set(`${d.name}.${method}`, m.types);
  }
  const contentType = opts.contentType ?? PROTOBUF_CONTENT_TYPE;
  const typed = (o: CallOptions, types: EndpointTypes): CallOptions => ({ ...o, contentType, types });
  return {
    async call<Res>(service: string, endpoint: string, request: unknown, o: CallOptions = {}): Promise<Res> {
      const types = byEndpoint.get(endpoint);
      if (types === undefined) return client.call<Res>(service, endpoint, request, o);
      const res = await client.call(service, endpoint, parse(types, request), typed(o, types));
      return types.response.toJson(res) as Res;
    },
    async stream<Req, Res>(service: string, endpoint: string, request?: Req, o: CallOptions = {}): Promise<ClientStream<Req, Res>> {
      const types = byEndpoint.get(endpoint);
      if (types === undefined) return client.stream<Req, Res>(service, endpoint, request, o);
      const s = await client.stream(service, endpoint, request === undefined ? undefined : parse(types, request), typed(o, types));
      return new JsonStream<Req, Res>(s, types);
    },
  };
}

/** A request's JSON form as its message; a bad one is DECODE_FAILED naming the type, as the codecs say it. */
function parse(types: EndpointTypes, json: unknown): unknown {
  try {
    return types.request.fromJson(json ?? {});
  } catch (err) {
    throw failed(err, 'DECODE_FAILED', `malformed ${types.request.typeName}`, 400);
  }
}

class JsonStream<Req, Res> implements ClientStream<Req, Res> {
  private readonly inner: ClientStream;
  private readonly types: EndpointTypes;

  constructor(inner: ClientStream, types: EndpointTypes) {
    this.inner = inner;
    this.types = types;
  }

  send(message: Req, o?: { signal?: AbortSignal }): Promise<void> {
    return this.inner.send(parse(this.types, message), o);
  }

  end(): void {
    this.inner.end();
  }

  cancel(reason?: string): void {
    this.inner.cancel(reason);
  }

  async response(): Promise<Res> {
    return this.types.response.toJson(await this.inner.response()) as Res;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Res> {
    for await (const m of this.inner) yield this.types.response.toJson(m) as Res;
  }
}
