import { Option, type Command } from 'commander';
import type { SwimConfig, SwimProfile } from '../../../src/swim/config.ts';
import type { Cli } from '../context.ts';
import { DATA_DIR_FLAGS, DATA_DIR_HELP, adminAddressOption, adminOf, createMember, untilSignal } from '../member.ts';
import { tlsOf, withTlsOptions } from '../tls-flags.ts';
import { parseInteger, parseJson, parsePort } from '../options.ts';

interface AgentFlags {
  httpAddress: string;
  dnsAddress: string;
  allowPublic: boolean;
  datacenter?: string;
  nodeName?: string;
  domain: string;
  dnsTtl: number;
  maxServices: number;
  name: string;
  port: number;
  gossipPort: number;
  adminAddress?: string;
  dataDir?: string;
  profile: SwimProfile;
  swim?: Partial<SwimConfig>;
}

/**
 * `micromesh agent`: a mesh member answering Consul's HTTP API and DNS
 * (docs/agent.md), until SIGINT/SIGTERM. The ACL token for writes comes
 * from the environment (MICROMESH_AGENT_TOKEN), never a flag, so it does
 * not show in `ps`.
 */
export function register(program: Command, cli: Cli): void {
  withTlsOptions(program.command('agent'))
    .description('answer Consul\'s HTTP API (catalog, health, agent) and DNS from this mesh node; outside services register here')
    .option('--http-address <host:port>', 'Consul HTTP API; empty turns it off', '127.0.0.1:8500')
    .option('--dns-address <host:port>', 'Consul DNS, UDP and TCP; empty turns it off', '127.0.0.1:8600')
    .option('--allow-public', 'allow binding the HTTP API or DNS beyond loopback (reads need no token)', false)
    .option('--datacenter <name>', 'Consul datacenter (default: the mesh\'s cluster name)')
    .option('--node-name <name>', 'this node\'s Consul name (default: its node id)')
    .option('--domain <domain>', 'DNS domain', 'consul')
    .addOption(new Option('--dns-ttl <seconds>', 'TTL of DNS records').argParser(parseInteger).default(0))
    .addOption(new Option('--max-services <n>', 'services registered through this agent at most').argParser(parseInteger).default(256))
    .option('--name <service>', 'the service name this member registers as', 'consul')
    .option('--port <port>', 'RPC port of this member', parsePort, 0)
    .option('--gossip-port <port>', 'SWIM port (UDP and TCP)', parsePort, 0)
    .addOption(adminAddressOption())
    .option(DATA_DIR_FLAGS, DATA_DIR_HELP)
    .addOption(new Option('--profile <lan|wan|local>', 'SWIM profile').choices(['lan', 'wan', 'local']).default('lan'))
    .addOption(new Option('--swim <json>', 'SWIM settings overriding the profile, as JSON').argParser((v) => parseJson(v) as Partial<SwimConfig>).hideHelp())
    .action(async (o: AgentFlags) => {
      const { createAgent } = await import('../../../src/agent/index.ts');
      const logger = await cli.logger();
      const service = await createMember(cli, {
        name: o.name, port: o.port, gossipPort: o.gossipPort, logger, ...adminOf(o), ...tlsOf(o), dataDir: o.dataDir, mesh: { profile: o.profile, swim: o.swim },
      });
      const token = process.env.MICROMESH_AGENT_TOKEN;
      const agent = createAgent({
        service, logger, httpAddress: o.httpAddress, dnsAddress: o.dnsAddress, allowPublicBind: o.allowPublic, datacenter: o.datacenter,
        nodeName: o.nodeName, domain: o.domain, dnsTtlSeconds: o.dnsTtl, maxServices: o.maxServices, token: token === '' ? undefined : token,
      });
      await service.start();
      try {
        await agent.start();
        console.log(JSON.stringify({
          http: agent.httpAddress ?? null, dns: agent.dnsAddress ?? null, datacenter: agent.snapshot().datacenter, node: service.id,
          address: service.address, gossip: service.mesh?.swim.address, acl: token !== undefined && token !== '',
        }));
        if (!cli.flags().json && agent.httpAddress !== undefined) {
          console.error(`Consul API on http://${agent.httpAddress}  try: curl http://${agent.httpAddress}/v1/catalog/services`);
        }
        await untilSignal();
      } finally {
        await agent.stop();
        await service.stop();
      }
    });
}
