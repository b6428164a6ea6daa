// What `micromesh new` writes, and where. The templates are functions in
// modules (not files beside them) so that esbuild bundles them into
// dist/bin/micromesh.js with the rest of the command.
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MeshError } from '../../../src/errors/errors.ts';
import { clientJs, handlerJs, mainJs, testJs } from './code.ts';
import { gitignore, packageJson, readme } from './docs.ts';
import type { ProjectNames } from './names.ts';

/** The generated files: path relative to the project (with `/`) → content. */
export function projectFiles(n: ProjectNames, micromeshVersion: string): Record<string, string> {
  return {
    'package.json': packageJson(n, micromeshVersion),
    'README.md': readme(n),
    '.gitignore': gitignore(),
    'handler.js': handlerJs(n),
    'main.js': mainJs(n),
    'client.js': clientJs(n),
    'test/service.test.js': testJs(n),
  };
}

/**
 * Writes `files` under `dir`, creating it. A directory that exists and is not
 * empty is refused unless `force` (then the files are overwritten, and any
 * others left alone). Failures are INVALID_ARGUMENT errors naming the path.
 */
export function writeProject(dir: string, files: Record<string, string>, force: boolean): void {
  let entries: string[] | undefined;
  try {
    entries = statSync(dir).isDirectory() ? readdirSync(dir) : undefined;
    if (entries === undefined) throw new MeshError('INVALID_ARGUMENT', `${dir} exists and is not a directory`);
  } catch (err) {
    if (err instanceof MeshError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new MeshError('INVALID_ARGUMENT', `cannot read ${dir}: ${(err as Error).message}`);
  }
  if (entries !== undefined && entries.length > 0 && !force) {
    throw new MeshError('INVALID_ARGUMENT', `directory ${dir} is not empty (--force writes the project's files into it anyway)`);
  }
  for (const [path, content] of Object.entries(files)) {
    const file = join(dir, ...path.split('/'));
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    } catch (err) {
      throw new MeshError('INVALID_ARGUMENT', `cannot write ${file}: ${(err as Error).message}`);
    }
  }
}
