// Calls a greeter started with server.ts, joining the mesh through its gossip address:
//   npx tsx examples/greeter/client.ts --join 127.0.0.1:7946 --name Ada
import { parseArgs } from 'node:util';
import { createService } from 'micromesh';

const { values } = parseArgs({ options: { join: { type: 'string' }, name: { type: 'string', default: 'World' } } });
if (!values.join) {
  console.error('usage: client.ts --join host:port [--name NAME]');
  process.exit(2);
}
const client = createService({ name: 'greeter-client', address: '127.0.0.1:0', mesh: { mdns: false, join: [values.join] } });
await client.start();
// Joining is quick but not instant: wait until the greeter shows up in the registry.
for (let i = 0; i < 100 && (await client.registry.getService('greeter')).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
console.log(await client.client.call('greeter', 'Greeter.Hello', { name: values.name }));
for await (const m of await client.client.stream('greeter', 'Greeter.Stream', { name: values.name, count: 3 })) console.log(m);
await client.stop();
