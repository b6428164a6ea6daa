// Builds the dashboard's browser app into dist/web (index.html, app.js,
// app.css), where `micromesh web` and micromesh/web serve it from. The
// bundling itself lives in src/web/bundle.ts, which a dashboard started from
// the sources also uses; plain Node runs it (type stripping).
import { mkdirSync, writeFileSync } from 'node:fs';
import { stdout } from 'node:process';
import { gzipSync } from 'node:zlib';
import { bundleUi } from '../src/web/bundle.ts';

const files = await bundleUi();
mkdirSync('dist/web', { recursive: true });
let raw = 0;
let gz = 0;
for (const [name, bytes] of files) {
  writeFileSync(`dist/web/${name}`, bytes);
  raw += bytes.length;
  gz += gzipSync(bytes, { level: 9 }).length;
}
stdout.write(`dist/web: ${files.size} files, ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped\n`);
