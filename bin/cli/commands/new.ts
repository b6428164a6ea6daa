import { isAbsolute, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Cli } from '../context.ts';
import { packageVersion } from '../version.ts';

/**
 * `micromesh new NAME`: scaffolds a service project (Go Micro's `micro new`,
 * Moleculer's `moleculer init`): package.json, handler, main, client, test,
 * README (bin/cli/new/).
 *
 * The project is JavaScript (ES modules with JSDoc types and `// @ts-check`),
 * not TypeScript run by Node's type stripping: micromesh supports Node 22.12+,
 * and Node strips types by default only from 22.18 (23.6 on the odd line);
 * on 22.12-22.17 `.ts` needs `--experimental-strip-types` (with a warning)
 * and `node --test` does not find `.test.ts` files. Plain `.js` keeps
 * `npm install && npm test` and `npm start` working on every Node micromesh
 * supports, with no build step and no dev dependency (no tsx, no tsc), and
 * editors still type-check it against micromesh's .d.ts.
 *
 * NAME rules: see NAME_PATTERN in bin/cli/new/names.ts (a service name that
 * is also an npm package name).
 */
export function register(program: Command, cli: Cli): void {
  program.command('new')
    .description('create a service project: package.json, handler, main, client, test, README')
    .argument('<name>', 'service and package name: a lowercase letter, then lowercase letters, digits, ".", "_" or "-" (at most 128)')
    .option('--dir <dir>', 'where to create it (default: ./NAME)')
    .option('--force', 'write into DIR even if it is not empty (overwrites the generated files only)')
    .action(async (name: string, o: { dir?: string; force?: boolean }) => {
      const [{ projectNames }, { projectFiles, writeProject }] = await Promise.all([import('../new/names.ts'), import('../new/project.ts')]);
      const names = projectNames(name);
      const dir = resolve(o.dir ?? name);
      const files = projectFiles(names, packageVersion());
      writeProject(dir, files, o.force === true);
      const next = [`cd ${shellPath(dir)} && npm install && npm test`, 'npm start'];
      if (cli.flags().json) {
        console.log(JSON.stringify({ service: names.service, handler: names.handler, dir, files: Object.keys(files), next }));
        return;
      }
      console.log(`created ${names.service} (handler ${names.handler}) in ${dir}:`);
      for (const f of Object.keys(files)) console.log(`  ${f}`);
      console.log('next:');
      for (const line of next) console.log(`  ${line}`);
      console.log(`then, in another terminal: npx micromesh call ${names.service} ${names.handler}.Hello '{"name":"Ada"}'`);
    });
}

/** `dir` as typed in a shell: relative to the working directory when inside it, quoted when needed. */
function shellPath(dir: string): string {
  const rel = relative(process.cwd(), dir);
  const path = rel === '' ? '.' : !rel.startsWith('..') && !isAbsolute(rel) ? rel : dir;
  return /^[\w./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}
