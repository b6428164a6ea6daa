/**
 * Tiny network probes run inside virtual hosts (test/support/netns.ts), one
 * JSON line of result each, so harness and multi-host tests need no ping or
 * netcat on the machine:
 *   tcp-server PORT                      echo server; prints {"listening":PORT}
 *   tcp-connect HOST PORT TIMEOUT_MS     prints {"ok":true} once the echo comes back, else {"ok":false,"error":...}
 *   udp-sink PORT EXPECTED IDLE_MS [GROUP]
 *                                        prints {"ready":true}, then {"received":N} once EXPECTED datagrams
 *                                        came or none for IDLE_MS; with GROUP, joins that multicast group
 *   udp-send HOST PORT COUNT GAP_MS      sends COUNT datagrams GAP_MS apart; prints {"sent":COUNT}
 */
import dgram from 'node:dgram';
import net from 'node:net';

const [mode, ...args] = process.argv.slice(2);
const out = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

if (mode === 'tcp-server') {
  const server = net.createServer((s) => s.pipe(s));
  server.listen(Number(args[0]), '0.0.0.0', () => out({ listening: Number(args[0]) }));
} else if (mode === 'tcp-connect') {
  const s = net.connect({ host: args[0]!, port: Number(args[1]) });
  const timer = setTimeout(() => {
    out({ ok: false, error: 'timeout' });
    process.exit(1);
  }, Number(args[2]));
  s.on('connect', () => s.write('ping'));
  s.on('data', () => {
    clearTimeout(timer);
    out({ ok: true });
    process.exit(0);
  });
  s.on('error', (err) => {
    clearTimeout(timer);
    out({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message });
    process.exit(1);
  });
} else if (mode === 'udp-sink') {
  const sock = dgram.createSocket('udp4');
  const expected = Number(args[1]);
  const idleMs = Number(args[2]);
  let received = 0;
  let timer: NodeJS.Timeout | undefined;
  const report = (): void => {
    clearTimeout(timer);
    out({ received });
    sock.close();
  };
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(report, idleMs);
  };
  sock.on('message', () => {
    if (++received >= expected) report();
    else arm();
  });
  sock.bind(Number(args[0]), '0.0.0.0', () => {
    if (args[3] !== undefined) sock.addMembership(args[3]);
    out({ ready: true });
    arm();
  });
} else if (mode === 'udp-send') {
  const sock = dgram.createSocket('udp4');
  const count = Number(args[2]);
  const gapMs = Number(args[3] ?? 0);
  let sent = 0;
  const next = (): void => {
    if (sent >= count) {
      out({ sent });
      sock.close();
      return;
    }
    sock.send(`d${sent++}`, Number(args[1]), args[0]!, () => (gapMs > 0 ? setTimeout(next, gapMs) : setImmediate(next)));
  };
  next();
} else {
  out({ error: `unknown mode ${mode}` });
  process.exit(2);
}
