// The bot on a real XMPP server (prosody, loopback): one-to-one and in a
// room, the allowlist, a service's own command added and removed live, and
// the bot back after the server restarts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createService, silentLogger, type MemoryRegistry } from 'micromesh';
import { XmppInput, botCommand, type Bot } from 'micromesh/bot';
import { botMesh, type BotMesh } from '../support/bot-mesh.ts';
import { Prosody } from '../support/prosody.ts';
import { serverGate } from '../support/servers.ts';
import { XmppUser } from '../support/xmpp-user.ts';

const gate = await serverGate('/usr/bin/prosody', 'apt-get install prosody');
const opts = { skip: gate.skip, timeout: 60_000 };
const ROOM = 'ops@conference.localhost';
const BOT = 'bot@localhost';

let prosody: Prosody;
let mesh: BotMesh;
let registry: MemoryRegistry;
let bot: Bot;
let ada: XmppUser;
let eve: XmppUser;

before(async () => {
  if (gate.skip) return;
  prosody = await Prosody.start({ bot: 'bot-secret', ada: 'ada-secret', eve: 'eve-secret' });
  mesh = await botMesh(new XmppInput({ service: prosody.service, domain: 'localhost', username: 'bot', password: 'bot-secret', rooms: [ROOM] }),
    { allow: ['xmpp:ada@localhost'] });
  ({ registry, bot } = mesh);
  assert.deepEqual(bot.connected(), { xmpp: true });
  ada = await XmppUser.login(prosody.service, 'ada', 'ada-secret');
  eve = await XmppUser.login(prosody.service, 'eve', 'eve-secret');
});

after(async () => {
  await ada?.close();
  await eve?.close();
  await mesh?.stop();
  await prosody?.stop();
});

test('one-to-one: services, a call, a service\'s own command, and bad input answered with the usage', opts, async () => {
  await ada.say(BOT, 'services');
  assert.match(await ada.expect(BOT, /greeter/), /greeter\s+latest\s+1/);
  await ada.say(BOT, 'call greeter Greeter.Hello {"name":"Ada"}');
  assert.match(await ada.expect(BOT, /Hello/), /"msg": "Hello Ada"/);
  await ada.say(BOT, 'deploy web');
  assert.equal(await ada.expect(BOT, /deploy/), 'deploying web');
  await ada.say(BOT, 'deploy');
  assert.match(await ada.expect(BOT, /error/), /error COMMAND_FAILED: deploy: which app\?/);
  await ada.say(BOT, 'call greeter');
  assert.match(await ada.expect(BOT, /usage/), /usage: call SERVICE ENDPOINT \[JSON\]/);
  await ada.say(BOT, 'call greeter Greeter.Hello {oops');
  assert.match(await ada.expect(BOT, /JSON/), /not JSON[\s\S]*usage: call/);
  await ada.say(BOT, 'frobnicate');
  assert.match(await ada.expect(BOT, /unknown/), /unknown command "frobnicate": try help/);
});

test('in a room the bot answers messages that name it, in the room', opts, async () => {
  await ada.join(ROOM, 'ada');
  await new Promise((r) => setTimeout(r, 300));
  await ada.sayInRoom(ROOM, 'services, anyone?');
  await ada.sayInRoom(ROOM, 'bot: call greeter Greeter.Hello {"name":"Room"}');
  assert.match(await ada.expect(`${ROOM}/bot`, /Hello/), /Hello Room/);
  await ada.sayInRoom(ROOM, 'bot, deploy api');
  assert.equal(await ada.expect(`${ROOM}/bot`, /deploy/), 'deploying api');
});

test('someone not on the allowlist gets the read-only commands only', opts, async () => {
  await eve.say(BOT, 'call greeter Greeter.Hello {"name":"Eve"}');
  assert.match(await eve.expect(BOT, /allowlisted/), /call changes things: only allowlisted users may run it \(you are xmpp:eve@localhost\)/);
  await eve.say(BOT, 'deploy web');
  assert.match(await eve.expect(BOT, /allowlisted/), /deploy changes things/);
  await eve.say(BOT, 'health greeter');
  assert.match(await eve.expect(BOT, /ok|NODE/), /ok/);
  await eve.join(ROOM, 'eve');
  await new Promise((r) => setTimeout(r, 300));
  await eve.sayInRoom(ROOM, 'bot: publish orders.x {}');
  assert.match(await eve.expect(`${ROOM}/bot`, /allowlisted/), /you are xmpp:eve@localhost/, 'the room shows the real JID, which the allowlist checks');
});

test('a service adding and removing a command while the bot runs', opts, async () => {
  const weather = botCommand({ name: 'weather', usage: 'weather CITY', description: 'the weather', exec: ({ args }) => `sunny in ${args[0] ?? 'Oslo'}` });
  const svc = createService({ name: 'weather', mesh: false, registry, logger: silentLogger, metadata: weather.metadata }).handle('Command', weather.handler);
  await svc.start();
  let answer = '';
  for (let i = 0; i < 50 && !/sunny/.test(answer); i++) {
    await ada.say(BOT, 'weather Bergen');
    answer = await ada.expect(BOT, /sunny|unknown/);
  }
  assert.equal(answer, 'sunny in Bergen');
  await ada.say(BOT, 'help');
  assert.match(await ada.expect(BOT, /COMMAND/), /weather CITY\s+the weather \[weather\]/);
  await svc.stop();
  for (let i = 0; i < 50 && !/unknown/.test(answer); i++) {
    await ada.say(BOT, 'weather Bergen');
    answer = await ada.expect(BOT, /sunny|unknown/);
  }
  assert.match(answer, /unknown command "weather"/);
});

test('the server restarts; the bot is back within 10 s', opts, async () => {
  await ada.close();
  await eve.close();
  await prosody.restart();
  const restarted = Date.now();
  ada = await XmppUser.login(prosody.service, 'ada', 'ada-secret');
  eve = await XmppUser.login(prosody.service, 'eve', 'eve-secret');
  let pong = false;
  while (!pong && Date.now() - restarted < 10_000) {
    await ada.say(BOT, 'ping');
    pong = await ada.expect(BOT, /pong/, 500).then(() => true, () => false);
  }
  assert.ok(pong, `no pong within 10 s of the restart (connected: ${JSON.stringify(bot.connected())})`);
  console.log(JSON.stringify({ figure: 'bot xmpp reconnect', backMs: Date.now() - restarted }));
});
