import * as v from 'valibot';
import { MeshError, RateLimitedLog, SystemClock, config, silentLogger, type Clock, type Logger } from '../index.ts';
import { fencedText } from './render.ts';
import type { ChatInput, InputEvents, Reply } from './types.ts';

const { definedOnly, intIn, parseConfig, str } = config;

export interface XmppConfig {
  /** `xmpp://host:port` (STARTTLS when the server offers it), `xmpps://host:port` (TLS), or `ws(s)://…`. */
  service: string;
  /** The server's domain (`example.org`); default: the service's host. */
  domain: string;
  username: string;
  password: string;
  /** Default `micromesh`. */
  resource: string;
  /** Multi-user chat rooms to join (`ops@conference.example.org`). Default none. */
  rooms: string[];
  /** The bot's nickname in rooms; room messages are for it when they start with it (`micromesh: services`). Default: `username`. */
  nick: string;
  /** Characters of one answer; longer ones are cut with a note. [100, 100000], default 4000. */
  maxChars: number;
}

const schema = v.strictObject({
  service: str(512),
  domain: v.optional(str(255)),
  username: str(255),
  password: str(1024),
  resource: v.optional(str(255)),
  rooms: v.optional(v.array(v.pipe(str(512), v.regex(/^[^@/\s]+@[^@/\s]+$/, 'must be a room address, name@conference.domain')), 'must be a list of rooms')),
  nick: v.optional(str(255)),
  maxChars: v.optional(intIn(100, 100_000)),
});

type Element = { name: string; attrs: Record<string, string | undefined>; getChild(name: string, xmlns?: string): Element | undefined; getChildText(name: string): string | null; getChildren(name: string, xmlns?: string): Element[] };
type XmppClient = {
  on(event: string, fn: (...args: any[]) => void): void;
  removeAllListeners(): void;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(el: unknown): Promise<unknown>;
  reconnect: { stop(): void };
};

const MUC = 'http://jabber.org/protocol/muc';
const MUC_USER = 'http://jabber.org/protocol/muc#user';

/**
 * XMPP through @xmpp/client: one-to-one chats, and rooms (XEP-0045) where
 * the bot answers messages that start with its nick. Identities are bare
 * JIDs (`xmpp:ada@example.org`): in a room, the occupant's real JID when the
 * room shows it (non-anonymous rooms, or the bot as moderator), else the
 * occupant's room address, which no allowlist entry of a user matches.
 */
export class XmppInput implements ChatInput {
  readonly name = 'xmpp';
  readonly config: XmppConfig;
  private client: XmppClient | undefined;
  private closing = false;
  private readonly realJids = new Map<string, string>();
  private readonly log: RateLimitedLog;
  private readonly clock: Clock;

  constructor(input: Partial<XmppConfig> & Pick<XmppConfig, 'service' | 'username' | 'password'>, deps: { logger?: Logger; clock?: Clock } = {}) {
    const c = parseConfig(schema, definedOnly(input), 'bot.xmpp');
    const host = /^[a-z]+:\/\/([^:/]+)/i.exec(c.service)?.[1] ?? 'localhost';
    this.config = { domain: host, resource: 'micromesh', rooms: [], nick: c.username, maxChars: 4000, ...c } as XmppConfig;
    this.clock = deps.clock ?? new SystemClock();
    this.log = new RateLimitedLog(deps.logger ?? silentLogger, this.clock);
  }

  async connect(events: InputEvents, opts: { signal?: AbortSignal } = {}): Promise<void> {
    opts.signal?.throwIfAborted();
    await this.dispose();
    this.closing = false;
    this.realJids.clear();
    const { client } = await import('@xmpp/client');
    const c = this.config;
    const xmpp = client({ service: c.service, domain: c.domain, username: c.username, password: c.password, resource: c.resource }) as unknown as XmppClient;
    // The bot reconnects (with backoff); the library's own reconnect would race it.
    xmpp.reconnect.stop();
    this.client = xmpp;
    let up = false;
    xmpp.on('error', (err: Error) => this.log.warn('xmpp-error', 'bot: xmpp error', { error: err.message }));
    xmpp.on('disconnect', () => {
      if (!up || this.closing || this.client !== xmpp) return;
      up = false;
      this.client = undefined;
      events.closed(new MeshError('CONNECTION_LOST', `xmpp: disconnected from ${c.service}`, { id: 'micromesh.bot' }));
    });
    xmpp.on('stanza', (el: Element) => {
      try {
        this.onStanza(el, events);
      } catch (err) {
        this.log.warn('xmpp-stanza', 'bot: dropped an xmpp stanza it could not read', { error: String(err) });
      }
    });
    const abort = (): void => void xmpp.stop().catch(() => {});
    opts.signal?.addEventListener('abort', abort, { once: true });
    try {
      const { xml } = await import('@xmpp/client');
      await xmpp.start();
      await xmpp.send(xml('presence'));
      for (const room of c.rooms) await this.join(xmpp, room);
      up = true;
    } catch (err) {
      this.client = undefined;
      await xmpp.stop().catch(() => {});
      opts.signal?.throwIfAborted();
      const text = String((err as Error)?.message ?? err);
      const auth = /not-authorized|auth|credentials|SASL/i.test(text) || (err as { condition?: string })?.condition === 'not-authorized';
      throw new MeshError(auth ? 'UNAUTHORIZED' : 'UNAVAILABLE', `xmpp: cannot log in to ${c.service} as ${c.username}@${c.domain}: ${text}`, { id: 'micromesh.bot', cause: err });
    } finally {
      opts.signal?.removeEventListener('abort', abort);
    }
  }

