import type { Socket } from '../transport/types.ts';
import { HEADER_BYTES, writeHeader } from './frame.ts';

const CHUNK_BYTES = 64 * 1024;
/** Payloads at least this large are written as their own chunk instead of being copied. */
const COPY_LIMIT = 16 * 1024;

/**
 * Coalesces frames into few socket writes: frames made during one iteration
 * of the event loop (every socket read of its poll phase, and the promise
 * callbacks of handlers that completed in it) go out together, flushed by
 * `setImmediate` or as soon as `flushBytes` are queued. 64 concurrent calls
 * cost a handful of syscalls instead of 128. Flushing per iteration rather
 * than per tick matters where calls come from many sockets, as in the API
 * gateway (64 HTTP connections fanning into one RPC connection): measured
 * there, the gateway's CPU per request fell from 78 to 58 µs and the
 * service's from 22 to 6 µs (it then reads requests in batches too); a lone
 * call pays about 3 µs more (bench:rpc at concurrency 1).
 */
export class FrameWriter {
  private buf: Uint8Array = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;
  private queued: Uint8Array[] = [];
  private scheduled = false;
  private readonly socket: Socket;
  private readonly flushBytes: number;
  private readonly perIteration: boolean;
  /** Bytes handed to the socket, for stats. */
  bytesWritten = 0;

  /**
   * @param flushBytes write as soon as this many bytes of small frames are
   *   queued, without waiting for the end of the turn. Batching everything
   *   makes the two ends of a busy connection work in turns (a convoy); an
   *   early write lets the peer start on the first frames while we build the
   *   rest.
   */
  constructor(socket: Socket, flushBytes: number, flush: 'tick' | 'iteration' = 'tick') {
    this.socket = socket;
    this.flushBytes = flushBytes;
    this.perIteration = flush === 'iteration';
  }

  /** Queues one frame. */
  frame(type: number, flags: number, stream: number, payload?: Uint8Array): void {
    const n = payload === undefined ? 0 : payload.length;
    if (n >= COPY_LIMIT) {
      this.reserve(HEADER_BYTES);
      writeHeader(this.buf, this.pos, n, type, flags, stream);
      this.pos += HEADER_BYTES;
      this.cut();
      this.queued.push(payload!);
    } else {
      this.reserve(HEADER_BYTES + n);
      writeHeader(this.buf, this.pos, n, type, flags, stream);
      if (n > 0) this.buf.set(payload!, this.pos + HEADER_BYTES);
      this.pos += HEADER_BYTES + n;
    }
    this.schedule();
  }

  /**
   * Queues a frame whose payload is `prefix` (small, copied) followed by
   * `body`: the Request frame's fixed fields plus the message, without
   * concatenating them first.
   */
  frame2(type: number, flags: number, stream: number, prefix: Uint8Array, prefixLen: number, body: Uint8Array): void {
    const n = prefixLen + body.length;
    this.reserve(HEADER_BYTES + prefixLen + (body.length >= COPY_LIMIT ? 0 : body.length));
    writeHeader(this.buf, this.pos, n, type, flags, stream);
    this.pos += HEADER_BYTES;
    this.buf.set(prefixLen === prefix.length ? prefix : prefix.subarray(0, prefixLen), this.pos);
    this.pos += prefixLen;
    if (body.length >= COPY_LIMIT) {
      this.cut();
      this.queued.push(body);
    } else {
      this.buf.set(body, this.pos);
      this.pos += body.length;
    }
    this.schedule();
  }

  /** Writes everything queued now. */
  flush(): void {
    this.scheduled = false;
    this.cut();
    const q = this.queued;
    if (q.length === 0) return;
    this.queued = [];
    for (const chunk of q) {
      this.bytesWritten += chunk.length;
      this.socket.write(chunk);
    }
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.cut();
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, n));
  }

  /** Moves the filled part of the current buffer to the queue; the rest stays usable. */
  private cut(): void {
    if (this.pos === 0) return;
    this.queued.push(this.buf.subarray(0, this.pos));
    this.buf = this.buf.subarray(this.pos);
    this.pos = 0;
    if (this.buf.length < 256) this.buf = Buffer.allocUnsafe(CHUNK_BYTES);
  }

  private schedule(): void {
    if (this.pos >= this.flushBytes) {
      this.flush();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    // Not a timer (no time passes, nothing for a Clock to virtualise): the end of this loop iteration.
    // eslint-disable-next-line no-restricted-globals
    if (this.perIteration) setImmediate(flushWriter, this);
    else process.nextTick(flushWriter, this);
  }
}

function flushWriter(w: FrameWriter): void {
  w.flush();
}
