import {
  Lifecycle, MeshError, RateLimitedLog, SystemClock, SystemRandom, createLogger, toMeshError,
  type Clock, type Logger, type Random, type Service,
} from '../index.ts';
import { allowlist, RateLimiter } from './access.ts';
import { builtins, errorLine } from './builtins.ts';
import { straightQuotes, words, type BotCommand } from './command.ts';
import { resolveBotConfig, type BotConfig, type BotConfigInput } from './config.ts';
import { Formatter } from './format.ts';
import { ServiceCommands } from './service-commands.ts';
import { Supervisor } from './supervisor.ts';
import type { ChatInput, ChatMessage, Reply } from './types.ts';

export interface BotOptions {
  /** The mesh member the bot reads and calls through; started by `start()` if it is not. */
  service: Service;
  /** Chat connections (XmpInput, IrcInput, SlackInput, StdinInput...). */
  inputs: ChatInput[];
  config?: BotConfigInput;
  logger?: Logger;
  clock?: Clock;
  random?: Random;
}

export interface Bot {
  readonly config: Readonly<BotConfig>;
  /** Every command it knows now: built-ins, then the services'. */
  commands(): BotCommand[];
  /** Runs one message as if it came from a chat; what the inputs call. Never throws. */
  handle(m: ChatMessage): Promise<Reply | undefined>;
  /** Inputs currently connected, by name. */
  connected(): Record<string, boolean>;
  /** Resolves once every command received so far has been answered. */
  idle(): Promise<void>;
  /** Starts the service if needed, follows the registry for service commands, connects every input (retrying in the background). Idempotent. */
  start(opts?: { signal?: AbortSignal }): Promise<void>;
  /** Disconnects the inputs; leaves the service running. Idempotent. */
  stop(): Promise<void>;
}

/** Longest message the bot reads; chat servers cap theirs, a paste of a megabyte is not a command. */
const MAX_TEXT = 16_384;
/** Commands waiting in one conversation. */
const MAX_QUEUED = 50;

/**
 * micro bot for the mesh: messages from chat inputs become commands, run
 * against the mesh with the bot's service, answered in the conversation.
 */
