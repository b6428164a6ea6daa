/**
 * A child process that speaks JSON lines: one object per stdout line, one
 * command per stdin line. Multi-host tests drive their peers with it.
 */
import type { ChildProcess } from 'node:child_process';

export type Message = Record<string, unknown>;

export class JsonLinesProcess {
  readonly child: ChildProcess;
  /** Every message received so far, in order. */
  readonly messages: Message[] = [];
  /** Stdout lines that were not JSON, and stderr: shown when a wait fails. */
  private noise = '';

  /** The end of what it printed that was not a JSON line (stderr included): why it died, usually. */
  get output(): string {
    return this.noise;
  }
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  readonly label: string;

  constructor(child: ChildProcess, label = 'child') {
    this.child = child;
    this.label = label;
    let buf = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line.length === 0) continue;
        try {
          this.messages.push(JSON.parse(line) as Message);
        } catch {
          this.noise += `${line}\n`;
        }
      }
      this.wake();
    });
    // A child that exits while we write gives EPIPE on its stdin: expected, not a test failure.
    child.stdin?.on('error', () => {});
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.noise = (this.noise + chunk).slice(-8000);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.wake();
      resolve({ code, signal });
    }));
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  /** Messages matching `pred` so far. */
  all(pred: (m: Message) => boolean): Message[] {
    return this.messages.filter(pred);
  }

  /**
   * The first message (from the start, or from index `from`) matching `pred`;
   * rejects after `timeoutMs` or when the process exits first, showing its stderr.
   */
  waitFor(pred: (m: Message) => boolean, timeoutMs: number, what: string, from = 0): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.messages.slice(from).find(pred);
        if (hit !== undefined) return finish(undefined, hit);
        if (this.child.exitCode !== null || this.child.signalCode !== null) finish(new Error(`${this.label} exited before ${what}; output:\n${this.noise}`));
      };
      const finish = (err: Error | undefined, m?: Message): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err !== undefined) reject(err);
        else resolve(m!);
      };
      const timer = setTimeout(() => finish(new Error(`${this.label}: no ${what} within ${timeoutMs} ms; messages: ${JSON.stringify(this.messages).slice(-2000)}; output:\n${this.noise}`)), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Writes one command line; a no-op once the child has exited (it may finish on its own). */
  send(command: Message): void {
    const stdin = this.child.stdin;
    if (stdin === null || !stdin.writable || this.child.exitCode !== null || this.child.signalCode !== null) return;
    stdin.write(`${JSON.stringify(command)}\n`);
  }
}
