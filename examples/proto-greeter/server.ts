// The greeter defined in proto/greeter/v1/greeter.proto, served with the
// generated handler interface; prints its addresses and runs until Ctrl-C:
//   npx tsx examples/proto-greeter/server.ts [--address 127.0.0.1:5050]
// Call it with JSON from the CLI:
//   micromesh call greeter Greeter.Hello '{"name":"Ada"}' --join <gossip>
import { parseArgs } from 'node:util';
import { badRequest, createService, type HandlerContext } from 'micromesh';
import { GreeterDefinition, type GreeterHandler } from './gen/greeter/v1/greeter_micromesh.ts';
import type { HelloRequest, StreamRequest } from './gen/greeter/v1/greeter_pb.ts';

export const greeter: GreeterHandler = {
  hello(req: HelloRequest) {
    if (req.name === '') throw badRequest('name is required', 'greeter');
    return { msg: `Hello ${req.name}` };
  },
  async *stream(req: StreamRequest, ctx: HandlerContext) {
    for (let i = 1; i <= Math.min(req.count || 3, 1000) && !ctx.signal.aborted; i++) {
      yield { msg: `Hello ${req.name} #${i}` };
      if (req.intervalMs > 0) await new Promise((r) => setTimeout(r, req.intervalMs));
    }
  },
};

if (import.meta.main ?? process.argv[1]?.endsWith('server.ts')) {
  const { values } = parseArgs({ options: { address: { type: 'string', default: '127.0.0.1:0' }, join: { type: 'string', multiple: true } } });
  const service = createService({ name: 'greeter', version: '1.0.0', address: values.address, mesh: { mdns: false, join: values.join ?? [] } })
    .handle(GreeterDefinition, greeter);
  await service.start();
  console.log(`greeter listening on ${service.address}, gossip on ${service.mesh!.swim.address} (Ctrl-C to stop)`);
  await service.run();
}
