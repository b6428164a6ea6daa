import { MeshError, toMeshError, type Clock, type Logger, type Registry, type ServiceClient, type ServiceRecord } from '../index.ts';
import { words, type BotCommand } from './command.ts';
import type { Formatter } from './format.ts';
import {
  BOT_COMMAND_METADATA, BOT_MUTATING_METADATA, COMMAND_EXEC, COMMAND_HELP,
  type CommandExecResponse, type CommandHelp,
} from './names.ts';

/** A command's name: one word a user can type. */
const NAME = /^[a-z][\w-]{0,31}$/i;

export interface ServiceCommandsOptions {
  registry: Registry;
  client: ServiceClient;
  format: Formatter;
  clock: Clock;
  logger: Logger;
  callTimeoutMs: number;
}

/**
 * Commands offered by services (micro's bot commands as services): a
 * service whose metadata names a command (`bot-command`) and that serves
 * `Command.Help` and `Command.Exec` becomes that command, added and dropped
 * live as the registry changes.
 */
export class ServiceCommands {
  private readonly byName = new Map<string, BotCommand>();
  private readonly o: ServiceCommandsOptions;
  private watch: AbortController | undefined;
  /** Bumped on every rebuild, so a slow one never overwrites a newer. */
  private generation = 0;

  constructor(o: ServiceCommandsOptions) {
    this.o = o;
  }

  list(): BotCommand[] {
    return [...this.byName.values()];
  }

  get(name: string): BotCommand | undefined {
    return this.byName.get(name.toLowerCase());
  }

  async start(): Promise<void> {
    if (this.watch !== undefined) return;
    this.watch = new AbortController();
    await this.rebuild();
    void this.follow(this.watch.signal);
  }

  stop(): void {
    this.watch?.abort();
    this.watch = undefined;
  }

  private async follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const e of this.o.registry.watch({ signal })) {
          if (e.service.metadata[BOT_COMMAND_METADATA] !== undefined || this.offers(e.service.name)) await this.rebuild();
        }
      } catch (err) {
        if (signal.aborted) return;
        this.o.logger.warn('bot: registry watch ended; following again', { error: String(err) });
      }
      if (signal.aborted) return;
      await new Promise<void>((resolve) => this.o.clock.setTimeout(resolve, 1000));
      await this.rebuild();
    }
  }

  private offers(service: string): boolean {
    for (const c of this.byName.values()) if (c.source === service) return true;
    return false;
  }

  /** Re-reads which services offer commands; asks each new one for its help once. */
  private async rebuild(): Promise<void> {
    const gen = ++this.generation;
    let all: ServiceRecord[];
    try {
      all = await this.o.registry.listServices();
    } catch (err) {
      this.o.logger.warn('bot: could not list services', { error: String(err) });
      return;
    }
    const next = new Map<string, BotCommand>();
    for (const s of all) {
      const name = s.metadata[BOT_COMMAND_METADATA];
      if (name === undefined || s.nodes.length === 0) continue;
      if (!NAME.test(name)) {
        this.o.logger.warn('bot: ignoring a service command with a bad name', { service: s.name, name });
        continue;
      }
      const key = name.toLowerCase();
      const known = this.byName.get(key);
      next.set(key, known?.source === s.name ? known : await this.command(key, s));
    }
    if (gen !== this.generation) return;
    this.byName.clear();
    for (const [k, c] of next) this.byName.set(k, c);
  }

  private async command(name: string, s: ServiceRecord): Promise<BotCommand> {
    let help: CommandHelp = { usage: name, description: `a command of ${s.name}` };
    try {
      const h = await this.o.client.call<CommandHelp>(s.name, COMMAND_HELP, {}, { timeoutMs: this.o.callTimeoutMs });
      if (typeof h?.usage === 'string') help = { usage: h.usage.slice(0, 200), description: String(h.description ?? '').slice(0, 300) };
    } catch (err) {
      this.o.logger.warn('bot: a service command did not answer Command.Help', { service: s.name, error: toMeshError(err).code });
    }
    const service = s.name;
    const f = this.o.format;
    return {
      name, usage: help.usage, description: help.description, source: service,
      mutating: s.metadata[BOT_MUTATING_METADATA] === 'true',
      exec: async (ctx) => {
        const [args] = words(ctx.args, 64);
        const r = await this.o.client.call<CommandExecResponse>(service, COMMAND_EXEC, { args, text: ctx.args, from: ctx.message.from },
          { timeoutMs: this.o.callTimeoutMs, signal: ctx.signal });
        // micro's "error executing cmd": the service's own words, with a code of ours.
        if (typeof r?.error === 'string' && r.error !== '') throw new MeshError('COMMAND_FAILED', `${name}: ${r.error.slice(0, 500)}`, { id: service });
        return f.text(typeof r?.result === 'string' ? r.result : JSON.stringify(r?.result ?? ''));
      },
    };
  }
}
