// Runs the `micromesh` command as a user would, for end-to-end tests.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../bin/node.ts', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `micromesh ...args` to completion (optionally inside a network namespace). */
export function cli(args: readonly string[], opts: { netns?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const cmd = opts.netns ? 'ip' : process.execPath;
  const full = opts.netns ? ['netns', 'exec', opts.netns, process.execPath, CLI, ...args] : [CLI, ...args];
  return new Promise((resolve) => {
    execFile(cmd, full, { timeout: opts.timeoutMs ?? 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a listing command with --json and parses its output; throws with stderr on failure. */
export async function cliJson<T>(args: readonly string[], opts: { netns?: string } = {}): Promise<T> {
  const r = await cli(['--json', ...args], opts);
  if (r.code !== 0) throw new Error(`micromesh ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as T;
}
