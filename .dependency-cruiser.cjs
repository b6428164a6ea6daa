// The dependency rules CI checks (`npm run check:deps`, dependency-cruiser):
// no import cycle between files anywhere, and the layers of
// docs/ARCHITECTURE.md: a concept under src/ imports the kernel, itself and
// the concepts listed for it, nothing else. Type-only imports count.
const KERNEL = ['clock', 'errors', 'config', 'log', 'metrics', 'net', 'lifecycle'];

/** Concept → the concepts (besides the kernel and itself) it may import, bottom up. */
const LAYERS = {
  codec: [],
  transport: [],
  swim: ['transport'],
  mdns: [],
  membership: ['swim'],
  registry: ['membership'],
  selector: ['registry'],
  rpc: ['codec', 'transport', 'registry', 'selector'],
  pubsub: ['codec', 'rpc', 'membership', 'registry'],
  kv: ['codec', 'rpc', 'membership', 'registry'],
  admin: [],
  mesh: ['codec', 'transport', 'swim', 'mdns', 'membership', 'registry', 'selector', 'rpc', 'pubsub', 'kv', 'admin'],
};

/**
 * Toolkit parts: each in its own folder, on the public surface (src/index.ts)
 * only, plus the HTTP layer they share (src/http, through its index).
 */
const TOOLKIT = ['http', 'api', 'sidecar', 'web', 'bot', 'agent', 'observe', 'appconfig'];

const any = (names) => `^src/(${names.join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import cycles between files (docs/ARCHITECTURE.md: layers, no loops).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'kernel-stays-below',
      comment: 'The kernel is the shared vocabulary: it imports nothing above it.',
      severity: 'error',
      from: { path: any(KERNEL) },
      to: { path: '^src/', pathNot: any(KERNEL) },
    },
    ...Object.entries(LAYERS).map(([concept, allowed]) => ({
      name: `layer-${concept}`,
      comment: `${concept} may import the kernel${allowed.length ? `, ${allowed.join(', ')}` : ''} and itself (docs/ARCHITECTURE.md).`,
      severity: 'error',
      from: { path: `^src/${concept}/` },
      to: { path: '^src/', pathNot: any([...KERNEL, concept, ...allowed]) },
    })),
    {
      name: 'toolkit-on-public-surface',
      comment: 'A toolkit part uses micromesh as its users do: through src/index.ts.',
      severity: 'error',
      from: { path: any(TOOLKIT) },
      to: { path: '^src/', pathNot: [`^src/index\\.ts$`, '^src/http/index\\.ts$', '^src/$1/'] },
    },
    {
      name: 'http-layer-below-toolkit',
      comment: 'The shared HTTP layer knows no toolkit part above it.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/', pathNot: ['^src/index\\.ts$', '^src/http/'] },
    },
    {
      name: 'browser-app-stands-alone',
      comment: 'The dashboard\'s browser app (src/web/ui) is bundled for the browser: outside its folder it may import types only (erased), never code.',
      severity: 'error',
      from: { path: '^src/web/ui/' },
      to: { path: '^src/', pathNot: '^src/web/ui/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'dashboard-server-not-browser-app',
      comment: 'The dashboard\'s server serves the browser app as built files; it never imports its sources.',
      severity: 'error',
      from: { path: '^src/web/', pathNot: '^src/web/ui/' },
      to: { path: '^src/web/ui/' },
    },
    {
      name: 'src-stands-alone',
      comment: 'The library never imports the CLI, tests, benchmarks or examples.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(bin|test|bench|examples)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
