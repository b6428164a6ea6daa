// The demo service of `micromesh run --demo`: what the README's quick start calls.
import { badRequest } from '../../../src/errors/index.ts';
import type { HandlerContext } from '../../../src/rpc/types.ts';

export interface HelloRequest {
  name: string;
}

export interface HelloResponse {
  msg: string;
}

/** The greeter: a unary endpoint and a server-streaming one. */
export class Greeter {
  Hello(req: HelloRequest): HelloResponse {
    if (typeof req?.name !== 'string' || req.name.length === 0) throw badRequest('name is required', 'greeter');
    return { msg: `Hello ${req.name}` };
  }

  /** Streams `count` greetings, one every `intervalMs`, stopping early if the caller cancels. */
  async *Stream(req: { name: string; count?: number; intervalMs?: number }, ctx: HandlerContext): AsyncGenerator<HelloResponse> {
    const count = Math.min(req.count ?? 3, 1000);
    for (let i = 1; i <= count && !ctx.signal.aborted; i++) {
      yield { msg: `Hello ${req.name} #${i}` };
      if (req.intervalMs) await new Promise((r) => setTimeout(r, req.intervalMs));
    }
  }
}