export function createBot(o: BotOptions): Bot {
  const config = resolveBotConfig(o.config);
  const clock = o.clock ?? new SystemClock();
  const random = o.random ?? new SystemRandom();
  const logger = (o.logger ?? createLogger({ level: 'warn' })).child({ component: 'bot' });
  const log = new RateLimitedLog(logger, clock);
  const format = new Formatter(config.maxRows, config.maxChars);
  const allowed = allowlist(config.allow);
  const limiter = new RateLimiter(clock, config.ratePerMinute, config.burst);
  const fromServices = new ServiceCommands({ registry: o.service.registry, client: o.service.client, format, clock, logger, callTimeoutMs: config.callTimeoutMs });
  const builtin: BotCommand[] = builtins({ service: o.service, config, format, clock, commands: () => all() });
  const byName = new Map(builtin.map((c) => [c.name, c]));
  const all = (): BotCommand[] => [...builtin, ...fromServices.list().filter((c) => !byName.has(c.name))];
  const stopping = new AbortController();

  const run = async (m: ChatMessage): Promise<Reply | undefined> => {
    const text = straightQuotes(m.text.length > MAX_TEXT ? m.text.slice(0, MAX_TEXT) : m.text).trim();
    const [[first], args] = words(text, 1);
    if (first === undefined) return undefined;
    const verdict = limiter.take(m.from);
    if (verdict === 'drop') return undefined;
    if (verdict === 'warn') return format.text(`slow down: ${config.ratePerMinute} commands a minute (${config.burst} at once)`);
    const name = first.toLowerCase();
    // Built-ins win over a service offering the same name.
    const cmd = byName.get(name) ?? fromServices.get(name);
    if (cmd === undefined) return format.text(`unknown command "${first.slice(0, 40)}": try help`);
    if (cmd.mutating && !allowed(m.from)) {
      return format.text(`${cmd.name} changes things: only allowlisted users may run it (you are ${m.from})`);
    }
    // A command's calls have their own deadlines; this bounds the whole command (a slow `service` of many endpoints).
    const ctl = new AbortController();
    const timer = clock.setTimeout(() => ctl.abort(new MeshError('TIMEOUT', `${cmd.name} took longer than ${config.callTimeoutMs * 3} ms`, { id: 'micromesh.bot' })), config.callTimeoutMs * 3);
    const onStop = (): void => ctl.abort(new MeshError('CANCELLED', 'the bot is stopping', { id: 'micromesh.bot' }));
    stopping.signal.addEventListener('abort', onStop, { once: true });
    try {
      return await cmd.exec({ message: m, args, signal: ctl.signal });
    } catch (err) {
      const e = toMeshError(err, 'micromesh.bot');
      if (e.code === 'INTERNAL') log.warn(`cmd-${cmd.name}`, 'bot: a command failed', { command: cmd.name, error: String(err) });
      return format.text(e.code === 'BAD_REQUEST' && e.id === 'micromesh.bot' ? `${e.detail}` : errorLine(e),
        ...(e.code === 'BAD_REQUEST' && !e.detail.startsWith('usage:') ? [`usage: ${cmd.usage}`] : []));
    } finally {
      clock.clearTimeout(timer);
      stopping.signal.removeEventListener('abort', onStop);
    }
  };

  const handle = async (m: ChatMessage): Promise<Reply | undefined> => {
    try {
      return await run(m);
    } catch (err) {
      log.warn('handle', 'bot: a message could not be handled', { error: String(err) });
      return format.text('error INTERNAL: the command failed (see the bot\'s log)');
    }
  };

  // Answers in a conversation come in the order the commands were typed: one queue per conversation.
  const queues = new Map<string, { tail: Promise<void>; length: number }>();
  const answer = async (input: ChatInput, m: ChatMessage): Promise<void> => {
    const reply = await handle(m);
    if (reply === undefined) return;
    try {
      await input.send(m.conversation, reply);
    } catch (err) {
      const e = toMeshError(err, 'micromesh.bot');
      log.warn(`send-${input.name}`, 'bot: an answer could not be sent', { input: input.name, code: e.code, error: e.detail });
    }
  };
  const enqueue = (input: ChatInput, m: ChatMessage): void => {
    const key = `${input.name}\u0000${m.conversation}`;
    const q = queues.get(key) ?? { tail: Promise.resolve(), length: 0 };
    // The rate limit bounds what one user queues; this bounds a busy room.
    if (q.length >= MAX_QUEUED) {
      log.warn(`queue-${input.name}`, 'bot: a conversation has too many commands waiting; dropping one', { input: input.name });
      return;
    }
    q.length++;
    q.tail = q.tail.then(() => answer(input, m)).finally(() => {
      if (--q.length === 0 && queues.get(key) === q) queues.delete(key);
    });
    queues.set(key, q);
  };
  const supervisors = o.inputs.map((input) => new Supervisor({
    input, clock, random, logger, minMs: config.reconnectMinMs, maxMs: config.reconnectMaxMs,
    message: (m) => enqueue(input, m),
  }));
  const names = new Set<string>();
  for (const i of o.inputs) {
    if (names.has(i.name)) throw new MeshError('INVALID_CONFIG', `bot: two inputs named "${i.name}": identities would collide`);
    names.add(i.name);
  }

  const life = new Lifecycle();
  return {
    config,
    commands: all,
    handle,
    connected: () => Object.fromEntries(supervisors.map((s, i) => [o.inputs[i]!.name, s.connected])),
    idle: async () => {
      while (queues.size > 0) await Promise.all([...queues.values()].map((q) => q.tail));
    },
    start: (opts = {}) => life.start(async () => {
      await o.service.start(opts);
      await fromServices.start();
      await Promise.all(supervisors.map((s) => s.start()));
    }),
    stop: () => life.stop(async () => {
      stopping.abort();
      fromServices.stop();
      await Promise.all(supervisors.map((s) => s.stop()));
    }),
  };
}
