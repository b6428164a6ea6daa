/**
 * Builds the dashboard's browser app (src/web/ui) into three files:
 * index.html, app.js and app.css. `npm run build` writes them to dist/web
 * (scripts/build-web.mjs), where the package serves them from; a dashboard
 * started from the sources (tests, `npm start`) builds them in memory once.
 * esbuild and preact are build-time dependencies only: nothing here is
 * loaded by a packaged dashboard. Self-contained (plain Node runs it).
 */

/** File name → contents. */
export type UiFiles = Map<string, Uint8Array>;

export async function bundleUi(): Promise<UiFiles> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [new URL('./ui/main.tsx', import.meta.url).pathname],
    bundle: true,
    minify: true,
    write: false,
    outdir: '/ui-out',
    entryNames: 'app',
    format: 'esm',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    // What a laptop's browser ran in the last two years; no polyfills.
    target: ['chrome115', 'firefox115', 'safari16'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  const files: UiFiles = new Map();
  for (const f of result.outputFiles) files.set(f.path.slice(f.path.lastIndexOf('/') + 1), f.contents);
  files.set('index.html', new TextEncoder().encode(INDEX_HTML));
  return files;
}

// Paths are relative, so the dashboard also works mounted under a prefix.
const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>micromesh</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='6' fill='%2346a38a'/%3E%3C/svg%3E">
<link rel="stylesheet" href="assets/app.css">
<script type="module" src="assets/app.js"></script>
</head>
<body><div id="app"></div></body>
</html>
`;
