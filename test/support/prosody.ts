// A real prosody (Debian's) for the bot's XMPP tests: loopback only, no TLS,
// no server-to-server, a multi-user chat component, users registered with
// prosodyctl, a temporary data directory, started and stopped by PID, and
// restartable on the same port. Without prosody the tests skip with the
// reason, unless MICROMESH_REQUIRE_SERVERS=1 (CI) makes them fail with it.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from './servers.ts';

const run = promisify(execFile);

export class Prosody {
  readonly domain = 'localhost';
  readonly muc = 'conference.localhost';
  private proc: ChildProcess | undefined;
  private log = '';

  readonly dir: string;
  readonly port: number;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  /** Writes the config, registers `users` (name → password), starts the server. */
  static async start(users: Record<string, string>): Promise<Prosody> {
    const dir = await mkdtemp(join(tmpdir(), 'micromesh-prosody-'));
    const p = new Prosody(dir, await freePort());
    await writeFile(p.configPath, p.config());
    for (const [user, password] of Object.entries(users)) {
      await run('prosodyctl', ['--config', p.configPath, 'register', user, p.domain, password]);
    }
    await p.up();
    return p;
  }

  get service(): string {
    return `xmpp://127.0.0.1:${this.port}`;
  }

  private get configPath(): string {
    return join(this.dir, 'prosody.cfg.lua');
  }

  private config(): string {
    return `-- written by test/support/prosody.ts
run_as_root = true
pidfile = "${this.dir}/prosody.pid"
data_path = "${this.dir}/data"
interfaces = { "127.0.0.1" }
c2s_ports = { ${this.port} }
s2s_ports = { }
http_ports = { }
https_ports = { }
modules_enabled = { "roster", "saslauth", "disco", "ping", "posix" }
modules_disabled = { "s2s", "tls" }
authentication = "internal_plain"
storage = "internal"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
log = { info = "*console" }
VirtualHost "${this.domain}"
Component "${this.muc}" "muc"
  muc_room_locking = false
  muc_room_default_public_jids = true
`;
  }

  private async up(): Promise<void> {
    await rm(join(this.dir, 'prosody.pid'), { force: true });
    const proc = spawn('prosody', ['--config', this.configPath, '-F'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => { this.log = (this.log + d).slice(-4000); });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => { this.log = (this.log + d).slice(-4000); });
    this.proc = proc;
    try {
      await waitForPort(this.port);
    } catch (err) {
      throw new Error(`${(err as Error).message}; prosody said: ${this.log}`, { cause: err });
    }
  }

  /** Kills the server (SIGKILL: a crash, no goodbye to clients). */
  async kill(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p === undefined || p.exitCode !== null) return;
    const exited = once(p, 'exit');
    p.kill('SIGKILL');
    await exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.up();
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p !== undefined && p.exitCode === null) {
      const exited = once(p, 'exit');
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
