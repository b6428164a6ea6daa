import * as v from 'valibot';
import type { SocketModeClient } from '@slack/socket-mode';
import type { WebClient } from '@slack/web-api';
import { config, MeshError, RateLimitedLog, silentLogger, SystemClock, type Clock, type ErrorCode, type Logger } from '../index.ts';
import { fencedText } from './render.ts';
import type { ChatInput, ChatMessage, InputEvents, Reply } from './types.ts';

const { definedOnly, intIn, parseConfig } = config;

/**
 * The Slack input of `micromesh bot`, on Slack's official SDKs: events come
 * over Socket Mode (@slack/socket-mode: no public URL needed), answers go out
 * with `chat.postMessage` (@slack/web-api). The app subscribes to the bot
 * events `message.im` (direct messages) and `app_mention` (channels).
 */
export interface SlackConfig {
  /** App-level token (`xapp-…`, scope `connections:write`): opens the Socket Mode connection. */
  appToken: string;
  /** Bot token (`xoxb-…`): `auth.test` and `chat.postMessage`. */
  botToken: string;
  /** Longest answer posted, characters; longer is cut with a note. [200, 40000], default 3500 (Slack folds messages past 4000). */
  maxChars: number;
  /** Web API base URL (the SDK's `slackApiUrl`); Socket Mode gets its WebSocket URL from `apps.connections.open` there. Default `https://slack.com/api/`. */
  apiUrl: string;
}

export interface SlackInputOptions extends Partial<SlackConfig> {
  logger?: Logger;
  clock?: Clock;
}

export const SLACK_DEFAULTS = { maxChars: 3500, apiUrl: 'https://slack.com/api/' } as const;

// Tokens are secrets: validated on a masked copy, so an error shows their prefix only.
const token = (prefix: string, kind: string) => {
  const error = `must be ${kind} token: ${prefix}- then 1 to 512 printable characters`;
  return v.pipe(v.string(error), v.literal(`${prefix}-…`, error));
};
const mask = (t: unknown) => (typeof t === 'string' ? `${t.slice(0, 5)}${/^[\x21-\x7e]{6,517}$/.test(t) ? '…' : '… (bad characters or length)'}` : t);
const urlError = 'must be an http:// or https:// URL';
const schema = v.strictObject({
  appToken: token('xapp', 'an app-level'),
  botToken: token('xoxb', 'a bot'),
  maxChars: v.optional(intIn(200, 40_000)),
  apiUrl: v.optional(v.pipe(v.string(urlError), v.maxLength(2048, urlError), v.check((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), urlError))),
});

