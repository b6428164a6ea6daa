// A person on IRC for the bot's tests: an irc-framework client that joins
// channels and records what it is told.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import IRC from 'irc-framework';
import type { Ngircd } from './ngircd.ts';

/** Waits (polling) until `pred` holds; a deadline, not a timing assert. */
export async function until(what: string, pred: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export interface Human {
  client: any;
  /** PRIVMSGs it received: target, nick, message. */
  said: { target: string; nick: string; message: string }[];
  quits: string[];
  close(): void;
}

/** A person on IRC: registers, joins `channels` and records what it is told. */
export async function human(srv: Pick<Ngircd, 'host' | 'port'>, nick: string, channels: string[] = ['#ops']): Promise<Human> {
  const client = new IRC.Client();
  const said: Human['said'] = [];
  const quits: string[] = [];
  const joined = new Set<string>();
  client.on('privmsg', (e: any) => said.push({ target: e.target, nick: e.nick, message: e.message }));
  client.on('quit', (e: any) => quits.push(e.nick));
  client.on('join', (e: any) => e.nick === nick && joined.add(e.channel));
  const registered = once(client, 'registered');
  client.connect({ host: srv.host, port: srv.port, nick, username: nick, auto_reconnect: false });
  await registered;
  for (const ch of channels) client.join(ch);
  await until(`${nick} to join`, () => channels.every((c) => joined.has(c)));
  return { client, said, quits, close: () => client.quit('bye') };
}

