// A person on XMPP for the bot's tests: @xmpp/client logged in as a test
// user, sending chat and room messages and waiting for the bot's answers.
import { client, xml } from '@xmpp/client';

type El = { name: string; attrs: Record<string, string>; getChildText(n: string): string | null; getChild(n: string, ns?: string): unknown };
type Client = { on(e: string, f: (el: El) => void): void; start(): Promise<unknown>; stop(): Promise<unknown>; send(x: unknown): Promise<unknown>; reconnect: { stop(): void } };

export class XmppUser {
  private readonly got: { from: string; type: string; body: string }[] = [];
  private readonly xmpp: Client;

  private constructor(xmpp: Client) {
    this.xmpp = xmpp;
  }

  static async login(service: string, username: string, password: string): Promise<XmppUser> {
    const xmpp = client({ service, domain: 'localhost', username, password, resource: 'test' }) as Client;
    xmpp.reconnect.stop();
    const u = new XmppUser(xmpp);
    xmpp.on('error', () => {});
    xmpp.on('stanza', (el) => {
      const body = el.name === 'message' ? el.getChildText('body') : null;
      if (body !== null && el.getChild('delay', 'urn:xmpp:delay') === undefined) u.got.push({ from: el.attrs.from ?? '', type: el.attrs.type ?? '', body });
    });
    await xmpp.start();
    await xmpp.send(xml('presence'));
    return u;
  }

  async say(to: string, body: string): Promise<void> {
    await this.xmpp.send(xml('message', { to, type: 'chat' }, xml('body', {}, body)));
  }

  async join(room: string, nick: string): Promise<void> {
    await this.xmpp.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' }, xml('history', { maxstanzas: '0' }))));
  }

  async sayInRoom(room: string, body: string): Promise<void> {
    await this.xmpp.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, body)));
  }

  /** The next message (after those already taken) from `from` (a prefix) whose body matches; waits up to `ms`. */
  async expect(from: string, re: RegExp, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.got.findIndex((m) => m.from.startsWith(from) && re.test(m.body));
      if (i >= 0) return this.got.splice(0, i + 1).at(-1)!.body;
      if (Date.now() > deadline) throw new Error(`no message from ${from} matching ${re}; got: ${JSON.stringify(this.got.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    await this.xmpp.stop().catch(() => {});
  }
}
