/**
 * `file('config.yaml')`: a JSON or YAML file, Go Micro's file source,
 * watched. The directory is watched rather than the file: editors that save
 * by writing a new file and renaming it over the old one replace the inode a
 * file watch would follow, while the directory sees every such rename.
 */
import { watch as fsWatch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { MeshError } from '../index.ts';
import { TreeBuilder } from './merge.ts';
import { ID, parseDocument } from './parse.ts';
import type { ConfigSource } from './types.ts';

export interface FileOptions {
  /** A missing file reads as `{}` instead of failing. Default false. */
  optional?: boolean;
  /** Overrides the format the extension gives (`.json`; `.yaml`, `.yml`). */
  format?: 'json' | 'yaml';
  /** Files larger than this are refused (config, not data). Default 4 MiB. */
  maxBytes?: number;
}

const FORMATS: Record<string, 'json' | 'yaml'> = { '.json': 'json', '.yaml': 'yaml', '.yml': 'yaml' };

export function file(path: string, opts: FileOptions = {}): ConfigSource {
  if (typeof path !== 'string' || path.length === 0) throw new MeshError('INVALID_ARGUMENT', 'file(path): path must be a non-empty string', { id: ID });
  const format = opts.format ?? FORMATS[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new MeshError('INVALID_ARGUMENT', `file(${JSON.stringify(path)}): unknown format; use .json, .yaml or .yml, or the format option`, { id: ID });
  }
  const maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
  const name = `file ${path}`;
  const full = resolve(path);

  return {
    name,
    async load(signal) {
      let text: string;
      try {
        const bytes = await readFile(full, { signal });
        if (bytes.length > maxBytes) throw new MeshError('PAYLOAD_TOO_LARGE', `config file ${path}: ${bytes.length} bytes, over maxBytes ${maxBytes}`, { id: ID });
        text = bytes.toString('utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && opts.optional === true) return new TreeBuilder().snapshot();
        if (code === 'ENOENT') throw new MeshError('NOT_FOUND', `config file ${path} does not exist (${full}); pass { optional: true } if it may be absent`, { id: ID, cause: err });
        if (err instanceof MeshError || (err as Error).name === 'AbortError') throw err;
        throw new MeshError('UNAVAILABLE', `config file ${path}: ${(err as Error).message}`, { id: ID, cause: err });
      }
      const out = new TreeBuilder();
      out.merge(parseDocument(text, `config file ${path}`, format), () => name);
      return out.snapshot();
    },

    watch(ctx) {
      const target = basename(full);
      try {
        const watcher = fsWatch(dirname(full), { signal: ctx.signal, persistent: false }, (_event, changed) => {
          // Some platforms omit the name: then any change in the directory counts.
          if (changed === null || changed === target) ctx.changed();
        });
        watcher.on('error', (err) => ctx.logger.warn('config file watch failed', { file: path, err: err.message }));
      } catch (err) {
        // The directory itself is missing (an optional file): nothing to watch until restart.
        ctx.logger.warn('config file not watched', { file: path, err: (err as Error).message });
      }
    },
  };
}
