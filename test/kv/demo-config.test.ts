// The demo reads its greeting from mesh config and changes it live: `micromesh kv put greeter/greeting Hola`
// on one node changes what every demo node answers; deleting the key brings the default back.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, cli } from '../support/cli.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { FAST_SWIM, eventually } from '../support/agent-mesh.ts';

const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) p.kill('SIGKILL');
});
function demo(args: string[]): JsonLinesProcess {
  const child = spawn(process.execPath, [CLI, '--json', '--no-mdns', '--interface', 'lo', '--log-level', 'error', ...args, 'run', '--demo', '--profile', 'local', '--swim', JSON.stringify(FAST_SWIM)], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  return new JsonLinesProcess(child, 'demo');
}

test('micromesh kv put greeter/greeting changes what every demo node answers, live', { timeout: 60_000 }, async () => {
  const a = demo([]);
  const seed = (await a.waitFor((m) => typeof m.gossip === 'string', 20_000, 'a started')).gossip as string;
  const b = demo(['--join', seed]);
  await b.waitFor((m) => typeof m.address === 'string', 20_000, 'b started');
  // Each CLI call goes to a node picked at random: four answers in a row cover both nodes with odds 7/8.
  const hellos = async (): Promise<string[]> => Promise.all([0, 1, 2, 3].map(async () => {
    const r = await cli(['--no-mdns', '--join', seed, 'call', 'greeter', 'Greeter.Hello', '{"name":"Ada"}']);
    return r.code === 0 ? (JSON.parse(r.stdout) as { msg: string }).msg : `exit ${r.code}: ${r.stderr}`;
  }));
  await eventually(hellos, (ms) => ms.every((m) => m === 'Hello Ada'), 'both nodes listed, greeting Hello');
  assert.equal((await cli(['--no-mdns', '--join', seed, 'kv', 'put', 'greeter/greeting', 'Hola'])).code, 0);
  await eventually(hellos, (ms) => ms.every((m) => m === 'Hola Ada'), 'every node to say Hola');
  assert.equal((await cli(['--no-mdns', '--join', seed, 'kv', 'delete', 'greeter/greeting'])).code, 0);
  await eventually(hellos, (ms) => ms.every((m) => m === 'Hello Ada'), 'every node back to Hello');
});
