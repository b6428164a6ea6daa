// `micromesh bot --stdin` as a user runs it: commands piped in against a
// demo node over the mesh (loopback, seeds), answers in order on stdout,
// and the process ends when the input does.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI } from '../support/cli.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';

const FAST = JSON.stringify({ probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 });
let demo: JsonLinesProcess | undefined;
after(() => demo?.child.kill('SIGKILL'));

test('micromesh bot --stdin answers piped commands in order and exits at the end of input', { timeout: 60_000 }, async () => {
  demo = new JsonLinesProcess(spawn(process.execPath, [CLI, '--no-mdns', '--interface', 'lo', 'run', '--demo', '--profile', 'local', '--swim', FAST], { stdio: ['ignore', 'pipe', 'pipe'] }), 'demo');
  const gossip = (await demo.waitFor((m) => typeof m.gossip === 'string', 20_000, 'demo start')).gossip as string;
  const bot = spawn(process.execPath, [CLI, '--no-mdns', '--join', gossip, 'bot', '--stdin'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  bot.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  bot.stdin.end(['services', 'call greeter Greeter.Hello {"name":"Ada"}', 'call greeter Greeter.Hello {"name":""}', 'nonsense', 'echo done'].join('\n'));
  const [code] = await once(bot, 'exit');
  assert.equal(code, 0);
  const i = (s: string): number => out.indexOf(s);
  assert.ok(i('greeter') >= 0 && i('"msg": "Hello Ada"') > i('greeter'), out);
  assert.ok(i('error BAD_REQUEST: request.name') > i('"msg": "Hello Ada"'), out);
  assert.ok(i('unknown command "nonsense"') > i('error BAD_REQUEST'), out);
  assert.ok(out.trimEnd().endsWith('done'), out);
});
