import * as v from 'valibot';
import { config, MeshError, RateLimitedLog, silentLogger, SystemClock, type Clock, type Logger, type TimerHandle } from '../index.ts';
import { plainLines } from './render.ts';
import type { ChatInput, ChatMessage, InputEvents, Reply } from './types.ts';

const { bool, definedOnly, intIn, parseConfig, str } = config;

/** Settings of the IRC input. */
export interface IrcConfig {
  /** The IRC server's host name or address. Required. */
  host: string;
  /** [1, 65535], default 6667 (use 6697 with `tls`). */
  port: number;
  /** The bot's nick; when taken, `nick_` and shorter variants are tried. Default `micromesh`. */
  nick: string;
  /** Channels to join (`#ops`); in them the bot answers lines that start with its nick. Default none (queries only). */
  channels: string[];
  /** Server password (PASS), if the server wants one. */
  password: string | undefined;
  /** Connect with TLS (the server's certificate is verified). Default false. */
  tls: boolean;
  /** Lines one answer may post; longer answers are cut with a note. [1, 100], default 12. */
  maxLinesPerReply: number;
  /**
   * Client-side flood control (RFC 1459 §8.10; irc-framework has none): each
   * line costs this much, and lines wait once `burstLines` lines' worth is
   * owed, ms. [0, 60000], default 500; 0 turns pacing off.
   */
  lineDelayMs: number;
  /** Lines sent back to back before pacing starts. [1, 100], default 4. */
  burstLines: number;
  /** Time allowed to connect, register and join, ms. [100, 600000], default 30000. */
  connectTimeoutMs: number;
}

export const IRC_DEFAULTS: Omit<IrcConfig, 'host'> = {
  port: 6667, nick: 'micromesh', channels: [], password: undefined, tls: false,
  maxLinesPerReply: 12, lineDelayMs: 500, burstLines: 4, connectTimeoutMs: 30_000,
};

