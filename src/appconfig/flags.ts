/**
 * `flags(argv)`: command-line flags, Go Micro's flag source.
 * `--server.port=8080` and `--server.port 8080` → `{ server: { port: 8080 } }`;
 * a flag with no value (`--debug`, or followed by another flag) is true;
 * values are JSON when they parse. Everything after `--`, arguments that do
 * not start with `--`, and single-dash flags are left to the application.
 */
import { MeshError } from '../index.ts';
import { TreeBuilder } from './merge.ts';
import { ID, parseScalar } from './parse.ts';
import type { ConfigSource } from './types.ts';

/** The flags in `argv` as [name, value, origin] in order (a repeated flag: the last wins in the tree). */
export function parseFlags(argv: readonly string[]): [string[], unknown, string][] {
  const out: [string[], unknown, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') break;
    if (!arg.startsWith('--') || arg.length === 2) continue;
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let value: unknown = true;
    if (eq >= 0) value = parseScalar(arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = parseScalar(argv[++i]);
    const path = flag.split('.');
    if (path.some((s) => s.length === 0)) continue;
    out.push([path, value, `flag --${flag}`]);
  }
  return out;
}

export function flags(argv: readonly string[]): ConfigSource {
  if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string')) {
    throw new MeshError('INVALID_ARGUMENT', 'flags(argv): argv must be an array of strings, e.g. process.argv.slice(2)', { id: ID });
  }
  const args = [...argv];
  return {
    name: 'flags',
    async load(signal) {
      signal?.throwIfAborted();
      const out = new TreeBuilder();
      for (const [path, value, origin] of parseFlags(args)) out.set(path, value, origin);
      return out.snapshot();
    },
  };
}
