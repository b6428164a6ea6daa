import type { Clock } from '../clock/types.ts';
import type { LogFields, Logger } from './types.ts';

/**
 * Warnings about bad input can come at packet rate; this logs the first of
 * each kind, then at most one per `intervalMs` with the number suppressed in
 * between, so a flood of garbage cannot flood the log.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { atMs: number; suppressed: number }>();
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly intervalMs: number;

  constructor(log: Logger, clock: Clock, intervalMs = 10_000) {
    this.log = log;
    this.clock = clock;
    this.intervalMs = intervalMs;
  }

  warn(kind: string, msg: string, fields?: LogFields): void {
    this.emit('warn', kind, msg, fields);
  }

  debug(kind: string, msg: string, fields?: LogFields): void {
    this.emit('debug', kind, msg, fields);
  }

  private emit(level: 'warn' | 'debug', kind: string, msg: string, fields?: LogFields): void {
    const now = this.clock.now();
    const seen = this.last.get(kind);
    if (seen !== undefined && now - seen.atMs < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.last.set(kind, { atMs: now, suppressed: 0 });
    this.log[level](msg, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}
