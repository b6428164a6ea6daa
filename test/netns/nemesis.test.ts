// `npm run nemesis -- --quick` in the suite: every fault once (shorter holds), against the suite's goals: no failed
// call, no lost queue message, the membership and every registry one again after each fault, no heap growth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { netnsGate, REPO_ROOT } from '../support/netns.ts';

const netns = await netnsGate();
const RUN = fileURLToPath(new URL('../nemesis/run.ts', import.meta.url));

test('the nemesis suite, quick: every fault leaves no failed call and no lost queue message', { skip: netns.skip, timeout: 600_000 }, async (t) => {
  netns.ready();
  const child = spawn(process.execPath, ['--import', 'tsx', RUN, '--quick', '--json'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
  child.stderr.setEncoding('utf8').on('data', (c: string) => { err = (err + c).slice(-20_000); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const l of lines) t.diagnostic(JSON.stringify(l));
  const rows = lines.filter((l) => typeof l.fault === 'string') as { fault: string; failed: number; queue: { lost: number }; registryAgrees: boolean }[];
  assert.deepEqual(rows.map((r) => r.fault), ['none', 'sigkill', 'sigstop', 'link-down', 'partition', 'loss-10', 'loss-30', 'rolling-restart'], err);
  for (const r of rows) {
    assert.equal(r.failed, 0, `${r.fault}: ${JSON.stringify(r)}`);
    assert.equal(r.queue.lost, 0, `${r.fault}: ${JSON.stringify(r)}`);
    assert.ok(r.registryAgrees, `${r.fault}: the membership was never one again`);
  }
  assert.equal(code, 0, `the runner found a goal missed: ${JSON.stringify(lines.at(-1))}`);
});
