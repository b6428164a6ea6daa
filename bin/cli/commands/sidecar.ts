import { Option, type Command } from 'commander';
import type { SwimConfig, SwimProfile } from '../../../src/swim/config.ts';
import type { Cli } from '../context.ts';
import { adminAddressOption, adminOf, createMember } from '../member.ts';
import { tlsOf, withTlsOptions } from '../tls-flags.ts';
import { parseDuration, parseJson, parseMetadata, parsePort } from '../options.ts';

interface SidecarFlags {
  appName: string;
  appAddress: string;
  healthUrl?: string;
  healthInterval: number;
  address: string;
  endpoints?: string[];
  pathTemplate?: string;
  port: number;
  gossipPort: number;
  adminAddress?: string;
  profile: SwimProfile;
  swim?: Partial<SwimConfig>;
  metadata: Record<string, string>;
}

const list = (text: string): string[] => text.split(',').map((s) => s.trim()).filter(Boolean);

/** `micromesh sidecar`: makes an HTTP app in any language a mesh member (micro sidecar), until SIGINT/SIGTERM. */
export function register(program: Command, cli: Cli): void {
  withTlsOptions(program.command('sidecar'))
    .description('make an HTTP app a mesh member: calls to --app-name become HTTP requests to the app; the app gets /rpc, /registry, /broker, /health')
    .requiredOption('--app-name <name>', 'service name the app is called by')
    .requiredOption('--app-address <host:port>', "the app's HTTP server")
    .option('--health-url <url>', 'GET it every --health-interval: non-2xx or no answer withdraws the app from the registry')
    .addOption(new Option('--health-interval <duration>', 'time between health checks').argParser(parseDuration).default(5000, '5s'))
    .option('--address <host:port>', 'HTTP address the app calls the mesh on', ':8081')
    .option('--endpoints <Handler.Method,...>', "the app's endpoints (default: GET /.well-known/micromesh on the app)", list)
    .option('--path-template <path>', 'where calls go on the app ({service}, {handler}, {method}, {endpoint})', '/{handler}/{method}')
    .option('--metadata <k=v>', 'service metadata in the registry, e.g. bot-command=deploy (repeatable)', parseMetadata, {})
    .option('--port <port>', 'RPC port of this member', parsePort, 0)
    .option('--gossip-port <port>', 'SWIM port (UDP and TCP)', parsePort, 0)
    .addOption(adminAddressOption())
    .addOption(new Option('--profile <lan|wan|local>', 'SWIM profile').choices(['lan', 'wan', 'local']).default('lan'))
    .addOption(new Option('--swim <json>', 'SWIM settings overriding the profile, as JSON').argParser((v) => parseJson(v) as Partial<SwimConfig>).hideHelp())
    .action(async (o: SidecarFlags) => {
      const { createSidecar, httpNode } = await import('../../../src/sidecar/index.ts');
      const logger = await cli.logger();
      const service = await createMember(cli, {
        name: o.appName, port: o.port, gossipPort: o.gossipPort, nodeMetadata: httpNode(o.appAddress), metadata: o.metadata, logger, ...adminOf(o), ...tlsOf(o),
        mesh: { profile: o.profile, swim: o.swim },
      });
      const sidecar = createSidecar({
        service, appAddress: o.appAddress, healthUrl: o.healthUrl, healthIntervalMs: o.healthInterval,
        endpoints: o.endpoints, pathTemplate: o.pathTemplate, http: { address: o.address }, logger,
      });
      // SIGINT/SIGTERM also ends a start still waiting for the app; until then
      // nothing else keeps the process alive (library timers are unref'd).
      const quit = new AbortController();
      const alive = setInterval(() => {}, 1 << 30);
      const onSignal = (): void => quit.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await sidecar.start({ signal: quit.signal });
        console.log(JSON.stringify({
          sidecar: sidecar.address, service: service.name, id: service.id, address: service.address, gossip: service.mesh!.swim.address,
          app: o.appAddress, endpoints: sidecar.endpoints.map((e) => e.name), health: sidecar.health().status,
        }));
        if (!cli.flags().json) console.error(`sidecar for ${o.appName} on http://${sidecar.address}  try: curl -d '{"name":"Ada"}' -H 'content-type: application/json' http://${sidecar.address}/greeter/hello`);
        if (!quit.signal.aborted) await new Promise((resolve) => quit.signal.addEventListener('abort', resolve, { once: true }));
      } catch (err) {
        if (!quit.signal.aborted) throw err;
      } finally {
        clearInterval(alive);
        await sidecar.stop();
        await service.stop();
      }
    });
}
