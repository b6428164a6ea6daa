import type { Command } from 'commander';
import type { Cli } from '../context.ts';
import { createMember } from '../member.ts';
import { tlsOf, withTlsOptions } from '../tls-flags.ts';

/** `micromesh subscribe TOPIC`: a real member that prints each message as a JSON line until Ctrl-C. */
export function register(program: Command, cli: Cli): void {
  withTlsOptions(program.command('subscribe')).description('print messages on TOPIC (wildcards * and >) as JSON lines until Ctrl-C')
    .argument('<topic>')
    .option('--queue <group>', 'join a queue group: each message goes to one member of the group')
    .action(async (topic: string, o: { queue?: string }) => {
      const svc = (await createMember(cli, { name: 'micromesh-cli', port: 0, gossipPort: 0, ...tlsOf(o) })).subscribe(topic, (message, ctx) => {
        console.log(JSON.stringify({ topic: ctx.topic, id: ctx.id, metadata: ctx.metadata, attempt: ctx.deliveryAttempt, message }));
      }, { queue: o.queue });
      await svc.start();
      if (!cli.flags().json) console.error(`subscribed to ${topic}${o.queue ? ` in queue group ${o.queue}` : ''} as ${svc.id} (Ctrl-C to stop)`);
      await svc.run();
    });
}
