// One node of `npm run bench:kv`: a mesh member on loopback (LAN profile, default kv settings) that
// reports, for every key/value change it sees, the wall time it saw it; and takes commands on stdin:
// {"put": key} (reports the put's latency), {"ping": address} (an RPC round trip, the baseline).
import { createInterface } from 'node:readline';
import { createService, silentLogger } from '../src/index.ts';

const seed = process.argv[2];
const now = (): number => performance.timeOrigin + performance.now();
const svc = createService({
  name: 'kvbench', address: '127.0.0.1:0', logger: silentLogger,
  mesh: { mdns: false, gossipAddress: '127.0.0.1:0', join: seed ? [seed] : [] },
});
svc.handle('Bench', { ping: () => ({}) });
await svc.start();
const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
out({ ready: true, gossip: svc.mesh!.swim.address, address: svc.address });
void (async () => {
  for await (const ev of svc.kv.watch('bench/')) if (ev.type === 'put') out({ seen: ev.entry.key, at: now() });
})();
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { put?: string; ping?: string; peers?: boolean };
  if (cmd.put !== undefined) {
    const t0 = now();
    await svc.kv.put(cmd.put, 'x'.repeat(64));
    out({ put: cmd.put, started: t0, ms: now() - t0 });
  } else if (cmd.ping !== undefined) {
    const t0 = now();
    await svc.client.call('kvbench', 'Bench.ping', {}, { address: cmd.ping });
    out({ ping: now() - t0 });
  } else if (cmd.peers) {
    out({ peers: svc.mesh!.peerCount() });
  }
}
await svc.stop();
