// What the tests against real servers (etcd, NATS, prosody, ngircd, tmux)
// share: the gate (skip with the reason where a binary is not installed,
// fail under CI's MICROMESH_REQUIRE_SERVERS=1), free ports, waiting for a
// port, and running a server binary by PID.
import { spawn, type ChildProcess } from 'node:child_process';
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


/** Whether something accepts a TCP connection on 127.0.0.1:port now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A server binary run by a test: started (and restarted) the same way, stopped by PID. */
export interface ServerProcess {
  readonly pid: number | undefined;
  /** The last 200 lines it printed since the last start, for failure messages. */
  readonly output: string[];
  /** Spawns it and waits until `ready` says so, or throws with its last lines. */
  start(): Promise<void>;
  /** Sends `signal` (default the spec's) by PID and waits for the exit; after `killAfterMs`, SIGKILL. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ServerProcessSpec {
  /** For messages: `etcd`, `nats-server`. */
  name: string;
  command: string;
  args: readonly string[];
  /** Polled every 50 ms after the spawn: true once the server serves. */
  ready: (output: readonly string[]) => Promise<boolean>;
  readyTimeoutMs: number;
  /** What `stop()` sends by default. */
  signal: NodeJS.Signals;
  /** A graceful signal not obeyed within this long is followed by SIGKILL. Default: wait. */
  killAfterMs?: number;
}

export function serverProcess(spec: ServerProcessSpec): ServerProcess {
  const output: string[] = [];
  let proc: ChildProcess | undefined;
  const last = (): string => output.slice(-10).join(' | ');
  return {
    get pid() {
      return proc?.pid;
    },
    output,
    async start() {
      // This run's lines only: `ready` may look for a line an earlier run printed too.
      output.length = 0;
      const p = spawn(spec.command, spec.args, { stdio: ['ignore', 'pipe', 'pipe'] });
      proc = p;
      const collect = (b: Buffer): void => {
        output.push(...b.toString('utf8').split('\n').filter((l) => l !== ''));
        if (output.length > 200) output.splice(0, output.length - 200);
      };
      p.stdout!.on('data', collect);
      p.stderr!.on('data', collect);
      const deadline = Date.now() + spec.readyTimeoutMs;
      for (;;) {
        if (p.exitCode !== null || p.signalCode !== null) throw new Error(`${spec.name} exited (${p.exitCode ?? p.signalCode}): ${last()}`);
        if (await spec.ready(output)) return;
        if (Date.now() > deadline) {
          p.kill('SIGKILL');
          throw new Error(`${spec.name} was not ready within ${spec.readyTimeoutMs} ms: ${last()}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = spec.signal) {
      const p = proc;
      proc = undefined;
      if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
      const exited = once(p, 'exit');
      process.kill(p.pid!, signal);
      const t = spec.killAfterMs === undefined ? undefined : setTimeout(() => {
        if (p.exitCode === null && p.signalCode === null) process.kill(p.pid!, 'SIGKILL');
      }, spec.killAfterMs);
      await exited;
      clearTimeout(t);
    },
  };
}
