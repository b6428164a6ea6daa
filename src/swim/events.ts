import type { SwimEvent, SwimEventType, SwimListener } from './types.ts';

/**
 * Queues membership events and delivers them after the state change that
 * produced them, in order and never re-entrantly: a listener that calls back
 * into the node only appends to the queue, and the outer `flush` delivers
 * those events once the listener returns.
 */
export class EventQueue {
  private queue: SwimEvent[] = [];
  private head = 0;
  private delivering = false;
  private readonly byType = new Map<SwimEventType | '*', Set<SwimListener>>();
  private readonly onListenerError: (err: unknown, event: SwimEvent) => void;

  constructor(onListenerError: (err: unknown, event: SwimEvent) => void) {
    this.onListenerError = onListenerError;
  }

  on(type: SwimEventType | '*', listener: SwimListener): () => void {
    let set = this.byType.get(type);
    if (set === undefined) {
      set = new Set();
      this.byType.set(type, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Whether anyone listens to `type`; lets the node skip building events nobody reads (the simulator's hot path). */
  wants(type: SwimEventType): boolean {
    return (this.byType.get(type)?.size ?? 0) > 0 || (this.byType.get('*')?.size ?? 0) > 0;
  }

  push(event: SwimEvent): void {
    this.queue.push(event);
  }

  /** Delivers queued events; a no-op when called from inside a listener. */
  flush(): void {
    if (this.delivering || this.queue.length === 0) return;
    this.delivering = true;
    try {
      while (this.head < this.queue.length) {
        const ev = this.queue[this.head++]!;
        this.deliver(this.byType.get(ev.type), ev);
        this.deliver(this.byType.get('*'), ev);
      }
    } finally {
      this.queue.length = 0;
      this.head = 0;
      this.delivering = false;
    }
  }

  /** Drops undelivered events (the node stopped). */
  clear(): void {
    if (!this.delivering) this.queue.length = 0;
  }

  private deliver(listeners: Set<SwimListener> | undefined, ev: SwimEvent): void {
    if (listeners === undefined) return;
    for (const fn of listeners) {
      try {
        fn(ev);
      } catch (err) {
        this.onListenerError(err, ev);
      }
    }
  }
}
