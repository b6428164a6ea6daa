// Benchmark subject process for bench/api.ts: one mode per process, each
// loading only what its mode needs (so its RSS is the subject's own).
//   bare                     node:http, parses the JSON body, answers {msg}: no RPC behind it
//   moleculer-service        a Moleculer broker with service `greeter` (action `hello`), TCP transporter
//   moleculer-web <url>      a Moleculer broker running moleculer-web's ApiGateway, whose TCP
//                            transporter knows the service node from <url> (`host:port/nodeID`)
//   micromesh-service        a micromesh service `greeter` with Greeter.Hello, no mesh
//   micromesh-api <address>  micromesh/api's gateway over a service whose StaticRegistry lists
//                            greeter at <address>
// Everything listens on 127.0.0.1 except Moleculer's TCP transporter server, which has no
// bind-address option (it listens on every interface; only loopback addresses are given out).
// Prints "READY <address>" (or "SKIP <reason>" when micromesh/api cannot be loaded); answers
// "rss" on stdin with "RSS <bytes>" and "cpu" with "CPU <µs used> <µs of it in the kernel>";
// exits when stdin closes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

const mode = process.argv[2];
const arg = process.argv[3];
const LOOPBACK = '127.0.0.1';

/** A bare node:http server: the limit of an HTTP JSON endpoint on this machine. */
async function bare(): Promise<string> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let name: unknown;
      try {
        name = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name?: unknown }).name;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad json"}');
        return;
      }
      const body = JSON.stringify({ msg: `Hello ${String(name)}` });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
  return `${LOOPBACK}:${(server.address() as AddressInfo).port}`;
}

/**
 * A Moleculer broker on the TCP transporter with UDP discovery off: peers come
 * only from `urls` (`host:port/nodeID`), and the local node advertises 127.0.0.1 instead of the
 * host's interface addresses and hostname, so no packet leaves loopback.
 * Logging, metrics and tracing are off.
 */
async function moleculerBroker(nodeID: string, urls: string | undefined) {
  const { ServiceBroker } = await import('moleculer');
  const broker = new ServiceBroker({
    namespace: 'micromesh-bench',
    nodeID,
    logger: false,
    metrics: false,
    tracing: false,
    transporter: { type: 'TCP', options: { udpDiscovery: false, urls, useHostname: false, port: 0 } },
  });
  const local = (broker.registry as unknown as { nodes: { localNode: { ipList: string[]; hostname: string; port: number } } }).nodes.localNode;
  local.ipList = [LOOPBACK];
  local.hostname = LOOPBACK;
  return { broker, local };
}

async function moleculerService(): Promise<string> {
  const { broker, local } = await moleculerBroker('bench-greeter', undefined);
  broker.createService({
    name: 'greeter',
    actions: { hello: (ctx: { params: { name: string } }) => ({ msg: `Hello ${ctx.params.name}` }) },
  });
  await broker.start();
  // The transporter's TCP port, chosen at start.
  return `${LOOPBACK}:${local.port}/bench-greeter`;
}

async function moleculerWeb(serviceUrl: string): Promise<string> {
  const { default: ApiGateway } = await import('moleculer-web');
  const { broker } = await moleculerBroker('bench-gateway', serviceUrl);
  const gw = broker.createService({
    name: 'api',
    mixins: [ApiGateway],
    settings: {
      port: 0,
      ip: LOOPBACK,
      logRequest: null,
      logResponse: null,
      logRequestParams: null,
      logRouteRegistration: null,
      // moleculer-web's default route, spelled out: POST /greeter/hello calls greeter.hello with the JSON body as params.
      routes: [{ path: '/', mappingPolicy: 'all', bodyParsers: { json: true }, logging: false }],
    },
  });
  await broker.start();
  await broker.waitForServices(['greeter'], 10_000);
  return `${LOOPBACK}:${((gw as unknown as { server: http.Server }).server.address() as AddressInfo).port}`;
}

async function micromeshService(): Promise<string> {
  const { createService, silentLogger } = await import('micromesh');
  const svc = createService({ name: 'greeter', logger: silentLogger, mesh: false, address: `${LOOPBACK}:0` })
    .handle('Greeter', { Hello: (req: { name: string }) => ({ msg: `Hello ${req.name}` }) });
  await svc.start();
  return svc.address!;
}

/** The contract of micromesh/api (src/api, written separately). */
interface ApiGatewayModule {
  createApiGateway(opts: { service: unknown; address: string; logger?: unknown }): { start(): Promise<void>; stop(): Promise<void>; readonly address: string | undefined };
}

async function micromeshApi(greeter: string): Promise<string> {
  // A specifier in a variable: tsc does not resolve it, so this file type-checks before src/api exists.
  const specifier = 'micromesh/api';
  let api: ApiGatewayModule;
  try {
    // tsx maps micromesh/api to src/api/index.ts (tsconfig paths) when that file exists, and
    // otherwise falls back to the package's exports (dist/): measure the working tree only.
    const resolved = import.meta.resolve(specifier);
    if (!resolved.endsWith('/src/api/index.ts')) throw new Error(`src/api/index.ts not found (micromesh/api resolves to ${resolved})`);
    api = (await import(specifier)) as ApiGatewayModule;
    if (typeof api.createApiGateway !== 'function') throw new Error('micromesh/api does not export createApiGateway');
  } catch (err) {
    console.log(`SKIP cannot load micromesh/api: ${((err as Error).message ?? String(err)).split('\n')[0]}`);
    process.exit(0);
  }
  const { createService, silentLogger, StaticRegistry } = await import('micromesh');
  const service = createService({
    name: 'micromesh-api', logger: silentLogger, mesh: false, address: `${LOOPBACK}:0`, rpc: { flush: 'iteration' },
    registry: new StaticRegistry({ services: { greeter: [greeter] } }),
  });
  await service.start();
  // Silent like the Moleculer row (logger: false); the gateway's default logs warnings only, and not per request.
  const gw = api.createApiGateway({ service, address: `${LOOPBACK}:0`, logger: silentLogger });
  await gw.start();
  return gw.address!;
}

let address: string;
if (mode === 'bare') address = await bare();
else if (mode === 'moleculer-service') address = await moleculerService();
else if (mode === 'moleculer-web') address = await moleculerWeb(arg!);
else if (mode === 'micromesh-service') address = await micromeshService();
else if (mode === 'micromesh-api') address = await micromeshApi(arg!);
else throw new Error(`unknown mode ${mode}`);

console.log(`READY ${address}`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'rss') console.log(`RSS ${process.memoryUsage().rss}`);
  if (line === 'cpu') {
    const cpu = process.cpuUsage();
    console.log(`CPU ${cpu.user + cpu.system} ${cpu.system}`);
  }
}).on('close', () => process.exit(0));
