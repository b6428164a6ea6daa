import { MeshError } from '../errors/index.ts';
import { Flag, FrameType } from './frame.ts';
import { CreditGate, MessageQueue } from './flow.ts';
import type { Bucket, Expirable } from './deadlines.ts';
import type { CallHost } from './call-host.ts';
import type { Route } from './routes.ts';

function u32(n: number): Uint8Array {
  return new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function readU32(p: Uint8Array): number {
  return p.length < 4 ? 0 : ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** Returns read credit to the peer in batches of a quarter window (fewer Credit frames). */
function creditReturner(session: CallHost, id: number): (bytes: number) => void {
  let owed = 0;
  const batch = session.opts.config.initialWindowBytes >> 2;
  return (bytes) => {
    owed += bytes;
    if (owed >= batch) {
      session.writer.frame(FrameType.Credit, 0, id, u32(owed));
      owed = 0;
    }
  };
}

/**
 * What unary calls and streams this side opened have in common: deadline
 * links, cancellation by signal, timeout and abort. Subclasses say whether
 * the call is still open and how it fails.
 */
abstract class Outgoing {
  dlBucket: Bucket | undefined = undefined;
  dlPrev: Expirable | undefined = undefined;
  dlNext: Expirable | undefined = undefined;
  readonly session: CallHost;
  readonly id: number;
  private signal: AbortSignal | undefined;
  private onAbort: (() => void) | undefined;

  constructor(session: CallHost, id: number) {
    this.session = session;
    this.id = id;
  }

  protected abstract get open(): boolean;
  protected abstract fail(err: MeshError): void;

  /** Cancels the call when `signal` aborts. */
  watch(signal: AbortSignal): void {
    this.signal = signal;
    this.onAbort = () => this.cancel('CANCELLED', 'call aborted by the caller');
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The deadline passed. */
  expire(): void {
    this.session.opts.stats.inc('timeouts');
    this.cancel('TIMEOUT', 'deadline exceeded');
  }

  /** Tells the peer to stop, then fails locally with `code`. */
  cancel(code: 'CANCELLED' | 'TIMEOUT' | 'PROTOCOL_ERROR', detail: string): void {
    if (!this.open) return;
    this.sendCancel(code);
    if (code === 'CANCELLED') this.session.opts.stats.inc('cancellations');
    this.fail(new MeshError(code, detail, { id: 'micromesh.client', cause: code === 'CANCELLED' ? this.signal?.reason : undefined }));
  }

  /** Tells the peer to stop (it reads it if it ever resumes) and fails locally with `err` (retryable: the caller's retry policy applies). */
  giveUp(err: MeshError): void {
    if (!this.open) return;
    this.sendCancel('CANCELLED');
    this.fail(err);
  }

  /** Fails without telling the peer (it is gone), except for a message it refused as too large. */
  abortWith(err: MeshError): void {
    if (err.code === 'FRAME_TOO_LARGE') this.sendCancel(err.code);
    this.fail(err);
  }

  /** Leaves the session's tables and stops watching the signal. */
  protected detach(): void {
    const s = this.session;
    s.local.delete(this.id);
    s.wheel.remove(this);
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
  }

  private sendCancel(code: string): void {
    if (!this.session.closed) this.session.writer.frame(FrameType.Cancel, 0, this.id, this.session.cbor.encode({ code }));
  }
}

/** Receives the outcome of a unary call (the client's invocation: no promise in between). */
export interface UnarySink {
  /** `at`: clock time the response was read. */
  onResponse(payload: Uint8Array, at: number): void;
  onFailure(err: MeshError): void;
}

/**
 * A unary call this side opened: one request, one response. Kept separate
 * from streams so the common case allocates as little as possible.
 */
export class UnaryCall extends Outgoing {
  sink: UnarySink | undefined;

  constructor(session: CallHost, id: number, sink: UnarySink) {
    super(session, id);
    this.sink = sink;
  }

  protected get open(): boolean {
    return this.sink !== undefined;
  }

  grantInitial(): void {}

  onFrame(type: number, _flags: number, payload: Uint8Array): void {
    switch (type) {
      case FrameType.Data: {
        const sink = this.sink;
        if (sink === undefined) return;
        this.finish();
        sink.onResponse(payload, this.session.readAt);
        return;
      }
      case FrameType.Error:
        return this.fail(this.session.decodeError(payload));
      case FrameType.Cancel:
        return this.fail(new MeshError('CANCELLED', 'the server reset the call'));
      case FrameType.End:
        return this.fail(new MeshError('PROTOCOL_ERROR', 'unary call ended without a response'));
    }
  }

  protected fail(err: MeshError): void {
    const sink = this.sink;
    if (sink === undefined) return;
    this.finish();
    sink.onFailure(err);
  }

  private finish(): void {
    this.sink = undefined;
    this.detach();
    const s = this.session;
    if (s.draining) s.streamDone();
  }
}

/** A stream this side opened: incoming messages feed a MessageQueue, sends wait for credit. */
export class LocalCall extends Outgoing {
  readonly incoming: MessageQueue;
  readonly sendGate: CreditGate;
  private readonly preHello: boolean;
  private done = false;
  sentEnd = false;

  constructor(session: CallHost, id: number) {
    super(session, id);
    this.preHello = session.peer === undefined;
    const credit = creditReturner(session, id);
    this.incoming = new MessageQueue((bytes) => {
      credit(bytes);
      if (this.incoming.buffered === 0) session.awaitingPeer();
    }, () => this.cancel('CANCELLED', 'consumer stopped reading'));
    this.sendGate = new CreditGate(session.peerWindowBytes);
  }

  protected get open(): boolean {
    return !this.done;
  }

  grantInitial(extra: number): void {
    if (this.preHello && extra > 0) this.sendGate.grant(extra);
  }

  onFrame(type: number, flags: number, payload: Uint8Array): void {
    switch (type) {
      case FrameType.Data:
        this.session.opts.stats.inc('streamMessagesReceived');
        this.incoming.push(payload);
        if (this.incoming.buffered > this.session.opts.config.initialWindowBytes + this.session.opts.config.maxFrameBytes) {
          return this.cancel('PROTOCOL_ERROR', 'peer ignored flow control');
        }
        if (flags & Flag.EndStream) this.endIncoming();
        return;
      case FrameType.End:
        return this.endIncoming();
      case FrameType.Error:
        return this.fail(this.session.decodeError(payload));
      case FrameType.Credit:
        this.sendGate.grant(readU32(payload));
        return;
      case FrameType.Cancel:
        return this.fail(new MeshError('CANCELLED', 'the server reset the stream'));
    }
  }

  /** Marks our sending side finished. */
  markSentEnd(): void {
    this.sentEnd = true;
    if (this.incoming.done) this.finish();
  }

  private endIncoming(): void {
    this.incoming.end();
    // A server that has answered is done with the call even if we were still streaming input.
    this.sentEnd = true;
    this.finish();
  }

  protected fail(err: MeshError): void {
    if (this.done) return;
    this.incoming.fail(err);
    this.sendGate.fail(err);
    this.sentEnd = true;
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.detach();
    this.session.streamDone();
  }
}

/** A call the peer opened; the server drives it. */
export class RemoteCall {
  dlBucket: Bucket | undefined = undefined;
  dlPrev: Expirable | undefined = undefined;
  dlNext: Expirable | undefined = undefined;
  readonly session: CallHost;
  readonly id: number;
  readonly route: Route;
  readonly flags: number;
  readonly timeoutMs: number;
  readonly metadataBytes: Uint8Array | undefined;
  readonly body: Uint8Array;
  /** Input streams: the caller's messages. */
  readonly input: MessageQueue | undefined;
  /** Streaming calls: credit for our responses. */
  readonly sendGate: CreditGate | undefined;
  private readonly preHello: boolean;
  private controller: AbortController | undefined;
  private abortReason: MeshError | undefined;
  finished = false;

  constructor(session: CallHost, id: number, route: Route, flags: number, timeoutMs: number,
    metadataBytes: Uint8Array | undefined, body: Uint8Array) {
    this.session = session;
    this.id = id;
    this.route = route;
    this.flags = flags;
    this.timeoutMs = timeoutMs;
    this.metadataBytes = metadataBytes;
    this.body = body;
    this.preHello = session.peer === undefined;
    if (flags & Flag.Streaming) this.sendGate = new CreditGate(session.peerWindowBytes);
    if (flags & Flag.InputStream) this.input = new MessageQueue(creditReturner(session, id), () => {});
  }

  get streaming(): boolean {
    return (this.flags & Flag.Streaming) !== 0;
  }

  /** The handler's signal, created on first use (most handlers never look). */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  grantInitial(extra: number): void {
    if (this.preHello && extra > 0) this.sendGate?.grant(extra);
  }

  /** Arms the server-side deadline. */
  armDeadline(at: number): void {
    this.session.wheel.add(this, at);
  }

  onFrame(type: number, flags: number, payload: Uint8Array): void {
    switch (type) {
      case FrameType.Data:
        if (this.input === undefined) return;
        this.session.opts.stats.inc('streamMessagesReceived');
        this.input.push(payload);
        if (this.input.buffered > this.session.opts.config.initialWindowBytes + this.session.opts.config.maxFrameBytes) {
          this.abortWith(new MeshError('PROTOCOL_ERROR', 'caller ignored flow control'));
          return;
        }
        if (flags & Flag.EndStream) this.input.end();
        return;
      case FrameType.End:
        this.input?.end();
        return;
      case FrameType.Credit:
        this.sendGate?.grant(readU32(payload));
        return;
      case FrameType.Cancel:
      case FrameType.Error: {
        let code = 'CANCELLED';
        try {
          const c = (this.session.cbor.decode(payload) as { code?: unknown } | undefined)?.code;
          if (c === 'TIMEOUT' || c === 'FRAME_TOO_LARGE') code = c;
        } catch { /* an empty or odd payload is still a cancel */ }
        this.session.opts.stats.inc('cancellations');
        this.stop(new MeshError(code, code === 'TIMEOUT' ? 'the caller timed out' : 'the caller cancelled', { id: 'micromesh.server' }));
        return;
      }
    }
  }

  /** Unary (or last streamed) response. */
  respond(payload: Uint8Array, end = true): void {
    if (this.finished) return;
    this.session.writer.frame(FrameType.Data, end ? Flag.EndStream : 0, this.id, payload);
    if (end) this.finish();
    else this.session.opts.stats.inc('streamMessagesSent');
  }

  /** Streaming: ends the response stream. */
  end(): void {
    if (this.finished) return;
    this.session.writer.frame(FrameType.End, 0, this.id);
    this.finish();
  }

  /** Sends `err` to the caller and ends the call. */
  reject(err: MeshError): void {
    if (this.finished) return;
    if (!this.session.closed) this.session.writer.frame(FrameType.Error, 0, this.id, this.session.cbor.encode(err.toWire()));
    this.stop(err);
  }

  /** The server-side deadline passed: the handler is aborted and the caller told. */
  expire(): void {
    this.reject(new MeshError('TIMEOUT', `deadline of ${this.timeoutMs} ms exceeded`, { id: 'micromesh.server' }));
  }

  abortWith(err: MeshError): void {
    if (err.code === 'FRAME_TOO_LARGE' || err.code === 'PROTOCOL_ERROR') this.reject(err);
    else this.stop(err);
  }

  /** Aborts the handler and forgets the call, sending nothing. */
  private stop(err: MeshError): void {
    if (this.abortReason === undefined) {
      this.abortReason = err;
      this.controller?.abort(err);
    }
    this.input?.fail(err);
    this.sendGate?.fail(err);
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const s = this.session;
    s.remote.delete(this.id);
    s.wheel.remove(this);
    if (s.draining) s.streamDone();
  }
}
