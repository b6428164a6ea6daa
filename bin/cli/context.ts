// What every command shares: the global flags, a logger, and a look at the
// mesh. Heavy modules (the mesh, pino) are imported when a command runs, not
// when the program is built, so `--help` and `--version` stay fast.
import type { Command } from 'commander';
import type { Logger, LogLevel } from '../../src/log/types.ts';
import type { Connected } from './connect.ts';
import { meshFlags, type GlobalFlags, type MeshFlags } from './options.ts';

export interface Cli {
  /** The global flags, parsed. */
  flags(): GlobalFlags;
  /** The global flags turned into mesh options (seeds, cluster, keys, mDNS, interface). */
  mesh(): MeshFlags;
  /** A logger at `--log-level`. */
  logger(): Promise<Logger>;
  /** Runs a client command against the mesh as read, always releasing its connections. */
  withMesh<T>(fn: (c: Connected) => Promise<T>): Promise<T>;
}

export function createCli(program: Command): Cli {
  const flags = (): GlobalFlags => program.opts<GlobalFlags>();
  // The command being run: client commands take --tls-* (withTlsOptions) to call a mutual-TLS mesh.
  let running: Command | undefined;
  program.hook('preAction', (_program, action) => {
    running = action;
  });
  const logger = async (): Promise<Logger> => {
    const { createLogger } = await import('../../src/log/pino.ts');
    return createLogger({ level: flags().logLevel as LogLevel });
  };
  return {
    flags,
    mesh: () => meshFlags(flags()),
    logger,
    async withMesh(fn) {
      const { connect } = await import('./connect.ts');
      const { tlsOf } = await import('./tls-flags.ts');
      const c = await connect(meshFlags(flags()), await logger(), tlsOf(running?.opts() ?? {}).tls);
      try {
        return await fn(c);
      } finally {
        await c.service.stop();
      }
    },
  };
}
