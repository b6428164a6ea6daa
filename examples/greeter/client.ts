// Calls a greeter started with server.ts:
//   npx tsx examples/greeter/client.ts --address 127.0.0.1:5050 --name Ada
import { parseArgs } from 'node:util';
import { createService, StaticRegistry } from 'micromesh';

const { values } = parseArgs({ options: { address: { type: 'string' }, name: { type: 'string', default: 'World' } } });
if (!values.address) {
  console.error('usage: client.ts --address host:port [--name NAME]');
  process.exit(2);
}
// Before the mesh exists, a static registry maps the service name to the address.
const registry = new StaticRegistry({ services: { greeter: [values.address] } });
const client = createService({ name: 'greeter-client', registry });
console.log(await client.client.call('greeter', 'Greeter.Hello', { name: values.name }));
for await (const m of await client.client.stream('greeter', 'Greeter.Stream', { name: values.name, count: 3 })) console.log(m);
await client.stop();
