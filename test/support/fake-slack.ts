/**
 * A local stand-in for Slack (its servers cannot be reached from here): the
 * three Web API methods the bot's Slack input calls, and a Socket Mode
 * WebSocket that says `hello` and then replays the envelopes a test gives it.
 *
 * Shapes follow Slack's public documentation, not observed traffic:
 * - Socket Mode (apps.connections.open, `hello`, `disconnect`, the envelope
 *   and its ack): https://docs.slack.dev/apis/events-api/using-socket-mode
 * - The Events API wrapper (`event_callback`, `event_id`, `team_id`):
 *   https://docs.slack.dev/apis/events-api/
 * - `app_mention`: https://docs.slack.dev/reference/events/app_mention
 * - `message.im` and the subtypes: https://docs.slack.dev/reference/events/message.im,
 *   https://docs.slack.dev/reference/events/message/message_changed,
 *   https://docs.slack.dev/reference/events/message/bot_message
 * - auth.test and chat.postMessage answers: https://docs.slack.dev/reference/methods/auth.test,
 *   https://docs.slack.dev/reference/methods/chat.postMessage
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export const TEAM = 'T061EG9R6';
export const APP_ID = 'A0MDYCDME';
export const BOT_USER = 'U0LAN0Z89';
export const BOT_ID = 'B0LAN0Z89';
export const APP_TOKEN = 'xapp-1-A0MDYCDME-1-fake';
export const BOT_TOKEN = 'xoxb-17653672481-fake';

export interface Post {
  channel: string;
  text: string;
  thread_ts?: string;
  mrkdwn?: string;
}

export class FakeSlack {
  /** Web API base URL for the input's `apiUrl`. */
  readonly apiUrl: string;
  /** chat.postMessage calls, in order. */
  readonly posts: Post[] = [];
  /** Envelope ids the client acked, in order. */
  readonly acks: string[] = [];
  /** Web API calls by method name. */
  readonly calls: string[] = [];
  /** Socket Mode connections accepted so far. */
  connections = 0;
  private socket: WebSocket | undefined;
  private waiters: (() => void)[] = [];

  private readonly http: Server;
  private readonly wss: WebSocketServer;

  private constructor(http: Server, wss: WebSocketServer) {
    this.http = http;
    this.wss = wss;
    this.apiUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/`;
  }

  static async start(): Promise<FakeSlack> {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, path: '/link/' });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const fake = new FakeSlack(http, wss);
    http.on('request', (req, res) => void fake.api(req, res));
    wss.on('connection', (ws) => fake.accept(ws));
    return fake;
  }

  /** Whether a Socket Mode connection is open. */
  get open(): boolean {
    return this.socket !== undefined;
  }

  /** Sends a frame (an object, or raw text) on the open Socket Mode connection. */
  send(frame: object | string): void {
    if (this.socket === undefined) throw new Error('no Socket Mode connection');
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends an envelope and waits until the client acks it. */
  async deliver(envelope: { envelope_id: string }): Promise<void> {
    this.send(envelope);
    await this.until(() => this.acks.includes(envelope.envelope_id));
  }

  /** Cuts the connection without a close handshake (a network failure). */
  drop(): void {
    this.socket?.terminate();
    this.socket = undefined;
  }

  /** Resolves once `cond` holds; re-checked on every API call, ack and connection. */
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private accept(ws: WebSocket): void {
    this.connections++;
    this.socket = ws;
    // Documented hello; `approximate_connection_time` is in seconds.
    ws.send(JSON.stringify({
      type: 'hello',
      connection_info: { app_id: APP_ID },
      num_connections: 1,
      debug_info: { host: 'applink-fake', build_number: 54, approximate_connection_time: 3600 },
    }));
    ws.on('message', (data) => {
      try {
        const ack = JSON.parse(String(data)) as { envelope_id?: unknown };
        if (typeof ack.envelope_id === 'string') this.acks.push(ack.envelope_id);
      } catch {
        // not an ack
      }
      this.wake();
    });
    ws.on('close', () => {
      if (this.socket === ws) this.socket = undefined;
      this.wake();
    });
    this.wake();
  }

  private async api(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
    const auth = req.headers.authorization ?? '';
    const form = Object.fromEntries(new URLSearchParams(body));
    this.calls.push(method);
    const answer = (json: object) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
      this.wake();
    };
    if (method === 'apps.connections.open') {
      if (auth !== `Bearer ${APP_TOKEN}`) return answer({ ok: false, error: 'invalid_auth' });
      const { port } = this.http.address() as AddressInfo;
      return answer({ ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=fake-${this.connections + 1}` });
    }
    if (auth !== `Bearer ${BOT_TOKEN}`) return answer({ ok: false, error: 'invalid_auth' });
    if (method === 'auth.test') {
      return answer({ ok: true, url: 'https://fake.slack.com/', team: 'Fake', user: 'meshbot', team_id: TEAM, user_id: BOT_USER, bot_id: BOT_ID, is_enterprise_install: false });
    }
    if (method === 'chat.postMessage') {
      this.posts.push(form as unknown as Post);
      const ts = `1700000${String(this.posts.length).padStart(3, '0')}.000100`;
      return answer({ ok: true, channel: form.channel, ts, message: { type: 'message', user: BOT_USER, bot_id: BOT_ID, text: form.text, ts } });
    }
    return answer({ ok: false, error: 'unknown_method' });
  }
}

let seq = 0;

/** A Socket Mode `events_api` envelope around an Events API `event_callback` (documented shapes). */
export function eventsApi(event: Record<string, unknown>, opts: { envelopeId?: string; eventId?: string; retry?: number } = {}) {
  seq++;
  return {
    envelope_id: opts.envelopeId ?? `dbdd0ef3-1543-4f94-bfb4-${String(seq).padStart(12, '0')}`,
    type: 'events_api',
    accepts_response_payload: false,
    retry_attempt: opts.retry ?? 0,
    retry_reason: opts.retry ? 'timeout' : '',
    payload: {
      token: 'z26uFbvR1xHJEdHE1OQiO6t8',
      team_id: TEAM,
      api_app_id: APP_ID,
      event,
      type: 'event_callback',
      event_id: opts.eventId ?? `Ev0MDYGDK${seq}`,
      event_time: 1515449522,
      authorizations: [{ enterprise_id: null, team_id: TEAM, user_id: BOT_USER, is_bot: true, is_enterprise_install: false }],
      event_context: `4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMDYxRUc5UjYifQ-${seq}`,
    },
  };
}

/** `message.im`: a direct message to the bot. */
export function imMessage(text: string, extra: Record<string, unknown> = {}) {
  return { type: 'message', channel: 'D024BE91L', user: 'U2147483697', text, ts: '1355517523.000005', event_ts: '1355517523.000005', channel_type: 'im', ...extra };
}

/** `app_mention`: the bot named in a channel. */
export function appMention(text: string, extra: Record<string, unknown> = {}) {
  return { type: 'app_mention', user: 'U061F7AUR', text, ts: '1515449522.000016', channel: 'C0LAN2Q65', event_ts: '1515449522000016', ...extra };
}

/** The documented `disconnect` message (`refresh_requested`, `warning`, `link_disabled`). */
export function disconnect(reason = 'refresh_requested') {
  return { type: 'disconnect', reason, debug_info: { host: 'wss-111.slack.com' } };
}
