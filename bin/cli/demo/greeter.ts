// The demo service of `micromesh run --demo`: what the README's quick start
// calls. Its schemas (valibot, described as JSON Schema by
// @valibot/to-json-schema) are checked by the server before the handlers run
// and published with the endpoints, so `micromesh service greeter` and the
// dashboard's call form show the fields.
import { toStandardJsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import type { EndpointSchemas, HandlerContext } from '../../../src/rpc/types.ts';
import type { KeyValueStore } from '../../../src/kv/types.ts';

const HelloRequest = v.object({ name: v.pipe(v.string(), v.minLength(1), v.description('who to greet')) });
const HelloResponse = v.object({ msg: v.string() });
const StreamRequest = v.object({
  name: v.pipe(v.string(), v.minLength(1)),
  count: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000), v.description('greetings to send (default 3)'))),
  intervalMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(60_000), v.description('pause between greetings'))),
});

export type HelloRequest = v.InferOutput<typeof HelloRequest>;
export type HelloResponse = v.InferOutput<typeof HelloResponse>;

/** The greeter: a unary endpoint and a server-streaming one. */
export class Greeter {
  /** The greeting word: mesh config `greeter/greeting` when set (see watchGreeting). */
  greeting = 'Hello';

  Hello(req: HelloRequest): HelloResponse {
    return { msg: `${this.greeting} ${req.name}` };
  }

  /** Streams `count` greetings, one every `intervalMs`, stopping early if the caller cancels. */
  async *Stream(req: v.InferOutput<typeof StreamRequest>, ctx: HandlerContext): AsyncGenerator<HelloResponse> {
    const count = req.count ?? 3;
    for (let i = 1; i <= count && !ctx.signal.aborted; i++) {
      yield { msg: `${this.greeting} ${req.name} #${i}` };
      if (req.intervalMs) await new Promise((r) => setTimeout(r, req.intervalMs));
    }
  }
}

/** `handle('Greeter', new Greeter(), { schemas: GREETER_SCHEMAS })`. */
export const GREETER_SCHEMAS: Record<string, EndpointSchemas> = {
  Hello: { request: toStandardJsonSchema(HelloRequest), response: toStandardJsonSchema(HelloResponse) },
  Stream: { request: toStandardJsonSchema(StreamRequest), response: toStandardJsonSchema(HelloResponse) },
};

/** The demo's config: the greeting word, `Hello` until the mesh's key/value store says otherwise. */
const DemoConfig = v.object({ greeting: v.pipe(v.string(), v.minLength(1), v.maxLength(100)) });

/**
 * Keeps `greeter.greeting` on the mesh config under `greeter/` (key
 * `greeter/greeting`), live: `micromesh kv put greeter/greeting Hola` changes
 * what every demo node answers, within the store's spread time.
 */
export async function watchGreeting(greeter: Greeter, kv: KeyValueStore, onError: (err: unknown) => void): Promise<() => Promise<void>> {
  const { loadConfig, mesh } = await import('../../../src/appconfig/index.ts');
  const config = await loadConfig({ sources: [mesh(kv, 'greeter', { default: { greeting: 'Hello' } })], schema: DemoConfig });
  greeter.greeting = config.value.greeting;
  config.watch('greeting', (now) => {
    greeter.greeting = now as string;
  });
  config.onError(onError);
  return () => config.close();
}
