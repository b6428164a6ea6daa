import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as Zlib from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServer } from '../http/index.ts';


/** node:zlib is required when the dashboard loads its assets: a static import would load it for every command of the CLI bundle. */
const load = createRequire(import.meta.url);

/** One file as served: its bytes, gzipped bytes and ETag. */
interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * The built app, read from dist/web next to the running code (the package,
 * or the one-file CLI), else built from the sources (a checkout).
 */
export async function loadAssets(): Promise<Map<string, Asset>> {
  const files = (await readBuilt()) ?? (await (await import('./bundle.ts')).bundleUi());
  const out = new Map<string, Asset>();
  for (const [name, bytes] of files) {
    const body = Buffer.from(bytes);
    out.set(name, { type: TYPES[name] ?? 'application/octet-stream', body, gzip: (load('node:zlib') as typeof Zlib).gzipSync(body, { level: 9 }), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return out;
}

async function readBuilt(): Promise<Map<string, Uint8Array> | undefined> {
  // dist/src/web/assets.js and the bundled dist/bin/micromesh.js both find dist/web.
  for (const dir of ['../../web/', '../web/']) {
    const base = new URL(dir, import.meta.url);
    try {
      const files = new Map<string, Uint8Array>();
      for (const name of Object.keys(TYPES)) files.set(name, await readFile(new URL(name, base)));
      return files;
    } catch {
      // Not there: try the next place, then build.
    }
  }
  return undefined;
}

/** Serves `/` (the app) and `/assets/*`, gzipped when the browser takes it, revalidated by ETag. */
export function registerAssets(http: HttpServer, assets: () => Map<string, Asset> | undefined): void {
  const send = (req: FastifyRequest, reply: FastifyReply, name: string): FastifyReply => {
    const a = assets()?.get(name);
    if (a === undefined) return reply.code(404).send();
    reply.header('etag', a.etag).header('cache-control', 'no-cache').header('vary', 'accept-encoding').header('content-type', a.type);
    if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
    if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) return reply.header('content-encoding', 'gzip').send(a.gzip);
    return reply.send(a.body);
  };
  http.install((app) => {
    app.get('/', (req, reply) => send(req, reply, 'index.html'));
    app.get('/assets/:file', (req, reply) => send(req, reply, (req.params as { file: string }).file));
  });
}
