import type { Command } from 'commander';
import type { Cli } from '../context.ts';
import { parseJson } from '../options.ts';

/** `micromesh stream SERVICE ENDPOINT [JSON]`: a server stream, one JSON line per message. */
export function register(program: Command, cli: Cli): void {
  program.command('stream').description('open a server stream on SERVICE ENDPOINT; print each message as a JSON line')
    .argument('<service>').argument('<endpoint>').argument('[json]')
    .action((service: string, endpoint: string, json: string | undefined) => cli.withMesh(async ({ service: svc }) => {
      for await (const m of await svc.client.stream(service, endpoint, parseJson(json), { contentType: 'application/json' })) console.log(JSON.stringify(m));
    }));
}
