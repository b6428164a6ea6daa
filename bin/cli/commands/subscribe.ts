import type { Command } from 'commander';
import type { CliBroker } from '../connect.ts';
import type { Cli } from '../context.ts';
import { brokerOption } from '../options.ts';

/** `micromesh subscribe TOPIC`: a real member that prints each message as a JSON line until Ctrl-C. */
export function register(program: Command, cli: Cli): void {
  program.command('subscribe').description('print messages on TOPIC (wildcards * and >) as JSON lines until Ctrl-C')
    .argument('<topic>')
    .option('--queue <group>', 'join a queue group: each message goes to one member of the group')
    .addOption(brokerOption())
    .action(async (topic: string, o: { queue?: string; broker: CliBroker }) => {
      const { createService } = await import('../../../src/mesh/service.ts');
      const m = cli.mesh();
      const host = m.host ?? '0.0.0.0';
      const svc = createService({
        name: 'micromesh-cli', address: `${host}:0`, logger: await cli.logger(), broker: o.broker,
        mesh: { cluster: m.cluster, join: m.seeds, keys: m.keys, mdns: m.mdns, gossipAddress: `${host}:0` },
      }).subscribe(topic, (message, ctx) => {
        console.log(JSON.stringify({ topic: ctx.topic, id: ctx.id, metadata: ctx.metadata, attempt: ctx.deliveryAttempt, message }));
      }, { queue: o.queue });
      await svc.start();
      if (!cli.flags().json) console.error(`subscribed to ${topic}${o.queue ? ` in queue group ${o.queue}` : ''} as ${svc.id} (Ctrl-C to stop)`);
      await svc.run();
    });
}
