export type { Logger, LogFields, LogLevel } from './types.ts';
export { createLogger, type PinoLoggerOptions } from './pino.ts';
export { silentLogger } from './silent.ts';
export { RateLimitedLog } from './limit.ts';
