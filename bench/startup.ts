// Start-up benchmark: what a user waits for and what a node costs at rest,
// measured on the built package (dist/, plain node, no tsx) against plain
// Node in the same run. Rows are interleaved over rounds; each reports the
// median of its rounds.
//   npm run bench:startup -- [--json] [--rounds 9] [--idle-seconds 10]
// Rows:
//   node-e-0        `node -e 0`, the baseline for the wall times
//   version         `micromesh --version`
//   import          `import('micromesh')` measured inside the process, and the
//                   wall time of a process that only does that
//   call-seed       `micromesh --no-mdns --join G call greeter Greeter.Hello`
//                   against a running demo node, process start to exit
//   call-mdns       the same, finding the node by mDNS on loopback
//   rss-empty       RSS of an idle empty Node process after the idle time
//   rss-demo        RSS of an idle `micromesh --interface lo run --demo` node
import { spawn, execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '9' },
    'idle-seconds': { type: 'string', default: '10' },
  },
});
const rounds = Number(values.rounds);
const idleMs = Number(values['idle-seconds']) * 1000;
const root = fileURLToPath(new URL('../', import.meta.url));
const bin = `${root}dist/bin/micromesh.js`;
const entry = `${root}dist/src/index.js`;
if (!existsSync(bin) || !existsSync(entry)) {
  console.error('bench:startup measures the build: run `npm run build` first');
  process.exit(2);
}
const node = process.execPath;
const log = (s: string): void => { if (!values.json) console.error(s); };

/** Wall time of one process, ms, from spawn to exit; rejects on a non-zero exit. */
function timed(args: string[]): Promise<{ ms: number; stdout: string }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    execFile(node, args, { cwd: root, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve({ ms: performance.now() - t, stdout });
    });
  });
}

/** RSS (MB) of a process after `idleMs`, read from /proc while it runs. */
async function idleRss(args: string[], ready: (line: string) => boolean): Promise<number> {
  const child = spawn(node, args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (l) => { if (ready(l)) resolve(); });
      child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    });
    await new Promise((r) => setTimeout(r, idleMs));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
  } finally {
    child.kill('SIGKILL');
  }
}

/** A demo node to call, on loopback; resolves with its gossip address. */
async function demoNode(): Promise<{ gossip: string; stop(): void }> {
  const child = spawn(node, [bin, '--interface', 'lo', 'run', '--demo'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  const gossip = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      try {
        resolve((JSON.parse(l) as { gossip: string }).gossip);
      } catch { /* not the start line */ }
    });
    child.once('exit', (code) => reject(new Error(`demo node exited with ${code}`)));
  });
  return { gossip, stop: () => child.kill('SIGTERM') };
}

const importScript = `const t = performance.now(); await import(${JSON.stringify(entry)}); console.log(performance.now() - t);`;
const call = ['call', 'greeter', 'Greeter.Hello', '{"name":"Ada"}'];
const samples: Record<string, number[]> = {};
const add = (k: string, v: number): void => { (samples[k] ??= []).push(v); };

const demo = await demoNode();
try {
  // Warm the file cache once: the first run of anything reads it from disk.
  await timed([bin, '--version']);
  await timed([bin, '--no-mdns', '--join', demo.gossip, ...call]);
  for (let r = 0; r < rounds; r++) {
    add('node-e-0', (await timed(['-e', '0'])).ms);
    add('version', (await timed([bin, '--version'])).ms);
    const imp = await timed(['--input-type=module', '-e', importScript]);
    add('import-wall', imp.ms);
    add('import-in-process', Number(imp.stdout.trim()));
    add('call-seed', (await timed([bin, '--no-mdns', '--join', demo.gossip, ...call])).ms);
    add('call-mdns', (await timed([bin, '--interface', 'lo', ...call])).ms);
    log(`round ${r + 1}: ${Object.entries(samples).map(([k, v]) => `${k} ${v.at(-1)!.toFixed(0)}`).join(', ')}`);
  }
} finally {
  demo.stop();
}
// The RSS pair runs at the same time, so both see the same machine.
for (let r = 0; r < Math.min(3, rounds); r++) {
  const [empty, node_] = await Promise.all([
    idleRss(['-e', 'console.log("ready"); setTimeout(() => {}, 1e9)'], (l) => l === 'ready'),
    idleRss([bin, '--interface', 'lo', 'run', '--demo'], (l) => l.startsWith('{')),
  ]);
  add('rss-empty', empty);
  add('rss-demo', node_);
  log(`rss round ${r + 1}: empty ${empty.toFixed(1)} MB, demo ${node_.toFixed(1)} MB`);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const row = (name: string, value: number, unit: string, goal: string, ratio?: number, ok?: boolean) => ({
  name, [unit]: +value.toFixed(1), ...(ratio === undefined ? {} : { ratio: +ratio.toFixed(2) }), goal, ...(ok === undefined ? {} : { met: ok }),
  rounds: samples[name]?.map((x) => +x.toFixed(1)),
});
const results = [
  row('node-e-0', m['node-e-0']!, 'ms', 'baseline'),
  row('version', m.version!, 'ms', '<= 2.5x node -e 0', m.version! / m['node-e-0']!, m.version! <= 2.5 * m['node-e-0']!),
  row('import-in-process', m['import-in-process']!, 'ms', '<= 150 ms', undefined, m['import-in-process']! <= 150),
  row('import-wall', m['import-wall']!, 'ms', 'for reference', m['import-wall']! / m['node-e-0']!),
  row('call-seed', m['call-seed']!, 'ms', '<= 350 ms', undefined, m['call-seed']! <= 350),
  row('call-mdns', m['call-mdns']!, 'ms', 'for reference (mDNS answers wait up to responseJitterMs)'),
  row('rss-empty', m['rss-empty']!, 'mb', 'baseline'),
  row('rss-demo', m['rss-demo']!, 'mb', '<= 1.5x rss-empty', m['rss-demo']! / m['rss-empty']!, m['rss-demo']! <= 1.5 * m['rss-empty']!),
];
if (values.json) for (const r of results) console.log(JSON.stringify(r));
else console.table(results.map(({ rounds: _r, ...rest }) => rest));
