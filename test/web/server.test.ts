// The dashboard's server without a browser: the app's transfer size, caching,
// the JSON API's errors, and the live stream's first event.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createService, silentLogger, type Service } from 'micromesh';
import { createWebDashboard, type WebDashboard } from 'micromesh/web';

let svc: Service;
let web: WebDashboard;
let base: string;

before(async () => {
  svc = createService({ name: 'kitchen', mesh: false, logger: silentLogger })
    .handle('Kitchen', { Dish: ({ id }: { id: string }) => ({ dish: id }) });
  web = createWebDashboard({ service: svc, address: '127.0.0.1:0' });
  await web.start();
  base = `http://${web.address}`;
});

after(async () => {
  await web.stop();
  await svc.stop();
});

/** Bytes on the wire (node:http: fetch would decompress and hide the size). */
function raw(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: number }> {
  return new Promise((resolve, reject) => {
    request(`${base}${path}`, { headers }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes }));
    }).on('error', reject).end();
  });
}

test('the first page (HTML, script, styles) transfers under 200 KB gzipped, revalidated by ETag', async () => {
  let total = 0;
  for (const path of ['/', '/assets/app.js', '/assets/app.css']) {
    const r = await raw(path, { 'accept-encoding': 'gzip' });
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['content-encoding'], 'gzip', path);
    total += r.bytes;
    const again = await raw(path, { 'accept-encoding': 'gzip', 'if-none-match': String(r.headers.etag) });
    assert.equal(again.status, 304, `${path} revalidates`);
  }
  assert.ok(total <= 200 * 1024, `${total} bytes`);
  assert.equal((await raw('/assets/nope.js')).status, 404);
});

test('the API answers errors with stable codes', async () => {
  const missing = await fetch(`${base}/api/services/nobody`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json() as { code: string }).code, 'NOT_FOUND');
  const badTail = await fetch(`${base}/api/tail?topic=${encodeURIComponent('a b')}`);
  assert.equal(badTail.status, 400);
  assert.equal((await badTail.json() as { code: string }).code, 'BAD_REQUEST');
  const badPublish = await fetch(`${base}/api/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"topic":""}' });
  assert.equal((await badPublish.json() as { code: string }).code, 'BAD_REQUEST');
  const debug = await fetch(`${base}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'kitchen', endpoint: 'Debug.Stats' }) });
  assert.equal(debug.status, 404, 'Debug.* is not callable unless allowed');
  const call = await fetch(`${base}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'kitchen', endpoint: 'Kitchen.Dish', request: { id: 'soup' } }) });
  assert.deepEqual(await call.json(), { dish: 'soup' });
});

test('off the mesh the live stream still opens with a snapshot (no members); stats and health read every node', async () => {
  const ctl = new AbortController();
  const res = await fetch(`${base}/api/live`, { signal: ctl.signal, headers: { accept: 'text/event-stream' } });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!text.includes('\n\n')) text += (await reader.read()).value ?? '';
  ctl.abort();
  assert.match(text, /^event: snapshot\ndata: \{"members":\[\],"events":\[\]/);
  const stats = await (await fetch(`${base}/api/stats?service=kitchen`)).json() as { nodes: { result: { served: number } }[] };
  assert.equal(stats.nodes.length, 1);
  assert.equal(typeof stats.nodes[0]!.result.served, 'number');
  const health = await (await fetch(`${base}/api/health?service=kitchen`)).json() as { nodes: { result: { status: string } }[] };
  assert.equal(health.nodes[0]!.result.status, 'ok');
});

test('stop, then start again: the dashboard serves its page and API as before', async () => {
  const other = createWebDashboard({ service: svc, address: '127.0.0.1:0' });
  for (let round = 1; round <= 2; round++) {
    await other.start();
    const page = await fetch(`http://${other.address}/`);
    assert.equal(page.status, 200, `round ${round}`);
    const services = await fetch(`http://${other.address}/api/services`);
    assert.equal(services.status, 200, `round ${round}`);
    await other.stop();
    assert.equal(other.address, undefined);
  }
});
