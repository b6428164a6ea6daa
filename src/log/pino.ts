import { createRequire } from 'node:module';
import type { Logger as Pino, pino as PinoFactory } from 'pino';
import type { LogFields, Logger, LogLevel } from './types.ts';

/**
 * The default Logger, on pino (well kept, fast, JSON lines on stderr by
 * default so stdout stays free for command output).
 */
class PinoLogger implements Logger {
  private readonly p: Pino;
  constructor(p: Pino) {
    this.p = p;
  }
  debug(msg: string, fields?: LogFields): void {
    if (fields) this.p.debug(fields, msg); else this.p.debug(msg);
  }
  info(msg: string, fields?: LogFields): void {
    if (fields) this.p.info(fields, msg); else this.p.info(msg);
  }
  warn(msg: string, fields?: LogFields): void {
    if (fields) this.p.warn(fields, msg); else this.p.warn(msg);
  }
  error(msg: string, fields?: LogFields): void {
    if (fields) this.p.error(fields, msg); else this.p.error(msg);
  }
  child(bindings: LogFields): Logger {
    return new PinoLogger(this.p.child(bindings));
  }
}

export interface PinoLoggerOptions {
  /** Minimum level written. Default `info`. */
  level?: LogLevel;
  /** File descriptor to write to. Default 2 (stderr). */
  fd?: number;
}

/** pino is loaded by the first createLogger, not by importing micromesh (an app with its own Logger never loads it). */
const load = createRequire(import.meta.url);

export function createLogger(opts: PinoLoggerOptions = {}): Logger {
  const { pino } = load('pino') as { pino: typeof PinoFactory };
  return new PinoLogger(pino({ level: opts.level ?? 'info', base: undefined }, pino.destination({ fd: opts.fd ?? 2, sync: false })));
}
