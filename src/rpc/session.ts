import { Encoder } from 'cbor-x';
import type { Clock } from '../clock/types.ts';
import { MeshError, fromWire } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import type { Socket } from '../transport/types.ts';
import type { RpcConfig } from './config.ts';
import type { CallHost, Expiring, PeerHello } from './call-host.ts';
import { DeadlineWheel } from './deadlines.ts';
import { Flag, FrameParser, FrameType, INLINE_ROUTE } from './frame.ts';
import { LocalCall, RemoteCall, UnaryCall, type UnarySink } from './calls.ts';
import type { RpcStats } from './stats.ts';
import { RouteTable } from './routes.ts';
import { parseRequestHead } from './request-head.ts';
import type { SilenceWatch } from './silence.ts';
import { watchSilence } from './session-silence.ts';
import { Keepalive } from './session-keepalive.ts';
import { decodeHello, encodeHello, MIN_WINDOW_BYTES } from './hello.ts';
import { FrameWriter } from './writer.ts';

const EMPTY = new Uint8Array(0);

export interface SessionOptions {
  /** The dialer numbers its streams odd, the acceptor even (HTTP/2's rule), so both may open streams. */
  role: 'dialer' | 'acceptor';
  config: RpcConfig;
  clock: Clock;
  logger: Logger;
  stats: RpcStats;
  /** Our RPC server address, announced in Hello so the peer can reuse this connection to call us. */
  advertiseAddress?: string;
  /** Inbound calls; without it they fail with NOT_FOUND. */
  onRequest?: (call: RemoteCall) => void;
  /**
   * Called after `onRequest` calls, once the read that carried them is parsed
   * or before the next frame of another type is handled, so state the
   * dispatcher set up for them (the server's call scope) ends before any
   * other code runs.
   */
  afterRequests?: () => void;
  onHello?: (session: Session) => void;
  onClose?: (session: Session, err: MeshError | undefined) => void;
  /** The peer went silent while calls waited on it (true), or spoke again (false): see SilenceWatch. */
  onSilence?: (session: Session, silent: boolean) => void;
}


/**
 * One connection to a peer, multiplexing any number of calls and streams in
 * both directions (docs/PROTOCOL.md "RPC"). It frames and routes bytes;
 * encoding values is the client's and server's business.
 */
export class Session implements CallHost {
  readonly socket: Socket;
  readonly opts: SessionOptions;
  readonly writer: FrameWriter;
  readonly wheel: DeadlineWheel<Expiring>;
  readonly cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
  readonly local = new Map<number, LocalCall | UnaryCall>();
  readonly remote = new Map<number, RemoteCall>();
  peer: PeerHello | undefined;
  /** Set once closed; every later operation fails with it. */
  closedWith: MeshError | undefined;
  /** The peer sent GoAway: open no new streams here. */
  peerGoingAway = false;
  /** We sent GoAway because we stop: refuse new inbound streams. */
  goingAway = false;
  /** We sent GoAway (stopping, idle, or answering the peer's): we open no new streams here. */
  sentGoAway = false;
  private nextId: number;
  private readonly parser: FrameParser;
  private readonly routes: RouteTable;
  private readonly keepalive: Keepalive;
  /** Bumped per stream opened either way: the keepalive pings and the idle close look at it. */
  private activity = 0;
  private readonly prefix = new Uint8Array(64);
  /**
   * Clock reading taken when the chunk being parsed was read. Every frame in
   * a chunk arrived at that moment, so server deadlines and client latency
   * samples use it instead of reading the clock per call (a read costs ~50 ns).
   */
  readAt = 0;
  /** Requests went to `onRequest` since `afterRequests` was last called. */
  private dispatched = false;
  private closeWaiters: (() => void)[] = [];
  private readonly silence: SilenceWatch;
  /** When this side took the connection (the dialer: connected), for the first round-trip sample. */
  private readonly openedAt: number;

