import { AsyncLocalStorage } from 'node:async_hooks';
import type { HandlerContext } from './types.ts';

/**
 * The call a handler is serving, visible to code it runs. A client sharing
 * the scope forwards the caller's metadata and remaining deadline on every
 * call made inside a handler, with no extra code in the handler (Go Micro
 * makes handlers pass ctx along by hand). One scope per service, created by
 * the composition root: no module-level state.
 */
export class CallScope {
  private readonly als = new AsyncLocalStorage<HandlerContext>();

  run<A, B, R>(ctx: HandlerContext, fn: (a: A, b: B) => R, a: A, b: B): R {
    return this.als.run(ctx, fn, a, b);
  }

  current(): HandlerContext | undefined {
    return this.als.getStore();
  }
}
