// The Slack input against a local fake Slack (test/support/fake-slack.ts):
// Slack's documented Socket Mode envelopes replayed over a real WebSocket,
// the Web API answered over real HTTP, the official SDKs in between.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MeshError, type Logger } from 'micromesh';
import { SlackInput, plainText, resolveSlackConfig, truncate } from '../../src/bot/slack.ts';
import type { ChatMessage, InputEvents } from '../../src/bot/types.ts';
import { APP_TOKEN, BOT_ID, BOT_TOKEN, BOT_USER, FakeSlack, TEAM, appMention, disconnect, eventsApi, imMessage } from '../support/fake-slack.ts';

let slack: FakeSlack;
let input: SlackInput;
const messages: ChatMessage[] = [];
const closed: Error[] = [];
const events: InputEvents = { message: (m) => messages.push(m), closed: (e) => closed.push(e) };

function newInput(extra: Record<string, unknown> = {}, logger?: Logger): SlackInput {
  return new SlackInput({ appToken: APP_TOKEN, botToken: BOT_TOKEN, apiUrl: slack.apiUrl, logger, ...extra });
}

beforeEach(async () => {
  messages.length = 0;
  closed.length = 0;
  slack = await FakeSlack.start();
  input = newInput();
});

afterEach(async () => {
  await input.close();
  await slack.close();
});

test('a direct message arrives as direct, with the sender, team and channel', async () => {
  await input.connect(events);
  await slack.deliver(eventsApi(imMessage('services')));
  assert.deepEqual(messages, [{ from: `slack:${TEAM}/U2147483697`, fromName: 'U2147483697', conversation: 'D024BE91L', direct: true, text: 'services' }]);
});

test('a mention in a channel arrives without the mention; a thread reply names the thread', async () => {
  await input.connect(events);
  await slack.deliver(eventsApi(appMention(`<@${BOT_USER}> call greeter Greeter.Hello {“name”:“Ada”}`)));
  await slack.deliver(eventsApi(appMention(`<@${BOT_USER}|meshbot>: health greeter`, { thread_ts: '1515449500.000001', user_team: 'T0OTHER' })));
  assert.deepEqual(messages, [
    { from: `slack:${TEAM}/U061F7AUR`, fromName: 'U061F7AUR', conversation: 'C0LAN2Q65', direct: false, text: 'call greeter Greeter.Hello {"name":"Ada"}' },
    { from: 'slack:T0OTHER/U061F7AUR', fromName: 'U061F7AUR', conversation: 'C0LAN2Q65/1515449500.000001', direct: false, text: 'health greeter' },
  ]);
});

test('the sender is named by the profile when the event carries one', async () => {
  await input.connect(events);
  await slack.deliver(eventsApi(imMessage('ping', { user_profile: { name: 'ada', display_name: 'Ada L', real_name: 'Ada Lovelace' } })));
  assert.equal(messages[0]?.fromName, 'Ada L');
});

test("the bot's own messages, other bots, edits, channel chatter and retries are ignored, yet every envelope is acked", async () => {
  await input.connect(events);
  const ignored = [
    eventsApi(imMessage('echo me', { user: BOT_USER })),
    eventsApi(imMessage('Pushing is the answer', { subtype: 'bot_message', bot_id: 'BB12033', username: 'github', user: undefined })),
    eventsApi(imMessage('from my bot id', { bot_id: BOT_ID })),
    eventsApi({ type: 'message', subtype: 'message_changed', hidden: true, channel: 'D024BE91L', ts: '1358878755.000001', channel_type: 'im', message: { type: 'message', user: 'U2147483697', text: 'services', ts: '1355517523.000005', edited: { user: 'U2147483697', ts: '1358878755.000001' } } }),
    eventsApi(imMessage('no mention in a channel', { channel: 'C0LAN2Q65', channel_type: 'channel' })),
    eventsApi({ type: 'reaction_added', user: 'U2147483697', reaction: 'thumbsup', item: { type: 'message', channel: 'C0LAN2Q65', ts: '1360782400.498405' }, event_ts: '1360782804.083113' }),
    { envelope_id: 'slash-1', type: 'slash_commands', accepts_response_payload: true, payload: { command: '/mesh', text: 'services', user_id: 'U2147483697', channel_id: 'C0LAN2Q65' } },
  ];
  for (const e of ignored) await slack.deliver(e);
  const first = eventsApi(imMessage('members'), { eventId: 'Ev-once' });
  await slack.deliver(first);
  await slack.deliver(eventsApi(imMessage('members'), { eventId: 'Ev-once', retry: 1 }));
  assert.deepEqual(messages.map((m) => m.text), ['members']);
  assert.equal(slack.acks.length, ignored.length + 2);
});

