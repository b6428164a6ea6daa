// The dashboard in real headless Chromium against real processes: three
// members (two greeters, one inventory) run as their own processes, the
// dashboard runs here on a member that joined them. Set
// MICROMESH_SCREENSHOTS=DIR to keep a screenshot of each page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createService, type Service } from 'micromesh';
import { createWebDashboard, type WebDashboard } from 'micromesh/web';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { browserGate } from '../support/browser.ts';

// Functions passed to page.waitForFunction/evaluate run in the page; Node's types have no DOM.
declare const document: any;
declare const window: any;

const gate = await browserGate();
const NODE = new URL('../support/web_node.ts', import.meta.url).pathname;
const shots = process.env.MICROMESH_SCREENSHOTS;
const procs: JsonLinesProcess[] = [];
let svc: Service;
let web: WebDashboard;
let readOnly: WebDashboard;
let browser: Browser;
let page: Page;
let inventory: JsonLinesProcess;
let inventoryId: string;

function member(name: string, seed?: string): JsonLinesProcess {
  const p = new JsonLinesProcess(spawn(process.execPath, ['--import', 'tsx', NODE, name, ...(seed ? [seed] : [])], { stdio: ['ignore', 'pipe', 'pipe'] }), name);
  procs.push(p);
  return p;
}

const opts = { skip: gate.skip, timeout: 60_000 };

before(async () => {
  if (gate.skip) return;
  const a = member('greeter');
  const seed = (await a.waitFor((m) => typeof m.gossip === 'string', 30_000, 'greeter A')).gossip as string;
  member('greeter', seed);
  inventory = member('inventory', seed);
  inventoryId = (await inventory.waitFor((m) => typeof m.id === 'string', 30_000, 'inventory')).id as string;
  svc = createService({ name: 'micromesh-web', address: '127.0.0.1:0', mesh: { mdns: false, gossipAddress: '127.0.0.1:0', join: [seed], profile: 'local' } });
  web = createWebDashboard({ service: svc, address: '127.0.0.1:0' });
  readOnly = createWebDashboard({ service: svc, address: '127.0.0.1:0', readOnly: true });
  await web.start();
  await readOnly.start();
  browser = await gate.launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
});

after(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await browser?.close();
  await readOnly?.stop();
  await web?.stop();
  await svc?.stop();
});

async function shot(name: string): Promise<void> {
  if (shots) await page.screenshot({ path: join(shots, `web-${name}.png`) });
}

const url = (hash: string, d: WebDashboard = web): string => `http://${d.address}/${hash}`;

test('the services page lists the 3-node mesh with versions and node counts', opts, async () => {
  await page.goto(url('#/services'));
  await page.waitForFunction(() => document.querySelector('tr[data-service="greeter"] td:nth-child(3)')?.textContent === '2', undefined, { timeout: 30_000 });
  await page.waitForSelector('tr[data-service="inventory"]');
  assert.equal(await page.textContent('tr[data-service="inventory"] td:nth-child(3)'), '1');
  assert.equal(await page.textContent('tr[data-service="greeter"] td:nth-child(2)'), 'latest');
  await shot('services');
  await page.fill('input[type=search]', 'inv');
  await page.waitForFunction(() => document.querySelectorAll('#services tbody tr').length === 1);
  await page.fill('input[type=search]', '');
});

test('the call form calls Greeter.Hello from generated fields and shows the answer and latency', opts, async () => {
  await page.goto(url('#/service/greeter'));
  const hello = page.locator('[data-endpoint="Greeter.Hello"]');
  await hello.locator('input[name="name"]').fill('Ada');
  await hello.locator('input[name="times"]').fill('2');
  await hello.locator('button[type=submit]').click();
  await hello.locator('[data-outcome="ok"] .response').waitFor();
  assert.deepEqual(JSON.parse(await hello.locator('.response').textContent() ?? ''), { msg: 'Hello Ada Hello Ada' });
  assert.match(await hello.locator('.latency').textContent() ?? '', /\d+(\.\d+)? (ms|µs)/);
  assert.match(await hello.locator('.request-schema').textContent() ?? '', /name string/);
  await shot('service');
});

test('a bad field shows the server\'s BAD_REQUEST naming the path', opts, async () => {
  await page.goto(url('#/service/greeter'));
  const hello = page.locator('[data-endpoint="Greeter.Hello"]');
  await hello.locator('input[name="name"]').fill('Ada');
  await hello.locator('input[name="times"]').fill('many');
  await hello.locator('button[type=submit]').click();
  const box = hello.locator('.error-box[data-code="BAD_REQUEST"]');
  await box.waitFor();
  assert.match(await box.textContent() ?? '', /times/);
  assert.match(await box.textContent() ?? '', /HTTP 400/);
});

test('a server stream renders message by message and stops', opts, async () => {
  await page.goto(url('#/service/greeter'));
  const ticks = page.locator('[data-endpoint="Greeter.Ticks"]');
  await ticks.locator('button[type=submit]').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-endpoint="Greeter.Ticks"] .message').length >= 3, undefined, { timeout: 15_000 });
  await ticks.locator('button.stop').click();
  await ticks.locator('[data-outcome="stream"][data-state="stopped"]').waitFor();
  const n = await ticks.locator('.message').count();
  await page.waitForTimeout(400);
  assert.equal(await ticks.locator('.message').count(), n, 'no message after Stop');
});

