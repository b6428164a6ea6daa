import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRegistry, createService, silentLogger, type Service } from 'micromesh';
import { botCommand, createBot, type ChatInput, type ChatMessage, type InputEvents, type Reply } from 'micromesh/bot';

/** An input the test types into and reads answers from. */
class FakeInput implements ChatInput {
  readonly name = 'fake';
  events: InputEvents | undefined;
  readonly sent: { conversation: string; text: string }[] = [];
  async connect(e: InputEvents): Promise<void> {
    this.events = e;
  }
  async send(conversation: string, reply: Reply): Promise<void> {
    this.sent.push({ conversation, text: reply.blocks.map((b) => b.text).join('\n') });
  }
  async close(): Promise<void> {}
  type(text: string, from = 'fake:ada', conversation = 'c1'): void {
    this.events!.message({ from, fromName: from, conversation, direct: true, text } satisfies ChatMessage);
  }
}

async function setup(): Promise<{ input: FakeInput; bot: ReturnType<typeof createBot>; registry: MemoryRegistry; services: Service[] }> {
  const registry = new MemoryRegistry();
  const greeter = createService({ name: 'greeter', mesh: false, registry, logger: silentLogger })
    .handle('Greeter', {
      Hello: ({ name }: { name: string }) => ({ msg: `Hello ${name}` }),
      Slow: async () => { await new Promise((r) => setTimeout(r, 50)); return { slow: true }; },
      Boom: () => { throw new Error('secret internals at /home/x/app.js:12'); },
    });
  await greeter.start();
  const input = new FakeInput();
  const svc = createService({ name: 'bot', mesh: false, registry, logger: silentLogger });
  const bot = createBot({ service: svc, inputs: [input], logger: silentLogger, config: { allow: ['fake:ada'], burst: 100 } });
  await bot.start();
  return { input, bot, registry, services: [greeter, svc] };
}

test('answers come in the order typed, per conversation; idle waits for them', async () => {
  const { input, bot, services } = await setup();
  input.type('call greeter Greeter.Slow');
  input.type('call greeter Greeter.Hello {"name":"Ada"}');
  input.type('ping');
  await bot.idle();
  assert.deepEqual(input.sent.map((s) => s.text.replace(/\s+/g, ' ')), ['{ "slow": true }', '{ "msg": "Hello Ada" }', 'pong']);
  await bot.stop();
  for (const s of services) await s.stop();
});

test('mutating commands need the allowlist; errors show their code, never internals', async () => {
  const { input, bot, services } = await setup();
  input.type('call greeter Greeter.Hello {"name":"Eve"}', 'fake:eve');
  input.type('publish t {}', 'fake:eve');
  input.type('services', 'fake:eve');
  input.type('call greeter Greeter.Boom');
  input.type('call greeter Nope.Nope');
  await bot.idle();
  const [call, publish, list, boom, nope] = input.sent.map((s) => s.text);
  assert.match(call!, /^call changes things: only allowlisted users may run it \(you are fake:eve\)$/);
  assert.match(publish!, /^publish changes things/);
  assert.match(list!, /greeter/);
  assert.match(boom!, /^error INTERNAL/);
  assert.doesNotMatch(boom!, /home|app\.js/);
  assert.match(nope!, /^error NOT_FOUND/);
  await bot.stop();
  for (const s of services) await s.stop();
});

test('a service command appears and disappears with its service; a built-in name wins', async () => {
  const { input, bot, registry, services } = await setup();
  const cmd = botCommand({ name: 'weather', usage: 'weather CITY', description: 'the weather', exec: ({ args, from }) => `sunny in ${args[0]} for ${from}` });
  const pingCmd = botCommand({ name: 'ping', usage: 'ping', description: 'not the real one', exec: () => 'hijacked' });
  const w = createService({ name: 'weather', mesh: false, registry, logger: silentLogger, metadata: cmd.metadata }).handle('Command', cmd.handler);
  const p = createService({ name: 'pinger', mesh: false, registry, logger: silentLogger, metadata: pingCmd.metadata }).handle('Command', pingCmd.handler);
  await w.start();
  await p.start();
  for (let i = 0; i < 100 && !bot.commands().some((c) => c.name === 'weather'); i++) await new Promise((r) => setTimeout(r, 10));
  input.type('weather Oslo');
  input.type('ping');
  await bot.idle();
  assert.deepEqual(input.sent.map((s) => s.text), ['sunny in Oslo for fake:ada', 'pong']);
  await w.stop();
  for (let i = 0; i < 100 && bot.commands().some((c) => c.name === 'weather'); i++) await new Promise((r) => setTimeout(r, 10));
  input.type('weather Oslo');
  await bot.idle();
  assert.match(input.sent.at(-1)!.text, /unknown command "weather"/);
  await p.stop();
  await bot.stop();
  for (const s of services) await s.stop();
});

test('nothing typed crashes the bot: empty, huge, control characters, unbalanced JSON', async () => {
  const { input, bot, services } = await setup();
  for (const t of ['', '   ', 'x'.repeat(100_000), 'call \u0000\u0001 {', 'echo \u202e\ud800', 'stream greeter', 'service']) input.type(t);
  input.type('ping');
  await bot.idle();
  assert.equal(input.sent.at(-1)!.text, 'pong');
  await bot.stop();
  for (const s of services) await s.stop();
});
