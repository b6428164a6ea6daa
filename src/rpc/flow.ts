/**
 * Flow-control primitives for streams. Credit is counted in payload bytes of
 * DATA frames: a sender may send while its credit is positive (so one message
 * may overshoot by at most one frame), and the receiver returns credit as its
 * consumer reads. A slow consumer therefore stalls the sender instead of
 * growing a buffer: the receiver holds at most window + one frame per stream.
 */

/** Incoming messages of one stream, consumed with `for await` or `next()`. */
export class MessageQueue implements AsyncIterableIterator<Uint8Array> {
  private items: Uint8Array[] = [];
  private head = 0;
  private ended = false;
  private error: Error | undefined;
  private waiter: { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: Error) => void } | undefined;
  /** Bytes received and not yet read by the consumer. */
  buffered = 0;
  private readonly onConsumed: (bytes: number) => void;
  private readonly onReturn: () => void;

  /**
   * @param onConsumed called with the size of each message the consumer takes (returns credit)
   * @param onReturn called when the consumer stops early (break / return()): the stream is abandoned
   */
  constructor(onConsumed: (bytes: number) => void, onReturn: () => void) {
    this.onConsumed = onConsumed;
    this.onReturn = onReturn;
  }

  push(msg: Uint8Array): void {
    if (this.ended) return;
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      this.onConsumed(msg.length);
      w.resolve({ value: msg, done: false });
      return;
    }
    this.items.push(msg);
    this.buffered += msg.length;
  }

  /** No more messages; queued ones are still delivered. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.wake();
  }

  /** Fails the stream: queued messages are dropped, the consumer sees `err`. */
  fail(err: Error): void {
    if (this.ended && this.error === undefined && this.head >= this.items.length) return;
    this.ended = true;
    this.error = err;
    this.items = [];
    this.head = 0;
    this.buffered = 0;
    this.wake();
  }

  get done(): boolean {
    return this.ended && this.head >= this.items.length;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.head < this.items.length) {
      const msg = this.items[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      this.buffered -= msg.length;
      this.onConsumed(msg.length);
      return Promise.resolve({ value: msg, done: false });
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter !== undefined) return Promise.reject(new Error('MessageQueue: concurrent next() calls'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.ended) {
      this.ended = true;
      this.items = [];
      this.onReturn();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }

  private wake(): void {
    const w = this.waiter;
    if (w === undefined) return;
    this.waiter = undefined;
    if (this.error !== undefined) w.reject(this.error);
    else w.resolve({ value: undefined, done: true });
  }
}

/** A sender's credit: `acquire` waits while it is exhausted. */
export class CreditGate {
  private credit: number;
  private waiters: { resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal; onAbort?: () => void }[] = [];
  private failure: unknown;

  constructor(initial: number) {
    this.credit = initial;
  }

  get available(): number {
    return this.credit;
  }

  /** Resolves when sending is allowed; the caller then calls `consume`. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.credit > 0 && this.waiters.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w: (typeof this.waiters)[number] = { resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(signal.reason);
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
    });
  }

  consume(bytes: number): void {
    this.credit -= bytes;
  }

  grant(bytes: number): void {
    this.credit += bytes;
    while (this.credit > 0 && this.waiters.length > 0) {
      const w = this.waiters.shift()!;
      if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
      w.resolve();
      // One waiter at a time: it consumes before the next is let through.
      break;
    }
  }

  /** Wakes the next waiter after a consume, if credit remains. */
  pump(): void {
    if (this.credit > 0 && this.waiters.length > 0) this.grant(0);
  }

  fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) {
      if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
      w.reject(err);
    }
  }
}
