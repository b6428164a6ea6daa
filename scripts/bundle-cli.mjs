// Bundles the `micromesh` command into one file, dist/bin/micromesh.js (the
// package's `bin`). The library is built by tsc (dist/src, one .js and
// .d.ts per source file); the command is bundled with esbuild because a
// process that loads one file instead of ~150 modules starts faster and
// stays smaller: measured on this machine, an idle `run --demo` node takes
// 62 MB instead of 71 MB and a `call` 0.18 s instead of 0.25 s
// (bench/startup.ts). libp2p (loaded by the gossip broker when it starts),
// the HTTP stack (loaded by `api` and `sidecar` only) and cbor-extract (a
// native addon) stay outside, resolved from node_modules, so other commands
// don't parse them.
import { build } from 'esbuild';

await build({
  // Split at each command's import(): a chunk's external imports (fastify
  // for `api`) are hoisted to the top of that chunk, not of the entry, so
  // other commands never load them (one file made `--version` load fastify:
  // 0.13 s became 0.35 s).
  entryPoints: { micromesh: 'bin/node.ts' },
  outdir: 'dist/bin',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  external: ['cbor-extract', 'libp2p', '@libp2p/*', '@chainsafe/*', '@multiformats/*', 'fastify', '@fastify/*', 'ws', 'find-my-way', 'undici'],
  // Bundled CommonJS packages call require() for Node's modules.
  banner: { js: "import { createRequire as micromeshRequire } from 'node:module'; const require = micromeshRequire(import.meta.url);" },
  legalComments: 'eof',
  logLevel: 'warning',
});
