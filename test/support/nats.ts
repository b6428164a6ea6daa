// A real NATS server with JetStream for the NATS broker's tests: Debian's
// nats-server on 127.0.0.1, free client and monitoring ports, its store in a
// temporary directory, stopped by PID and restartable on the same port and
// store. Without nats-server the tests skip with the reason unless
// MICROMESH_REQUIRE_SERVERS=1 (CI) makes them fail with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, serverGate } from './servers.ts';

/** Where nats-server is: $NATS_SERVER_PATH, else Debian's /usr/sbin/nats-server. */
export function natsServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.NATS_SERVER_PATH ?? '/usr/sbin/nats-server';
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  readonly pid: number | undefined;
  readonly output: string[];
  /** Kills the server by PID (SIGKILL by default) and waits for its exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and store directory. */
  start(): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
}

export interface NatsGate {
  readonly skip: string | false;
  start(): Promise<NatsServer>;
}

/** Top-level `await` it, as `skip` must be known when tests register. */
export async function natsGate(env: NodeJS.ProcessEnv = process.env): Promise<NatsGate> {
  const path = natsServerPath(env);
  const { skip } = await serverGate(path, 'apt-get install nats-server, or set NATS_SERVER_PATH', env);
  return { skip, start: () => startNats(path) };
}

async function startNats(path: string): Promise<NatsServer> {
  const storeDir = await mkdtemp(join(tmpdir(), 'micromesh-nats-'));
  const port = await freePort();
  const monitorPort = await freePort();
  const output: string[] = [];
  let proc: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const p = spawn(path, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '-m', String(monitorPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    const collect = (b: Buffer): void => {
      output.push(...b.toString('utf8').split('\n').filter((l) => l !== ''));
      if (output.length > 200) output.splice(0, output.length - 200);
    };
    p.stdout!.on('data', collect);
    p.stderr!.on('data', collect);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (p.exitCode !== null || p.signalCode !== null) {
        throw new Error(`nats-server exited (${p.exitCode ?? p.signalCode}): ${output.slice(-10).join(' | ')}`);
      }
      // Ready once it accepts clients and JetStream has loaded its store (logged before "Server is ready").
      if (output.some((l) => l.includes('Server is ready')) && await accepts(port)) return;
      if (Date.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`nats-server did not listen on 127.0.0.1:${port} within 15 s: ${output.slice(-10).join(' | ')}`);
      }
      await sleep(50);
    }
  };

  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    const exited = once(p, 'exit');
    process.kill(p.pid!, signal);
    await exited;
    output.length = 0;
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorPort,
    storeDir,
    get pid() {
      return proc?.pid;
    },
    output,
    stop,
    start,
    async dispose() {
      await stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
