// A real IRC server for the bot's IRC tests: Debian's ngircd, on 127.0.0.1
// and a free port, with its config in a temporary directory, in the
// foreground, stopped by PID. Without ngircd the tests skip with the reason
// unless MICROMESH_REQUIRE_SERVERS=1 (CI) makes them fail with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, serverGate } from './servers.ts';

/** Where ngircd is: $NGIRCD_PATH, else Debian's /usr/sbin/ngircd. */
export function ngircdPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.NGIRCD_PATH ?? '/usr/sbin/ngircd';
}

export interface Ngircd {
  readonly host: string;
  readonly port: number;
  /** PID of the running server (changes on restart). */
  readonly pid: number | undefined;
  /** What the server printed (its log), for failure messages. */
  readonly output: string[];
  /** Kills the server by PID (SIGKILL by default: a crash, no goodbye to clients) and waits for its exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port, with the same config. */
  start(): Promise<void>;
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
  const output: string[] = [];
  let proc: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const p = spawn(path, ['--nodaemon', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    const collect = (b: Buffer): void => {
      output.push(...b.toString('utf8').split('\n').filter((l) => l !== ''));
      if (output.length > 200) output.splice(0, output.length - 200);
    };
    p.stdout!.on('data', collect);
    p.stderr!.on('data', collect);
    // Ready when it accepts connections; a restart may race the old socket's release.
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (p.exitCode !== null || p.signalCode !== null) {
        throw new Error(`ngircd exited (${p.exitCode ?? p.signalCode}): ${output.slice(-10).join(' | ')}`);
      }
      if (await accepts(port)) return;
      if (Date.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`ngircd did not listen on 127.0.0.1:${port} within 10 s: ${output.slice(-10).join(' | ')}`);
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
  };

  await start();
  return {
    host: '127.0.0.1',
    port,
    get pid() {
      return proc?.pid;
    },
    output,
    stop,
    start,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
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
