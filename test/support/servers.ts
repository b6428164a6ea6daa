// What the tests against real chat servers share: the gate (skip with the
// reason where a server is not installed, fail under CI's
// MICROMESH_REQUIRE_SERVERS=1), free ports and waiting for a port.
import { once } from 'node:events';
import { access, constants } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
export const REQUIRE_SERVERS_ENV = 'MICROMESH_REQUIRE_SERVERS';

export interface ServerGate {
  readonly skip: string | false;
}

/** Skip (with the reason) or fail when `binary` is missing, as the env says. */
export async function serverGate(binary: string, hint: string, env: NodeJS.ProcessEnv = process.env): Promise<ServerGate> {
  try {
    await access(binary, constants.X_OK);
    return { skip: false };
  } catch {
    const reason = `no ${binary} (${hint})`;
    const required = (env[REQUIRE_SERVERS_ENV] ?? '') !== '' && env[REQUIRE_SERVERS_ENV] !== '0';
    if (required) throw new Error(`${REQUIRE_SERVERS_ENV} is set but there is ${reason}`);
    return { skip: reason };
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

