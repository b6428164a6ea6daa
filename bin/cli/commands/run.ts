import { Option, type Command } from 'commander';
import type { SwimConfig, SwimProfile } from '../../../src/swim/config.ts';
import type { Cli } from '../context.ts';
import { DATA_DIR_FLAGS, DATA_DIR_HELP, adminAddressOption, adminOf } from '../member.ts';
import { tlsOf, withTlsOptions } from '../tls-flags.ts';
import { parseJson, parsePort } from '../options.ts';

interface RunOptions {
  name?: string;
  port: number;
  gossipPort: number;
  demo?: boolean;
  profile: SwimProfile;
  swim?: Partial<SwimConfig>;
  rejoinMs?: number;
  mdnsBrowseMs?: number;
  adminAddress?: string;
  dataDir?: string;
}

/** `micromesh run`: a peer on the mesh until SIGINT/SIGTERM; with --demo it serves the greeter. */
export function register(program: Command, cli: Cli): void {
  withTlsOptions(program.command('run'))
    .description('run a peer; with --demo it serves the greeter (Greeter.Hello, Greeter.Stream)')
    .option('--name <name>', 'service name (default: greeter with --demo, else micromesh)')
    .option('--port <port>', 'RPC port', parsePort, 0)
    .option('--gossip-port <port>', 'SWIM port (UDP and TCP)', parsePort, 0)
    .option('--demo', 'serve the greeter example')
    .addOption(adminAddressOption())
    .option(DATA_DIR_FLAGS, DATA_DIR_HELP)
    .addOption(new Option('--profile <lan|wan|local>', 'SWIM profile').choices(['lan', 'wan', 'local']).default('lan'))
    .addOption(new Option('--swim <json>', 'SWIM settings overriding the profile, as JSON').argParser((v) => parseJson(v) as Partial<SwimConfig>).hideHelp())
    .addOption(new Option('--rejoin-ms <ms>', 're-join seeds and mDNS peers this often').argParser(Number).hideHelp())
    .addOption(new Option('--mdns-browse-ms <ms>', 'mean time between mDNS browses').argParser(Number).hideHelp())
    .action(async (o: RunOptions) => {
      const [{ createService }, demo, { serviceBackends }] = await Promise.all([
        import('../../../src/mesh/service.ts'),
        o.demo ? import('../demo/greeter.ts') : undefined,
        import('../member.ts'),
      ]);
      const m = cli.mesh();
      const host = m.host ?? '0.0.0.0';
      const mdns = m.mdns === false ? false : { ...m.mdns, ...(o.mdnsBrowseMs ? { browseIntervalMs: o.mdnsBrowseMs } : {}) };
      const svc = createService({
        name: o.name ?? (o.demo ? 'greeter' : 'micromesh'),
        address: `${host}:${o.port}`,
        logger: await cli.logger(),
        ...adminOf(o), ...tlsOf(o), dataDir: o.dataDir,
        // --registry etcd://…: listed in etcd, no SWIM and no mDNS; --broker nats://…: messages through NATS.
        ...serviceBackends(m),
        mesh: m.registry.kind !== 'mesh' ? false : {
          cluster: m.cluster, join: m.seeds, keys: m.keys, mdns, gossipAddress: `${host}:${o.gossipPort}`,
          profile: o.profile, swim: o.swim, rejoinIntervalMs: o.rejoinMs,
        },
      });
      const greeter = demo === undefined ? undefined : new demo.Greeter();
      if (greeter) svc.handle('Greeter', greeter, { schemas: demo!.GREETER_SCHEMAS });
      await svc.start();
      // The demo's greeting word lives in the mesh's key/value store: `micromesh kv put greeter/greeting Hola`.
      if (greeter) await demo!.watchGreeting(greeter, svc.kv, (err) => svc.logger.warn('greeter config refused', { error: String(err) }));
      if (svc.mesh === undefined) {
        console.log(JSON.stringify({ service: svc.name, id: svc.id, address: svc.address, ...adminLine(svc), registry: svc.registry.name, broker: svc.broker.name }));
        await svc.run();
        return;
      }
      const gossip = svc.mesh.swim.address;
      console.log(JSON.stringify({ service: svc.name, id: svc.id, address: svc.address, ...adminLine(svc), gossip, cluster: m.cluster, mdns: svc.mesh.mdnsError ? 'unavailable' : m.mdns !== false }));
      if (!cli.flags().json) {
        if (svc.mesh!.mdnsError) console.error(`mDNS unavailable here (${svc.mesh!.mdnsError.detail}); peers must --join ${gossip}`);
        console.error(`try: npx micromesh --join ${gossip} services${o.demo ? `   or   npx micromesh --join ${gossip} call greeter Greeter.Hello '{"name":"Ada"}'   then   npx micromesh --join ${gossip} kv put greeter/greeting Hola` : ''}`);
      }
      await svc.run();
    });
}

/** The admin port in the start-up line, when there is one (its real port when asked for 0). */
function adminLine(svc: { adminAddress: string | undefined }): { admin?: string } {
  return svc.adminAddress === undefined ? {} : { admin: svc.adminAddress };
}
