import type { Command } from 'commander';
import type { Cli } from '../context.ts';
import { parseJson, parseMetadata } from '../options.ts';

/** `micromesh publish TOPIC [JSON]`: one message to the subscribing nodes, without joining the mesh. */
export function register(program: Command, cli: Cli): void {
  program.command('publish').description('publish a JSON message on TOPIC to the subscribing nodes')
    .argument('<topic>').argument('[json]')
    .option('--metadata <k=v>', 'message metadata (repeatable)', parseMetadata, {})
    .option('--timeout <ms>', 'longest wait for delivery', (v) => Number(v), 5000)
    .action((topic: string, json: string | undefined, o: { metadata: Record<string, string>; timeout: number }) =>
      cli.withMesh(async ({ view, service: svc }) => {
        const { publishOnce } = await import('../connect.ts');
        const host = cli.mesh().host ?? '127.0.0.1';
        const n = await publishOnce(view, svc, topic, parseJson(json), { broker: cli.mesh().broker, metadata: o.metadata, timeoutMs: o.timeout, host });
        if (cli.flags().json) console.log(JSON.stringify({ topic, subscriberNodes: n ?? null }));
        else console.error(n === undefined ? `published to ${topic} (through NATS)` : `published to ${topic} (${n} subscribing node${n === 1 ? '' : 's'})`);
      }));
}
