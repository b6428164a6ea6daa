import type { Command } from 'commander';
import type { Cli } from '../context.ts';
import { adminAddressOption, adminOf, createMember, untilSignal } from '../member.ts';
import { tlsOf, withTlsOptions } from '../tls-flags.ts';
import { parseDuration, parsePort } from '../options.ts';

interface WebOptions {
  address: string;
  port: number;
  gossipPort: number;
  adminAddress?: string;
  readOnly: boolean;
  proxy: boolean;
  allow: string[];
  deny: string[];
  timeout: number;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

/** `micromesh web`: the dashboard (micro web), a member of the mesh until SIGINT/SIGTERM. */
export function register(program: Command, cli: Cli): void {
  withTlsOptions(program.command('web'))
    .description('serve the dashboard: services and endpoints with a call form, the live mesh, pubsub, stats, a terminal')
    .option('--address <host:port>', 'HTTP listen address', ':8082')
    .option('--port <port>', 'RPC port of this member', parsePort, 0)
    .option('--gossip-port <port>', 'SWIM port (UDP and TCP)', parsePort, 0)
    .addOption(adminAddressOption())
    .option('--read-only', 'no call form and no publish (for a shared screen)', false)
    .option('--no-proxy', 'do not reverse-proxy services that serve HTTP under /<service>/')
    .option('--allow <patterns>', 'only these service or service/Endpoint patterns may be called (repeatable)', collect, [])
    .option('--deny <patterns>', 'never these patterns (wins over --allow; repeatable)', collect, [])
    .option('--timeout <duration>', 'deadline of calls from the dashboard', parseDuration, 10_000)
    .action(async (o: WebOptions) => {
      const { createWebDashboard } = await import('../../../src/web/index.ts');
      const logger = await cli.logger();
      const service = await createMember(cli, { name: 'micromesh-web', port: o.port, gossipPort: o.gossipPort, logger, ...adminOf(o), ...tlsOf(o) });
      const web = createWebDashboard({
        service, logger, readOnly: o.readOnly, proxy: o.proxy, allow: o.allow, deny: o.deny,
        http: { address: o.address, callTimeoutMs: o.timeout },
      });
      await web.start();
      console.log(JSON.stringify({ web: web.address, id: service.id, gossip: service.mesh!.swim.address, cluster: cli.mesh().cluster, readOnly: o.readOnly }));
      if (!cli.flags().json) console.error(`dashboard on http://${web.address}/`);
      await untilSignal();
      await web.stop();
      await service.stop();
    });
}