  constructor(socket: Socket, opts: SessionOptions) {
    this.socket = socket;
    this.opts = opts;
    this.openedAt = opts.clock.now();
    this.nextId = opts.role === 'dialer' ? 1 : 2;
    this.writer = new FrameWriter(socket, opts.config.flushBytes, opts.config.flush);
    this.routes = new RouteTable(this.cbor, opts.config.maxRoutes, (payload) => this.writer.frame(FrameType.Route, 0, 0, payload));
    this.wheel = new DeadlineWheel<Expiring>(opts.clock, opts.config.deadlineResolutionMs, (item) => item.expire());
    // What the silence watch and the keepalive timer see of this connection, and may do to it.
    const conn = {
      remoteAddress: socket.remoteAddress,
      local: this.local,
      isClosed: () => this.closed,
      activity: () => this.activity,
      activeStreams: () => this.activeStreams,
      ping: () => this.writer.frame(FrameType.Ping, 0, 0, new Uint8Array(8)),
      onSilence: (on: boolean) => this.opts.onSilence?.(this, on),
      idle: () => this.sendGoAway('idle'),
      kill: (err: MeshError) => {
        this.socket.destroy(new Error(err.detail));
        this.teardown(err);
      },
    };
    this.silence = watchSilence(conn, opts);
    this.keepalive = new Keepalive(conn, opts);
    this.parser = new FrameParser(opts.config.maxFrameBytes, {
      frame: (type, flags, stream, payload) => this.onFrame(type, flags, stream, payload),
      oversized: (type, _flags, stream, bytes) => this.onOversized(type, stream, bytes),
      malformed: (reason) => this.protocolError(reason),
    });
    socket.attach({
      data: (chunk) => {
        this.opts.stats.inc('bytesRead', chunk.length);
        this.keepalive.heard();
        this.readAt = this.opts.clock.now();
        this.silence.heard(this.readAt);
        this.parser.push(chunk);
        if (this.dispatched) this.settle();
      },
      close: (err) => this.onSocketClose(err),
    });
    this.writer.frame(FrameType.Hello, 0, 0, encodeHello(this.cbor, opts.config.maxFrameBytes, opts.config.initialWindowBytes, opts.advertiseAddress));
    this.keepalive.start();
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Whether new calls may be opened on this session. */
  get usable(): boolean {
    return this.closedWith === undefined && !this.peerGoingAway && !this.sentGoAway;
  }

  /** A GoAway went either way: the session closes once it carries no stream (see streamDone). */
  get draining(): boolean {
    return this.sentGoAway || this.peerGoingAway;
  }

  /** Largest message the peer accepts (its Hello, or our own limit before it arrives). */
  get peerMaxFrameBytes(): number {
    return this.peer?.maxFrameBytes ?? this.opts.config.maxFrameBytes;
  }

  get peerWindowBytes(): number {
    return this.peer?.windowBytes ?? MIN_WINDOW_BYTES;
  }

  awaitingPeer(): void {
    this.silence.watch();
  }

  /** Streams open in either direction. */
  get activeStreams(): number {
    return this.local.size + this.remote.size;
  }

  /** Allocates the next id for a stream we open. Ids wrap at 2^32 keeping their parity. */
  allocateId(): number {
    let id = this.nextId;
    while (this.local.has(id)) id = (id + 2) >>> 0 || (this.opts.role === 'dialer' ? 1 : 2);
    this.nextId = (id + 2) >>> 0 || (this.opts.role === 'dialer' ? 1 : 2);
    return id;
  }

  /**
   * Writes a Request frame. The route (service, endpoint, content type) is sent
   * once per connection as a Route frame and then referred to by a 16-bit id.
   */
  writeRequest(id: number, service: string, endpoint: string, contentType: string, flags: number,
    timeoutMs: number, metadata: Uint8Array | undefined, body: Uint8Array): void {
    const r = this.routes.outbound(service, endpoint, contentType);
    const route = typeof r === 'number' ? r : INLINE_ROUTE;
    const inline = typeof r === 'number' ? undefined : r;
    const metaLen = metadata?.length ?? 0;
    const fixed = 8 + metaLen + (inline ? 2 + inline.length : 0);
    const p = fixed <= this.prefix.length ? this.prefix : new Uint8Array(fixed);
    p[0] = route >>> 8;
    p[1] = route & 0xff;
    p[2] = timeoutMs >>> 24;
    p[3] = (timeoutMs >>> 16) & 0xff;
    p[4] = (timeoutMs >>> 8) & 0xff;
    p[5] = timeoutMs & 0xff;
    p[6] = metaLen >>> 8;
    p[7] = metaLen & 0xff;
    if (metaLen > 0) p.set(metadata!, 8);
    if (inline) {
      p[8 + metaLen] = inline.length >>> 8;
      p[9 + metaLen] = inline.length & 0xff;
      p.set(inline, 10 + metaLen);
    }
    this.writer.frame2(FrameType.Request, flags, id, p, fixed, body);
    this.activity++;
  }

  /**
   * Opens a unary call; its outcome goes to `sink` (response payload or a
   * MeshError), never synchronously. `now` is the caller's clock reading,
   * reused for the deadline.
   */
  unary(service: string, endpoint: string, contentType: string, timeoutMs: number, now: number,
    metadata: Uint8Array | undefined, body: Uint8Array, signal: AbortSignal | undefined, sink: UnarySink): void {
    const failure = this.cannotOpen(body, signal);
    if (failure !== undefined) {
      queueMicrotask(() => sink.onFailure(failure));
      return;
    }
    const id = this.allocateId();
    const call = new UnaryCall(this, id, sink);
    this.local.set(id, call);
    this.silence.watch();
    if (timeoutMs > 0) this.wheel.add(call, now + timeoutMs);
    if (signal !== undefined) call.watch(signal);
    this.writeRequest(id, service, endpoint, contentType, Flag.EndStream, timeoutMs, metadata, body);
  }

  /**
   * Opens a stream. With a `body` the caller's side is complete at once
   * (server stream); without one the caller sends DATA frames and End.
   */
  openStream(service: string, endpoint: string, contentType: string, timeoutMs: number,
    metadata: Uint8Array | undefined, body: Uint8Array | undefined, signal: AbortSignal | undefined): LocalCall {
    const failure = this.cannotOpen(body, signal);
    if (failure !== undefined) throw failure;
    const id = this.allocateId();
    const call = new LocalCall(this, id);
    this.local.set(id, call);
    this.silence.watch();
    if (timeoutMs > 0) this.wheel.add(call, this.opts.clock.now() + timeoutMs);
    if (signal !== undefined) call.watch(signal);
    const flags = Flag.Streaming | (body === undefined ? Flag.InputStream : Flag.EndStream);
    this.writeRequest(id, service, endpoint, contentType, flags, timeoutMs, metadata, body ?? EMPTY);
    if (body !== undefined) call.sentEnd = true;
    return call;
  }

  private cannotOpen(body: Uint8Array | undefined, signal: AbortSignal | undefined): MeshError | undefined {
    if (this.closedWith !== undefined) return this.closedWith;
    if (signal?.aborted) return new MeshError('CANCELLED', 'call aborted by the caller', { id: 'micromesh.client', cause: signal.reason });
    if (body !== undefined && body.length > this.peerMaxFrameBytes) {
      return new MeshError('FRAME_TOO_LARGE', `request of ${body.length} bytes exceeds the limit of ${this.peerMaxFrameBytes} bytes`, { id: 'micromesh.client' });
    }
    return undefined;
  }

  /** Stops taking new inbound streams (the server stops); the peer learns it through GoAway. Idempotent. */
  goAway(reason: string): void {
    if (this.goingAway || this.closed) return;
    this.goingAway = true;
    this.sendGoAway(reason);
  }

  /**
   * Says we open no new streams here (`idle`, or answering the peer's
   * GoAway), still serving what the peer sent before it heard us. Once
   * GoAway went both ways nothing new can arrive (TCP keeps order), so the
   * connection closes when its last stream ends, losing nothing.
   */
  private sendGoAway(reason: string): void {
    if (this.closed) return;
    if (!this.sentGoAway) {
      this.sentGoAway = true;
      this.writer.frame(FrameType.GoAway, 0, 0, this.cbor.encode({ reason }));
      this.opts.onHello?.(this); // lets the pool stop handing this session out
    }
    // Both sides may have gone idle at once: their GoAways crossed, and each is the other's answer.
    this.streamDone();
  }

  /** Closes gracefully once no stream is open in either direction. */
  closeWhenIdle(): void {
    if (this.activeStreams === 0) this.close();
  }

  /** Resolves once the session has closed. */
  whenClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((r) => this.closeWaiters.push(r));
  }

