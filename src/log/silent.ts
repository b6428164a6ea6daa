import type { Logger } from './types.ts';

/** Discards everything; the default in tests and libraries that embed micromesh quietly. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
