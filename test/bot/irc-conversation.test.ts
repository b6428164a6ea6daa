// The bot on a real IRC server (ngircd, loopback): the conversation of the
// XMPP test in a channel and in a query, the allowlist by nick!user@host,
// and the bot back after the server restarts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { IrcInput, type Bot } from 'micromesh/bot';
import { botMesh, type BotMesh } from '../support/bot-mesh.ts';
import { ngircdGate, type Ngircd } from '../support/ngircd.ts';
import { human, until, type Human } from '../support/irc-user.ts';

const gate = await ngircdGate();
const opts = { skip: gate.skip, timeout: 90_000 };
const CHANNEL = '#ops';

let srv: Ngircd;
let mesh: BotMesh;
let bot: Bot;
let ada: Human;
let eve: Human;

/** The next line `who` was told by the bot (in `target`) matching `re`, taking it and those before. */
async function heard(who: Human, target: string, re: RegExp): Promise<string> {
  let line = '';
  await until(`the bot to tell ${target} ${re}`, () => {
    const i = who.said.findIndex((s) => s.nick === 'micromesh' && s.target.toLowerCase() === target.toLowerCase() && re.test(s.message));
    if (i < 0) return false;
    line = who.said.splice(0, i + 1).at(-1)!.message;
    return true;
  });
  return line;
}

before(async () => {
  if (gate.skip) return;
  srv = await gate.start();
  mesh = await botMesh(new IrcInput({ host: srv.host, port: srv.port, channels: [CHANNEL], lineDelayMs: 0 }), { allow: ['irc:ada!*@*'] });
  bot = mesh.bot;
  ada = await human(srv, 'ada');
  eve = await human(srv, 'eve');
});

after(async () => {
  ada?.close();
  eve?.close();
  await mesh?.stop();
  await srv?.dispose();
});

test('in a channel: services, a call and a service\'s own command, for messages that name the bot', opts, async () => {
  ada.client.say(CHANNEL, 'services anyone?');
  ada.client.say(CHANNEL, 'micromesh: services');
  assert.match(await heard(ada, CHANNEL, /greeter/), /greeter\s+latest\s+1/);
  ada.client.say(CHANNEL, 'micromesh, call greeter Greeter.Hello {"name":"Ada"}');
  assert.match(await heard(ada, CHANNEL, /Hello/), /"msg": "Hello Ada"/);
  ada.client.say(CHANNEL, 'micromesh deploy web');
  assert.equal(await heard(ada, CHANNEL, /deploy/), 'deploying web');
});

test('in a query, and the allowlist by nick!user@host', opts, async () => {
  ada.client.say('micromesh', 'ping');
  assert.equal(await heard(ada, 'ada', /pong/), 'pong');
  eve.client.say(CHANNEL, 'micromesh: call greeter Greeter.Hello {"name":"Eve"}');
  assert.match(await heard(eve, CHANNEL, /allowlisted/), /call changes things: only allowlisted users may run it \(you are irc:eve!/);
  eve.client.say(CHANNEL, 'micromesh: health greeter');
  assert.match(await heard(eve, CHANNEL, /ok/), /ok/);
});

test('the server restarts; the bot is back within 10 s', opts, async () => {
  ada.close();
  eve.close();
  await srv.stop();
  await srv.start();
  const restarted = Date.now();
  ada = await human(srv, 'ada');
  eve = await human(srv, 'eve');
  let pong = false;
  while (!pong && Date.now() - restarted < 10_000) {
    ada.client.say('micromesh', 'ping');
    pong = await until('pong', () => ada.said.some((s) => s.message === 'pong'), 500).then(() => true, () => false);
  }
  assert.ok(pong, `no pong within 10 s of the restart (connected: ${JSON.stringify(bot.connected())})`);
  console.log(JSON.stringify({ figure: 'bot irc reconnect', backMs: Date.now() - restarted }));
});
