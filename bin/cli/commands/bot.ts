import { InvalidArgumentError, type Command } from 'commander';
import type { Cli } from '../context.ts';
import { adminAddressOption, adminOf, createMember, untilSignal } from '../member.ts';
import { tlsOf, withTlsOptions } from '../tls-flags.ts';
import { tryParseHostPort } from '../../../src/net/address.ts';
import { parsePort } from '../options.ts';

interface BotFlags {
  stdin: boolean;
  xmppService?: string;
  xmppDomain?: string;
  xmppUser?: string;
  xmppRoom: string[];
  xmppNick?: string;
  irc?: string;
  ircNick?: string;
  ircChannel: string[];
  ircTls?: boolean;
  slack: boolean;
  allow: string[];
  rate?: number;
  burst?: number;
  port: number;
  gossipPort: number;
  adminAddress?: string;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
const count = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`must be a whole number ≥ 1, got "${v}"`);
  return n;
};

/** A secret from the environment: never on the command line, where `ps` shows it. */
function secret(env: string, what: string): string {
  const v = process.env[env];
  if (v === undefined || v === '') throw new InvalidArgumentError(`${what}: set ${env}`);
  return v;
}

/** `micromesh bot`: chat-ops (micro bot) on XMPP, IRC, Slack or the terminal, a member of the mesh until SIGINT/SIGTERM. */
export function register(program: Command, cli: Cli): void {
  withTlsOptions(program.command('bot'))
    .description('answer chat commands about the mesh: services, service, call, stream, health, stats, members, publish, and services\' own commands')
    .option('--stdin', 'read commands from the terminal (you are allowlisted)', false)
    .option('--xmpp-service <url>', 'XMPP server, xmpp://host:5222 (password in MICROMESH_XMPP_PASSWORD)')
    .option('--xmpp-domain <domain>', 'XMPP domain (default: the server\'s host)')
    .option('--xmpp-user <name>', 'the bot\'s XMPP user name')
    .option('--xmpp-room <room>', 'a room to join, name@conference.domain (repeatable)', collect, [])
    .option('--xmpp-nick <nick>', 'the bot\'s nick in rooms (default: the user name)')
    .option('--irc <host:port>', 'IRC server (server password, if any, in MICROMESH_IRC_PASSWORD)')
    .option('--irc-nick <nick>', 'the bot\'s IRC nick', 'micromesh')
    .option('--irc-channel <channel>', 'a channel to join, #ops (repeatable)', collect, [])
    .option('--irc-tls', 'connect to IRC with TLS')
    .option('--slack', 'Slack over Socket Mode (tokens in MICROMESH_SLACK_APP_TOKEN and MICROMESH_SLACK_BOT_TOKEN)', false)
    .option('--allow <identities>', 'who may run commands that change things: xmpp:ada@example.org, irc:ada!*@*, slack:T1/U2 (* wildcards; repeatable)', collect, [])
    .option('--rate <n>', 'commands per minute per user', count)
    .option('--burst <n>', 'commands a user may run at once', count)
    .option('--port <port>', 'RPC port of this member', parsePort, 0)
    .option('--gossip-port <port>', 'SWIM port (UDP and TCP)', parsePort, 0)
    .addOption(adminAddressOption())
    .action(async (o: BotFlags) => {
      const bot = await import('../../../src/bot/index.ts');
      const logger = await cli.logger();
      const inputs: import('../../../src/bot/types.ts').ChatInput[] = [];
      const allow = [...o.allow];
      let ended: (() => void) | undefined;
      const stdinEnded = new Promise<void>((resolve) => (ended = resolve));
      if (o.stdin) {
        inputs.push(new bot.StdinInput(process.stdin, process.stdout, ended));
        allow.push(bot.STDIN_IDENTITY);
      }
      if (o.xmppService !== undefined) {
        if (o.xmppUser === undefined) throw new InvalidArgumentError('--xmpp-user is required with --xmpp-service');
        inputs.push(new bot.XmppInput({
          service: o.xmppService, domain: o.xmppDomain, username: o.xmppUser, password: secret('MICROMESH_XMPP_PASSWORD', '--xmpp-service'),
          rooms: o.xmppRoom, nick: o.xmppNick,
        }, { logger }));
      }
      if (o.irc !== undefined) {
        const hp = tryParseHostPort(o.irc);
        if (hp === undefined) throw new InvalidArgumentError(`--irc must be host:port, got "${o.irc}"`);
        inputs.push(new bot.IrcInput({ host: hp.host, port: hp.port, nick: o.ircNick, channels: o.ircChannel, tls: o.ircTls === true, password: process.env.MICROMESH_IRC_PASSWORD, logger }));
      }
      if (o.slack) {
        inputs.push(new bot.SlackInput({ appToken: secret('MICROMESH_SLACK_APP_TOKEN', '--slack'), botToken: secret('MICROMESH_SLACK_BOT_TOKEN', '--slack'), logger }));
      }
      if (inputs.length === 0) throw new InvalidArgumentError('no input: give --stdin, --xmpp-service, --irc or --slack');
      const service = await createMember(cli, { name: 'micromesh-bot', port: o.port, gossipPort: o.gossipPort, logger, ...adminOf(o), ...tlsOf(o) });
      // At the terminal the rate limit is the typist's own: piped commands run as fast as they come.
      const b = bot.createBot({ service, inputs, logger, config: { allow, ratePerMinute: o.rate ?? (o.stdin ? 6000 : undefined), burst: o.burst ?? (o.stdin ? 1000 : undefined) } });
      if (o.stdin) {
        // Typed (or piped) commands run at once: let the member meet the mesh first (gossip needs a moment).
        await service.start();
        for (let i = 0; i < 30 && service.mesh!.peerCount() === 0; i++) await new Promise((r) => setTimeout(r, 100));
        await new Promise((r) => setTimeout(r, 300));
      }
      await b.start();
      if (!o.stdin) console.log(JSON.stringify({ bot: service.id, gossip: service.mesh!.swim.address, inputs: b.connected(), allow }));
      else console.error(`micromesh bot: type help (Ctrl-D to quit)`);
      await Promise.race([untilSignal(), ...(o.stdin ? [stdinEnded.then(() => b.idle())] : [])]);
      await b.stop();
      await service.stop();
    });
}
