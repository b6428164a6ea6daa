// One process of the pubsub benchmark: a publisher or a subscriber of one
// system. Run by bench/pubsub.ts, never by hand:
//   tsx node.ts <json config>
// The same harness drives every system; only the adapter differs.
//
// In flight: the publisher keeps at most `inflight` messages that are
// published and not yet received by every subscriber. Subscribers report
// each receipt (its sequence number) on a raw TCP "ack channel" to the
// publisher, batched per event-loop turn, the same way for every system.
// Latency: the publisher stamps process.hrtime (CLOCK_MONOTONIC, shared by
// processes on one machine) into the message; the subscriber subtracts it
// on receipt.
import { connect, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { isQueue, makeAdapter, type Config } from './adapters.ts';

const cfg = JSON.parse(process.argv[2]!) as Config;
const MSG_BYTES = 100;
const PROBE = 2;
const MEASURED = 1;
const now = (): bigint => process.hrtime.bigint();
/** Writes one JSON line; resolves once it is handed to the OS (so an exit right after cannot lose it). */
const out = (o: unknown): Promise<void> => new Promise((r) => process.stdout.write(`${JSON.stringify(o)}\n`, () => r()));

const adapter = await makeAdapter(cfg);

if (cfg.role === 'sub') {
  let first: bigint | undefined;
  const samples: number[] = [];
  let measured = 0;
  let ack: Socket | undefined;
  let pending: number[] = [];
  let scheduled = false;
  const flushAcks = (): void => {
    scheduled = false;
    if (ack === undefined || pending.length === 0) return;
    const buf = Buffer.allocUnsafe(pending.length * 4);
    for (let i = 0; i < pending.length; i++) buf.writeUInt32LE(pending[i]!, i * 4);
    pending = [];
    ack.write(buf);
  };
  await adapter.subscribe((data) => {
    const t = now();
    first ??= t;
    const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (view.length !== MSG_BYTES) return;
    const seq = view.readUInt32LE(8);
    if (view[12] === MEASURED) {
      measured++;
      const us = Number(t - view.readBigUInt64LE(0)) / 1000;
      // Reservoir of 20k samples: enough for p99, bounded memory.
      if (samples.length < 20_000) samples.push(us);
      else {
        const j = Math.floor(Math.random() * measured);
        if (j < 20_000) samples[j] = us;
      }
    }
    pending.push(seq);
    if (!scheduled) {
      scheduled = true;
      process.nextTick(flushAcks);
    }
  });
  // The publisher may not listen yet: retry until the ack channel connects.
  for (;;) {
    try {
      ack = await new Promise<Socket>((resolve, reject) => {
        const s = connect(cfg.ackPort, '127.0.0.1');
        s.once('connect', () => resolve(s)).once('error', reject);
      });
      ack.setNoDelay(true);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  void out({ ready: true });
  createInterface({ input: process.stdin }).on('line', async (line) => {
    if (line !== 'end') return;
    await out({ first: first?.toString(), measured, samples, rss: process.memoryUsage().rss });
    await adapter.stop().catch(() => {});
    process.exit(0);
  });
} else {
  const n = cfg.subscribers;
  // Receipts that complete a message: every subscriber's, or one for a queue group.
  const need = isQueue(cfg.system) ? 1 : n;
  const RING = 1 << 20;
  const RUN_SEQ = 1 << 24;
  const acks = new Uint16Array(RING);
  let seq = 0;
  let inflight = 0;
  let phase: 'probe' | 'warmup' | 'measure' | 'done' = 'probe';
  let completed = 0;
  let measureStart = 0n;
  let measureEnd = 0n;
  const probeAcked = new Set<number>();
  const socks: Socket[] = [];
  const server = createServer((s) => {
    socks.push(s);
    let rest: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      const buf = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
      const whole = buf.length - (buf.length % 4);
      for (let i = 0; i < whole; i += 4) onAck(buf.readUInt32LE(i), s);
      rest = buf.subarray(whole);
    }).on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(cfg.ackPort, '127.0.0.1', r));

  const message = (s: number, flag: number): Uint8Array => {
    // allocUnsafe takes it from Node's pool (Buffer.alloc makes an ArrayBuffer per message, ~3 us); every byte is set below.
    const b = Buffer.allocUnsafe(MSG_BYTES).fill(0);
    b.writeBigUInt64LE(now(), 0);
    b.writeUInt32LE(s, 8);
    b[12] = flag;
    return b;
  };
  const send = (flag: number): void => {
    const s = seq++;
    acks[s & (RING - 1)] = 0;
    const r = adapter.publish(message(s, flag));
    if (r instanceof Promise) r.catch(() => {});
  };

  function onAck(s: number, from: Socket): void {
    if (phase === 'probe') {
      probeAcked.add(socks.indexOf(from));
      if (probeAcked.size >= n) startRun();
      return;
    }
    if (s < RUN_SEQ) return; // a late probe ack
    const i = s & (RING - 1);
    if (++acks[i] !== need) return;
    inflight--;
    if (phase === 'measure') completed++;
    pump();
  }

  let pumping = false;
  function pump(): void {
    if (pumping || phase === 'done' || phase === 'probe') return;
    pumping = true;
    // Publish from a fresh turn so acks arriving together refill the window together.
    setImmediate(() => {
      pumping = false;
      while (inflight < cfg.inflight && phase !== 'done') {
        inflight++;
        send(phase === 'measure' ? MEASURED : 0);
      }
    });
  }

  function startRun(): void {
    phase = 'warmup';
    seq = RUN_SEQ; // probe acks (lower sequence numbers) are told apart from run acks
    void out({ probed: true });
    setTimeout(() => {
      phase = 'measure';
      measureStart = now();
      setTimeout(() => {
        measureEnd = now();
        phase = 'done';
        void out({ completed, seconds: Number(measureEnd - measureStart) / 1e9, rss: process.memoryUsage().rss });
      }, cfg.seconds * 1000);
    }, cfg.warmup * 1000);
    pump();
  }

  // Probe: one message every 5 ms from the moment the broker started, until every subscriber got one.
  const probe = setInterval(() => {
    if (phase !== 'probe') return clearInterval(probe);
    send(PROBE);
  }, 5);
  createInterface({ input: process.stdin }).on('line', async (line) => {
    if (line !== 'end') return;
    clearInterval(probe);
    for (const s of socks) s.destroy();
    server.close();
    await adapter.stop().catch(() => {});
    process.exit(0);
  });
}
