// A real IRC server for the bot's IRC tests: Debian's ngircd, on 127.0.0.1
// and a free port, with its config in a temporary directory, in the
// foreground, stopped by PID. Without ngircd the tests skip with the reason
// unless MICROMESH_REQUIRE_SERVERS=1 (CI) makes them fail with it.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort, serverGate, serverProcess, type ServerProcess } from './servers.ts';

/** Where ngircd is: $NGIRCD_PATH, else Debian's /usr/sbin/ngircd. */
export function ngircdPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.NGIRCD_PATH ?? '/usr/sbin/ngircd';
}

/** `stop` kills it by PID (SIGKILL by default: a crash, no goodbye to clients); `start` starts it again on the same port and config. */
export interface Ngircd extends ServerProcess {
  readonly host: string;
  readonly port: number;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

export interface NgircdGate {
  /** node:test's `skip`: the reason when ngircd is missing (the gate throws instead under MICROMESH_REQUIRE_SERVERS=1). */
  readonly skip: string | false;
  start(): Promise<Ngircd>;
}

/** Top-level `await` it, as `skip` must be known when tests register. */
export async function ngircdGate(env: NodeJS.ProcessEnv = process.env): Promise<NgircdGate> {
  const path = ngircdPath(env);
  const { skip } = await serverGate(path, 'apt-get install ngircd, or set NGIRCD_PATH', env);
  return { skip, start: () => startNgircd(path) };
}

// The smallest config that runs in the foreground on loopback: no PAM, no
// ident or DNS lookups (they delay registration), no SSL, no pid file (ngircd
// drops root for `nobody`, which cannot write our directory), and an empty
// include dir so /etc/ngircd/ngircd.conf.d is not read.
function config(port: number, includeDir: string): string {
  return [
    '[Global]',
    'Name = irc.micromesh.test',
    'Info = micromesh test server',
    'AdminInfo1 = micromesh tests',
    'AdminInfo2 = 127.0.0.1',
    'AdminEMail = root@localhost',
    'Listen = 127.0.0.1',
    `Ports = ${port}`,
    'MotdPhrase = micromesh test server',
    '[Limits]',
    'MaxConnectionsIP = 0',
    'MaxJoins = 0',
    '[Options]',
    'PAM = no',
    'Ident = no',
    'DNS = no',
    `IncludeDir = ${includeDir}`,
    '',
  ].join('\n');
}

async function startNgircd(path: string): Promise<Ngircd> {
  const dir = await mkdtemp(join(tmpdir(), 'micromesh-ngircd-'));
  const includeDir = join(dir, 'conf.d');
  await mkdir(includeDir);
  const port = await freePort();
  const file = join(dir, 'ngircd.conf');
  await writeFile(file, config(port, includeDir));
  const server = serverProcess({
    // Ready when it accepts connections; a restart may race the old socket's release.
    name: 'ngircd', command: path, args: ['--nodaemon', '--config', file], ready: () => accepts(port), readyTimeoutMs: 10_000, signal: 'SIGKILL',
  });

  await server.start();
  return {
    host: '127.0.0.1',
    port,
    get pid() {
      return server.pid;
    },
    output: server.output,
    stop: (signal) => server.stop(signal),
    start: () => server.start(),
    async dispose() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
