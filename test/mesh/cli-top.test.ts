// `micromesh top` in a real terminal: tmux runs it at 160x40 against a
// 3-node mesh (loopback, seeds); the pane is captured while it refreshes,
// then `q` quits it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, cli } from '../support/cli.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { serverGate } from '../support/servers.ts';

const run = promisify(execFile);
const gate = await serverGate('/usr/bin/tmux', 'apt-get install tmux');
const FAST = JSON.stringify({ probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 });
const SESSION = `micromesh-top-${process.pid}`;
const procs: JsonLinesProcess[] = [];
after(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await run('tmux', ['kill-session', '-t', SESSION]).catch(() => {});
});

function node(args: string[], name: string): JsonLinesProcess {
  const p = new JsonLinesProcess(spawn(process.execPath, [CLI, '--no-mdns', '--interface', 'lo', ...args, '--profile', 'local', '--swim', FAST], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  procs.push(p);
  return p;
}

const pane = async (): Promise<string> => (await run('tmux', ['capture-pane', '-p', '-t', SESSION])).stdout;

async function until(what: string, ok: (screen: string) => boolean, ms = 20_000): Promise<string> {
  const end = Date.now() + ms;
  let screen = '';
  while (Date.now() < end) {
    screen = await pane().catch(() => '');
    if (ok(screen)) return screen;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; the pane showed:\n${screen}`);
}

test('micromesh top shows a 3-node mesh live, with calls per second, and q quits', { skip: gate.skip, timeout: 90_000 }, async () => {
  const a = node(['run', '--demo'], 'a');
  const seed = (await a.waitFor((m) => typeof m.gossip === 'string', 20_000, 'a')).gossip as string;
  node(['--join', seed, 'run', '--demo'], 'b');
  node(['--join', seed, 'run', '--name', 'inventory'], 'c');
  const cmd = [process.execPath, CLI, '--no-mdns', '--join', seed, 'top', '--interval', '500ms'].map((x) => `'${x}'`).join(' ');
  await run('tmux', ['new-session', '-d', '-s', SESSION, '-x', '160', '-y', '40', cmd]);
  const screen = await until('three alive members and both services', (s) => /3 alive/.test(s) && /greeter/.test(s) && /inventory/.test(s));
  assert.match(screen, /MEMBER\s+STATE\s+INCARNATION\s+ADDRESS/);
  assert.match(screen, /SERVICE\s+NODE\s+CALLS\/S\s+SERVED\s+ERRORS\s+P50\s+P99\s+RSS/);
  for (let i = 0; i < 5; i++) await cli(['--no-mdns', '--join', seed, 'call', 'greeter', 'Greeter.Hello', '{"name":"Top"}']);
  await until('the calls counted', (s) => /greeter\s+\S+\s+[\d.]+\s+[1-9]\d*\s/.test(s));
  await run('tmux', ['send-keys', '-t', SESSION, 'q']);
  await until('top to quit (its pane closes)', (s) => s === '', 10_000).catch(async () => {
    const { stdout } = await run('tmux', ['list-sessions']).catch(() => ({ stdout: '' }));
    assert.ok(!stdout.includes(SESSION), `top still runs after q:\n${await pane()}`);
  });
});
