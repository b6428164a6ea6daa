// An API gateway in front of real services for the HTTP tests: services and
// gateway share an in-process MemoryRegistry; calls cross real TCP, requests
// real HTTP. `state` lets tests see what handlers saw (cancellations, how
// far a stream got).
import { setTimeout as sleep } from 'node:timers/promises';
import { MeshError, MemoryRegistry, createService, silentLogger, type HandlerContext, type Service } from 'micromesh';
import { createApiGateway, routes, type ApiGateway, type ApiGatewayOptions } from 'micromesh/api';

export interface EchoState {
  produced: number;
  cancelled: number;
  lastMetadata: Record<string, string> | undefined;
}

/** Endpoints that show what the gateway sends: metadata, deadlines, errors, every stream kind. */
export class Echo {
  readonly state: EchoState = { produced: 0, cancelled: 0, lastMetadata: undefined };

  Echo(req: unknown): unknown {
    return req;
  }

  Meta(_req: unknown, ctx: HandlerContext): { metadata: Record<string, string>; hasDeadline: boolean } {
    this.state.lastMetadata = { ...ctx.metadata };
    return { metadata: { ...ctx.metadata }, hasDeadline: ctx.deadline !== undefined };
  }

  async Slow(req: { ms: number | string }, ctx: HandlerContext): Promise<{ done: true }> {
    try {
      await sleep(Number(req.ms), undefined, { signal: ctx.signal });
    } catch (err) {
      this.state.cancelled++;
      throw err;
    }
    return { done: true };
  }

  Fail(req: { code: string }): never {
    throw new MeshError(req.code, `failed with ${req.code} on purpose`, { id: 'echo' });
  }

  Crash(): never {
    throw new TypeError('a bug in the handler');
  }

  async *Count(req: { n: number | string }): AsyncGenerator<{ i: number }> {
    for (let i = 1; i <= Number(req.n); i++) yield { i };
  }

  /** Streams 1 KiB messages until cancelled; `produced` counts them. */
  async *Forever(_req: unknown, ctx: HandlerContext): AsyncGenerator<{ i: number; pad: string }> {
    try {
      for (let i = 0; !ctx.signal.aborted; i++) {
        this.state.produced++;
        yield { i, pad: 'x'.repeat(1000) };
      }
    } finally {
      if (ctx.signal.aborted) this.state.cancelled++;
    }
  }

  async Sum(input: AsyncIterable<{ n: number }>): Promise<{ sum: number; count: number }> {
    let sum = 0;
    let count = 0;
    for await (const m of input) {
      sum += m.n;
      count++;
    }
    return { sum, count };
  }

  async *Chat(input: AsyncIterable<{ text: string }>): AsyncGenerator<{ echo: string }> {
    for await (const m of input) yield { echo: m.text.toUpperCase() };
  }
}

export interface Fixture {
  registry: MemoryRegistry;
  echo: Echo;
  services: Service[];
  gateway: ApiGateway;
  gatewayService: Service;
  base: string;
  stop(): Promise<void>;
}

/** Starts `echo` (Echo handler, Users routes) and a gateway on 127.0.0.1. */
export async function startFixture(opts: Partial<ApiGatewayOptions> = {}): Promise<Fixture> {
  const registry = new MemoryRegistry();
  const echo = new Echo();
  const logger = silentLogger;
  const svc = createService({ name: 'echo', mesh: false, registry, broker: 'memory', logger });
  svc.handle('Echo', echo, { metadata: { Sum: { stream: 'client' }, Chat: { stream: 'bidi' } } });
  svc.handle('Users', {
    Get: (r: { id: string; q?: string }) => ({ id: r.id, q: r.q }),
    List: () => [{ id: '1' }],
  }, { metadata: routes({ Get: 'GET /users/:id', List: ['GET /users', 'HEAD /users'] }) });
  await svc.start();
  const gatewayService = createService({ name: 'micromesh-api', mesh: false, registry, broker: svc.broker, logger });
  const gateway = createApiGateway({ service: gatewayService, address: '127.0.0.1:0', logger, ...opts });
  await gateway.start();
  const services = [svc];
  return {
    registry, echo, services, gateway, gatewayService, base: `http://${gateway.address}`,
    async stop() {
      await gateway.stop();
      await gatewayService.stop();
      for (const s of services) await s.stop();
    },
  };
}

/** POSTs JSON and returns status, headers and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const r = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text === '' ? undefined : JSON.parse(text) };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const r = await fetch(url, { headers });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** Polls `fn` until `ok`, failing after `ms` with the last value. */
export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch((e: unknown) => e as T);
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v instanceof Error ? v.message : v)}`);
    await sleep(50);
  }
}
