import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fencedText } from './render.ts';
import type { ChatInput, InputEvents, Reply } from './types.ts';

/** The identity of whoever types at the terminal (the CLI puts it on the allowlist: they could run `micromesh call` anyway). */
export const STDIN_IDENTITY = 'stdin:local';

/**
 * `micromesh bot --stdin`: commands from a terminal, one per line, answers
 * printed (code blocks fenced as in chat). End of input ends the session
 * (`closed` is not fired: there is nothing to reconnect to).
 */
export class StdinInput implements ChatInput {
  readonly name = 'stdin';
  private rl: Interface | undefined;
  private readonly input: Readable;
  private readonly output: Writable;
  private readonly onEnd: (() => void) | undefined;

  /** `onEnd`: the input ended (Ctrl-D). */
  constructor(input: Readable, output: Writable, onEnd?: () => void) {
    this.input = input;
    this.output = output;
    this.onEnd = onEnd;
  }

  async connect(events: InputEvents): Promise<void> {
    if (this.rl !== undefined) return;
    this.rl = createInterface({ input: this.input, terminal: false });
    this.rl.on('line', (line) => {
      if (line.trim() === '') return;
      events.message({ from: STDIN_IDENTITY, fromName: 'you', conversation: 'stdin', direct: true, text: line });
    });
    this.rl.once('close', () => this.onEnd?.());
  }

  async send(_conversation: string, reply: Reply): Promise<void> {
    this.output.write(`${fencedText(reply)}\n`);
  }

  async close(): Promise<void> {
    this.rl?.close();
    this.rl = undefined;
  }
}