/** Validates Slack settings; errors name the field and its range (`slack.maxChars must be …`) and never show a token. */
export function resolveSlackConfig(input: Partial<SlackConfig> | undefined, scope = 'slack'): SlackConfig {
  const given = definedOnly(input);
  const parsed = parseConfig(schema, { ...given, appToken: mask(given.appToken), botToken: mask(given.botToken) }, scope);
  const apiUrl = parsed.apiUrl ?? SLACK_DEFAULTS.apiUrl;
  return {
    appToken: given.appToken as string,
    botToken: given.botToken as string,
    maxChars: parsed.maxChars ?? SLACK_DEFAULTS.maxChars,
    apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`, // the SDK appends the method name
  };
}

/** Slack's documented answers to a bad, revoked or disabled token. */
const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'user_removed_from_team', 'team_disabled', 'no_permission', 'missing_scope']);
/** The Socket Mode envelope types Slack sends (docs.slack.dev/apis/events-api/using-socket-mode). */
const ENVELOPES = new Set(['hello', 'disconnect', 'events_api', 'interactive', 'slash_commands']);
/** The SDK emits an event's type as an event name: these names are its own (no Slack event has them). */
const SDK_EVENTS = new Set(['connecting', 'connected', 'reconnecting', 'disconnecting', 'disconnected', 'authenticated', 'close', 'error', 'ws_message', 'slack_event', 'outgoing_message', 'unable_to_socket_mode_start', 'newListener', 'removeListener']);
const ID = /^[A-Z0-9]{1,40}$/;
const TS = /^\d{1,12}\.\d{1,9}$/;
const REQUEST_TIMEOUT_MS = 30_000;
const CLOSE_WAIT_MS = 5000;
/** Event ids remembered against redelivery (Slack retries an event it thinks was lost, possibly on another connection). */
const SEEN_EVENTS = 1000;

interface Session {
  events: InputEvents;
  web: WebClient;
  socket?: SocketModeClient;
  botUserId: string;
  state: 'connecting' | 'open' | 'ended';
  /** The connection dropped before connect() could resolve. */
  lostEarly: boolean;
}

type Rec = Record<string, unknown>;
const isRec = (x: unknown): x is Rec => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

export class SlackInput implements ChatInput {
  readonly name = 'slack';
  private readonly cfg: SlackConfig;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly limited: RateLimitedLog;
  private readonly seen = new Set<string>();
  private session: Session | undefined;

  constructor(options: SlackInputOptions) {
    const { logger, clock, ...settings } = options;
    this.cfg = resolveSlackConfig(settings);
    this.log = (logger ?? silentLogger).child({ component: 'bot.slack' });
    this.clock = clock ?? new SystemClock();
    this.limited = new RateLimitedLog(this.log, this.clock);
  }

  async connect(events: InputEvents, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.close();
    if (opts.signal?.aborted) throw cancelled();
    // Loaded here, not at the top: other CLI commands never parse the SDKs.
    const [sm, webApi] = await Promise.all([import('@slack/socket-mode'), import('@slack/web-api')]);
    const sdkLog = sdkLogger(this.log, this.limited);
    const http = { slackApiUrl: this.cfg.apiUrl, timeout: REQUEST_TIMEOUT_MS, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } };
    const web = new webApi.WebClient(this.cfg.botToken, { ...http, logger: sdkLog });
    const session: Session = { events, web, botUserId: '', state: 'connecting', lostEarly: false };
    this.session = session;
    try {
      const auth = await abortable(web.auth.test(), opts.signal);
      if (!ID.test(auth.user_id ?? '')) throw new MeshError('PROTOCOL_ERROR', 'Slack auth.test answered without a user id', { id: 'bot.slack' });
      session.botUserId = auth.user_id as string;
      // No auto-reconnect: the bot core reconnects with backoff on `closed`.
      const socket = new sm.SocketModeClient({ appToken: this.cfg.appToken, autoReconnectEnabled: false, logger: sdkLog, clientOptions: http });
      session.socket = socket;
      this.screenEnvelopes(socket);
      const onEvent = (args: unknown) => this.onEvent(session, args);
      socket.on('message', onEvent);
      socket.on('app_mention', onEvent);
      socket.on('disconnected', () => this.lost(session));
      await abortable(socket.start(), opts.signal);
      if (session.state !== 'connecting' || session.lostEarly) throw new MeshError('UNAVAILABLE', 'the Slack connection closed as it opened', { id: 'bot.slack' });
      session.state = 'open';
      this.log.info('connected to Slack', { botUserId: session.botUserId, team: auth.team_id });
    } catch (err) {
      await this.end(session);
      throw opts.signal?.aborted ? cancelled() : toMeshError(err, 'connect to Slack');
    }
  }

  async send(conversation: string, reply: Reply, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const session = this.session;
    if (session?.state !== 'open') throw new MeshError('UNAVAILABLE', 'not connected to Slack', { id: 'bot.slack' });
    const [channel, thread] = conversation.split('/');
    if (!ID.test(channel ?? '') || (thread !== undefined && !TS.test(thread))) {
      throw new MeshError('INVALID_ARGUMENT', `not a Slack conversation: ${JSON.stringify(conversation.slice(0, 80))}`, { id: 'bot.slack' });
    }
    const text = truncate(fencedText({ blocks: reply.blocks.map((b) => ({ ...b, text: escapeText(b.text) })) }), this.cfg.maxChars);
    try {
      await abortable(session.web.chat.postMessage({ channel: channel!, thread_ts: thread, text, mrkdwn: true, unfurl_links: false, unfurl_media: false }), opts.signal);
    } catch (err) {
      throw opts.signal?.aborted ? cancelled() : toMeshError(err, 'post to Slack');
    }
  }

  async close(): Promise<void> {
    const session = this.session;
    if (session !== undefined) await this.end(session);
  }

  /** Ends a session without a `closed` event; waits a bounded time for the close handshake. */
  private async end(session: Session): Promise<void> {
    session.state = 'ended';
    if (this.session === session) this.session = undefined;
    const socket = session.socket;
    if (socket === undefined) return;
    session.socket = undefined;
    const stop = new AbortController();
    await Promise.race([
      socket.disconnect().catch(() => undefined),
      this.clock.sleep(CLOSE_WAIT_MS, stop.signal).catch(() => undefined),
    ]);
    stop.abort();
    socket.removeAllListeners();
  }

  /** The SDK reports the socket gone (dropped, pong timeout, a `disconnect` envelope): one `closed` per session. */
  private lost(session: Session): void {
    if (session.state === 'connecting') session.lostEarly = true;
    if (session.state !== 'open') return;
    session.state = 'ended';
    if (this.session === session) this.session = undefined;
    session.socket?.removeAllListeners();
    session.socket = undefined;
    this.log.info('Slack connection closed');
    try {
      session.events.closed(new MeshError('CONNECTION_LOST', 'the Slack Socket Mode connection closed', { id: 'bot.slack' }));
    } catch (err) {
      this.limited.warn('closed-handler', 'bot: the closed handler threw', { error: String(err) });
    }
  }

  /**
   * Checks each frame before the SDK sees it: the SDK parses envelopes
   * unchecked (a missing payload rejects in its handler, an event type such
   * as `close` would be emitted as its own lifecycle event). Malformed frames
   * are dropped and logged; every envelope that passes is acked.
   */
  private screenEnvelopes(socket: SocketModeClient): void {
    const sdk = socket.listeners('ws_message') as ((data: unknown, isBinary: boolean) => unknown)[];
    socket.removeAllListeners('ws_message');
    const failed = (err: unknown) => this.limited.warn('sdk', 'slack: the SDK failed on a frame', { error: String(err) });
    socket.on('ws_message', (data: unknown, isBinary: boolean) => {
      const drop = screen(data, isBinary);
      if (drop !== undefined) {
        this.limited.warn(`envelope:${drop}`, 'slack: dropped a malformed Socket Mode frame', { reason: drop });
        return;
      }
      for (const h of sdk) {
        try {
          const r = h(data, isBinary);
          if (r instanceof Promise) r.catch(failed);
        } catch (err) {
          failed(err);
        }
      }
    });
    // Acked first and always, handled or not: Slack redelivers what is not acked within 3 s.
    socket.on('slack_event', (args: unknown) => {
      const ack = isRec(args) ? args.ack : undefined;
      if (typeof ack === 'function') Promise.resolve((ack as () => Promise<void>)()).catch(failed);
    });
  }

  private onEvent(session: Session, args: unknown): void {
    try {
      if (!isRec(args) || session.state !== 'open' || !isRec(args.body) || !isRec(args.event)) return;
      const m = toMessage(args.body, args.event, session.botUserId);
      if (m === undefined) return;
      const eventId = str(args.body.event_id);
      if (eventId !== undefined) {
        if (this.seen.has(eventId)) return;
        this.seen.add(eventId);
        if (this.seen.size > SEEN_EVENTS) this.seen.delete(this.seen.values().next().value as string);
      }
      session.events.message(m);
    } catch (err) {
      this.limited.warn('event', 'slack: an event could not be handled', { error: String(err) });
    }
  }
}

/** Why a frame must not reach the SDK, or undefined when it may. */
function screen(data: unknown, isBinary: boolean): string | undefined {
  if (isBinary || typeof data !== 'string') return 'binary frame';
  let e: unknown;
  try {
    e = JSON.parse(data);
  } catch {
    return 'not JSON';
  }
  if (!isRec(e) || typeof e.type !== 'string' || !ENVELOPES.has(e.type)) return 'unknown envelope type';
  if (e.type === 'hello' || e.type === 'disconnect') return undefined;
  const id = str(e.envelope_id);
  if (id === undefined || id.length === 0 || id.length > 200) return 'envelope without an envelope_id';
  if (e.type !== 'events_api') return undefined;
  const event = isRec(e.payload) ? e.payload.event : undefined;
  if (!isRec(event) || typeof event.type !== 'string') return 'events_api envelope without an event';
  return SDK_EVENTS.has(event.type) ? 'event type that names an SDK event' : undefined;
}

/** A direct message or a mention, as the bot sees it; undefined for everything else. */
function toMessage(body: Rec, event: Rec, botUserId: string): ChatMessage | undefined {
  // Edits, deletions, joins and bots' posts all carry a subtype; bots carry bot_id.
  if (event.subtype !== undefined || event.bot_id !== undefined) return undefined;
  const user = str(event.user);
  const channel = str(event.channel);
  const text = str(event.text);
  if (user === undefined || channel === undefined || text === undefined || user === botUserId) return undefined;
  if (!ID.test(user) || !ID.test(channel)) return undefined;
  const direct = event.type === 'message';
  // Channel messages count only as mentions; a mention in a DM also comes as message.im.
  if (direct ? event.channel_type !== 'im' : event.channel_type === 'im' || channel.startsWith('D')) return undefined;
  const team = [event.user_team, event.team, body.team_id].map(str).find((t) => t !== undefined && ID.test(t)) ?? 'unknown';
  const thread = str(event.thread_ts);
  const profile = isRec(event.user_profile) ? event.user_profile : {};
  const name = [profile.display_name, profile.real_name, profile.name].map(str).find((n) => n !== undefined && n.length > 0 && n.length <= 80);
  return {
    from: `slack:${team}/${user}`,
    fromName: name ?? user,
    conversation: thread !== undefined && TS.test(thread) ? `${channel}/${thread}` : channel,
    direct,
    text: plainText(text, botUserId),
  };
}

/**
 * What the user typed, from Slack's markup: the leading mention of the bot
 * removed, links shown as their label (or URL), the three escaped characters
 * restored, and smart quotes made straight so JSON arguments parse.
 */
export function plainText(text: string, botUserId: string): string {
  return text
    .replace(new RegExp(`^\\s*<@${botUserId}(\\|[^>]*)?>[\\s:,]*`), '')
    .replace(/<((?:https?|mailto):[^>|]*)(?:\|([^>]*))?>/g, (_m, url: string, label?: string) => label ?? url)
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .trim();
}

/** Slack reads `<…>` as mentions and links (`<!channel>` notifies everyone): answers escape the control characters. */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts `text` to `max` characters with a note, never inside an entity or a surrogate pair, closing an open code fence. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = (shown: number) => `\n_… truncated: ${shown} of ${text.length} characters shown_`;
  let cut = text.slice(0, Math.max(0, max - note(max).length - 4)).replace(/&[a-z]{0,3}$/, '');
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  const shown = cut.length;
  if ((cut.match(/```/g) ?? []).length % 2 === 1) cut += '\n```';
  return cut + note(shown);
}

