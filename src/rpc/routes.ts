import type { Encoder } from 'cbor-x';
import type { CodecBinding } from '../codec/bind.ts';
import type { EndpointTypes } from '../codec/types.ts';
import type { MeshError } from '../errors/index.ts';
import type { EndpointInfo, Handler } from './types.ts';

/** A handler the server exposes, as registered (middleware applied). */
export interface HandlerEntry {
  handler: Handler;
  info: EndpointInfo;
  /** Registry metadata of the endpoint (`stream`, and what `handle` was given). */
  metadata: Record<string, string>;
  /** Its message types, when `handle` was given some. */
  types: EndpointTypes | undefined;
}

/** What the server resolved a route to: a handler and its codec, or why the route can't be served. */
export interface RouteTarget {
  /** The version of the server's handler table it was resolved against; stale once handlers change. */
  version: number;
  entry: HandlerEntry | undefined;
  codec: CodecBinding | undefined;
  error: MeshError | undefined;
}

/** A decoded route, shared by every request naming it on one connection. */
export interface Route {
  service: string;
  endpoint: string;
  contentType: string;
  /** The server's resolution, cached here so a request costs no lookup by name. */
  target: RouteTarget | undefined;
}

/**
 * The route ids of one connection (docs/PROTOCOL.md "Route"): a (service,
 * endpoint, content type) triple is announced once per direction as a Route
 * frame and then named by a 16-bit id, so requests don't repeat the strings.
 * Beyond `maxRoutes` triples travel inline in each request.
 */
export class RouteTable {
  /** service → endpoint → content type → route id; nested so no key string is built per call. */
  private readonly out = new Map<string, Map<string, Map<string, number>>>();
  private count = 0;
  private readonly in: (Route | undefined)[] = [];
  private readonly cbor: Encoder;
  private readonly maxRoutes: number;
  /** Sends a Route frame payload (id, then the CBOR triple). */
  private readonly announce: (payload: Uint8Array) => void;

  constructor(cbor: Encoder, maxRoutes: number, announce: (payload: Uint8Array) => void) {
    this.cbor = cbor;
    this.maxRoutes = maxRoutes;
    this.announce = announce;
  }

  /** The id to send for a triple (announcing a new one first), or its CBOR to send inline once ids run out. */
  outbound(service: string, endpoint: string, contentType: string): number | Uint8Array {
    let byEndpoint = this.out.get(service);
    if (byEndpoint === undefined) this.out.set(service, (byEndpoint = new Map()));
    let byType = byEndpoint.get(endpoint);
    if (byType === undefined) byEndpoint.set(endpoint, (byType = new Map()));
    const known = byType.get(contentType);
    if (known !== undefined) return known;
    const triple = this.cbor.encode([service, endpoint, contentType]);
    if (this.count >= this.maxRoutes) return triple;
    const id = this.count++;
    byType.set(contentType, id);
    const payload = new Uint8Array(2 + triple.length);
    payload[0] = id >>> 8;
    payload[1] = id & 0xff;
    payload.set(triple, 2);
    this.announce(payload);
    return id;
  }

  /** Records a Route frame from the peer; returns why it is malformed, if it is. */
  define(payload: Uint8Array): string | undefined {
    if (payload.length < 3) return 'short Route frame';
    const id = (payload[0]! << 8) | payload[1]!;
    if (id >= this.maxRoutes) return `route id ${id} beyond the limit ${this.maxRoutes}`;
    const route = this.decode(payload.subarray(2));
    if (route === undefined) return 'undecodable Route frame';
    this.in[id] = route;
    return undefined;
  }

  /** The route the peer announced under `id`. */
  get(id: number): Route | undefined {
    return this.in[id];
  }

  /** A CBOR triple (from a Route frame or inline in a request); undefined when malformed. */
  decode(bytes: Uint8Array): Route | undefined {
    try {
      const t = this.cbor.decode(bytes) as unknown;
      if (!Array.isArray(t) || t.length !== 3 || !t.every((s) => typeof s === 'string' && s.length <= 1024)) return undefined;
      return { service: t[0], endpoint: t[1], contentType: t[2], target: undefined };
    } catch {
      return undefined;
    }
  }
}
