import { Lifecycle, SystemClock, SystemRandom, createLogger, type Clock, type Logger, type Random, type Service } from '../index.ts';
import {
  Catalog, HttpServer, Invoker, accessPolicy, registerRpcRoutes, resolveHttpConfig, type HttpConfigInput,
  headerRules,
} from '../http/index.ts';
import { registerBrokerRoutes } from './broker-routes.ts';
import { resolveSidecarConfig } from './config.ts';
import { describeApp, type AppEndpoint } from './describe.ts';
import { AppHealth, companionRecord, registerHealthRoute } from './health.ts';
import { appHandlers, forwarder } from './inbound.ts';
import { SIDECAR_HEALTH, type AppHealthReport, type AppHealthStatus } from './names.ts';
import { PostedRecords, registerRegistryRoutes } from './registry-routes.ts';

export interface SidecarOptions {
  /**
   * The app's mesh member, named after the app and not started yet: the
   * sidecar adds the app's endpoints before starting it. Build it with
   * `nodeMetadata: httpNode(appAddress)` so the API gateway can also
   * reverse-proxy `/<name>/` to the app.
   */
  service: Service;
  /** The app's HTTP server, `host:port`. */
  appAddress: string;
  /** GET this URL every healthIntervalMs; while it fails the app's record is withdrawn. Default none. */
  healthUrl?: string;
  /** Default 5000. */
  healthIntervalMs?: number;
  /** The app's endpoints, `Handler.Method`. Default: asked from the app (`GET /.well-known/micromesh`, see docs/sidecar.md). */
  endpoints?: string[];
  /** Where calls go on the app. Default `/{handler}/{method}`. */
  pathTemplate?: string;
  /** The app-facing HTTP server: address (default `:8081`), limits, timeouts, CORS, metadata headers (HttpConfig). */
  http?: HttpConfigInput;
  logger?: Logger;
  clock?: Clock;
  random?: Random;
}

export interface Sidecar {
  /** The app-facing HTTP address, `host:port`, once started. */
  readonly address: string | undefined;
  /** The app's endpoints once started. */
  readonly endpoints: readonly AppEndpoint[];
  /** The app's health as last checked. */
  health(): AppHealthReport;
  /** Learns the app's endpoints (waiting for the app), checks it, starts the service, listens. Idempotent. */
  start(opts?: { signal?: AbortSignal }): Promise<void>;
  /** Stops checking, drains the HTTP side, withdraws posted and companion records. Leaves the service running. Idempotent. */
  stop(): Promise<void>;
}

/**
 * micro sidecar for the mesh: an app in any language that speaks HTTP
 * becomes a full member. Inbound, mesh calls to the service become HTTP
 * requests to the app; outbound, the app gets the gateway's rpc handler and
 * `/rpc` (the same HTTP layer, composed the same way), `/registry`,
 * `/broker` and `/health` on `http.address`.
 */
export function createSidecar(o: SidecarOptions): Sidecar {
  const service = o.service;
  const app = service.name;
  const cfg = resolveSidecarConfig({
    appAddress: o.appAddress, healthUrl: o.healthUrl, healthIntervalMs: o.healthIntervalMs, endpoints: o.endpoints, pathTemplate: o.pathTemplate,
  });
  const config = resolveHttpConfig(o.http, { address: ':8081' }, 'sidecar');
  const logger = (o.logger ?? createLogger({ level: 'warn' })).child({ component: 'sidecar', app });
  const clock = o.clock ?? new SystemClock();
  const random = o.random ?? new SystemRandom();

  // Outbound: the API gateway's composition, minus its proxy and event handler.
  const exposes = accessPolicy();
  const http = new HttpServer({ config, logger, clock, random, errorId: 'micromesh.sidecar' });
  const catalog = new Catalog({ registry: service.registry, logger, exposes, clock });
  const invoker = new Invoker(http, service.client);
  registerRpcRoutes({ invoker, catalog, exposes });
  const posted = new PostedRecords(service.registry, clock, logger);
  registerRegistryRoutes(http, service.registry, posted);
  registerBrokerRoutes(http, service.broker);
  const health = new AppHealth({ app, url: cfg.healthUrl, intervalMs: cfg.healthIntervalMs, clock, logger });
  registerHealthRoute(http, health);
  service.server.handleInternal(SIDECAR_HEALTH.handler, { [SIDECAR_HEALTH.method]: () => health.report });

  // Inbound: one forwarding method per app endpoint.
  const forward = forwarder({
    app, appAddress: cfg.appAddress, pathTemplate: cfg.pathTemplate, headers: headerRules(config),
    bodyLimitBytes: config.bodyLimitBytes, callTimeoutMs: config.callTimeoutMs, clock,
  });
  let endpoints: AppEndpoint[] = [];

  const companion = (status: AppHealthStatus) => companionRecord({ id: service.id, address: service.address! }, app, status);
  /** A health change: the app's record listed only while passing; the companion record says which. */
  const apply = async (r: AppHealthReport): Promise<void> => {
    if (r.status === 'critical') await service.deregister();
    else await service.register();
    await service.registry.register(companion(r.status));
  };

  const life = new Lifecycle();
  return {
    get address() {
      return http.address;
    },
    get endpoints() {
      return endpoints;
    },
    health: () => health.report,
    start: (opts = {}) => life.start(async () => {
      if (endpoints.length === 0) {
        const found = cfg.endpoints?.map((name) => ({ name, metadata: {} })) ?? await describeApp({ app, appAddress: cfg.appAddress, clock, logger, signal: opts.signal });
        for (const [name, h] of appHandlers(found, forward)) service.handle(name, h.methods, { metadata: h.metadata, schemas: h.schemas });
        endpoints = found;
      }
      // A critical app starts unlisted: callers never see it until it passes.
      await health.check(opts.signal);
      if (health.report.status === 'critical') await service.deregister();
      else await service.register();
      await service.start(opts);
      await service.registry.register(companion(health.report.status));
      health.start(apply);
      await catalog.start();
      await http.listen(opts.signal);
      logger.info('sidecar listening', { address: http.address, appAddress: cfg.appAddress, endpoints: endpoints.map((e) => e.name) });
    }),
    stop: () => life.stop(async () => {
      health.stop();
      await http.close();
      catalog.stop();
      await posted.clear();
      if (service.address !== undefined) {
        await service.registry.deregister(companion(health.report.status)).catch((err: unknown) => logger.warn('withdrawing the companion record failed', { error: String(err) }));
      }
    }),
  };
}
