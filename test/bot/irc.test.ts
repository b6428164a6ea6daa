// The IRC input against a real ngircd on 127.0.0.1, with a second
// irc-framework client (or a raw socket, for bytes no client would send) as
// the human. Waits are deadlines, never timing asserts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { MeshError } from '../../src/index.ts';
import { IrcInput, alternativeNicks, ircLines, resolveIrcConfig } from '../../src/bot/irc.ts';
import type { ChatMessage, InputEvents, Reply } from '../../src/bot/types.ts';
import { ngircdGate, type Ngircd } from '../support/ngircd.ts';
import { human, until } from '../support/irc-user.ts';

const gate = await ngircdGate();
const CHANNEL = '#ops';

interface Recorder extends InputEvents {
  messages: ChatMessage[];
  closed_: Error[];
}

function recorder(): Recorder {
  const messages: ChatMessage[] = [];
  const closed_: Error[] = [];
  return { messages, closed_, message: (m) => void messages.push(m), closed: (e) => void closed_.push(e) };
}

const text = (t: string): Reply => ({ blocks: [{ kind: 'text', text: t }] });

describe('IrcInput against ngircd', { skip: gate.skip }, () => {
  let srv: Ngircd;
  before(async () => {
    srv = await gate.start();
  });
  after(async () => {
    await srv?.dispose();
  });

  const bot = (extra: Partial<ConstructorParameters<typeof IrcInput>[0]> = {}): IrcInput =>
    new IrcInput({ host: srv.host, port: srv.port, channels: [CHANNEL], lineDelayMs: 0, ...extra });

  test('a channel message addressed by nick is delivered with its fields; one not addressed is not', async () => {
    const input = bot();
    const ev = recorder();
    await input.connect(ev);
    const ada = await human(srv, 'ada');
    try {
      ada.client.say(CHANNEL, 'services please, everyone');
      ada.client.say(CHANNEL, 'micromeshy: not for the bot');
      ada.client.say(CHANNEL, 'micromesh: services');
      ada.client.say(CHANNEL, 'MicroMesh, health greeter');
      ada.client.say(CHANNEL, 'micromesh call greeter Greeter.Hello {"name":"Ada"}');
      await until('three addressed messages', () => ev.messages.length >= 3);
      assert.deepEqual(ev.messages.map((m) => m.text), ['services', 'health greeter', 'call greeter Greeter.Hello {"name":"Ada"}']);
      const m = ev.messages[0]!;
      assert.equal(m.from, 'irc:ada!~ada@127.0.0.1'); // ngircd marks an ident it did not check with ~
      assert.equal(m.fromName, 'ada');
      assert.equal(m.conversation, CHANNEL);
      assert.equal(m.direct, false);
      assert.equal(input.nick, 'micromesh');
    } finally {
      ada.close();
      await input.close();
    }
    assert.deepEqual(ev.closed_, []);
  });

  test('a private message is delivered as direct, its conversation the sender; the reply reaches them', async () => {
    const input = bot({ channels: [] });
    const ev = recorder();
    await input.connect(ev);
    const bob = await human(srv, 'bob', []);
    try {
      bob.client.say('micromesh', '  ping ');
      await until('the query', () => ev.messages.length === 1);
      const m = ev.messages[0]!;
      assert.deepEqual({ fromName: m.fromName, conversation: m.conversation, direct: m.direct, text: m.text }, { fromName: 'bob', conversation: 'bob', direct: true, text: 'ping' });
      await input.send(m.conversation, text('pong'));
      await until('the answer', () => bob.said.length === 1);
      assert.deepEqual(bob.said[0], { target: 'bob', nick: 'micromesh', message: 'pong' });
    } finally {
      bob.close();
      await input.close();
    }
  });

  test('a multi-line reply arrives as lines in order; a long one is cut with the note; long lines are split', async () => {
    const input = bot({ maxLinesPerReply: 5, lineDelayMs: 20, burstLines: 2 }); // paced
    await input.connect(recorder());
    const ada = await human(srv, 'ada');
    try {
      await input.send(CHANNEL, { blocks: [{ kind: 'text', text: 'greeter 2 nodes' }, { kind: 'code', text: 'a 1\nb 2' }] });
      await until('three lines', () => ada.said.length === 3);
      assert.deepEqual(ada.said.map((s) => s.message), ['greeter 2 nodes', 'a 1', 'b 2']);
      assert.ok(ada.said.every((s) => s.target === CHANNEL && s.nick === 'micromesh'));

      ada.said.length = 0;
      await input.send(CHANNEL, text(Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n')));
      await until('five lines', () => ada.said.length === 5);
      assert.deepEqual(ada.said.map((s) => s.message), ['line 0', 'line 1', 'line 2', 'line 3', '… 16 more lines not shown']);

      ada.said.length = 0;
      const long = 'é'.repeat(400); // 800 bytes: over IRC's 512-byte line
      await input.send(CHANNEL, text(long));
      await until('the long line in pieces', () => ada.said.map((s) => s.message).join('') === long);
      assert.ok(ada.said.length >= 3 && ada.said.every((s) => Buffer.byteLength(s.message) <= 350));
    } finally {
      ada.close();
      await input.close();
    }
  });

  test("the bot's own lines are ignored; CTCP, notices and bad bytes are dropped without harm", async () => {
    const input = bot();
    const ev = recorder();
    await input.connect(ev);
    const raw = await rawUser(srv, 'eve', CHANNEL);
    const ada = await human(srv, 'ada');
    try {
      // The server relays a query to oneself: the bot must not answer itself.
      await input.send('micromesh', text('micromesh: services'));
      await input.send(CHANNEL, text('micromesh: services'));
      ada.client.ctcpRequest('micromesh', 'PING', '1');
      ada.client.ctcpRequest(CHANNEL, 'VERSION');
      ada.client.notice('micromesh', 'micromesh: services');
      ada.client.action(CHANNEL, 'micromesh: waves');
      raw.write(Buffer.concat([Buffer.from(`PRIVMSG ${CHANNEL} :micromesh: caf`), Buffer.from([0xe9, 0xff]), Buffer.from('\r\n')]));
      raw.write(`PRIVMSG micromesh :ping\x07\x01 x\r\n`);
      raw.write(`PRIVMSG micromesh :\x02micromesh\x02: \x0304echo\x03 hi\r\n`);
      ada.client.say(CHANNEL, 'micromesh: marker');
      await until('the marker', () => ev.messages.some((m) => m.text === 'marker'));
      await until('eve\'s formatted line', () => ev.messages.some((m) => m.fromName === 'eve'));
      assert.deepEqual(ev.messages.map((m) => `${m.fromName}:${m.text}`).sort(), ['ada:marker', 'eve:micromesh: echo hi']);
      assert.ok(input.dropped >= 2, `dropped ${input.dropped}`);
      // Still healthy.
      await input.send(CHANNEL, text('still here'));
      await until('the bot to speak', () => ada.said.some((s) => s.message === 'still here'));
    } finally {
      raw.destroy();
      ada.close();
      await input.close();
    }
    assert.deepEqual(ev.closed_, []);
  });

  test('a taken nick falls back to an alternative that fits 9 characters', async () => {
    assert.deepEqual(alternativeNicks('micromesh'), ['micromesh_', 'micromesh__', 'micromes_', 'micromes2', 'micromes3']);
    const first = bot();
    const second = bot();
    await first.connect(recorder());
    try {
      await second.connect(recorder());
      assert.equal(second.nick, 'micromes_');
    } finally {
      await second.close();
      await first.close();
    }
  });

  test('killing ngircd fires closed once; after a restart connect works again; close() fires no closed', async () => {
    const input = bot();
    const ev = recorder();
    await input.connect(ev);
    await srv.stop('SIGKILL');
    await until('closed', () => ev.closed_.length === 1);
    assert.ok(ev.closed_[0] instanceof MeshError && ev.closed_[0].code === 'UNAVAILABLE');
    await assert.rejects(input.send(CHANNEL, text('x')), { code: 'UNAVAILABLE' });
    await assert.rejects(input.connect(ev), { code: 'UNAVAILABLE' }); // server still down

    await srv.start();
    await input.connect(ev);
    const ada = await human(srv, 'ada');
    ada.client.say(CHANNEL, 'micromesh: services');
    await until('a message after the restart', () => ev.messages.length === 1);
    await input.close();
    await until('the bot to quit', () => ada.quits.includes('micromesh'));
    ada.close();
    await input.close(); // idempotent
    assert.equal(ev.closed_.length, 1);
  });

  test('connect rejects UNAVAILABLE when nothing listens and honours an aborted signal', async () => {
    const down = new IrcInput({ host: '127.0.0.1', port: 1, channels: [] });
    await assert.rejects(down.connect(recorder()), (e: unknown) => e instanceof MeshError && e.code === 'UNAVAILABLE' && /127\.0\.0\.1:1/.test(e.message));
    await assert.rejects(bot().connect(recorder(), { signal: AbortSignal.abort() }), { code: 'CANCELLED' });
    const ac = new AbortController();
    const input = bot();
    const pending = input.connect(recorder(), { signal: ac.signal });
    ac.abort();
    await assert.rejects(pending, { code: 'CANCELLED' });
    await input.close();
  });
});

describe('IRC config and line shaping', () => {
  test('options are validated with field, range and value', () => {
    assert.throws(() => resolveIrcConfig({ host: 'h', port: 0 }), /bot\.irc\.port must be an integer in \[1, 65535\], got 0/);
    assert.throws(() => resolveIrcConfig({ host: 'h', nick: 'bad nick' }), /bot\.irc\.nick must be an IRC nick/);
    assert.throws(() => resolveIrcConfig({ host: 'h', channels: ['ops'] }), /bot\.irc\.channels\.0 must be a list of channel names/);
    assert.throws(() => resolveIrcConfig({ host: 'h', lineDelay: 1 } as never), /bot\.irc\.lineDelay is not a known setting/);
    assert.deepEqual(resolveIrcConfig({ host: 'irc.example.org' }), {
      host: 'irc.example.org', port: 6667, nick: 'micromesh', channels: [], password: undefined, tls: false,
      maxLinesPerReply: 12, lineDelayMs: 500, burstLines: 4, connectTimeoutMs: 30_000,
    });
  });

  test('control characters become spaces, blank lines go, pieces fit 350 bytes', () => {
    assert.deepEqual(ircLines(text('a\x01b\r\n\nc\x00'), 10), ['a b', 'c']);
    const pieces = ircLines(text(`${'word '.repeat(100)}`), 10);
    assert.ok(pieces.length === 2 && pieces.every((p) => Buffer.byteLength(p) <= 350 && !p.startsWith(' ')));
  });
});

/** A client on a bare socket, to send bytes irc-framework would never write. */
async function rawUser(srv: Ngircd, nick: string, channel: string): Promise<Socket> {
  const s = createConnection({ host: srv.host, port: srv.port });
  let buf = '';
  s.on('data', (d) => {
    buf += d.toString('latin1');
    for (const m of buf.matchAll(/^PING (.*)\r$/gm)) s.write(`PONG ${m[1]}\r\n`);
  });
  await once(s, 'connect');
  s.write(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\nJOIN ${channel}\r\n`);
  await until(`${nick} to join`, () => new RegExp(`:${nick}!\\S+ JOIN :?${channel}`).test(buf));
  return s;
}
