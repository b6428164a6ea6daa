// Runs the greeter service until Ctrl-C. Prints its address for clients:
//   npx tsx examples/greeter/server.ts [--address 127.0.0.1:5050]
import { parseArgs } from 'node:util';
import { createService } from 'micromesh';
import { Greeter } from './handler.ts';

const { values } = parseArgs({ options: { address: { type: 'string', default: '127.0.0.1:0' } } });
const service = createService({ name: 'greeter', version: '1.0.0', address: values.address }).handle('Greeter', new Greeter());
await service.start();
console.log(`greeter listening on ${service.address} (Ctrl-C to stop)`);
await service.run();
