// Streams through the gateway: server streams to SSE and WebSocket, client
// and bidirectional streams over WebSocket (JSON text and CBOR binary
// frames), cancellation when the client goes away, and backpressure: a
// reader that stops reading stops the handler.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { CborCodec } from 'micromesh';
import { startFixture, until, type Fixture } from '../support/gateway.ts';

let f: Fixture;
before(async () => {
  f = await startFixture();
});
after(() => f.stop());

const wsUrl = (path: string): string => `${f.base.replace('http:', 'ws:')}${path}`;

/** Opens a socket and collects its messages until it closes. */
function openWs(path: string, protocols?: string[]): { ws: WebSocket; messages: unknown[]; closed: Promise<{ code: number; reason: string }>; opened: Promise<void> } {
  const ws = new WebSocket(wsUrl(path), protocols);
  const messages: unknown[] = [];
  const cbor = new CborCodec();
  ws.on('message', (data, isBinary) => messages.push(isBinary ? cbor.decode(data as Buffer) : JSON.parse(data.toString())));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, closed, opened };
}

/** Reads an SSE response into events. */
async function readSse(path: string): Promise<{ event: string; data: string }[]> {
  const r = await fetch(f.base + path, { headers: { accept: 'text/event-stream' } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type')!, /^text\/event-stream/);
  const out: { event: string; data: string }[] = [];
  for (const block of (await r.text()).split('\n\n')) {
    if (block.trim() === '' || block.startsWith(':')) continue;
    const lines = block.split('\n');
    out.push({ event: lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message', data: lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n') });
  }
  return out;
}

test('SSE: a server stream arrives as data events, then an end event', async () => {
  const events = await readSse('/echo/echo/count?n=3');
  assert.deepEqual(events, [
    { event: 'message', data: '{"i":1}' }, { event: 'message', data: '{"i":2}' }, { event: 'message', data: '{"i":3}' },
    { event: 'end', data: '{}' },
  ]);
});

test('SSE: an error ends the stream with an error event; a failure to open is a plain HTTP error', async () => {
  const events = await readSse('/echo/echo/fail?code=FORBIDDEN');
  assert.equal(events.length, 1);
  assert.equal(events[0]!.event, 'error');
  assert.equal(JSON.parse(events[0]!.data).code, 'FORBIDDEN');
  const r = await fetch(`${f.base}/nobody/x/y`, { headers: { accept: 'text/event-stream' } });
  assert.equal(r.status, 404);
});

test('SSE: the client going away cancels the handler', async () => {
  const before = f.echo.state.cancelled;
  const ctl = new AbortController();
  const r = await fetch(`${f.base}/echo/echo/forever`, { headers: { accept: 'text/event-stream' }, signal: ctl.signal });
  const reader = r.body!.getReader();
  await reader.read();
  ctl.abort();
  await until(async () => f.echo.state.cancelled, (n) => n > before, 'handler cancelled after the SSE client left');
});

test('SSE backpressure: a reader that stops reading stops the handler; reading again resumes it', async () => {
  const start = f.echo.state.produced;
  const res = await new Promise<import('node:http').IncomingMessage>((resolve) => {
    request(`${f.base}/echo/echo/forever`, { headers: { accept: 'text/event-stream' } }, resolve).end();
  });
  res.pause(); // never read: the socket's buffers fill up
  const stalled = await until(async () => {
    const a = f.echo.state.produced;
    await sleep(300);
    return [a, f.echo.state.produced];
  }, ([a, b]) => a === b && b! > start, 'the handler to stall');
  const bound = stalled[1]! - start;
  // Bounded by socket buffers and stream credit: nowhere near what an unbounded producer makes in a second.
  assert.ok(bound < 20_000, `produced ${bound} messages while nobody read`);
  res.resume();
  await until(async () => f.echo.state.produced, (n) => n > stalled[1]! + 1000, 'the handler to resume');
  res.destroy();
});

test('WebSocket: a server stream takes its request from the query, JSON text frames, then a clean close', async () => {
  const s = openWs('/echo/echo/count?n=3');
  const closed = await s.closed;
  assert.equal(closed.code, 1000);
  assert.deepEqual(s.messages, [{ i: 1 }, { i: 2 }, { i: 3 }]);
});

test('WebSocket: without a query, the first frame is the request; CBOR with the cbor subprotocol', async () => {
  const s = openWs('/echo/echo/count', ['cbor']);
  await s.opened;
  assert.equal(s.ws.protocol, 'cbor');
  s.ws.send(new CborCodec().encode({ n: 2 }));
  await s.closed;
  assert.deepEqual(s.messages, [{ i: 1 }, { i: 2 }]);
});

test('WebSocket: a client stream (declared stream: client) gets every frame; an empty frame ends the input and the answer follows', async () => {
  const s = openWs('/echo/echo/sum');
  await s.opened;
  for (const n of [1, 2, 3, 4]) s.ws.send(JSON.stringify({ n }));
  s.ws.send('');
  assert.equal((await s.closed).code, 1000);
  assert.deepEqual(s.messages, [{ sum: 10, count: 4 }]);
});

test('WebSocket: bidirectional stream, frame by frame', async () => {
  const s = openWs('/echo/echo/chat');
  await s.opened;
  s.ws.send(JSON.stringify({ text: 'a' }));
  await until(async () => s.messages.length, (n) => n === 1, 'first echo');
  s.ws.send(JSON.stringify({ text: 'b' }));
  await until(async () => s.messages.length, (n) => n === 2, 'second echo');
  s.ws.send('');
  assert.equal((await s.closed).code, 1000, 'the handler returns when the input ends, and the socket closes cleanly');
  assert.deepEqual(s.messages, [{ echo: 'A' }, { echo: 'B' }]);
});

test('WebSocket: a unary endpoint answers its query once, or else each frame in order', async () => {
  const once = openWs('/echo/echo/echo?q=1');
  assert.equal((await once.closed).code, 1000);
  assert.deepEqual(once.messages, [{ q: '1' }]);
  const s = openWs('/echo/echo/echo');
  await s.opened;
  for (const i of [1, 2, 3]) s.ws.send(JSON.stringify({ i }));
  await until(async () => s.messages.length, (n) => n === 3, 'three answers');
  assert.deepEqual(s.messages, [{ i: 1 }, { i: 2 }, { i: 3 }]);
  s.ws.close(1000);
});

test('WebSocket: closing the socket cancels the handler; errors arrive as an error frame and close 1011', async () => {
  const before = f.echo.state.cancelled;
  const s = openWs('/echo/echo/forever?go=1');
  await until(async () => s.messages.length, (n) => n > 5, 'some messages');
  s.ws.terminate();
  await until(async () => f.echo.state.cancelled, (n) => n > before, 'handler cancelled after the socket closed');
  const e = openWs('/echo/echo/fail?code=CONFLICT');
  const closed = await e.closed;
  assert.equal(closed.code, 1011);
  assert.equal(closed.reason, 'CONFLICT');
  assert.deepEqual((e.messages[0] as { error: { code: string; status: number } }).error.code, 'CONFLICT');
  const bad = openWs('/echo/echo/chat');
  await bad.opened;
  bad.ws.send('{not json');
  assert.equal((await bad.closed).code, 1007);
  const nowhere = openWs('/x');
  assert.equal((await nowhere.closed).code, 1008, 'a path that names no endpoint');
  const nobody = openWs('/nobody/x/y?a=1');
  assert.equal((await nobody.closed).code, 1011);
  assert.equal((nobody.messages[0] as { error: { code: string } }).error.code, 'SERVICE_NOT_FOUND');
});

test('WebSocket backpressure: a client that stops reading stops the handler', async () => {
  const start = f.echo.state.produced;
  const s = openWs('/echo/echo/forever?go=1');
  await s.opened;
  s.ws.pause();
  const stalled = await until(async () => {
    const a = f.echo.state.produced;
    await sleep(300);
    return [a, f.echo.state.produced];
  }, ([a, b]) => a === b && b! > start, 'the handler to stall');
  assert.ok(stalled[1]! - start < 20_000, `produced ${stalled[1]! - start} messages while nobody read`);
  s.ws.resume();
  await until(async () => f.echo.state.produced, (n) => n > stalled[1]! + 1000, 'the handler to resume');
  s.ws.terminate();
});
