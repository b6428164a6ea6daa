/**
 * `micromesh bot` (docs/bot.md): chat-ops for the mesh. Built on the public
 * surface; chat libraries are loaded when an input connects.
 */
export { createBot, type Bot, type BotOptions } from './bot.ts';
export { BOT_DEFAULTS, resolveBotConfig, type BotConfig, type BotConfigInput } from './config.ts';
export type { ChatInput, ChatMessage, InputEvents, Reply, ReplyBlock } from './types.ts';
export type { BotCommand, CommandContext } from './command.ts';
export {
  botCommand, BOT_COMMAND_METADATA, BOT_MUTATING_METADATA, COMMAND_HANDLER, COMMAND_HELP, COMMAND_EXEC,
  type CommandSpec, type CommandHelp, type CommandExecRequest, type CommandExecResponse,
} from './names.ts';
export { XmppInput, type XmppConfig } from './xmpp.ts';
export { IrcInput, IRC_DEFAULTS, type IrcConfig, type IrcConfigInput, type IrcInputOptions } from './irc.ts';
export { SlackInput, SLACK_DEFAULTS, type SlackConfig, type SlackInputOptions } from './slack.ts';
export { StdinInput, STDIN_IDENTITY } from './stdin.ts';
export { plainLines, fencedText } from './render.ts';
