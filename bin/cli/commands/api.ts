import { InvalidArgumentError, type Command } from 'commander';
import type { Cli } from '../context.ts';
import { adminAddressOption, adminOf, createMember, untilSignal } from '../member.ts';
import { tlsOf, withTlsOptions } from '../tls-flags.ts';
import { parseDuration, parsePort } from '../options.ts';

interface ApiOptions {
  address: string;
  port: number;
  gossipPort: number;
  adminAddress?: string;
  namespace: string;
  rpc: boolean;
  rpcPath: string;
  events: boolean;
  eventsPath: string;
  proxy: boolean;
  allow: string[];
  deny: string[];
  cors: boolean;
  corsOrigin: string[];
  corsMethods: string[];
  corsHeaders: string[];
  corsExpose: string[];
  corsMaxAge?: number;
  corsCredentials?: boolean;
  bodyLimit: number;
  timeout: number;
  drainTimeout: number;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

function bytes(text: string): number {
  const m = /^(\d+)(k|kb|m|mb)?$/i.exec(text.trim());
  if (m === null) throw new InvalidArgumentError(`must be bytes, e.g. 1048576, 512k or 4m; got "${text}"`);
  const unit = (m[2] ?? '').toLowerCase();
  return Number(m[1]) * (unit.startsWith('m') ? 1 << 20 : unit.startsWith('k') ? 1024 : 1);
}

function seconds(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`must be whole seconds, got "${text}"`);
  return n;
}

/** `micromesh api`: the HTTP gateway into the mesh (micro api), a client-only member until SIGINT/SIGTERM. */
export function register(program: Command, cli: Cli): void {
  withTlsOptions(program.command('api'))
    .description('serve HTTP into the mesh: /service/method → calls, /rpc, SSE and WebSocket streams, /events, HTTP proxy')
    .option('--address <host:port>', 'HTTP listen address', ':8080')
    .option('--port <port>', 'RPC port of this member', parsePort, 0)
    .option('--gossip-port <port>', 'SWIM port (UDP and TCP)', parsePort, 0)
    .addOption(adminAddressOption())
    .option('--namespace <ns>', 'prefix joined to resolved service names (ns.greeter)', '')
    .option('--no-rpc', 'turn off the /rpc endpoint')
    .option('--rpc-path <path>', 'path of the /rpc endpoint', '/rpc')
    .option('--no-events', 'turn off the event handler')
    .option('--events-path <path>', 'POST <path>/<topic> publishes the body', '/events')
    .option('--no-proxy', 'do not reverse-proxy services that serve HTTP')
    .option('--allow <patterns>', 'only these service or service/Endpoint patterns (* wildcards; repeatable)', collect, [])
    .option('--deny <patterns>', 'never these patterns (wins over --allow; repeatable)', collect, [])
    .option('--no-cors', 'turn off CORS')
    .option('--cors-origin <origins>', 'allowed origins (repeatable; default any)', collect, [])
    .option('--cors-methods <methods>', 'allowed methods (repeatable; default GET, HEAD, POST, PUT, PATCH, DELETE)', collect, [])
    .option('--cors-headers <headers>', 'allowed request headers (repeatable; default: what the preflight asks)', collect, [])
    .option('--cors-expose <headers>', 'response headers scripts may read (repeatable; default X-Request-Id)', collect, [])
    .option('--cors-max-age <seconds>', 'how long browsers cache a preflight', seconds)
    .option('--cors-credentials', 'allow credentials (the origin is then reflected)')
    .option('--body-limit <bytes>', 'largest request body (e.g. 1m)', bytes, 1 << 20)
    .option('--timeout <duration>', 'call deadline when the request sets none', parseDuration, 10_000)
    .option('--drain-timeout <duration>', 'on SIGTERM, how long in-flight requests may finish', parseDuration, 10_000)
    .action(async (o: ApiOptions) => {
      const { createApiGateway } = await import('../../../src/api/index.ts');
      const logger = await cli.logger();
      const service = await createMember(cli, {
        name: 'micromesh-api', port: o.port, gossipPort: o.gossipPort, logger, ...adminOf(o), ...tlsOf(o),
        // Many HTTP connections fan into few RPC connections: frames of one loop iteration share a write.
        rpc: { flush: 'iteration' },
      });
      const gateway = createApiGateway({
        service,
        logger,
        allow: o.allow,
        deny: o.deny,
        eventsPath: o.events ? o.eventsPath : '',
        proxy: o.proxy,
        http: {
          address: o.address,
          namespace: o.namespace,
          rpcPath: o.rpc ? o.rpcPath : '',
          bodyLimitBytes: o.bodyLimit,
          callTimeoutMs: o.timeout,
          drainTimeoutMs: o.drainTimeout,
          cors: o.cors ? {
            ...(o.corsOrigin.length > 0 ? { origins: o.corsOrigin } : {}),
            ...(o.corsMethods.length > 0 ? { methods: o.corsMethods } : {}),
            ...(o.corsHeaders.length > 0 ? { allowedHeaders: o.corsHeaders } : {}),
            ...(o.corsExpose.length > 0 ? { exposedHeaders: o.corsExpose } : {}),
            ...(o.corsMaxAge !== undefined ? { maxAgeS: o.corsMaxAge } : {}),
            credentials: o.corsCredentials === true,
          } : false,
        },
      });
      await gateway.start();
      console.log(JSON.stringify({ api: gateway.address, id: service.id, gossip: service.mesh!.swim.address, cluster: cli.mesh().cluster }));
      if (!cli.flags().json) console.error(`api gateway on http://${gateway.address}  try: curl -d '{"name":"Ada"}' -H 'content-type: application/json' http://${gateway.address}/greeter/hello`);
      await untilSignal();
      await gateway.stop();
      await service.stop();
    });
}