test('malformed frames are dropped and logged, and the connection keeps working', async () => {
  const warned: string[] = [];
  const log: Logger = { debug() {}, info() {}, warn: (msg, f) => warned.push(`${msg} ${JSON.stringify(f)}`), error() {}, child: () => log };
  input = newInput({}, log);
  await input.connect(events);
  for (const bad of ['not json', '[1,2]', '{"type":"events_api","envelope_id":"x1"}', '{"type":"events_api","envelope_id":"x2","payload":{"event":{"type":"close"}}}',
    '{"type":"events_api","payload":{"event":{"type":"message"}}}', '{"type":"mystery"}', '{"type":"events_api","envelope_id":"x3","payload":{"event":{"type":"message","channel":5,"user":["U1"],"text":{}}}}']) {
    slack.send(bad);
  }
  await slack.deliver(eventsApi(imMessage('ping')));
  assert.deepEqual(messages.map((m) => m.text), ['ping']);
  assert.deepEqual(closed, []);
  assert.ok(warned.some((w) => w.includes('not JSON')), warned.join('\n'));
});

test('send posts fenced, escaped mrkdwn to the channel, and into the thread', async () => {
  await input.connect(events);
  await input.send('D024BE91L', { blocks: [{ kind: 'text', text: 'greeter <v1> & co' }, { kind: 'code', text: '{"msg":"Hello <!channel>"}' }] });
  await input.send('C0LAN2Q65/1515449500.000001', { blocks: [{ kind: 'text', text: 'pong' }] });
  assert.equal(slack.posts.length, 2);
  assert.equal(slack.posts[0]!.channel, 'D024BE91L');
  assert.equal(slack.posts[0]!.thread_ts, undefined);
  assert.equal(slack.posts[0]!.text, 'greeter &lt;v1&gt; &amp; co\n```\n{"msg":"Hello &lt;!channel&gt;"}\n```');
  assert.equal(slack.posts[0]!.mrkdwn, 'true');
  assert.deepEqual({ channel: slack.posts[1]!.channel, thread: slack.posts[1]!.thread_ts, text: slack.posts[1]!.text }, { channel: 'C0LAN2Q65', thread: '1515449500.000001', text: 'pong' });
  await assert.rejects(input.send('not a channel', { blocks: [] }), (e: MeshError) => e.code === 'INVALID_ARGUMENT');
});

test('a long answer is cut to maxChars with a note, its code fence closed', async () => {
  input = newInput({ maxChars: 500 });
  await input.connect(events);
  const lines = Array.from({ length: 100 }, (_, i) => `service-${i}  1.0.0  3 nodes`).join('\n');
  await input.send('D024BE91L', { blocks: [{ kind: 'text', text: 'services:' }, { kind: 'code', text: lines }] });
  const text = slack.posts[0]!.text;
  assert.ok(text.length <= 500, `${text.length}`);
  assert.match(text, /```\n_… truncated: \d+ of \d+ characters shown_$/);
  assert.equal(text.match(/```/g)!.length % 2, 0);
});

test('a dropped socket fires closed once; connect works again; close() after it is quiet', async () => {
  await input.connect(events);
  slack.drop();
  await until(() => closed.length > 0);
  assert.equal(closed.length, 1);
  assert.ok(closed[0] instanceof MeshError && closed[0].code === 'CONNECTION_LOST');
  await assert.rejects(input.send('D024BE91L', { blocks: [{ kind: 'text', text: 'x' }] }), (e: MeshError) => e.code === 'UNAVAILABLE');
  await input.connect(events);
  assert.equal(slack.connections, 2);
  await slack.deliver(eventsApi(imMessage('back')));
  assert.deepEqual(messages.map((m) => m.text), ['back']);
  await input.close();
  await input.close();
  assert.equal(closed.length, 1);
});

