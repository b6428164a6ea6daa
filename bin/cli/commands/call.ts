import type { Command } from 'commander';
import type { Cli } from '../context.ts';
import { parseJson, parseMetadata } from '../options.ts';

/** `micromesh call SERVICE ENDPOINT [JSON]`: one unary call, the JSON response on stdout. */
export function register(program: Command, cli: Cli): void {
  program.command('call').description('call SERVICE ENDPOINT with a JSON request; print the JSON response')
    .argument('<service>').argument('<endpoint>').argument('[json]')
    .option('--timeout <ms>', 'timeout per attempt', (v) => Number(v), 5000)
    .option('--metadata <k=v>', 'request metadata (repeatable)', parseMetadata, {})
    .action((service: string, endpoint: string, json: string | undefined, o: { timeout: number; metadata: Record<string, string> }) =>
      cli.withMesh(async ({ service: svc }) => {
        const res = await svc.client.call(service, endpoint, parseJson(json), { timeoutMs: o.timeout, metadata: o.metadata, contentType: 'application/json' });
        console.log(JSON.stringify(res, null, cli.flags().json ? undefined : 2));
      }));
}
