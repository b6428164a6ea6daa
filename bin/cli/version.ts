import { readFileSync } from 'node:fs';

/**
 * The package's version, read from its package.json: the one beside the
 * sources (bin/cli/ → ../../) or beside the build (dist/bin/cli/ → ../../../).
 */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'micromesh' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}