  /** Flushes and closes. Open calls fail with CONNECTION_LOST. Idempotent. */
  close(err?: MeshError): void {
    if (this.closed) return;
    this.writer.flush();
    this.socket.end();
    this.teardown(err ?? new MeshError('CONNECTION_LOST', `connection to ${this.socket.remoteAddress} closed`));
  }

  /** Called by streams when they finish, so a draining session can close: a stopping side at once, else once GoAway went both ways. */
  streamDone(): void {
    if (this.activeStreams === 0 && (this.goingAway || (this.sentGoAway && this.peerGoingAway))) this.close();
  }

  private onFrame(type: number, flags: number, stream: number, payload: Uint8Array): void {
    if (this.dispatched && type !== FrameType.Request) this.settle();
    switch (type) {
      case FrameType.Request:
        return this.onRequestFrame(flags, stream, payload);
      case FrameType.Data:
      case FrameType.End:
      case FrameType.Error:
      case FrameType.Credit:
      case FrameType.Cancel: {
        if (stream === 0) return this.protocolError(`frame type ${type} on stream 0`);
        const local = (stream & 1) === (this.opts.role === 'dialer' ? 1 : 0);
        const call = local ? this.local.get(stream) : this.remote.get(stream);
        // Frames for finished streams are normal races (a cancel crossing a response).
        if (call === undefined) return this.opts.stats.inc('lateFrames');
        call.onFrame(type, flags, payload);
        return;
      }
      case FrameType.Hello:
        return this.onHello(payload);
      case FrameType.Route: {
        const malformed = this.routes.define(payload);
        if (malformed !== undefined) this.protocolError(malformed);
        return;
      }
      case FrameType.Ping:
        if ((flags & Flag.Ack) === 0) this.writer.frame(FrameType.Ping, Flag.Ack, 0, payload.slice());
        return;
      case FrameType.GoAway:
        this.peerGoingAway = true;
        // Our answer: we open nothing more either, so neither side can be surprised by a late stream.
        this.sendGoAway('answer');
        return;
    }
  }

