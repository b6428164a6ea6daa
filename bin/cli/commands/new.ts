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
 * `--proto` scaffolds a TypeScript project around a .proto instead (Go
 * Micro's `micro new` also starts from one): protobuf needs a build step
 * anyway (`buf generate` with protoc-gen-es and protoc-gen-micromesh), so
 * `npm run build` generates gen/ and compiles with tsc, and the handler
 * implements the generated interface (bin/cli/new/proto.ts).
 *
 * NAME rules: see NAME_PATTERN in bin/cli/new/names.ts (a service name that
 * is also an npm package name).
 */
export function register(program: Command, cli: Cli): void {
  program.command('new')
    .description('create a service project: package.json, handler, main, client, test, README (--proto: defined by a .proto, in TypeScript)')
    .argument('<name>', 'service and package name: a lowercase letter, then lowercase letters, digits, ".", "_" or "-" (at most 128)')
    .option('--dir <dir>', 'where to create it (default: ./NAME)')
    .option('--force', 'write into DIR even if it is not empty (overwrites the generated files only)')
    .option('--proto', 'define the service in protobuf, in TypeScript: proto/NAME/v1/NAME.proto (NAME in snake case); npm run build runs buf generate (protoc-gen-es, protoc-gen-micromesh), then tsc')
    .action(async (name: string, o: { dir?: string; force?: boolean; proto?: boolean }) => {
      const [{ projectNames, protoNames }, { projectFiles, protoProjectFiles, writeProject }] = await Promise.all([import('../new/names.ts'), import('../new/project.ts')]);
      const names = projectNames(name);
      // The endpoints' prefix: the handler class, or the proto service (the same but for a clash with a message's name).
      const handler = o.proto ? protoNames(names).service : names.handler;
      const dir = resolve(o.dir ?? name);
      const files = (o.proto ? protoProjectFiles : projectFiles)(names, packageVersion());
      writeProject(dir, files, o.force === true);
      // With --proto, `npm test` builds first (buf generate, tsc): see the project's package.json.
      const next = [`cd ${shellPath(dir)} && npm install && npm test`, 'npm start'];
      if (cli.flags().json) {
        console.log(JSON.stringify({ service: names.service, handler, dir, files: Object.keys(files), next }));
        return;
      }
      console.log(`created ${names.service} (handler ${handler}) in ${dir}:`);
      for (const f of Object.keys(files)) console.log(`  ${f}`);
      console.log('next:');
      for (const line of next) console.log(`  ${line}`);
      console.log(`then, in another terminal: npx micromesh call ${names.service} ${handler}.Hello '{"name":"Ada"}'`);
    });
}

/** `dir` as typed in a shell: relative to the working directory when inside it, quoted when needed. */
function shellPath(dir: string): string {
  const rel = relative(process.cwd(), dir);
  const path = rel === '' ? '.' : !rel.startsWith('..') && !isAbsolute(rel) ? rel : dir;
  return /^[\w./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}
