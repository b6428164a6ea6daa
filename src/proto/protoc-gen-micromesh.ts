#!/usr/bin/env node
// protoc-gen-micromesh: run by `buf generate` or `protoc --micromesh_out=...`
// beside protoc-gen-es (see generate.ts and docs/proto.md).
import { readFileSync } from 'node:fs';
import { runNodeJs } from '@bufbuild/protoplugin';
import { micromeshPlugin } from './generate.ts';

/** micromesh's version, from the nearest package.json up (src/proto in the repo, dist/src/proto when installed). */
function version(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const p = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (p.name === 'micromesh' && typeof p.version === 'string') return p.version;
    } catch {
      // Not there: try the next level.
    }
  }
  return '0.0.0';
}

runNodeJs(micromeshPlugin(version()));
