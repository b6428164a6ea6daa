/**
 * Tiny network probes run inside virtual hosts (test/support/netns.ts), one
 * JSON line of result each, so harness and multi-host tests need no ping or
 * netcat on the machine:
 *   tcp-server PORT                      echo server; prints {"listening":PORT}
 *   tcp-connect HOST PORT TIMEOUT_MS     prints {"ok":true} once the echo comes back, else {"ok":false,"error":...}
 *   udp-sink PORT EXPECTED GRACE_MS [GROUP]
 *                                        prints {"ready":true}, then {"received":N} once EXPECTED datagrams
 *                                        came, or GRACE_MS after any line on stdin; with GROUP, joins that
 *                                        multicast group
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
  // Reports once EXPECTED datagrams came, or GRACE_MS after a "done" line on
  // stdin (the test sends it when the sender has finished): no timing guess,
  // so a loaded machine cannot make it report early.
  const sock = dgram.createSocket('udp4');
  const expected = Number(args[1]);
  const graceMs = Number(args[2]);
  let received = 0;
  let reported = false;
  const report = (): void => {
    if (reported) return;
    reported = true;
    out({ received });
    sock.close();
    process.stdin.destroy();
  };
  sock.on('message', () => {
    if (++received >= expected) report();
  });
  process.stdin.on('data', () => setTimeout(report, graceMs));
  sock.bind(Number(args[0]), '0.0.0.0', () => {
    if (args[3] !== undefined) sock.addMembership(args[3]);
    out({ ready: true });
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
