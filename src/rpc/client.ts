import { Encoder } from 'cbor-x';
import { CodecBinding } from '../codec/bind.ts';
import type { Codec, Codecs, EndpointTypes } from '../codec/types.ts';
import { MeshError, toMeshError } from '../errors/index.ts';
import type { Node } from '../registry/types.ts';
import type { Next } from '../selector/types.ts';
import { ClientStreamImpl } from './client-stream.ts';
import { hedgedCall, LatencyWindows } from './hedge.ts';
import { INTERNAL_SERVICE } from './internal.ts';
import { UnaryInvocation, attemptBudget, defaultBackoff, sessionWithin, type InvocationDeps } from './unary.ts';
import type { CallScope } from './scope.ts';
import type { Session } from './session.ts';
import type {
  CallHandler, CallOptions, Client, ClientMiddleware, ClientStream, Metadata, OutgoingCall,
} from './types.ts';

export interface RpcClientOptions extends InvocationDeps {
  codecs: Codecs;
  scope: CallScope;
  middleware?: ClientMiddleware[];
}

/** Go Micro's RPC client: selection, retries on other nodes, deadlines and metadata that follow the call chain. */
export class RpcClient implements Client {
  private readonly opts: RpcClientOptions;
  private readonly chain: CallHandler;
  private readonly cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
  /** Recent latencies of hedged endpoints (their p95 times the hedge). */
  private readonly latencies = new LatencyWindows();
  /** Bindings of stateless codecs to message types, built once per (types, codec) rather than per call. */
  private readonly bindings = new WeakMap<EndpointTypes, Map<Codec, CodecBinding>>();

  constructor(opts: RpcClientOptions) {
    this.opts = opts;
    let h: CallHandler = (call) => (call.kind === 'unary' ? this.invoke(call) : this.open(call));
    const mw = opts.middleware ?? [];
    for (let i = mw.length - 1; i >= 0; i--) h = mw[i]!(h);
    this.chain = h;
  }

  call<Res = unknown>(service: string, endpoint: string, request: unknown, opts: CallOptions = {}): Promise<Res> {
    return this.chain({ kind: 'unary', service, endpoint, request, options: opts }) as Promise<Res>;
  }

  stream<Req = unknown, Res = unknown>(service: string, endpoint: string, request?: Req, opts: CallOptions = {}): Promise<ClientStream<Req, Res>> {
    return this.chain({ kind: 'stream', service, endpoint, request, options: opts }) as Promise<ClientStream<Req, Res>>;
  }

  /** The codec of `contentType`, or the default one. */
  protected codec(contentType: string | undefined): Codec {
    return this.opts.codecs.get(contentType ?? this.opts.codecs.defaultContentType);
  }

  /** The codec one call encodes its request and decodes its response with: bound to the endpoint's types when given. */
  private callCodec(o: CallOptions, endpoint: string): Codec {
    const c = this.codec(o.contentType);
    if (o.types === undefined && c.perCall === undefined && c.binary !== true) return c;
    if (!CodecBinding.supports(c, o.types)) {
      throw new MeshError('UNSUPPORTED_CODEC', `${c.contentType} carries typed messages only: pass the endpoint's types (CallOptions.types; generated clients do)`, { id: 'micromesh.client' });
    }
    // A per-call codec (JSON-RPC) names the endpoint in its framing: bound afresh.
    if (o.types === undefined || c.perCall !== undefined) return new CodecBinding(c, endpoint, o.types, 'client').forCall();
    let byCodec = this.bindings.get(o.types);
    if (byCodec === undefined) this.bindings.set(o.types, (byCodec = new Map()));
    let b = byCodec.get(c);
    if (b === undefined) byCodec.set(c, (b = new CodecBinding(c, endpoint, o.types, 'client')));
    return b.forCall();
  }

  /** Caller metadata over inherited metadata, CBOR-encoded once per call (undefined when empty). */
  private metadata(inherited: Readonly<Metadata> | undefined, own: Metadata | undefined): Uint8Array | undefined {
    const hasInherited = inherited !== undefined && Object.keys(inherited).length > 0;
    if (!hasInherited && (own === undefined || Object.keys(own).length === 0)) return undefined;
    return this.cbor.encode(hasInherited ? { ...inherited, ...own } : own);
  }

  /** Unary call: the prologue runs once, attempts run in UnaryInvocation. */
  private invoke(call: OutgoingCall): Promise<unknown> {
    const o = call.options;
    let codec: Codec;
    let body: Uint8Array;
    try {
      codec = this.callCodec(o, call.endpoint);
      body = codec.encode(call.request);
    } catch (err) {
      return Promise.reject(err);
    }
    const parent = this.opts.scope.current();
    const meta = this.metadata(parent?.metadata, o.metadata);
    this.opts.stats.inc('callsStarted');
    if (o.hedge !== undefined && o.hedge !== false && o.address === undefined) {
      return hedgedCall(this.opts, this.latencies, call.service, call.endpoint, o, codec, body, meta, parent?.deadline);
    }
    return new UnaryInvocation(this.opts, call.service, call.endpoint, o, codec, body, meta, parent?.deadline).run();
  }

  /** Opens a stream, counted by the meter once it opened or failed to (streams are not timed). */
  private async open(call: OutgoingCall): Promise<ClientStream> {
    const meter = call.service === INTERNAL_SERVICE ? undefined : this.opts.meter;
    const slot = meter?.start(call.service, call.endpoint);
    try {
      const s = await this.openStream(call);
      if (slot !== undefined) meter!.end(slot, 'OK', undefined);
      return s;
    } catch (err) {
      if (slot !== undefined) meter!.end(slot, toMeshError(err).code, undefined);
      throw err;
    }
  }

  /** Retries only while connecting (nothing has been sent yet). */
  private async openStream(call: OutgoingCall): Promise<ClientStream> {
    const { clock, config, selector } = this.opts;
    const o = call.options;
    const codec = this.callCodec(o, call.endpoint);
    const body = call.request === undefined ? undefined : codec.encode(call.request);
    const parent = this.opts.scope.current();
    const meta = this.metadata(parent?.metadata, o.metadata);
    // Streams run as long as they need unless a timeout is asked for or inherited.
    const budget = attemptBudget(o.timeoutMs ?? 0, parent?.deadline, clock.now());
    if (budget < 0) throw new MeshError('TIMEOUT', 'deadline inherited from the caller has passed', { id: 'micromesh.client' });
    const retries = o.retries ?? config.retries;
    let next: Next | undefined;
    for (let attempt = 0; ; attempt++) {
      let node: Node | undefined;
      try {
        if (o.address === undefined) {
          next ??= await selector.select(call.service, o.select);
          node = next();
        }
        const s = this.opts.pool.get(o.address ?? node!.address, o.signal);
        const session: Session = s instanceof Promise ? await sessionWithin(s, budget, clock, o.address ?? node!.address) : s;
        const local = session.openStream(call.service, call.endpoint, codec.contentType, budget, meta, body, o.signal);
        if (node !== undefined) selector.mark(call.service, node, {});
        return new ClientStreamImpl(local, codec);
      } catch (e) {
        const err = toMeshError(e, 'micromesh.client');
        if (node !== undefined) selector.mark(call.service, node, { error: err });
        if (!err.retryable || attempt >= retries || o.signal?.aborted) throw err;
        await clock.sleep((o.backoff ?? defaultBackoff)(attempt + 1), o.signal).catch(() => {});
      }
    }
  }
}
