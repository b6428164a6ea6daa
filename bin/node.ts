#!/usr/bin/env -S npx tsx
// The `micromesh` command. Reads flags and environment once, here, and hands
// plain options to the library (no ambient environment below this file).
import { Command, InvalidArgumentError } from 'commander';
import { createLogger, createService, MeshError, StaticRegistry, type LogLevel } from '../src/index.ts';
import { Greeter } from '../examples/greeter/handler.ts';

const program = new Command('micromesh')
  .description('peer-to-peer microservices with no infrastructure')
  .option('--log-level <level>', 'debug | info | warn | error | silent', process.env.MICROMESH_LOG_LEVEL ?? 'warn');

const logger = () => createLogger({ level: program.opts().logLevel as LogLevel });

function parseMetadata(value: string, prev: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`metadata must be key=value, got "${value}"`);
  return { ...prev, [value.slice(0, i)]: value.slice(i + 1) };
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`request must be JSON: ${(err as Error).message}`);
  }
}

/** A client-only service that reaches `service` at the given addresses. */
function clientFor(service: string, addresses: string[]) {
  return createService({ name: 'micromesh-cli', logger: logger(), registry: new StaticRegistry({ services: { [service]: addresses } }) });
}

program.command('run')
  .description('run a peer (with --demo, serve the greeter example)')
  .option('--name <name>', 'service name', 'greeter')
  .option('--address <host:port>', 'RPC listen address', '127.0.0.1:0')
  .option('--demo', 'serve Greeter.Hello and Greeter.Stream')
  .action(async (o: { name: string; address: string; demo?: boolean }) => {
    const svc = createService({ name: o.name, address: o.address, logger: logger(), mesh: { mdns: false } });
    if (o.demo) svc.handle('Greeter', new Greeter());
    await svc.start();
    console.log(JSON.stringify({ service: svc.name, id: svc.id, address: svc.address }));
    await svc.run();
  });

program.command('call')
  .description('call SERVICE ENDPOINT with a JSON request and print the JSON response')
  .argument('<service>').argument('<endpoint>').argument('[json]')
  .requiredOption('--address <host:port...>', 'where the service listens')
  .option('--timeout <ms>', 'timeout per attempt', (v) => Number(v), 5000)
  .option('--metadata <k=v>', 'request metadata (repeatable)', parseMetadata, {})
  .action(async (service: string, endpoint: string, json: string | undefined, o: { address: string[]; timeout: number; metadata: Record<string, string> }) => {
    const svc = clientFor(service, o.address);
    try {
      const res = await svc.client.call(service, endpoint, parseJson(json), { timeoutMs: o.timeout, metadata: o.metadata, contentType: 'application/json' });
      console.log(JSON.stringify(res, null, 2));
    } finally {
      await svc.stop();
    }
  });

program.command('stream')
  .description('open a server stream on SERVICE ENDPOINT and print each message as a JSON line')
  .argument('<service>').argument('<endpoint>').argument('[json]')
  .requiredOption('--address <host:port...>', 'where the service listens')
  .action(async (service: string, endpoint: string, json: string | undefined, o: { address: string[] }) => {
    const svc = clientFor(service, o.address);
    try {
      for await (const m of await svc.client.stream(service, endpoint, parseJson(json), { contentType: 'application/json' })) console.log(JSON.stringify(m));
    } finally {
      await svc.stop();
    }
  });

program.command('health')
  .description("call SERVICE's Debug.Health")
  .argument('<service>')
  .requiredOption('--address <host:port...>', 'where the service listens')
  .action(async (service: string, o: { address: string[] }) => {
    const svc = clientFor(service, o.address);
    try {
      console.log(JSON.stringify(await svc.client.call(service, 'Debug.Health', {}, { timeoutMs: 2000 })));
    } finally {
      await svc.stop();
    }
  });

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof MeshError) {
    console.error(`error: ${err.code}: ${err.detail}`);
    process.exit(1);
  }
  throw err;
}