  private onHello(payload: Uint8Array): void {
    const hello = decodeHello(this.cbor, payload, this.opts.config.maxFrameBytes);
    if (typeof hello === 'string') return this.protocolError(hello);
    // The acceptor sends its Hello on accept: the dialer reads it about one round trip after connecting.
    if (this.opts.role === 'dialer' && this.peer === undefined) this.silence.observeRtt(this.opts.clock.now() - this.openedAt);
    this.peer = hello;
    const windowBytes = hello.windowBytes;
    // Streams opened before Hello assumed the minimum window; top them up.
    for (const call of this.local.values()) call.grantInitial(windowBytes - MIN_WINDOW_BYTES);
    for (const call of this.remote.values()) call.grantInitial(windowBytes - MIN_WINDOW_BYTES);
    this.opts.onHello?.(this);
  }

  private onRequestFrame(flags: number, stream: number, p: Uint8Array): void {
    const head = parseRequestHead(p, this.routes);
    if (typeof head === 'string') return this.protocolError(head);
    if (this.remote.has(stream) || (stream & 1) === (this.opts.role === 'dialer' ? 1 : 0) || stream === 0) {
      return this.protocolError(`Request reuses or misnumbers stream ${stream}`);
    }
    const call = new RemoteCall(this, stream, head.route, flags, head.timeoutMs, head.metadata, p.subarray(head.bodyAt));
    if (this.goingAway) return call.reject(new MeshError('SERVER_STOPPING', 'server is stopping', { id: 'micromesh.server' }));
    if (this.remote.size >= this.opts.config.maxConcurrentStreams) {
      this.opts.stats.inc('streamsRefused');
      return call.reject(new MeshError('UNAVAILABLE', `more than ${this.opts.config.maxConcurrentStreams} concurrent streams on one connection`, { id: 'micromesh.server' }));
    }
    this.remote.set(stream, call);
    this.activity++;
    if (this.opts.onRequest === undefined) {
      return call.reject(new MeshError('NOT_FOUND', 'this node serves no RPC', { id: 'micromesh.server' }));
    }
    this.dispatched = true;
    this.opts.onRequest(call);
  }

