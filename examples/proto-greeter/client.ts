// Calls the greeter with the generated client, in protobuf:
//   npx tsx examples/proto-greeter/client.ts --join 127.0.0.1:7946 --name Ada
import { parseArgs } from 'node:util';
import { createService } from 'micromesh';
import { GreeterClient } from './gen/greeter/v1/greeter_micromesh.ts';

const { values } = parseArgs({ options: { join: { type: 'string' }, name: { type: 'string', default: 'World' } } });
if (!values.join) {
  console.error('usage: client.ts --join host:port [--name NAME]');
  process.exit(2);
}
const svc = createService({ name: 'greeter-client', address: '127.0.0.1:0', mesh: { mdns: false, join: [values.join] } });
await svc.start();
for (let i = 0; i < 100 && (await svc.registry.getService('greeter')).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
const greeter = new GreeterClient(svc.client);
const reply = await greeter.hello({ name: values.name });
console.log(reply.msg);
for await (const m of greeter.stream({ name: values.name, count: 3 })) console.log(m.msg);
await svc.stop();
