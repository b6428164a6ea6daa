// Runs the greeter service on the mesh until Ctrl-C:
//   npx tsx examples/greeter/server.ts [--address 127.0.0.1:5050] [--mdns]
// Prints its RPC and gossip addresses; a client joins through the gossip one.
import { parseArgs } from 'node:util';
import { badRequest, createService, type HandlerContext } from 'micromesh';

/** The greeter: a unary endpoint and a server-streaming one (every method becomes `Greeter.<Method>`). */
const Greeter = {
  Hello(req: { name?: string }) {
    if (!req?.name) throw badRequest('name is required', 'greeter');
    return { msg: `Hello ${req.name}` };
  },
  /** Streams `count` greetings, one every `intervalMs`, stopping early if the caller cancels. */
  async *Stream(req: { name: string; count?: number; intervalMs?: number }, ctx: HandlerContext) {
    for (let i = 1; i <= Math.min(req.count ?? 3, 1000) && !ctx.signal.aborted; i++) {
      yield { msg: `Hello ${req.name} #${i}` };
      if (req.intervalMs) await new Promise((r) => setTimeout(r, req.intervalMs));
    }
  },
};

const { values } = parseArgs({ options: { address: { type: 'string', default: '127.0.0.1:0' }, mdns: { type: 'boolean', default: false } } });
const service = createService({ name: 'greeter', version: '1.0.0', address: values.address, mesh: { mdns: values.mdns } })
  .handle('Greeter', Greeter);
await service.start();
console.log(`greeter listening on ${service.address}, gossip on ${service.mesh!.swim.address} (Ctrl-C to stop)`);
await service.run();
