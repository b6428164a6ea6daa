import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock, silentLogger, type Random } from 'micromesh';
import { allowlist, RateLimiter } from '../../../src/bot/access.ts';
import { words, jsonArg, straightQuotes } from '../../../src/bot/command.ts';
import { resolveBotConfig } from '../../../src/bot/config.ts';
import { Formatter } from '../../../src/bot/format.ts';
import { plainLines } from '../../../src/bot/render.ts';
import { Supervisor, backoffMs } from '../../../src/bot/supervisor.ts';
import type { ChatInput, InputEvents } from '../../../src/bot/types.ts';
import { addressed } from '../../../src/bot/xmpp.ts';

const half: Random = { next: () => 0.5, int: (n) => Math.floor(n / 2), shuffle: (x) => x, bytes: (n) => new Uint8Array(n) };

test('allowlist: exact identities and * wildcards, nothing else', () => {
  const ok = allowlist(['xmpp:ada@example.org', 'irc:*!*@10.0.0.*']);
  assert.ok(ok('xmpp:ada@example.org'));
  assert.ok(ok('irc:bo!bo@10.0.0.7'));
  assert.ok(!ok('xmpp:ada@example.org.evil'));
  assert.ok(!ok('irc:bo!bo@10.0.1.7'));
  assert.ok(!ok('xmpp:eve@example.org'));
  assert.ok(!allowlist([])('stdin:local'));
});

test('rate limit: a burst, then one warning, then silence until the bucket refills; per identity', () => {
  const clock = new VirtualClock();
  const r = new RateLimiter(clock, 60, 3);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => r.take('a')), ['ok', 'ok', 'ok', 'warn', 'drop']);
  assert.equal(r.take('b'), 'ok', 'another identity has its own bucket');
  clock.advance(1000);
  assert.equal(r.take('a'), 'ok', 'one a second at 60 a minute');
  assert.equal(r.take('a'), 'warn', 'a new refusal after an allowed command warns again');
});

test('words and JSON arguments; curly quotes from chat clients become straight', () => {
  assert.deepEqual(words('  call greeter  Greeter.Hello {"name": "Ada Lovelace"} ', 2), [['call', 'greeter'], 'Greeter.Hello {"name": "Ada Lovelace"}']);
  assert.deepEqual(words('help', 3), [['help'], '']);
  assert.deepEqual(jsonArg(''), {});
  assert.throws(() => jsonArg('{oops'), (e: { code: string }) => e.code === 'BAD_REQUEST');
  assert.equal(straightQuotes('{\u201cname\u201d: \u201cAda\u201d}'), '{"name": "Ada"}');
});

test('config: defaults, and errors name the field and range', () => {
  assert.equal(resolveBotConfig({}).burst, 5);
  assert.throws(() => resolveBotConfig({ burst: 0 }), /burst/);
  assert.equal(resolveBotConfig({ reconnectMinMs: 900, reconnectMaxMs: 100 }).reconnectMaxMs, 900);
});

test('answers fit a chat: tables cut to maxRows with a count, text cut at maxChars, IRC lines capped with a note', () => {
  const f = new Formatter(2, 100);
  const t = f.table(['A', 'B'], [['1', 'x'], ['22', 'y'], ['3', 'z']]);
  assert.deepEqual(t.blocks, [{ kind: 'code', text: 'A   B\n1   x\n22  y' }, { kind: 'text', text: '… 1 more not shown' }]);
  const long = f.json(undefined, { s: 'x'.repeat(300) });
  assert.match(long.blocks[0]!.text, /… \d+ more characters not shown$/);
  assert.deepEqual(plainLines({ blocks: [{ kind: 'code', text: 'a\nb\nc\nd' }] }, 3), ['a', 'b', '… 2 more lines not shown']);
});

test('xmpp: a room message is for the bot when it starts with its nick', () => {
  assert.equal(addressed('bot: services', 'bot'), 'services');
  assert.equal(addressed('Bot, call x y {}', 'bot'), 'call x y {}');
  assert.equal(addressed('@bot help', 'bot'), 'help');
  assert.equal(addressed('bottle: no', 'bot'), undefined);
  assert.equal(addressed('hello bot', 'bot'), undefined);
});

test('supervisor: backoff doubles to its cap; a lost connection is reconnected; stop ends the retries', async () => {
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => backoffMs(n, 100, 500, half)), [75, 150, 300, 375, 375]);
  const clock = new VirtualClock();
  let attempts = 0;
  let events: InputEvents | undefined;
  let closes = 0;
  const input: ChatInput = {
    name: 'fake',
    connect: async (e) => {
      attempts++;
      if (attempts <= 2) throw new Error('refused');
      events = e;
    },
    send: async () => {},
    close: async () => { closes++; },
  };
  const s = new Supervisor({ input, message: () => {}, clock, random: half, logger: silentLogger, minMs: 100, maxMs: 1000 });
  await s.start();
  assert.equal(s.connected, false);
  clock.advance(75);
  await new Promise((r) => setImmediate(r));
  clock.advance(150);
  await new Promise((r) => setImmediate(r));
  assert.equal(attempts, 3);
  assert.equal(s.connected, true);
  events!.closed(new Error('server went away'));
  assert.equal(s.connected, false);
  clock.advance(75);
  await new Promise((r) => setImmediate(r));
  assert.equal(attempts, 4, 'the backoff restarted after a good connection');
  await s.stop();
  events!.closed(new Error('late'));
  clock.advance(10_000);
  assert.equal(attempts, 4, 'no retry after stop');
  assert.equal(closes, 1);
});
