import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';

/** `micromesh keygen`: a fresh 32-byte gossip key in base64, for --key / MICROMESH_KEY. */
export function register(program: Command): void {
  program.command('keygen').description('print a new gossip encryption key (for --key / MICROMESH_KEY)').action(() => {
    console.log(randomBytes(32).toString('base64'));
  });
}
