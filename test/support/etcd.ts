// A real etcd for the EtcdRegistry tests: Debian's etcd-server, on 127.0.0.1
// with free client and peer ports and a temporary data dir, stopped by PID
// and restartable on the same ports and data. Without etcd the tests skip
// with the reason unless MICROMESH_REQUIRE_SERVERS=1 (CI) makes them fail.
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, serverGate, serverProcess } from './servers.ts';

/** Where etcd is: $ETCD_PATH, else Debian's /usr/bin/etcd. */
export function etcdPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.ETCD_PATH ?? '/usr/bin/etcd';
}

export interface Etcd {
  /** The client URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number | undefined;
  readonly output: string[];
  /** Stops it by PID: SIGTERM, then SIGKILL after 5 s (or `signal` at once). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports; `wipe` first deletes its data (a new, empty cluster). */
  start(opts?: { wipe?: boolean }): Promise<void>;
  /** Stops it and removes its data dir. */
  dispose(): Promise<void>;
}

export interface EtcdGate {
  /** node:test's `skip`: the reason when etcd is missing (the gate throws instead under MICROMESH_REQUIRE_SERVERS=1). */
  readonly skip: string | false;
  start(): Promise<Etcd>;
}

/** Top-level `await` it, as `skip` must be known when tests register. */
export async function etcdGate(env: NodeJS.ProcessEnv = process.env): Promise<EtcdGate> {
  const path = etcdPath(env);
  const { skip } = await serverGate(path, 'apt-get install etcd-server, or set ETCD_PATH', env);
  return { skip, start: () => startEtcd(path) };
}

async function startEtcd(path: string): Promise<Etcd> {
  const root = await mkdtemp(join(tmpdir(), 'micromesh-etcd-'));
  const dataDir = join(root, 'data');
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 'mm0', '--data-dir', dataDir,
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `mm0=${peer}`,
  ];
  const server = serverProcess({
    name: 'etcd', command: path, args, ready: () => answersVersion(clientPort), readyTimeoutMs: 15_000, signal: 'SIGTERM', killAfterMs: 5000,
  });
  const start = async (opts: { wipe?: boolean } = {}): Promise<void> => {
    if (opts.wipe === true) await rm(dataDir, { recursive: true, force: true });
    await server.start();
  };

  await start();
  return {
    url,
    get pid() {
      return server.pid;
    },
    output: server.output,
    stop: (signal) => server.stop(signal),
    start,
    async dispose() {
      await server.stop('SIGKILL');
      await rm(root, { recursive: true, force: true });
    },
  };
}

function answersVersion(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/version', timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('etcdserver')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
