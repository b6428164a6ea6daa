// The `minimal-rpc` reference row of bench/rpc.ts: the least an RPC with a
// promise per call and CBOR bodies does. Frames of [u32 length][u32 id][body];
// decode, call the handler, encode, write; writes batched per turn and early
// at 2 KiB like micromesh's default flushBytes. No routing, selector,
// deadlines, cancellation, metadata, flow control or stats: the gap between
// this row and micromesh is what those features cost.
import net from 'node:net';
import { Encoder } from 'cbor-x';

const HEADER = 8;
const FLUSH_BYTES = 2048;
const cborOptions = { useRecords: false, mapsAsObjects: true };

/** Frames queued into one buffer and written as one chunk. */
class FrameOut {
  private out = Buffer.allocUnsafe(65_536);
  private pos = 0;
  private readonly sock: net.Socket;

  constructor(sock: net.Socket) {
    this.sock = sock;
  }

  /** Queues a frame; writes at once when FLUSH_BYTES are queued. */
  add(id: number, body: Uint8Array): void {
    if (this.pos + HEADER + body.length > this.out.length) this.flush();
    this.out.writeUInt32BE(body.length, this.pos);
    this.out.writeUInt32BE(id, this.pos + 4);
    this.out.set(body, this.pos + HEADER);
    this.pos += HEADER + body.length;
    if (this.pos >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    if (this.pos === 0) return;
    this.sock.write(this.out.subarray(0, this.pos));
    this.out = this.out.length - this.pos >= 4096 ? this.out.subarray(this.pos) : Buffer.allocUnsafe(65_536);
    this.pos = 0;
  }
}

/** Calls `onFrame` for every complete frame of the stream; keeps a partial one for the next chunk. */
function onFrames(sock: net.Socket, onFrame: (id: number, body: Buffer) => void, afterChunk?: () => void): void {
  let pending: Buffer | undefined;
  sock.on('data', (chunk: Buffer) => {
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    pending = undefined;
    let off = 0;
    while (buf.length - off >= HEADER) {
      const len = buf.readUInt32BE(off);
      if (buf.length - off < HEADER + len) break;
      onFrame(buf.readUInt32BE(off + 4), buf.subarray(off + HEADER, off + HEADER + len));
      off += HEADER + len;
    }
    if (off < buf.length) pending = Buffer.from(buf.subarray(off));
    afterChunk?.();
  });
}

/** Serves `handler` on 127.0.0.1; resolves with the address. */
export async function serveMinimal(handler: (req: unknown) => unknown): Promise<string> {
  const cbor = new Encoder(cborOptions);
  const server = net.createServer({ noDelay: true }, (sock) => {
    const out = new FrameOut(sock);
    onFrames(sock, (id, body) => out.add(id, cbor.encode(handler(cbor.decode(body)))), () => out.flush());
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

/** Connects to a minimal server; resolves with its `call` and a way to close. */
export async function connectMinimal(address: string): Promise<{ call(req: unknown): Promise<unknown>; close(): void }> {
  const i = address.lastIndexOf(':');
  const sock = net.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)), noDelay: true });
  await new Promise((r) => sock.once('connect', r));
  const cbor = new Encoder(cborOptions);
  const waiting = new Map<number, (v: unknown) => void>();
  const out = new FrameOut(sock);
  let nextId = 1;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    out.flush();
  };
  onFrames(sock, (id, body) => {
    const resolve = waiting.get(id)!;
    waiting.delete(id);
    resolve(cbor.decode(body));
  });
  return {
    call(req) {
      const id = nextId++;
      out.add(id, cbor.encode(req));
      if (!scheduled) {
        scheduled = true;
        process.nextTick(flush);
      }
      return new Promise((resolve) => waiting.set(id, resolve));
    },
    close: () => sock.destroy(),
  };
}