// RFC 2812 nick characters; channel names without space, comma, BELL or controls.
const nickError = 'must be an IRC nick (a letter or one of [ ] \\ ` _ ^ { | }, then those, digits or -; up to 30)';
const nickSchema = v.pipe(v.string(nickError), v.regex(/^[A-Za-z[\]\\`_^{|}][\w[\]\\`^{|}-]{0,29}$/, nickError));
const channelError = 'must be a list of channel names (#name, no spaces or commas)';
// eslint-disable-next-line no-control-regex
const channelSchema = v.pipe(v.string(channelError), v.regex(/^[#&+!][^\s,\x00-\x1f]{1,49}$/, channelError));

const schema = v.strictObject({
  host: str(255),
  port: v.optional(intIn(1, 65535)),
  nick: v.optional(nickSchema),
  channels: v.optional(v.array(channelSchema, channelError)),
  password: v.optional(str(256)),
  tls: v.optional(bool()),
  maxLinesPerReply: v.optional(intIn(1, 100)),
  lineDelayMs: v.optional(intIn(0, 60_000)),
  burstLines: v.optional(intIn(1, 100)),
  connectTimeoutMs: v.optional(intIn(100, 600_000)),
});

export type IrcConfigInput = Partial<IrcConfig> & { host: string };

/** Validates `input` over the defaults; errors name the field (`scope.field`), its range and the value. */
export function resolveIrcConfig(input: IrcConfigInput, scope = 'bot.irc'): IrcConfig {
  return { ...IRC_DEFAULTS, ...definedOnly(parseConfig(schema, definedOnly(input), scope)) } as IrcConfig;
}

export interface IrcInputOptions extends IrcConfigInput {
  clock?: Clock;
  logger?: Logger;
}

// What the server relays fits in its 512-byte line only if the text leaves
// room for the `:nick!user@host PRIVMSG target :` prefix it adds: 350 bytes
// is irc-framework's own default (message_max_length).
const MAX_LINE_BYTES = 350;
// A line from the server is at most 512 bytes (8191 with tags); anything
// longer is not IRC and is dropped.
const MAX_INCOMING_CHARS = 4096;
// mIRC formatting (bold, colour, italics, underline, reverse, reset), stripped from what users type.
// eslint-disable-next-line no-control-regex
const FORMATTING = /\x03(\d{1,2}(,\d{1,2})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
const CONTROL_ALL = new RegExp(CONTROL.source, 'g');
// A nick or channel: a space or control character would inject a second IRC command.
// eslint-disable-next-line no-control-regex
const CONVERSATION = /^[^\s,\x00-\x1f\x7f]{1,200}$/;

/** The part of irc-framework's Client this input uses (the package ships no types). */
interface IrcClient {
  user: { nick: string };
  network: { isChannelName(name: string): boolean };
  connection: { transport?: { close(force: boolean): void } | null };
  connected: boolean;
  on(event: string, fn: (e: any) => void): void;
  removeAllListeners(): void;
  connect(opts: Record<string, unknown>): void;
  changeNick(nick: string): void;
  join(channel: string): void;
  say(target: string, text: string): void;
  quit(message?: string): void;
  caseCompare(a: string, b: string): boolean;
  caseLower(s: string): string;
}

/** One connection attempt and, once registered, its session. */
interface Session {
  client: IrcClient;
  /** Registered and joined: messages are delivered, `send` works. */
  live: boolean;
  /** `close()` ended it: no `closed` event. */
  closing: boolean;
  /** Resolves when its socket has closed. */
  gone: Promise<void>;
}

/**
 * IRC input of `micromesh bot` on irc-framework: queries and the channels it
 * joins, where it answers lines addressed to it by nick (`micromesh: services`,
 * `micromesh, services`). It never reconnects on its own (the bot does, on
 * `closed`); replies go out one PRIVMSG per line, cut to `maxLinesPerReply`
 * and paced so servers don't flood-kick it.
 */
export class IrcInput implements ChatInput {
  readonly name = 'irc';
  readonly config: IrcConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly limited: RateLimitedLog;
  private session: Session | undefined;
  private outbox: Promise<void> = Promise.resolve();
  /** RFC 1459's message timer: when the lines sent so far are paid for. */
  private paidUntil = 0;
  private droppedCount = 0;
  /** Bumped by close(), so a connect it overtook gives up. */
  private generation = 0;

  constructor(opts: IrcInputOptions) {
    const { clock, logger, ...cfg } = opts;
    this.config = resolveIrcConfig(cfg);
    this.clock = clock ?? new SystemClock();
    this.log = logger ?? silentLogger;
    this.limited = new RateLimitedLog(this.log, this.clock);
  }

  /** Messages from the server dropped as malformed (control characters, bad UTF-8, too long) or that failed in a handler. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** The nick the server gave the bot (an alternative when the configured one was taken), while connected. */
  get nick(): string | undefined {
    return this.session?.live ? this.session.client.user.nick : undefined;
  }

  async connect(events: InputEvents, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = opts;
    if (signal?.aborted) throw new MeshError('CANCELLED', 'IRC connect aborted');
    const generation = this.generation;
    await this.end(this.session);
    // Loaded here so the CLI bundle parses it only for `micromesh bot` (it stays external).
    const mod = await import('irc-framework');
    if (signal?.aborted || generation !== this.generation) throw new MeshError('CANCELLED', 'IRC connect aborted or closed');
    const client = new ((mod.default ?? mod).Client)() as IrcClient;
    const cfg = this.config;
    let resolveGone!: () => void;
    const session: Session = { client, live: false, closing: false, gone: new Promise((r) => (resolveGone = r)) };
    this.session = session;
    const where = `${cfg.host}:${cfg.port}`;

    return new Promise<void>((resolve, reject) => {
      const pending = new Set(cfg.channels.map((c) => client.caseLower(c)));
      const nicks = alternativeNicks(cfg.nick);
      let settled = false;
      let lastError = '';
      const finish = (err?: MeshError): void => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err === undefined) {
          session.live = true;
          resolve();
          return;
        }
        const byClose = session.closing;
        void this.end(session);
        reject(byClose && err.code !== 'CANCELLED' ? new MeshError('CANCELLED', 'IRC input closed while connecting') : err);
      };
      const onAbort = (): void => finish(new MeshError('CANCELLED', 'IRC connect aborted'));
      const timer = this.clock.setTimeout(() => finish(new MeshError('UNAVAILABLE',
        `IRC server ${where} did not register and join within ${cfg.connectTimeoutMs} ms`)), cfg.connectTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });

      // Every listener is guarded: an exception would surface in irc-framework's socket handler.
      const on = (event: string, fn: (e: any) => void): void => client.on(event, (e) => {
        try {
          fn(e);
        } catch (err) {
          this.drop('handler', `${event}: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
      on('registered', () => {
        if (pending.size === 0) finish();
        for (const ch of cfg.channels) client.join(ch);
      });
      on('join', (e) => {
        if (settled || typeof e?.nick !== 'string' || typeof e.channel !== 'string') return;
        if (!client.caseCompare(e.nick, client.user.nick)) return;
        pending.delete(client.caseLower(e.channel));
        if (pending.size === 0) finish();
      });
      const nextNick = (e: any): void => {
        if (settled) return;
        const next = nicks.shift();
        if (next === undefined) {
          finish(new MeshError('UNAVAILABLE', `IRC server ${where}: nick ${cfg.nick} and its alternatives are taken or refused (${String(e?.reason ?? '')})`));
          return;
        }
        client.changeNick(next);
      };
      on('nick in use', nextNick);
      on('nick invalid', nextNick);
      on('irc error', (e) => {
        lastError = String(e?.reason ?? e?.error ?? '');
        if (settled) return;
        if (e?.error === 'password_mismatch') {
          finish(new MeshError('UNAUTHORIZED', `IRC server ${where} refused the password`));
        } else if (typeof e?.channel === 'string' && pending.has(client.caseLower(e.channel))) {
          finish(new MeshError('UNAVAILABLE', `IRC server ${where}: cannot join ${e.channel}: ${lastError || e.error}`));
        }
      });
      on('privmsg', (e) => this.onPrivmsg(session, events, e));
      client.on('socket close', (err?: Error) => {
        resolveGone();
        const why = [err instanceof Error ? err.message : '', lastError].filter((s) => s !== '').join('; ');
        if (!settled) {
          finish(new MeshError('UNAVAILABLE', `cannot reach IRC server ${where}${why ? `: ${why}` : ''}`, { cause: err }));
          return;
        }
        if (!session.live || session.closing) return;
        session.live = false;
        try {
          events.closed(new MeshError('UNAVAILABLE', `IRC connection to ${where} closed${why ? `: ${why}` : ''}`, { cause: err }));
        } catch (e) {
          this.log.warn('IRC closed handler threw', { err: e instanceof Error ? e.message : String(e) });
        }
      });

      client.connect({
        host: cfg.host, port: cfg.port, nick: cfg.nick, password: cfg.password, tls: cfg.tls,
        username: cfg.nick.slice(0, 10).replace(/[^\w-]/g, '_'), gecos: 'micromesh bot',
        // The bot reconnects with its own backoff (InputEvents.closed).
        auto_reconnect: false,
        // Empty: CTCP VERSION is not answered (a CTCP reaches no handler here).
        version: '',
        message_max_length: MAX_LINE_BYTES,
      });
    });
  }

  async send(conversation: string, reply: Reply, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const session = this.session;
    if (session === undefined || !session.live) throw new MeshError('UNAVAILABLE', 'IRC input is not connected');
    if (!CONVERSATION.test(conversation)) throw new MeshError('BAD_REQUEST', `not an IRC conversation: ${JSON.stringify(conversation)}`);
    const lines = ircLines(reply, this.config.maxLinesPerReply);
    const { signal } = opts;
    // One queue for all conversations: pacing is per connection.
    const job = this.outbox.then(async () => {
      for (const line of lines) {
        if (signal?.aborted) throw new MeshError('CANCELLED', 'IRC send aborted');
        await this.pace(signal);
        if (!session.live) throw new MeshError('UNAVAILABLE', 'IRC connection closed while sending');
        session.client.say(conversation, line);
      }
    });
    this.outbox = job.catch(() => undefined);
    return job;
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.generation++;
    await this.end(session);
  }

  /** Leaves (QUIT) and waits briefly for the socket to close; never fires `closed`. */
  private async end(session: Session | undefined): Promise<void> {
    if (session === undefined || session.closing) return;
    session.closing = true;
    session.live = false;
    const { client } = session;
    if (client.connected) client.quit('micromesh bot leaving');
    else client.connection.transport?.close(true);
    let timer: TimerHandle | undefined;
    const waited = new Promise<void>((r) => (timer = this.clock.setTimeout(r, 2000)));
    await Promise.race([session.gone, waited]);
    this.clock.clearTimeout(timer);
    client.connection.transport?.close(true); // no-op once closed
    client.removeAllListeners();
  }

  /** RFC 1459 §8.10 flood control: each line adds `lineDelayMs`; wait while more than a burst is owed. */
  private async pace(signal: AbortSignal | undefined): Promise<void> {
    const { lineDelayMs, burstLines } = this.config;
    if (lineDelayMs === 0) return;
    const now = this.clock.now();
    this.paidUntil = Math.max(this.paidUntil, now);
    const owed = this.paidUntil - now - (burstLines - 1) * lineDelayMs;
    this.paidUntil += lineDelayMs;
    if (owed > 0) {
      try {
        await this.clock.sleep(owed, signal);
      } catch {
        throw new MeshError('CANCELLED', 'IRC send aborted');
      }
    }
  }

  private onPrivmsg(session: Session, events: InputEvents, e: any): void {
    if (!session.live || e?.from_server) return;
    const { client } = session;
    const { nick, ident, hostname, target, message } = e ?? {};
    if (typeof nick !== 'string' || nick === '' || typeof target !== 'string' || typeof message !== 'string') {
      return this.drop('malformed', 'PRIVMSG without sender, target or text');
    }
    const own = client.user.nick;
    if (client.caseCompare(nick, own)) return;
    if (message.length > MAX_INCOMING_CHARS) return this.drop('too-long', `${message.length} characters from ${nick}`);
    const text = message.replace(FORMATTING, '');
    if (CONTROL.test(text)) return this.drop('control', `control characters from ${nick}`);
    // irc-framework decodes invalid UTF-8 to U+FFFD: such a line cannot be a command.
    if (text.includes('\uFFFD')) return this.drop('encoding', `invalid UTF-8 from ${nick}`);
    const direct = client.caseCompare(target, own);
    if (!direct && !client.network.isChannelName(target)) return;
    const body = direct ? text.trim() : addressedText(text, own, client);
    if (body === undefined || body === '') return;
    const msg: ChatMessage = {
      from: `irc:${nick}!${String(ident ?? '')}@${String(hostname ?? '')}`,
      fromName: nick,
      conversation: direct ? nick : target,
      direct,
      text: body,
    };
    events.message(msg);
  }

  private drop(kind: string, detail: string): void {
    this.droppedCount++;
    this.limited.warn(`irc-${kind}`, 'dropped an IRC message', { reason: kind, detail });
  }
}

/** The text after `nick:`, `nick,` or `nick ` at the start (nick case-insensitive), else undefined. */
function addressedText(text: string, nick: string, client: IrcClient): string | undefined {
  if (text.length <= nick.length || !client.caseCompare(text.slice(0, nick.length), nick)) return undefined;
  const sep = text[nick.length];
  if (sep !== ':' && sep !== ',' && sep !== ' ') return undefined;
  return text.slice(nick.length + 1).trim();
}

/** `nick_`, then variants that fit RFC 1459's 9 characters (many servers' NICKLEN). */
export function alternativeNicks(nick: string): string[] {
  const base = nick.slice(0, 8);
  const all = [`${nick}_`, `${nick}__`, `${base}_`, `${base}2`, `${base}3`];
  return [...new Set(all)].filter((n) => n !== nick);
}

/**
 * A reply as IRC lines: control characters (which could end the line or
 * start CTCP) become spaces, each line is split to fit the server's 512-byte
 * limit, blank lines go, and the count is cut to `maxLines` with a note.
 */
export function ircLines(reply: Reply, maxLines: number): string[] {
  const physical: string[] = [];
  for (const line of plainLines(reply, Number.MAX_SAFE_INTEGER)) {
    const clean = line.replace(CONTROL_ALL, ' ').trimEnd();
    if (clean !== '') physical.push(...splitBytes(clean, MAX_LINE_BYTES));
  }
  return plainLines({ blocks: [{ kind: 'text', text: physical.join('\n') }] }, maxLines);
}

/** Splits at code points into pieces of at most `max` UTF-8 bytes, at a space when one is in the later half. */
function splitBytes(line: string, max: number): string[] {
  const out: string[] = [];
  let cur = '';
  let bytes = 0;
  for (const ch of line) {
    const b = Buffer.byteLength(ch);
    if (bytes + b > max) {
      const sp = cur.lastIndexOf(' ');
      const cut = sp > cur.length / 2 ? sp : cur.length;
      out.push(cur.slice(0, cut));
      cur = cur.slice(cut).trimStart();
      bytes = Buffer.byteLength(cur);
    }
    cur += ch;
    bytes += b;
  }
  if (cur !== '') out.push(cur);
  return out;
}
