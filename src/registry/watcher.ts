import { MeshError } from '../errors/index.ts';

/**
 * A single-consumer async queue: producers `push`, one consumer iterates with
 * `for await` (or calls `next()`). It implements the registry's `Watcher` for
 * `T = RegistryEvent`, and is generic so the mesh registry and brokers can
 * reuse it.
 *
 * Two ways to end it:
 * - `close(error?)` is the producer's end of stream: the consumer still reads
 *   what is buffered, then sees `done` (or the error thrown from `next()`);
 * - `stop()` (also the abort signal, and `break` out of `for await`) is the
 *   consumer's cancel: the buffer is discarded and a pending `next()`
 *   resolves `done` at once.
 */
export interface AsyncQueueOptions {
  /**
   * Most items buffered while the consumer is behind. Default unbounded:
   * registry watchers buffer "bounded by the number of changes not read".
   */
  maxSize?: number;
  /**
   * What a `push` does when `maxSize` items are already buffered:
   * - `fail` (default): the queue closes with a `QUEUE_OVERFLOW` MeshError,
   *   which the consumer gets after the buffered items, so it knows it missed
   *   items (a registry watcher should re-list);
   * - `dropOldest`: the oldest buffered item is discarded and counted in
   *   `dropped` (for streams where only recent items matter).
   */
  overflow?: 'fail' | 'dropOldest';
  /** Aborting stops the queue, as `stop()` does. */
  signal?: AbortSignal;
  /** Called once when the queue ends, whichever way (release upstream resources here). */
  onClose?: () => void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

export class AsyncQueue<T> implements AsyncIterable<T>, AsyncIterator<T> {
  private buffer: T[] = [];
  private head = 0;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private error: unknown;
  private droppedCount = 0;
  private readonly maxSize: number;
  private readonly overflow: 'fail' | 'dropOldest';
  private readonly signal: AbortSignal | undefined;
  private onClose: (() => void) | undefined;
  private readonly onAbort = (): void => this.stop();

  constructor(opts: AsyncQueueOptions = {}) {
    this.maxSize = opts.maxSize ?? Infinity;
    if (!(this.maxSize >= 1)) throw new MeshError('INVALID_ARGUMENT', `AsyncQueue maxSize must be ≥ 1, got ${opts.maxSize}`);
    this.overflow = opts.overflow ?? 'fail';
    this.onClose = opts.onClose;
    this.signal = opts.signal;
    if (this.signal?.aborted) this.stop();
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Items buffered and not yet read. */
  get size(): number {
    return this.buffer.length - this.head;
  }

  /** Items discarded by the `dropOldest` overflow policy. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** True once closed or stopped: further pushes are ignored. */
  get closed(): boolean {
    return this.ended;
  }

  /** Adds an item; returns false when the queue has ended (the item is not kept). */
  push(item: T): boolean {
    if (this.ended) return false;
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w.resolve({ done: false, value: item });
      return true;
    }
    if (this.size >= this.maxSize) {
      if (this.overflow === 'fail') {
        this.close(new MeshError('QUEUE_OVERFLOW', `consumer fell behind by more than ${this.maxSize} items`));
        return false;
      }
      this.head++;
      this.droppedCount++;
    }
    this.buffer.push(item);
    return true;
  }

  /** Producer's end: buffered items are still read, then `done` (or `error` is thrown). */
  close(error?: unknown): void {
    if (this.ended) return;
    this.error = error;
    this.finish();
    const w = this.waiter;
    if (w !== undefined && this.size === 0) {
      this.waiter = undefined;
      this.settleEnd(w);
    }
  }

  /** Consumer's cancel: discards the buffer; a pending `next()` resolves `done` now. */
  stop(): void {
    this.buffer = [];
    this.head = 0;
    this.error = undefined;
    if (!this.ended) this.finish();
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve(DONE);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head]!;
      this.buffer[this.head++] = undefined as T; // let it be collected
      if (this.head === this.buffer.length) {
        this.buffer.length = 0;
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.buffer.length) {
        this.buffer = this.buffer.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.ended) {
      return new Promise((resolve, reject) => this.settleEnd({ resolve, reject }));
    }
    if (this.waiter !== undefined) {
      return Promise.reject(new MeshError('INVALID_ARGUMENT', 'AsyncQueue has a single consumer; next() called while another is pending'));
    }
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** `break` out of `for await` lands here: the consumer is gone, so stop. */
  return(): Promise<IteratorResult<T>> {
    this.stop();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this;
  }

  private settleEnd(w: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }): void {
    const err = this.error;
    if (err === undefined) {
      w.resolve(DONE);
      return;
    }
    this.error = undefined; // thrown once; later reads see done
    w.reject(err);
  }

  private finish(): void {
    this.ended = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    const cb = this.onClose;
    this.onClose = undefined;
    cb?.();
  }
}
