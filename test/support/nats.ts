// A real NATS server with JetStream for the NATS broker's tests: Debian's
// nats-server on 127.0.0.1, free client and monitoring ports, its store in a
// temporary directory, stopped by PID and restartable on the same port and
// store. Without nats-server the tests skip with the reason unless
// MICROMESH_REQUIRE_SERVERS=1 (CI) makes them fail with it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort, serverGate, serverProcess, type ServerProcess } from './servers.ts';

/** Where nats-server is: $NATS_SERVER_PATH, else Debian's /usr/sbin/nats-server. */
export function natsServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.NATS_SERVER_PATH ?? '/usr/sbin/nats-server';
}

/** `stop` kills it by PID (SIGKILL by default); `start` starts it again on the same ports and store directory. */
export interface NatsServer extends ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;
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
  const server = serverProcess({
    name: 'nats-server', command: path, args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '-m', String(monitorPort)],
    // Ready once it accepts clients and JetStream has loaded its store (logged before "Server is ready").
    ready: async (output) => output.some((l) => l.includes('Server is ready')) && await accepts(port),
    readyTimeoutMs: 15_000, signal: 'SIGKILL',
  });

  await server.start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorPort,
    storeDir,
    get pid() {
      return server.pid;
    },
    output: server.output,
    stop: (signal) => server.stop(signal),
    start: () => server.start(),
    async dispose() {
      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

