// The greeter end to end in one command (`npm start`): a server process and
// this client process, calling over TCP on 127.0.0.1.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createService, StaticRegistry } from 'micromesh';

const serverPath = fileURLToPath(new URL('./server.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', 'tsx', serverPath], { stdio: ['ignore', 'pipe', 'inherit'] });
const lines = createInterface({ input: child.stdout! });
const [first] = (await once(lines, 'line')) as [string];
console.log(`[server] ${first}`);
const address = /listening on (\S+)/.exec(first)?.[1];
if (!address) throw new Error(`unexpected server output: ${first}`);

const registry = new StaticRegistry({ services: { greeter: [address] } });
const svc = createService({ name: 'greeter-client', registry });
try {
  const reply = await svc.client.call<{ msg: string }>('greeter', 'Greeter.Hello', { name: 'micromesh' });
  console.log(`[client] Greeter.Hello -> ${JSON.stringify(reply)}`);
  const stream = await svc.client.stream<unknown, { msg: string }>('greeter', 'Greeter.Stream', { name: 'micromesh', count: 3, intervalMs: 100 });
  for await (const m of stream) console.log(`[client] Greeter.Stream -> ${JSON.stringify(m)}`);
  const health = await svc.client.call('greeter', 'Debug.Health', {});
  console.log(`[client] Debug.Health -> ${JSON.stringify(health)}`);
  try {
    await svc.client.call('greeter', 'Greeter.Hello', {});
  } catch (err) {
    console.log(`[client] Greeter.Hello with no name -> error ${JSON.stringify((err as { toWire(): unknown }).toWire())}`);
  }
} finally {
  await svc.stop();
  child.kill('SIGTERM');
  await once(child, 'exit');
}
