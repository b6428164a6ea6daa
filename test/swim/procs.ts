// Spawns SWIM nodes as real processes on 127.0.0.1 (fixtures/swim-node.ts)
// and watches what they print.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SwimConfig, SwimProfile } from '../../src/swim/config.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/swim-node.ts', import.meta.url));

export interface NodeLine {
  ev: string;
  type?: string;
  id?: string;
  incarnation?: number;
  state?: string;
  t?: number;
  address?: string;
  members?: { id: string; state: string; incarnation: number; address: string }[];
  [k: string]: unknown;
}

export interface ProcOptions {
  name: string;
  seeds?: string[];
  profile?: SwimProfile;
  config?: Partial<SwimConfig>;
  keyHex?: string;
}

/** One node process and everything it printed. */
export class NodeProc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: NodeLine[] = [];
  address = '';
  private waiters: (() => void)[] = [];

  constructor(opts: ProcOptions) {
    this.name = opts.name;
    const arg = JSON.stringify({ bind: '127.0.0.1:0', profile: 'local', ...opts });
    this.child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, arg], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let parsed: NodeLine;
      try {
        parsed = JSON.parse(line) as NodeLine;
      } catch {
        return;
      }
      if (parsed.ev === 'ready') this.address = parsed.address!;
      this.lines.push(parsed);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Resolves once a printed line satisfies `pred` (checking lines already printed too). */
  async waitLine(pred: (l: NodeLine) => boolean, timeoutMs: number, what: string): Promise<NodeLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Asks for the member list and returns it. */
  async members(timeoutMs = 5000): Promise<NonNullable<NodeLine['members']>> {
    const before = this.lines.length;
    this.child.stdin!.write('members\n');
    const line = await this.waitLine((l) => l.ev === 'members' && this.lines.indexOf(l) >= before, timeoutMs, 'members');
    return line.members!;
  }

  /** The latest state this node reported for `id` through events, or undefined. */
  lastState(id: string): string | undefined {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const l = this.lines[i]!;
      if (l.ev === 'event' && l.id === id) return l.state;
    }
    return undefined;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGCONT');
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
}

/** Starts `n` nodes; the first is the seed of the others. Resolves once each is ready. */
export async function startCluster(n: number, base: Omit<ProcOptions, 'name'> = {}, prefix = 'n'): Promise<NodeProc[]> {
  const seed = new NodeProc({ ...base, name: `${prefix}0` });
  await seed.waitLine((l) => l.ev === 'ready', 20_000, 'ready');
  const rest = Array.from({ length: n - 1 }, (_, i) => new NodeProc({ ...base, name: `${prefix}${i + 1}`, seeds: [seed.address] }));
  // Each process spends about 0.5 s of CPU starting (tsx): on 2 cores, 100 of them take most of a minute.
  await Promise.all(rest.map((p) => p.waitLine((l) => l.ev === 'ready', Math.max(20_000, n * 600), 'ready')));
  return [seed, ...rest];
}

/** Polls until `cond` holds; throws after `timeoutMs`. */
export async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
