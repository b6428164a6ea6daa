// The services the bot's chat tests talk to, in one process on a memory
// registry: a greeter, a deployer offering the `deploy` command (mutating;
// `{error}` without an app), and the bot's own member.
import { MemoryRegistry, createService, silentLogger, type Service } from 'micromesh';
import { botCommand, createBot, type Bot, type BotConfigInput, type ChatInput } from 'micromesh/bot';

export interface BotMesh {
  registry: MemoryRegistry;
  bot: Bot;
  stop(): Promise<void>;
}

/** Starts the services, then a bot on `input` with `config` (rate limits lifted: tests type fast). */
export async function botMesh(input: ChatInput, config: BotConfigInput): Promise<BotMesh> {
  const registry = new MemoryRegistry();
  const greeter = createService({ name: 'greeter', mesh: false, registry, logger: silentLogger })
    .handle('Greeter', { Hello: ({ name }: { name: string }) => ({ msg: `Hello ${name}` }) });
  const deploy = botCommand({ name: 'deploy', usage: 'deploy APP', description: 'deploys an app', mutating: true, exec: ({ args }) => (args[0] ? `deploying ${args[0]}` : { error: 'which app?' }) });
  const deployer = createService({ name: 'deployer', mesh: false, registry, logger: silentLogger, metadata: deploy.metadata }).handle('Command', deploy.handler);
  const own = createService({ name: 'micromesh-bot', mesh: false, registry, logger: silentLogger });
  const services: Service[] = [greeter, deployer, own];
  await greeter.start();
  await deployer.start();
  const bot = createBot({ service: own, inputs: [input], config: { burst: 100, ratePerMinute: 6000, reconnectMaxMs: 2000, ...config } });
  await bot.start();
  return {
    registry, bot,
    async stop() {
      await bot.stop();
      for (const s of services.reverse()) await s.stop();
    },
  };
}
