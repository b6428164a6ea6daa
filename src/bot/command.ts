import { MeshError } from '../index.ts';
import type { ChatMessage, Reply } from './types.ts';

/** What a command runs with. */
export interface CommandContext {
  message: ChatMessage;
  /** What followed the command's name (`greeter Greeter.Hello {"name":"Ada"}`). */
  args: string;
  signal: AbortSignal;
}

/** A bot command (micro's Command: Exec, Usage, Description). */
export interface BotCommand {
  /** The first word that runs it. */
  name: string;
  /** `call SERVICE ENDPOINT [JSON]`: shown by `help` and after a bad use. */
  usage: string;
  description: string;
  /** Changes something: only identities on the allowlist may run it. */
  mutating: boolean;
  /** `builtin`, or the service that provides it. */
  source: string;
  exec(ctx: CommandContext): Promise<Reply>;
}

/** A bad use of a command: the bot answers with the command's usage line. */
export function usage(detail: string): MeshError {
  return new MeshError('BAD_REQUEST', detail, { id: 'micromesh.bot' });
}

/** The first `n` words of `text` and the rest as typed (a JSON argument keeps its spaces). */
export function words(text: string, n: number): [string[], string] {
  const out: string[] = [];
  let rest = text.trim();
  while (out.length < n && rest !== '') {
    const m = /^(\S+)\s*/.exec(rest)!;
    out.push(m[1]!);
    rest = rest.slice(m[0].length);
  }
  return [out, rest];
}

/** A JSON argument; empty means `{}`. */
export function jsonArg(text: string, what = 'the request'): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usage(`${what} is not JSON: ${(err as Error).message}`);
  }
}

/** Chat clients turn quotes curly ("smart quotes"); JSON needs straight ones. */
export function straightQuotes(text: string): string {
  return text.replace(/[\u201c\u201d\u201e\u201f\u2033]/g, '"').replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'");
}
