import type { ConnectionEncrypter, MessageStream, StreamMuxerFactory } from '@libp2p/interface';

/**
 * Three adjustments to libp2p's per-message path (Noise 17, yamux 8), made
 * on the instances the gossip node creates, never on shared prototypes. The
 * bytes on the wire keep their meaning: Noise frames go out in one write
 * instead of two, yamux window updates go out as go-yamux sends them, and
 * Noise's frame reader stops throwing (and capturing a stack trace) at the
 * end of every chunk it reads. On loopback a write is the dearest step of
 * the path (the kernel runs the receiver's side inside it and usually wakes
 * the receiver), so with one message in flight each write saved is a large
 * share of the latency. Each checks the internals it relies on and leaves
 * an instance alone when those are missing (another version): slower,
 * never wrong, and reported through `onFallback` (counted and logged by the
 * broker, so an upgrade that disables one does not go unnoticed).
 */

/** Which adjustment could not be applied: the internals it needs were missing. */
export type WireFallback = 'noise-send' | 'noise-reader' | 'yamux-window' | 'gossipsub-outbound';
type OnFallback = (what: WireFallback) => void;

/** The part of uint8arraylist's Uint8ArrayList used here (a dependency of libp2p, not ours). */
interface ChunkList extends Iterable<Uint8Array> {
  readonly byteLength: number;
  subarray(): Uint8Array;
  consume(bytes: number): void;
  append(buf: Uint8Array): void;
}

type SendData = (data: ChunkList) => { sentBytes: number; canSendMore: boolean };

/**
 * Noise with one socket write per send and a frame reader that does not
 * throw (quietReader). Noise hands the TCP connection each encrypted frame
 * as two chunks (its 2-byte length, then the ciphertext) and the TCP
 * connection writes them one by one with Nagle off: two syscalls and two
 * segments per message, and the receiver often woke up twice. The raw
 * connection's `sendData` (protected in AbstractMessageStream) now gets one
 * flattened buffer; the caller keeps its own copy of the list to retry from.
 */
export function lighterNoise<E>(encrypter: ConnectionEncrypter<E>, onFallback: OnFallback): ConnectionEncrypter<E> {
  const inbound = encrypter.secureInbound.bind(encrypter);
  const outbound = encrypter.secureOutbound.bind(encrypter);
  encrypter.secureInbound = async (conn, opts) => quietReader(await inbound(flattenSends(conn, onFallback), opts), onFallback);
  encrypter.secureOutbound = async (conn, opts) => quietReader(await outbound(flattenSends(conn, onFallback), opts), onFallback);
  return encrypter;
}

/**
 * Noise's LengthPrefixedDecoder asks its length reader for the next frame
 * length after every frame; with the buffer empty (the usual case: one read,
 * one frame) the reader throws a RangeError, which the decoder catches to
 * mean "wait for more". Building that error cost more than decrypting the
 * frame. Fewer than 2 bytes now read as length 0, which the decoder treats
 * the same way (a frame of 2 + 0 bytes is longer than what it holds) without
 * an exception. 2 bytes or more are read as before.
 */
function quietReader<T extends { connection: MessageStream }>(secured: T, onFallback: OnFallback): T {
  const decoder = (secured.connection as unknown as { decoder?: { lengthDecoder?: unknown; encodingLength?: unknown } }).decoder;
  const read = decoder?.lengthDecoder;
  if (decoder === undefined || typeof read !== 'function' || typeof decoder.encodingLength !== 'function' || decoder.encodingLength(0) !== 2) {
    onFallback('noise-reader');
    return secured;
  }
  decoder.lengthDecoder = (data: { byteLength: number }) => (data.byteLength < 2 ? 0 : (read as (d: unknown) => number)(data));
  return secured;
}

function flattenSends(conn: MessageStream, onFallback: OnFallback): MessageStream {
  const s = conn as unknown as { sendData?: SendData };
  const send = s.sendData;
  if (typeof send !== 'function') {
    onFallback('noise-send');
    return conn;
  }
  s.sendData = function (this: unknown, data: ChunkList) {
    if (chunks(data) > 1) {
      const flat = data.subarray();
      data.consume(data.byteLength);
      data.append(flat);
    }
    return send.call(this, data);
  };
  return conn;
}

function chunks(list: ChunkList): number {
  let n = 0;
  for (const _ of list) if (++n > 1) break;
  return n;
}

/** yamux 8's StreamState.Established. */
const ESTABLISHED = 3;

interface YamuxStreamInternals {
  state: number;
  recvWindow: number;
  recvWindowCapacity: number;
  sendWindowUpdate(): void;
}

/**
 * Window updates once half the receive window is used. yamux 8 sends a
 * window update after every data frame it receives (its "is an update
 * needed" test is true as soon as one byte was consumed), so every gossip
 * message cost the receiver a write and the sender a read, a decryption and
 * a wakeup. go-yamux and rust-yamux wait until half the window is consumed;
 * so does this. Flow control is unchanged: the sender still stops at the
 * window (256 KiB at first), and frames with flags (SYN, ACK) and paused
 * streams go through yamux's own logic as before.
 */
export function halfWindowUpdates<F extends StreamMuxerFactory>(factory: F, onFallback: OnFallback): F {
  const create = factory.createStreamMuxer.bind(factory);
  factory.createStreamMuxer = (maConn) => {
    const muxer = create(maConn);
    const m = muxer as unknown as { _newStream?: (...args: unknown[]) => unknown };
    const newStream = m._newStream;
    if (typeof newStream !== 'function') {
      onFallback('yamux-window');
      return muxer;
    }
    m._newStream = function (this: unknown, ...args: unknown[]) {
      const stream = newStream.apply(this, args);
      if (!patchStream(stream)) onFallback('yamux-window');
      return stream;
    };
    return muxer;
  };
  return factory;
}

/** Returns whether the stream has the internals the adjustment needs (and now has it). */
function patchStream(stream: unknown): boolean {
  const s = stream as Partial<YamuxStreamInternals>;
  const update = s.sendWindowUpdate;
  if (typeof update !== 'function' || typeof s.recvWindow !== 'number' || typeof s.recvWindowCapacity !== 'number' || typeof s.state !== 'number') return false;
  s.sendWindowUpdate = function (this: YamuxStreamInternals) {
    if (this.state === ESTABLISHED && this.recvWindowCapacity * 2 > this.recvWindow) return;
    update.call(this);
  };
  return true;
}
