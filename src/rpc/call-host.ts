import type { Encoder } from 'cbor-x';
import type { MeshError } from '../errors/index.ts';
import type { RpcConfig } from './config.ts';
import type { DeadlineWheel, Expirable } from './deadlines.ts';
import type { RpcStats } from './stats.ts';
import type { FrameWriter } from './writer.ts';

/** What the peer said in its Hello (docs/PROTOCOL.md "Hello"). */
export interface PeerHello {
  address?: string;
  maxFrameBytes: number;
  windowBytes: number;
}

/** Timers and deadlines of a connection share one wheel; each item knows how to expire. */
export interface Expiring extends Expirable {
  expire(): void;
}

/**
 * What a call needs from the connection it runs on. The Session implements
 * it; calls, contexts and streams see only this, so they don't depend on the
 * session that creates them.
 */
export interface CallHost {
  readonly opts: { readonly config: RpcConfig; readonly stats: RpcStats };
  readonly writer: FrameWriter;
  readonly cbor: Encoder;
  readonly wheel: DeadlineWheel<Expiring>;
  readonly socket: { readonly remoteAddress: string };
  /** Calls this side opened, and calls the peer opened, by stream id: a call leaves its table when it ends. */
  readonly local: { delete(id: number): unknown };
  readonly remote: { delete(id: number): unknown };
  /** The peer's Hello, once it arrived. */
  readonly peer: PeerHello | undefined;
  readonly closed: boolean;
  readonly goingAway: boolean;
  readonly peerGoingAway: boolean;
  /** A GoAway went either way: tell the session when a stream ends (streamDone). */
  readonly draining: boolean;
  readonly peerWindowBytes: number;
  readonly peerMaxFrameBytes: number;
  /** Clock reading taken when the chunk being parsed was read. */
  readonly readAt: number;
  /** Decodes a wire error payload. */
  decodeError(payload: Uint8Array): MeshError;
  /** A stream finished: a draining connection may close. */
  streamDone(): void;
  /** A stream's reader caught up: it waits on the peer again, so the silence watch looks at the peer again. */
  awaitingPeer(): void;
}