  private settle(): void {
    this.dispatched = false;
    this.opts.afterRequests?.();
  }

  private onOversized(type: number, stream: number, bytes: number): void {
    this.opts.stats.inc('framesOversized');
    const limit = this.opts.config.maxFrameBytes;
    this.opts.logger.warn('oversized frame skipped', { type, stream, bytes, limit, peer: this.socket.remoteAddress });
    const err = new MeshError('FRAME_TOO_LARGE', `message of ${bytes} bytes exceeds the limit of ${limit} bytes`, { id: 'micromesh.rpc' });
    const local = (stream & 1) === (this.opts.role === 'dialer' ? 1 : 0);
    if (type === FrameType.Request && !local && stream !== 0 && !this.remote.has(stream)) {
      this.writer.frame(FrameType.Error, 0, stream, this.cbor.encode(err.toWire()));
      return;
    }
    const call = local ? this.local.get(stream) : this.remote.get(stream);
    call?.abortWith(err);
  }

  /** Bytes that can't be frames: close only this connection (logged and counted). */
  protocolError(reason: string): void {
    this.opts.stats.inc('protocolErrors');
    this.opts.logger.warn('closing connection after protocol error', { reason, peer: this.socket.remoteAddress });
    this.socket.destroy(new Error(reason));
    this.teardown(new MeshError('PROTOCOL_ERROR', `connection to ${this.socket.remoteAddress}: ${reason}`));
  }

  private onSocketClose(err: Error | undefined): void {
    const cause = err instanceof MeshError && err.code === 'CONNECTION_LOST' ? err : undefined;
    this.teardown(cause ?? new MeshError('CONNECTION_LOST', `connection to ${this.socket.remoteAddress} lost`, { cause: err }));
  }

  private teardown(err: MeshError): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = err;
    this.keepalive.stop();
    this.silence.stop();
    for (const call of [...this.local.values()]) call.abortWith(err);
    for (const call of [...this.remote.values()]) call.abortWith(err);
    this.local.clear();
    this.remote.clear();
    this.wheel.clear();
    if (!this.socket.closed) this.socket.destroy();
    this.opts.onClose?.(this, err);
    const ws = this.closeWaiters;
    this.closeWaiters = [];
    for (const w of ws) w();
  }

  /** Decodes a wire error payload (always CBOR). */
  decodeError(payload: Uint8Array): MeshError {
    try {
      return fromWire(this.cbor.decode(payload));
    } catch {
      return new MeshError('PROTOCOL_ERROR', 'undecodable error from peer');
    }
  }
}
