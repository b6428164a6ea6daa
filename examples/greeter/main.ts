// The greeter end to end in one command: a server process and this client
// process, meeting on the mesh (SWIM, joined by seed; mDNS off so nothing
// leaves the machine) and calling over TCP on 127.0.0.1.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createService } from 'micromesh';

const serverPath = fileURLToPath(new URL('./server.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', 'tsx', serverPath], { stdio: ['ignore', 'pipe', 'inherit'] });
const lines = createInterface({ input: child.stdout! });
const [first] = (await once(lines, 'line')) as [string];
console.log(`[server] ${first}`);
const gossip = /gossip on (\S+)/.exec(first)?.[1];
if (!gossip) throw new Error(`unexpected server output: ${first}`);

const svc = createService({ name: 'greeter-client', address: '127.0.0.1:0', mesh: { mdns: false, join: [gossip] } });
await svc.start();
for (let i = 0; i < 100 && (await svc.registry.getService('greeter')).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
console.log(`[client] joined the mesh; greeter nodes: ${(await svc.registry.getService('greeter')).flatMap((s) => s.nodes.map((n) => n.address)).join(', ')}`);
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