function sdkLogger(log: Logger, limited: RateLimitedLog) {
  const line = (msg: unknown[]) => msg.map(String).join(' ');
  return {
    debug: (...msg: unknown[]) => log.debug(`slack sdk: ${line(msg)}`),
    info: (...msg: unknown[]) => log.debug(`slack sdk: ${line(msg)}`),
    // Failures also reach the bot as rejections or `closed`: these are context, rate-limited.
    warn: (...msg: unknown[]) => limited.warn('sdk-warn', `slack sdk: ${line(msg)}`),
    error: (...msg: unknown[]) => limited.warn('sdk-error', `slack sdk: ${line(msg)}`),
    setLevel: () => undefined,
    getLevel: () => 'info' as never,
    setName: () => undefined,
  };
}

function cancelled(): MeshError {
  return new MeshError('CANCELLED', 'cancelled', { id: 'bot.slack' });
}

/** Maps the SDKs' errors to stable codes: a bad token is UNAUTHORIZED, anything about reaching Slack UNAVAILABLE. */
function toMeshError(err: unknown, what: string): MeshError {
  if (err instanceof MeshError) return err;
  const e = isRec(err) ? err : {};
  const slackError = isRec(e.data) ? str(e.data.error) : undefined;
  let code: ErrorCode = 'UNAVAILABLE';
  if (e.code === 'slack_webapi_platform_error') {
    code = slackError !== undefined && AUTH_ERRORS.has(slackError) ? 'UNAUTHORIZED'
      : slackError === 'ratelimited' ? 'TOO_MANY_REQUESTS'
        : ['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'].includes(slackError ?? '') ? 'UNAVAILABLE' : 'BAD_REQUEST';
  } else if (e.code === 'slack_webapi_rate_limited_error') code = 'TOO_MANY_REQUESTS';
  const detail = slackError ?? (err instanceof Error ? err.message : 'connection failed');
  return new MeshError(code, `could not ${what}: ${detail}`, { id: 'bot.slack', cause: err });
}

/** Rejects with the signal when it aborts first (the SDK calls take no signal). */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
