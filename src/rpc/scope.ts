import { AsyncLocalStorage } from 'node:async_hooks';
import type { HandlerContext } from './types.ts';

/**
 * The call a handler is serving, visible to code it runs. A client sharing
 * the scope forwards the caller's metadata and remaining deadline on every
 * call made inside a handler, with no extra code in the handler (Go Micro
 * makes handlers pass ctx along by hand). One scope per service, created by
 * the composition root: no module-level state.
 *
 * Entering costs one async-context frame (~90 ns); `AsyncLocalStorage.run`
 * costs two, because it also builds a frame to restore the previous store.
 * So the server enters the scope for each request it dispatches and leaves
 * it once, after the requests of a read (`leave`), before anything else that
 * could run user code on that turn.
 */
export class CallScope {
  private readonly als = new AsyncLocalStorage<HandlerContext>();
  private entered = false;
  private prior: HandlerContext | undefined;

  /** Makes `ctx` current for the rest of this synchronous run and everything it schedules. */
  enter(ctx: HandlerContext): void {
    if (!this.entered) {
      this.prior = this.als.getStore();
      this.entered = true;
    }
    this.als.enterWith(ctx);
  }

  /** Restores what was current before the first `enter` since the last `leave`. */
  leave(): void {
    if (!this.entered) return;
    this.entered = false;
    const prior = this.prior;
    this.prior = undefined;
    this.als.enterWith(prior as HandlerContext);
  }

  /**
   * Runs `fn(arg)` with `ctx` current and restores the previous context
   * after, whatever `enter` did around it: for work that is not a dispatched
   * request (a pubsub delivery), where two frames per run are fine.
   */
  run<A, R>(ctx: HandlerContext, fn: (arg: A) => R, arg: A): R {
    return this.als.run(ctx, fn, arg);
  }

  current(): HandlerContext | undefined {
    return this.als.getStore();
  }
}
