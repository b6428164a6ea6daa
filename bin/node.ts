#!/usr/bin/env node
// The `micromesh` command (commander: well kept, typed, subcommands and
// repeatable options). Flags and environment are read here and in cli/, once.
import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { createLogger, createService, MeshError, type LogLevel, type ServiceRecord } from '../src/index.ts';
import type { SwimConfig, SwimProfile } from '../src/swim/config.ts';
import { Greeter } from '../examples/greeter/handler.ts';
import { connect, publishOnce, type CliBroker } from './cli/connect.ts';
import { brokerOption, meshFlags, parseJson, parseMetadata, parsePort, type GlobalFlags } from './cli/options.ts';
import { print } from './cli/print.ts';

const program = new Command('micromesh')
  .description('peer-to-peer microservices with no infrastructure')
  .option('--join <host:port,...>', 'gossip addresses of nodes to join (else mDNS finds them)', process.env.MICROMESH_JOIN)
  .option('--cluster <name>', 'cluster name: meshes with other names never merge', process.env.MICROMESH_CLUSTER ?? 'micromesh')
  .option('--key <base64>', 'gossip encryption key (32 bytes, base64; see keygen)', process.env.MICROMESH_KEY)
  .option('--no-mdns', 'do not use mDNS (seeds only)')
  .addOption(new Option('--mdns-port <port>', 'mDNS UDP port').argParser(parsePort).hideHelp())
  .option('--interface <name|ip>', 'use only this network interface (bind, announce, mDNS)')
  .option('--json', 'print JSON')
  .option('--log-level <level>', 'debug | info | warn | error | silent', process.env.MICROMESH_LOG_LEVEL ?? 'warn');

const flags = (): GlobalFlags => program.opts<GlobalFlags>();
const logger = () => createLogger({ level: flags().logLevel as LogLevel });

/** Runs a client command against the mesh, always releasing its connections. */
async function withMesh<T>(fn: (c: Awaited<ReturnType<typeof connect>>) => Promise<T>): Promise<T> {
  const c = await connect(meshFlags(flags()), logger());
  try {
    return await fn(c);
  } finally {
    await c.service.stop();
  }
}

program.command('run')
  .description('run a peer; with --demo it serves the greeter (Greeter.Hello, Greeter.Stream)')
  .option('--name <name>', 'service name (default: greeter with --demo, else micromesh)')
  .option('--port <port>', 'RPC port', parsePort, 0)
  .option('--gossip-port <port>', 'SWIM port (UDP and TCP)', parsePort, 0)
  .option('--demo', 'serve the greeter example')
  .addOption(new Option('--profile <lan|wan|local>', 'SWIM profile').choices(['lan', 'wan', 'local']).default('lan'))
  .addOption(new Option('--swim <json>', 'SWIM settings overriding the profile, as JSON').argParser((v) => parseJson(v) as Partial<SwimConfig>).hideHelp())
  .addOption(new Option('--rejoin-ms <ms>', 're-join seeds and mDNS peers this often').argParser(Number).hideHelp())
  .addOption(new Option('--mdns-browse-ms <ms>', 'mean time between mDNS browses').argParser(Number).hideHelp())
  .action(async (o: { name?: string; port: number; gossipPort: number; demo?: boolean; profile: SwimProfile; swim?: Partial<SwimConfig>; rejoinMs?: number; mdnsBrowseMs?: number }) => {
    const m = meshFlags(flags());
    const host = m.host ?? '0.0.0.0';
    const mdns = m.mdns === false ? false : { ...m.mdns, ...(o.mdnsBrowseMs ? { browseIntervalMs: o.mdnsBrowseMs } : {}) };
    const svc = createService({
      name: o.name ?? (o.demo ? 'greeter' : 'micromesh'),
      address: `${host}:${o.port}`,
      logger: logger(),
      mesh: {
        cluster: m.cluster, join: m.seeds, keys: m.keys, mdns, gossipAddress: `${host}:${o.gossipPort}`,
        profile: o.profile, swim: o.swim, rejoinIntervalMs: o.rejoinMs,
      },
    });
    if (o.demo) svc.handle('Greeter', new Greeter());
    await svc.start();
    const gossip = svc.mesh!.swim.address;
    console.log(JSON.stringify({ service: svc.name, id: svc.id, address: svc.address, gossip, cluster: m.cluster, mdns: svc.mesh!.mdnsError ? 'unavailable' : m.mdns !== false }));
    if (!flags().json) {
      if (svc.mesh!.mdnsError) console.error(`mDNS unavailable here (${svc.mesh!.mdnsError.detail}); peers must --join ${gossip}`);
      console.error(`try: npx micromesh --join ${gossip} services${o.demo ? `   or   npx micromesh --join ${gossip} call greeter Greeter.Hello '{"name":"Ada"}'` : ''}`);
    }
    await svc.run();
  });

program.command('services').description('list the services in the mesh').action(() => withMesh(async ({ view }) => {
  const all = await view.registry.listServices();
  const byName = new Map<string, ServiceRecord[]>();
  for (const s of all) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  const rows = [...byName].sort(([a], [b]) => a.localeCompare(b)).map(([name, ss]) => ({
    name, versions: ss.map((s) => s.version).sort(), nodes: ss.reduce((n, s) => n + s.nodes.length, 0),
  }));
  print(flags().json, rows, () => [['NAME', 'VERSIONS', 'NODES'], ...rows.map((r) => [r.name, r.versions.join(','), String(r.nodes)])]);
}));

