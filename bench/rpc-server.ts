// Benchmark server process. `raw`: a length-prefixed echo over node:net, the
// baseline. `micromesh`: a service whose Bench.Echo returns its request.
// `minimal`: the least an RPC server with CBOR bodies does (frames of
// [length, id, body]; decode, call the handler, encode, write; no routing,
// deadlines, cancellation, metadata or flow control): a reference for what
// those features cost.
// Prints "READY <address>"; answers "cpu" on stdin with "CPU <µs used> <µs of it in the kernel>" and
// "rss" with "RSS <bytes> <µs used>".
import net from 'node:net';
import { createInterface } from 'node:readline';
import { Encoder } from 'cbor-x';
import { createService, silentLogger } from 'micromesh';

const mode = process.argv[2];
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
} else if (mode === 'micromesh') {
  const svc = createService({ name: 'bench', logger: silentLogger, mesh: false }).handle('Bench', { Echo: (req: unknown) => req });
  await svc.start();
  address = svc.address!;
} else if (mode === 'minimal') {
  const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
  const handler = (req: unknown): unknown => req;
  const server = net.createServer({ noDelay: true }, (sock) => {
    let pending: Buffer | undefined;
    let out = Buffer.allocUnsafe(65_536);
    let pos = 0;
    const flush = (): void => {
      sock.write(out.subarray(0, pos));
      out = out.length - pos >= 4096 ? out.subarray(pos) : Buffer.allocUnsafe(65_536);
      pos = 0;
    };
    sock.on('data', (chunk: Buffer) => {
      const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      pending = undefined;
      let off = 0;
      while (buf.length - off >= 8) {
        const len = buf.readUInt32BE(off);
        if (buf.length - off < 8 + len) break;
        const res = cbor.encode(handler(cbor.decode(buf.subarray(off + 8, off + 8 + len))));
        if (pos + 8 + res.length > out.length) flush();
        out.writeUInt32BE(res.length, pos);
        out.writeUInt32BE(buf.readUInt32BE(off + 4), pos + 4);
        out.set(res, pos + 8);
        pos += 8 + res.length;
        if (pos >= 2048) flush(); // the same early write as micromesh's default flushBytes
        off += 8 + len;
      }
      if (off < buf.length) pending = Buffer.from(buf.subarray(off));
      if (pos > 0) flush();
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
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
