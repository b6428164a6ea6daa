import type { Metadata } from '../index.ts';

/**
 * How a service offers a bot command (micro's go.micro.bot.Command): its
 * service metadata names the command, and it serves `Command.Help` and
 * `Command.Exec`. Spelled once here for the bot and for services.
 */

/** Service metadata: the command's name (its first word in chat). */
export const BOT_COMMAND_METADATA = 'bot-command';
/** Service metadata `true`: the command changes things (allowlisted users only). */
export const BOT_MUTATING_METADATA = 'bot-command-mutating';
export const COMMAND_HANDLER = 'Command';
export const COMMAND_HELP = `${COMMAND_HANDLER}.Help`;
export const COMMAND_EXEC = `${COMMAND_HANDLER}.Exec`;

/** `Command.Help` answers this. */
export interface CommandHelp {
  usage: string;
  description: string;
}

/** `Command.Exec` takes the words the user typed after the command name, and the raw rest. */
export interface CommandExecRequest {
  args: string[];
  text: string;
  /** Who asked (`xmpp:ada@example.org`), for the service's own checks. */
  from: string;
}

/** `Command.Exec` answers `result` (shown as text), or `error` (shown as "error: ..."). */
export interface CommandExecResponse {
  result?: string;
  error?: string;
}

export interface CommandSpec extends CommandHelp {
  /** The word that runs it. */
  name: string;
  mutating?: boolean;
  exec(req: CommandExecRequest): CommandExecResponse | string | Promise<CommandExecResponse | string>;
}

/**
 * What a service needs to offer a bot command: the service metadata and the
 * `Command` handler. `createService({ name, metadata: cmd.metadata }).handle(COMMAND_HANDLER, cmd.handler)`.
 */
export function botCommand(spec: CommandSpec): { metadata: Metadata; handler: { Help(): CommandHelp; Exec(req: CommandExecRequest): Promise<CommandExecResponse> } } {
  return {
    metadata: { [BOT_COMMAND_METADATA]: spec.name, ...(spec.mutating ? { [BOT_MUTATING_METADATA]: 'true' } : {}) },
    handler: {
      Help: () => ({ usage: spec.usage, description: spec.description }),
      Exec: async (req) => {
        const r = await spec.exec(req);
        return typeof r === 'string' ? { result: r } : r;
      },
    },
  };
}
