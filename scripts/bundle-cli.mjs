// Bundles the `micromesh` command into one file, dist/bin/micromesh.js (the
// package's `bin`). The library is built by tsc (dist/src, one .js and
// .d.ts per source file); the command is bundled with esbuild because a
// process that loads one file instead of ~150 modules starts faster and
// stays smaller: measured on this machine, an idle `run --demo` node takes
// 62 MB instead of 71 MB and a `call` 0.18 s instead of 0.25 s
// (bench/startup.ts). libp2p (loaded by the gossip broker when it starts),
// the HTTP stack (loaded by `api` and `sidecar` only), ajv (loaded when a
// handler declares a plain JSON Schema) and cbor-extract (a native addon)
// stay outside, resolved from node_modules, so other commands don't parse them.
// yaml is required by the config loader on the first YAML document only
// (250 KB that the demo node, which reads JSON, never needs).
// esbuild too: the dashboard imports it only to build its app from the
// sources, never from the package (it serves dist/web).
import { readFileSync } from 'node:fs';
import { exit, stderr } from 'node:process';
import { build } from 'esbuild';

await build({
  // One file: splitting into chunks per command measured 4.5 MB more RSS for
  // an idle `run --demo` node. External packages are imported with import()
  // where they are used (fastify when an HTTP server starts), because a
  // static import of an external is hoisted to the top of the bundle and
  // would load for every command (it made `--version` 0.35 s instead of 0.13).
  entryPoints: ['bin/node.ts'],
  outfile: 'dist/bin/micromesh.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  external: ['cbor-extract', 'libp2p', '@libp2p/*', '@chainsafe/*', '@multiformats/*', 'fastify', '@fastify/*', 'ws', 'find-my-way', 'undici', 'ajv', 'esbuild', '@xmpp/*', 'irc-framework', '@slack/*', 'etcd3', 'cockatiel', '@nats-io/*', '@peculiar/*', 'reflect-metadata', 'yaml'],
  // Bundled CommonJS packages call require() for Node's modules.
  banner: { js: "import { createRequire as micromeshRequire } from 'node:module'; const require = micromeshRequire(import.meta.url);" },
  legalComments: 'eof',
  // No comments or indentation (1.4 → 0.9 MB to parse at every start). Keep
  // the bundle ASCII: one non-ASCII character anywhere (a regex literal, which
  // esbuild does not escape) makes V8 hold the whole source as UTF-16.
  minifyWhitespace: true,
  logLevel: 'warning',
});

// Guards for what made every command slower and bigger once (issues 21-22):
// Node modules that only one command needs, imported statically (hoisted to
// the top, so loaded by all), and non-ASCII characters.
const out = readFileSync('dist/bin/micromesh.js', 'latin1');
const HEAVY = ['node:http', 'node:https', 'node:http2', 'node:zlib', 'node:tls', 'node:worker_threads', 'node:inspector'];
const hoisted = HEAVY.filter((m) => new RegExp(`(^|;)import([^;"]*from)?"${m}"`, "m").test(out));
const wide = /[\u0080-\u00ff]/.exec(out); // read as latin1: every byte above 0x7f
if (hoisted.length > 0 || wide !== null) {
  if (hoisted.length > 0) stderr.write(`dist/bin/micromesh.js imports ${hoisted.join(', ')} statically: require them where they are used (createRequire), so other commands don't load them\n`);
  if (wide !== null) stderr.write(`dist/bin/micromesh.js has a non-ASCII character near: ${JSON.stringify(out.slice(Math.max(0, wide.index - 60), wide.index + 20))}; escape it (\\uXXXX)\n`);
  exit(1);
}
