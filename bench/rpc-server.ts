// Benchmark server process. `raw`: a length-prefixed echo over node:net, the
// baseline. `micromesh`: a service whose Bench.Echo returns its request.
// `minimal`: the reference RPC of bench/minimal-rpc.ts, echoing too.
// Prints "READY <address>"; answers "cpu" on stdin with "CPU <µs used> <µs of it in the kernel>" and
// "rss" with "RSS <bytes> <µs used>".
import net from 'node:net';
import { createInterface } from 'node:readline';
import { createService, silentLogger } from 'micromesh';
import { serveMinimal } from './minimal-rpc.ts';
import { observability } from './observed.ts';
import { tlsFor } from './tls.ts';
import { codecRow } from './codecs.ts';

const mode = process.argv[2]!;
let address: string;

if (mode === 'raw') {
  const server = net.createServer({ noDelay: true }, (sock) => {
    let pending: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      const buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      // Echo every complete frame of this chunk in one write, keep the rest.
      let off = 0;
      while (buf.length - off >= 4) {
        const len = buf.readUInt32BE(off);
        if (buf.length - off < 4 + len) break;
        off += 4 + len;
      }
      if (off > 0) sock.write(buf.subarray(0, off));
      pending = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
} else if (mode.startsWith('micromesh')) {
  const svc = createService({ name: 'bench', logger: silentLogger, mesh: false, ...(await observability(mode)), ...(await tlsFor(mode)) })
    .handle('Bench', { Echo: (req: unknown) => req }, codecRow(mode)?.handle);
  await svc.start();
  address = svc.address!;
} else if (mode === 'minimal') {
  address = await serveMinimal((req) => req);
} else {
  throw new Error(`unknown mode ${mode}`);
}

console.log(`READY ${address}`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'rss') {
    const cpu = process.cpuUsage();
    console.log(`RSS ${process.memoryUsage().rss} ${cpu.user + cpu.system}`);
  }
  if (line === 'cpu') {
    const cpu = process.cpuUsage();
    console.log(`CPU ${cpu.user + cpu.system} ${cpu.system}`);
  }
}).on('close', () => process.exit(0));