test('a disconnect envelope (refresh_requested) ends the connection with one closed; reconnecting gets a new URL', async () => {
  await input.connect(events);
  slack.send(disconnect('refresh_requested'));
  await until(() => closed.length > 0);
  assert.equal(closed.length, 1);
  await input.connect(events);
  assert.equal(slack.calls.filter((c) => c === 'apps.connections.open').length, 2);
  await slack.deliver(eventsApi(appMention(`<@${BOT_USER}> time`)));
  assert.equal(messages[0]?.text, 'time');
});

test('close() ends the connection with no closed event', async () => {
  await input.connect(events);
  await input.close();
  await slack.until(() => !slack.open);
  assert.deepEqual(closed, []);
  await assert.rejects(input.send('D024BE91L', { blocks: [] }), (e: MeshError) => e.code === 'UNAVAILABLE');
});

test('bad tokens reject UNAUTHORIZED; an unreachable Slack UNAVAILABLE; an aborted connect CANCELLED', async () => {
  await assert.rejects(newInput({ botToken: 'xoxb-wrong' }).connect(events), (e: MeshError) => e.code === 'UNAUTHORIZED' && /invalid_auth/.test(e.message));
  await assert.rejects(newInput({ appToken: 'xapp-wrong' }).connect(events), (e: MeshError) => e.code === 'UNAUTHORIZED');
  const port = new URL(slack.apiUrl).port;
  await slack.close();
  slack = await FakeSlack.start();
  await assert.rejects(newInput({ apiUrl: `http://127.0.0.1:${port}/api/` }).connect(events), (e: MeshError) => e.code === 'UNAVAILABLE');
  await assert.rejects(newInput().connect(events, { signal: AbortSignal.abort() }), (e: MeshError) => e.code === 'CANCELLED');
  assert.deepEqual(closed, []);
});

test('settings are validated with the field and range, and tokens never appear in errors', () => {
  assert.throws(() => resolveSlackConfig({ appToken: 'xoxb-secret-123', botToken: BOT_TOKEN }), (e: MeshError) =>
    e.code === 'INVALID_CONFIG' && /slack\.appToken must be an app-level token/.test(e.message) && !e.message.includes('secret'));
  assert.throws(() => resolveSlackConfig({ appToken: APP_TOKEN, botToken: BOT_TOKEN, maxChars: 50 }), /slack\.maxChars must be an integer in \[200, 40000\], got 50/);
  assert.throws(() => resolveSlackConfig({ appToken: APP_TOKEN, botToken: BOT_TOKEN, apiUrl: 'ftp://x' }), /slack\.apiUrl must be an http/);
  assert.equal(resolveSlackConfig({ appToken: APP_TOKEN, botToken: BOT_TOKEN, apiUrl: 'http://127.0.0.1:1/api' }).apiUrl, 'http://127.0.0.1:1/api/');
  assert.equal(resolveSlackConfig({ appToken: APP_TOKEN, botToken: BOT_TOKEN }).maxChars, 3500);
});

test('plainText and truncate', () => {
  assert.equal(plainText(`<@${BOT_USER}> publish <http://a.example|a.example> {&quot;x&quot;:1} &lt;&amp;&gt;`, BOT_USER), 'publish a.example {&quot;x&quot;:1} <&>');
  assert.equal(plainText('services', BOT_USER), 'services');
  assert.equal(truncate('short', 200), 'short');
  const cut = truncate(`${'a'.repeat(150)}&amp;${'b'.repeat(300)}`, 200);
  assert.ok(cut.length <= 200 && !/&[a-z]{0,3}\n/.test(cut), cut);
});

/** Polls for what the input reports (the test's timeout bounds it). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(5);
}
