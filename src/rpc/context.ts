import type { Encoder } from 'cbor-x';
import type { RemoteCall } from './calls.ts';
import type { HandlerContext, Metadata } from './types.ts';

const NO_METADATA: Readonly<Metadata> = Object.freeze({});

/** HandlerContext over a RemoteCall; metadata is decoded and the signal created only when read. */
export class ServerContext implements HandlerContext {
  readonly deadline: number | undefined;
  private readonly call: RemoteCall;
  private readonly cbor: Encoder;
  private meta: Readonly<Metadata> | undefined;

  constructor(call: RemoteCall, deadline: number | undefined, cbor: Encoder) {
    this.call = call;
    this.deadline = deadline;
    this.cbor = cbor;
  }

  get service(): string {
    return this.call.route.service;
  }

  get endpoint(): string {
    return this.call.route.endpoint;
  }

  get contentType(): string {
    return this.call.route.contentType;
  }

  get remoteAddress(): string {
    return this.call.session.socket.remoteAddress;
  }

  get signal(): AbortSignal {
    return this.call.signal;
  }

  get metadata(): Readonly<Metadata> {
    if (this.meta === undefined) this.meta = decodeMetadata(this.call.metadataBytes, this.cbor);
    return this.meta;
  }
}

/** Metadata is a CBOR map of strings; anything else in it is dropped rather than trusted. */
export function decodeMetadata(bytes: Uint8Array | undefined, cbor: Encoder): Readonly<Metadata> {
  if (bytes === undefined) return NO_METADATA;
  let raw: unknown;
  try {
    raw = cbor.decode(bytes);
  } catch {
    return NO_METADATA;
  }
  if (raw === null || typeof raw !== 'object') return NO_METADATA;
  const out: Metadata = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}