program.command('service').description('show one service: versions, endpoints, nodes').argument('<name>')
  .action((name: string) => withMesh(async ({ view }) => {
    const versions = await view.registry.getService(name);
    if (versions.length === 0) throw new MeshError('SERVICE_NOT_FOUND', `no service "${name}" in the mesh (ask "micromesh services")`);
    print(flags().json, versions, () => versions.flatMap((s) => [
      [`${s.name} ${s.version}`, ''],
      ...s.endpoints.map((e) => ['  endpoint', `${e.name}${Object.keys(e.metadata).length ? ` ${JSON.stringify(e.metadata)}` : ''}`]),
      ...s.nodes.map((n) => ['  node', `${n.id} ${n.address}`]),
    ]));
  }));

program.command('members').description('list the mesh members: id, address, state, incarnation').action(() => withMesh(async ({ view }) => {
  const rows = view.members.map((m) => ({ id: m.id, address: m.address, state: m.state, incarnation: m.incarnation }));
  print(flags().json, rows, () => [['ID', 'ADDRESS', 'STATE', 'INCARNATION'], ...rows.map((r) => [r.id, r.address, r.state, String(r.incarnation)])]);
}));

program.command('call').description('call SERVICE ENDPOINT with a JSON request; print the JSON response')
  .argument('<service>').argument('<endpoint>').argument('[json]')
  .option('--timeout <ms>', 'timeout per attempt', (v) => Number(v), 5000)
  .option('--metadata <k=v>', 'request metadata (repeatable)', parseMetadata, {})
  .action((service: string, endpoint: string, json: string | undefined, o: { timeout: number; metadata: Record<string, string> }) =>
    withMesh(async ({ service: svc }) => {
      const res = await svc.client.call(service, endpoint, parseJson(json), { timeoutMs: o.timeout, metadata: o.metadata, contentType: 'application/json' });
      console.log(JSON.stringify(res, null, flags().json ? undefined : 2));
    }));

program.command('stream').description('open a server stream on SERVICE ENDPOINT; print each message as a JSON line')
  .argument('<service>').argument('<endpoint>').argument('[json]')
  .action((service: string, endpoint: string, json: string | undefined) => withMesh(async ({ service: svc }) => {
    for await (const m of await svc.client.stream(service, endpoint, parseJson(json), { contentType: 'application/json' })) console.log(JSON.stringify(m));
  }));

program.command('health').description("call Debug.Health on every node of SERVICE").argument('<service>')
  .action((name: string) => withMesh(async ({ view, service: svc }) => {
    const nodes = (await view.registry.getService(name)).flatMap((s) => s.nodes.map((n) => ({ version: s.version, ...n })));
    if (nodes.length === 0) throw new MeshError('SERVICE_NOT_FOUND', `no service "${name}" in the mesh`);
    const rows = await Promise.all(nodes.map(async (n) => {
      try {
        const r = await svc.client.call<{ status: string }>(name, 'Debug.Health', {}, { address: n.address, timeoutMs: 2000, retries: 0 });
        return { node: n.id, address: n.address, version: n.version, status: r.status };
      } catch (err) {
        return { node: n.id, address: n.address, version: n.version, status: 'error', error: err instanceof MeshError ? `${err.code}: ${err.detail}` : String(err) };
      }
    }));
    print(flags().json, rows, () => [['NODE', 'ADDRESS', 'VERSION', 'STATUS'], ...rows.map((r) => [r.node, r.address, r.version, r.error ? `${r.status} (${r.error})` : r.status])]);
    if (rows.some((r) => r.status !== 'ok')) process.exitCode = 1;
  }));

program.command('publish').description('publish a JSON message on TOPIC to the subscribing nodes')
  .argument('<topic>').argument('[json]')
  .option('--metadata <k=v>', 'message metadata (repeatable)', parseMetadata, {})
  .option('--timeout <ms>', 'longest wait for delivery', (v) => Number(v), 5000)
  .addOption(brokerOption())
  .action((topic: string, json: string | undefined, o: { metadata: Record<string, string>; timeout: number; broker: CliBroker }) =>
    withMesh(async ({ view, service: svc }) => {
      const host = meshFlags(flags()).host ?? '127.0.0.1';
      const n = await publishOnce(view, svc, topic, parseJson(json), { broker: o.broker, metadata: o.metadata, timeoutMs: o.timeout, host });
      if (flags().json) console.log(JSON.stringify({ topic, subscriberNodes: n }));
      else console.error(`published to ${topic} (${n} subscribing node${n === 1 ? '' : 's'})`);
    }));

program.command('subscribe').description('print messages on TOPIC (wildcards * and >) as JSON lines until Ctrl-C')
  .argument('<topic>')
  .option('--queue <group>', 'join a queue group: each message goes to one member of the group')
  .addOption(brokerOption())
  .action(async (topic: string, o: { queue?: string; broker: CliBroker }) => {
    const m = meshFlags(flags());
    const host = m.host ?? '0.0.0.0';
    const svc = createService({
      name: 'micromesh-cli', address: `${host}:0`, logger: logger(), broker: o.broker,
      mesh: { cluster: m.cluster, join: m.seeds, keys: m.keys, mdns: m.mdns, gossipAddress: `${host}:0` },
    }).subscribe(topic, (message, ctx) => {
      console.log(JSON.stringify({ topic: ctx.topic, id: ctx.id, metadata: ctx.metadata, attempt: ctx.deliveryAttempt, message }));
    }, { queue: o.queue });
    await svc.start();
    if (!flags().json) console.error(`subscribed to ${topic}${o.queue ? ` in queue group ${o.queue}` : ''} as ${svc.id} (Ctrl-C to stop)`);
    await svc.run();
  });

program.command('keygen').description('print a new gossip encryption key (for --key / MICROMESH_KEY)').action(() => {
  console.log(randomBytes(32).toString('base64'));
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