  /** Enters a room and waits for the room's echo of our own presence (status 110), or its error. */
  private async join(xmpp: XmppClient, room: string): Promise<void> {
    const { xml } = await import('@xmpp/client');
    const me = `${room}/${this.config.nick}`;
    const joined = new Promise<void>((resolve, reject) => {
      const t = this.clock.setTimeout(() => reject(new Error(`no answer from room ${room}`)), 10_000);
      xmpp.on('stanza', (el: Element) => {
        if (el.name !== 'presence' || el.attrs.from !== me) return;
        this.clock.clearTimeout(t);
        if (el.attrs.type === 'error') reject(new Error(`room ${room} refused us: ${el.getChild('error')?.getChildren('*')?.[0]?.name ?? 'error'}`));
        else resolve();
      });
    });
    await xmpp.send(xml('presence', { to: me }, xml('x', { xmlns: MUC }, xml('history', { maxstanzas: '0' }))));
    await joined;
  }

  private onStanza(el: Element, events: InputEvents): void {
    const from = el.attrs.from ?? '';
    if (el.name === 'presence') {
      // Room occupants: remember who they really are when the room tells us.
      const item = el.getChild('x', MUC_USER)?.getChild('item');
      if (item?.attrs.jid !== undefined && from.includes('/')) this.realJids.set(from, bare(item.attrs.jid));
      if (el.attrs.type === 'unavailable') this.realJids.delete(from);
      return;
    }
    if (el.name !== 'message') return;
    const body = el.getChildText('body');
    if (body === null || body === '' || el.getChild('delay', 'urn:xmpp:delay') !== undefined) return;
    if (el.attrs.type === 'groupchat') {
      const [room, nick = ''] = splitResource(from);
      if (nick === '' || nick === this.config.nick || !this.config.rooms.includes(room)) return;
      const text = addressed(body, this.config.nick);
      if (text === undefined) return;
      const real = this.realJids.get(from);
      events.message({ from: `xmpp:${real ?? from}`, fromName: nick, conversation: `groupchat:${room}`, direct: false, text });
      return;
    }
    if ((el.attrs.type === 'chat' || el.attrs.type === 'normal' || el.attrs.type === undefined) && from !== '') {
      // A private message through a room (room/nick) has no real JID we can trust.
      const [b] = splitResource(from);
      const viaRoom = this.config.rooms.includes(b);
      events.message({ from: `xmpp:${viaRoom ? from : b}`, fromName: viaRoom ? splitResource(from)[1] ?? b : b.split('@')[0] ?? b, conversation: `chat:${from}`, direct: true, text: body.trim() });
    }
  }

  async send(conversation: string, reply: Reply): Promise<void> {
    const xmpp = this.client;
    if (xmpp === undefined) throw new MeshError('UNAVAILABLE', 'xmpp: not connected', { id: 'micromesh.bot' });
    const { xml } = await import('@xmpp/client');
    let text = fencedText(reply);
    if (text.length > this.config.maxChars) text = `${text.slice(0, this.config.maxChars)}\n… ${text.length - this.config.maxChars} more characters not shown`;
    const [type, to] = conversation.startsWith('groupchat:') ? ['groupchat', conversation.slice(10)] : ['chat', conversation.slice(5)];
    await xmpp.send(xml('message', { to, type }, xml('body', {}, text)));
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.dispose();
  }

  private async dispose(): Promise<void> {
    const xmpp = this.client;
    this.client = undefined;
    if (xmpp === undefined) return;
    try {
      await xmpp.stop();
    } catch {
      // Already gone.
    }
    xmpp.removeAllListeners();
  }
}

function bare(jid: string): string {
  return splitResource(jid)[0];
}

function splitResource(jid: string): [string, string | undefined] {
  const i = jid.indexOf('/');
  return i < 0 ? [jid, undefined] : [jid.slice(0, i), jid.slice(i + 1)];
}

/** The text after the bot's nick (`micromesh: services`, `micromesh, services`, `@micromesh services`), or undefined when the message is not for it. */
export function addressed(body: string, nick: string): string | undefined {
  const t = body.trimStart();
  const lower = t.toLowerCase();
  const n = nick.toLowerCase();
  for (const p of [`@${n}`, n]) {
    if (!lower.startsWith(p)) continue;
    const rest = t.slice(p.length);
    if (rest === '' || /^[\s:,]/.test(rest)) return rest.replace(/^[\s:,]+/, '').trim();
  }
  return undefined;
}
