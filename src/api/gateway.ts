import {
  Lifecycle, SystemClock, SystemRandom, createLogger, jsonBridge, type Clock, type Logger, type Random, type Service, type ServiceDefinition,
} from '../index.ts';
import {
  Catalog, HttpProxy, HttpServer, Invoker, accessPolicy, registerEvents, registerRpcRoutes, resolveHttpConfig, type HttpConfigInput,
} from '../http/index.ts';


export interface ApiGatewayOptions {
  /** The mesh member the gateway calls through (a client-only service is enough). started by `start()` if it is not. */
  service: Service;
  /** Listen address, `host:port` or `:port`. Default `:8080`. Shorthand for `http.address`. */
  address?: string;
  /** HTTP limits, timeouts, CORS, `/rpc` path, namespace... (HttpConfig). */
  http?: HttpConfigInput;
  /** Only these `service` or `service/Endpoint` patterns are reachable (default: all). */
  allow?: string[];
  /** Never these (wins over allow). */
  deny?: string[];
  /** Path prefix of the event handler (`POST /events/<topic>` publishes); empty turns it off. Default `/events`. */
  eventsPath?: string;
  /** Reverse-proxy services that serve HTTP themselves under `/<service>/`. Default true. */
  proxy?: boolean;
  /**
   * Definitions with message types (generated from `.proto`): their
   * endpoints are called in protobuf, the HTTP JSON body parsed as the
   * request's proto3 JSON form and the answer written back in it. Other
   * endpoints, typed or not, get the body as it came (a typed service
   * converts JSON itself).
   */
  definitions?: ServiceDefinition[];
  logger?: Logger;
  clock?: Clock;
  random?: Random;
}

export interface ApiGateway {
  /** `host:port` once started. */
  readonly address: string | undefined;
  /** Starts the service if needed, follows the registry, listens. Idempotent. */
  start(opts?: { signal?: AbortSignal }): Promise<void>;
  /** Drains (new requests 503, in-flight ones finish within drainTimeoutMs) and closes. Leaves the service running. Idempotent. */
  stop(): Promise<void>;
}

/**
 * micro api for the mesh: HTTP in, calls out. The rpc handler resolves
 * paths by Go Micro's rules after the routes services declare; `/rpc`,
 * the event handler and the HTTP proxy sit beside it.
 */
export function createApiGateway(o: ApiGatewayOptions): ApiGateway {
  const config = resolveHttpConfig({ ...o.http, ...(o.address !== undefined ? { address: o.address } : {}) }, { address: ':8080' }, 'api');
  const logger = (o.logger ?? createLogger({ level: 'warn' })).child({ component: 'api' });
  const clock = o.clock ?? new SystemClock();
  const random = o.random ?? new SystemRandom();
  const exposes = accessPolicy({ allow: o.allow, deny: o.deny });
  const http = new HttpServer({ config, logger, clock, random, errorId: 'micromesh.api' });
  const catalog = new Catalog({ registry: o.service.registry, logger, exposes, clock });
  const client = o.definitions === undefined || o.definitions.length === 0 ? o.service.client : jsonBridge(o.service.client, o.definitions);
  const invoker = new Invoker(http, client);
  const eventsPath = o.eventsPath ?? '/events';
  if (eventsPath !== '') registerEvents(http, o.service.broker, eventsPath);
  const proxy = o.proxy === false ? undefined : new HttpProxy(http, catalog, random);
  registerRpcRoutes({ invoker, catalog, exposes, intercept: proxy?.intercept, interceptWs: proxy?.interceptWs });
  const life = new Lifecycle();
  return {
    get address() {
      return http.address;
    },
    start: (opts = {}) => life.start(async () => {
      await o.service.start(opts);
      await catalog.start();
      await http.listen(opts.signal);
      logger.info('api gateway listening', { address: http.address });
    }),
    stop: () => life.stop(async () => {
      await http.close();
      catalog.stop();
    }),
  };
}
