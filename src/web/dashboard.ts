import {
  Lifecycle, SystemClock, SystemRandom, createLogger, defaultCodecs, topicsOf, type Clock, type Logger, type Random, type Service,
} from '../index.ts';
import { Catalog, HttpProxy, HttpServer, Invoker, accessPolicy, resolveHttpConfig, type HttpConfigInput } from '../http/index.ts';
import { registerActions } from './actions.ts';
import { registerReadApi } from './api.ts';
import { loadAssets, registerAssets } from './assets.ts';
import { registerLive } from './live.ts';
import { MeshModel } from './model.ts';
import { serviceSource, type MeshSource } from './source.ts';
import { registerProxy } from './proxy.ts';

export interface WebDashboardOptions {
  /** The mesh member the dashboard reads and calls through; started by `start()` if it is not. */
  service: Service;
  /** Listen address, `host:port` or `:port`. Default `:8082`. Shorthand for `http.address`. */
  address?: string;
  /** HTTP limits, timeouts, CORS... (HttpConfig). */
  http?: HttpConfigInput;
  /** No call form, no publish: the write endpoints are not served at all. Default false. */
  readOnly?: boolean;
  /** Only these `service` or `service/Endpoint` patterns may be called (default: all but `$mesh` and `Debug.*`). */
  allow?: string[];
  deny?: string[];
  /** Reverse-proxy services that serve HTTP themselves under `/<service>/` (micro web's proxy). Default true. */
  proxy?: boolean;
  /** Per-node calls (health, stats) give up after this long, ms. Default 2000. */
  nodeTimeoutMs?: number;
  /** Test seam: what the pages show (default: the service's registry and SWIM view). */
  source?: MeshSource;
  /** Topic list for the pubsub page (default: from the members' records). */
  topics?: () => unknown;
  logger?: Logger;
  clock?: Clock;
  random?: Random;
}

export interface WebDashboard {
  /** `host:port` once started. */
  readonly address: string | undefined;
  /** Starts the service if needed, loads the app, follows the mesh, listens. Idempotent. */
  start(opts?: { signal?: AbortSignal }): Promise<void>;
  /** Ends live streams, drains and closes. Leaves the service running. Idempotent. */
  stop(): Promise<void>;
}

/**
 * micro web for the mesh: the services and their endpoints with a call form
 * generated from their schemas, the live SWIM view, pubsub topics with a
 * publish form and a live tail, per-node stats, and a browser terminal.
 * One HTTP server (the gateway's layer) serves the app and its JSON API.
 */
export function createWebDashboard(o: WebDashboardOptions): WebDashboard {
  const config = resolveHttpConfig({ ...o.http, ...(o.address !== undefined ? { address: o.address } : {}) }, { address: ':8082', rpcPath: '' }, 'web');
  const logger = (o.logger ?? createLogger({ level: 'warn' })).child({ component: 'web' });
  const clock = o.clock ?? new SystemClock();
  const random = o.random ?? new SystemRandom();
  const http = new HttpServer({ config, logger, clock, random, errorId: 'micromesh.web' });
  const source = o.source ?? serviceSource(o.service);
  const model = new MeshModel({ source, clock, logger });
  const readOnly = o.readOnly ?? false;
  let assets: Awaited<ReturnType<typeof loadAssets>> | undefined;

  registerAssets(http, () => assets);
  registerReadApi({
    http, source, model, client: o.service.client, nodeTimeoutMs: o.nodeTimeoutMs ?? 2000,
    topics: o.topics ?? (() => topicsOf(source.records()).topics),
    info: () => ({ node: source.localId ?? o.service.id, service: o.service.name, readOnly }),
  });
  registerLive({ http, model, broker: o.service.broker, codecs: defaultCodecs(), tailBacklog: 1000, tailBodyBytes: 64 * 1024 });
  if (!readOnly) {
    registerActions({ invoker: new Invoker(http, o.service.client), client: o.service.client, exposes: accessPolicy({ allow: o.allow, deny: o.deny }) });
  }
  const catalog = o.proxy === false ? undefined : new Catalog({ registry: source.registry, logger, exposes: () => true, clock });
  if (catalog !== undefined) registerProxy(http, new HttpProxy(http, catalog, random));

  const life = new Lifecycle();
  return {
    get address() {
      return http.address;
    },
    start: (opts = {}) => life.start(async () => {
      assets ??= await loadAssets();
      await o.service.start(opts);
      model.start();
      await catalog?.start();
      await http.listen(opts.signal);
      logger.info('web dashboard listening', { address: http.address });
    }),
    stop: () => life.stop(async () => {
      model.stop();
      await http.close();
      catalog?.stop();
    }),
  };
}
