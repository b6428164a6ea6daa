// A mesh member for the dashboard's browser tests, run as its own process:
// `tsx test/support/web_node.ts NAME [SEED]`. It serves Greeter.Hello (a
// request schema: name, a string of 1+ chars; times, an integer 1..5) and
// Greeter.Ticks (a server stream, one message every 100 ms until stopped),
// subscribes to `orders.*` in queue group `billing`, and prints
// {"id","gossip","rpc"} once it runs.
import { createService } from 'micromesh';
import { z } from 'zod';

const [name = 'greeter', seed] = process.argv.slice(2);
const hello = z.object({ name: z.string().min(1), times: z.number().int().min(1).max(5).optional() });
const reply = z.object({ msg: z.string() });

const svc = createService({
  name,
  address: '127.0.0.1:0',
  mesh: { mdns: false, gossipAddress: '127.0.0.1:0', join: seed === undefined ? [] : [seed], profile: 'local' },
})
  .handle('Greeter', {
    Hello: ({ name: who, times = 1 }: z.infer<typeof hello>) => ({ msg: Array.from({ length: times }, () => `Hello ${who}`).join(' ') }),
    async *Ticks({ every = 100 }: { every?: number }, ctx: { signal: AbortSignal }) {
      for (let i = 1; !ctx.signal.aborted; i++) {
        yield { tick: i };
        await new Promise((r) => setTimeout(r, every));
      }
    },
  }, { schemas: { Hello: { request: hello, response: reply }, Ticks: { request: z.object({ every: z.number().int().min(10).optional() }) } } })
  .subscribe('orders.*', () => {}, { queue: 'billing' });

await svc.start();
console.log(JSON.stringify({ id: svc.mesh!.swim.id, gossip: svc.mesh!.swim.address, rpc: svc.address }));
const stop = (): void => void svc.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
