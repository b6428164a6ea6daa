// Runs the greeter service on the mesh until Ctrl-C:
//   npx tsx examples/greeter/server.ts [--address 127.0.0.1:5050] [--mdns]
// Prints its RPC and gossip addresses; a client joins through the gossip one.
import { parseArgs } from 'node:util';
import { createService } from 'micromesh';
import { Greeter } from './handler.ts';

const { values } = parseArgs({ options: { address: { type: 'string', default: '127.0.0.1:0' }, mdns: { type: 'boolean', default: false } } });
const service = createService({ name: 'greeter', version: '1.0.0', address: values.address, mesh: { mdns: values.mdns } })
  .handle('Greeter', new Greeter());
await service.start();
console.log(`greeter listening on ${service.address}, gossip on ${service.mesh!.swim.address} (Ctrl-C to stop)`);
await service.run();