test('a published message appears in the live tail; topics list subscribers and queue groups', opts, async () => {
  await page.goto(url('#/pubsub'));
  await page.waitForSelector('tr[data-topic="orders.*"]', { timeout: 15_000 });
  assert.match(await page.textContent('tr[data-topic="orders.*"]') ?? '', /billing/);
  await page.fill('#tail input[name=pattern]', 'orders.>');
  await page.click('#tail button[type=submit]');
  await page.waitForSelector('#tail [data-state="open"]');
  // The tail's subscription reaches the publisher through the member record: publish until one arrives.
  await page.fill('#publish input[name=topic]', 'orders.created');
  await page.fill('#publish textarea[name=message]', '{"id": 42}');
  for (let i = 0; i < 50 && (await page.locator('#tail .message').count()) === 0; i++) {
    await page.click('#publish button[type=submit]');
    await page.waitForTimeout(200);
  }
  const msg = page.locator('#tail .message[data-topic="orders.created"]').first();
  await msg.waitFor();
  assert.deepEqual(JSON.parse(await msg.locator('pre').textContent() ?? ''), { id: 42 });
  await shot('pubsub');
});

test('the stats page shows calls, latency and memory per node', opts, async () => {
  await page.goto(url('#/stats'));
  await page.waitForSelector('#stats tr[data-service="greeter"]');
  await page.waitForFunction(() => /\d/.test(document.querySelector('#stats tr[data-service="greeter"] td:nth-child(4)')?.textContent ?? ''));
  // Calls per second come from two polls (2 s apart).
  await page.waitForFunction(() => /\d/.test(document.querySelector('#stats tr[data-service="greeter"] td:nth-child(3)')?.textContent ?? ''), undefined, { timeout: 15_000 });
  await shot('stats');
});

test('the terminal runs the CLI\'s commands', opts, async () => {
  await page.goto(url('#/terminal'));
  const run = async (line: string): Promise<string> => {
    const before = await page.locator('#terminal pre').count();
    await page.fill('#terminal input[name=command]', line);
    await page.press('#terminal input[name=command]', 'Enter');
    await page.waitForFunction((n) => document.querySelectorAll('#terminal pre').length >= n + 2, before);
    return (await page.locator('#terminal pre').last().textContent()) ?? '';
  };
  assert.match(await run('services'), /greeter\s+latest\s+2/);
  assert.match(await run('service greeter'), /Endpoint: Greeter.Hello[\s\S]*name string/);
  assert.match(await run('call greeter Greeter.Hello {"name":"Bo"}'), /Hello Bo/);
  assert.match(await run('call greeter Greeter.Hello {"name":""}'), /error BAD_REQUEST \(HTTP 400\).*name/);
  assert.match(await run('health greeter'), /ok[\s\S]*ok/);
  assert.match(await run('members'), /alive/);
  assert.match(await run('publish orders.x {"a":1}'), /published to orders.x/);
  await shot('terminal');
});

test('read-only mode hides the forms and serves no write endpoint', opts, async () => {
  const p = await browser.newPage();
  await p.goto(url('#/service/greeter', readOnly));
  await p.waitForSelector('[data-endpoint="Greeter.Hello"]');
  await p.waitForSelector('.badge.ro');
  assert.equal(await p.locator('form.call').count(), 0);
  await p.goto(url('#/pubsub', readOnly));
  await p.waitForSelector('#tail');
  assert.equal(await p.locator('#publish').count(), 0);
  const rpc = await fetch(`http://${readOnly.address}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'greeter', endpoint: 'Greeter.Hello', request: { name: 'x' } }) });
  assert.equal(rpc.status, 404);
  const pub = await fetch(`http://${readOnly.address}/api/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"topic":"a","message":1}' });
  assert.equal(pub.status, 404);
  await p.close();
});

test('a SIGKILLed node turns suspect or dead on the mesh page without a reload, and its service disappears', opts, async () => {
  await page.goto(url('#/mesh'));
  const row = `#members tr[data-member="${inventoryId}"]`;
  await page.waitForSelector(`${row}[data-state="alive"]`, { timeout: 15_000 });
  // Marks the document: a reload would lose it.
  await page.evaluate(() => { window.marker = 1; });
  inventory.child.kill('SIGKILL');
  await page.waitForSelector(`${row}:is([data-state="suspect"], [data-state="dead"])`, { timeout: 30_000 });
  await page.waitForSelector(`#events [data-member="${inventoryId}"]:is([data-type="suspect"], [data-type="dead"])`);
  await shot('mesh');
  if (shots) {
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('mesh-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  }
  await page.click('nav a[href="#/services"]');
  await page.waitForSelector('tr[data-service="greeter"]');
  await page.waitForFunction(() => document.querySelector('tr[data-service="inventory"]') === null, undefined, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => window.marker), 1, 'no reload happened');
});
