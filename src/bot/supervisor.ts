import { toMeshError, type Clock, type Logger, type Random, type TimerHandle } from '../index.ts';
import type { ChatInput, InputEvents } from './types.ts';

/** The delay before reconnect attempt `n` (0-based): doubling from min to max, with "equal jitter" so a room of bots does not reconnect in step. */
export function backoffMs(n: number, minMs: number, maxMs: number, random: Random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(n, 30));
  return Math.round(ceiling / 2 + random.next() * (ceiling / 2));
}

export interface SupervisorOptions {
  input: ChatInput;
  /** Where messages go (the bot's dispatcher). */
  message: InputEvents['message'];
  clock: Clock;
  random: Random;
  logger: Logger;
  minMs: number;
  maxMs: number;
}

/**
 * Keeps one chat input connected: connects, and after the input reports
 * its connection lost (or a connect fails), connects again after a backoff
 * that resets once a connection is up. `stop` closes it for good.
 */
export class Supervisor {
  private attempt = 0;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private up = false;
  /** Bumped per connection, so a late `closed` from an old one is ignored. */
  private generation = 0;
  private readonly o: SupervisorOptions;

  constructor(o: SupervisorOptions) {
    this.o = o;
  }

  get connected(): boolean {
    return this.up;
  }

  /** Connects once now; later attempts run on the clock. Resolves after the first attempt, whatever it gave. */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const gen = ++this.generation;
    try {
      await this.o.input.connect({
        message: this.o.message,
        closed: (reason) => {
          if (gen !== this.generation || this.stopped) return;
          this.up = false;
          this.o.logger.warn('bot: chat connection lost; reconnecting', { input: this.o.input.name, error: reason.message });
          this.retry();
        },
      });
      if (this.stopped) {
        await this.o.input.close();
        return;
      }
      this.up = true;
      this.attempt = 0;
      this.o.logger.info('bot: connected', { input: this.o.input.name });
    } catch (err) {
      if (this.stopped) return;
      const e = toMeshError(err, 'micromesh.bot');
      this.o.logger.warn('bot: could not connect; retrying', { input: this.o.input.name, code: e.code, error: e.detail });
      this.retry();
    }
  }

  private retry(): void {
    if (this.stopped) return;
    this.o.clock.clearTimeout(this.timer);
    const delay = backoffMs(this.attempt++, this.o.minMs, this.o.maxMs, this.o.random);
    this.timer = this.o.clock.setTimeout(() => void this.connect(), delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.up = false;
    this.o.clock.clearTimeout(this.timer);
    await this.o.input.close();
  }
}
