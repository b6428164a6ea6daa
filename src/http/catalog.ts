import type FindMyWay from 'find-my-way';
import { byVersion, type Clock, type Filter, type Logger, type Metadata, type Registry, type ServiceRecord } from '../index.ts';
import { HTTP_ADDRESS_METADATA, routesOf, type HttpMethod } from './routes.ts';

/**
 * What the HTTP layer needs to know of the registry, kept live from its
 * watch: the routes services declare (matched by find-my-way, the router
 * fastify itself uses), the nodes that speak HTTP themselves (proxied), and
 * each endpoint's metadata (how to open a stream). Rebuilt whole on each
 * change, coalesced: registries change rarely, requests read it constantly.
 */

export interface RouteMatch {
  service: string;
  endpoint: string;
  /** Filters to the versions declaring the route, when not all versions do. */
  filters: Filter[] | undefined;
  params: Record<string, string>;
}

interface RouteStore {
  service: string;
  endpoint: string;
  filters: Filter[] | undefined;
}

type Router = FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;

interface Snapshot {
  /** Undefined until start() loaded find-my-way. */
  router: Router | undefined;
  /** service → HTTP addresses of its nodes. */
  http: Map<string, string[]>;
  /** `service endpoint` → metadata (of the first version listing it). */
  endpoints: Map<string, Metadata>;
}

export interface CatalogOptions {
  registry: Registry;
  logger: Logger;
  /** Paces re-watching after a watch fails. */
  clock: Clock;
  /** Whether an endpoint may be exposed (allow/deny lists, internal endpoints); others never get routes. */
  exposes: (service: string, endpoint: string) => boolean;
}

export class Catalog {
  private readonly o: CatalogOptions;
  private snap: Snapshot = emptySnapshot();
  private abort: AbortController | undefined;
  private rebuilding: Promise<void> | undefined;
  private dirty = false;
  private makeRouter: (() => Router) | undefined;

  constructor(o: CatalogOptions) {
    this.o = o;
  }

  /** Reads the registry once and follows its watch until stop(). */
  async start(): Promise<void> {
    if (this.abort !== undefined) return;
    this.abort = new AbortController();
    // Loaded here, with the server, not when micromesh/api is imported.
    const { default: FindMyWayRouter } = await import('find-my-way');
    this.makeRouter = () => FindMyWayRouter({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
    await this.rebuild();
    void this.follow(this.abort.signal);
  }

  stop(): void {
    this.abort?.abort();
    this.abort = undefined;
  }

  match(method: string, path: string): RouteMatch | undefined {
    const found = this.snap.router?.find(method as HttpMethod, path);
    if (found === null || found === undefined) return undefined;
    const store = found.store as RouteStore;
    const params: Record<string, string> = {};
    for (const [k, val] of Object.entries(found.params)) if (val !== undefined) params[k] = val;
    return { service: store.service, endpoint: store.endpoint, filters: store.filters, params };
  }

  /** HTTP addresses of a service's nodes, when it speaks HTTP. */
  httpAddresses(service: string): string[] | undefined {
    return this.snap.http.get(service);
  }

  endpointMetadata(service: string, endpoint: string): Metadata | undefined {
    return this.snap.endpoints.get(`${service} ${endpoint}`);
  }

  private async follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const _ of this.o.registry.watch({ signal })) void this.rebuild();
      } catch (err) {
        if (signal.aborted) return;
        this.o.logger.warn('registry watch ended; re-listing', { error: String(err) });
      }
      // A watch that ends at once (a registry that cannot watch) must not spin: wait before the next.
      await this.o.clock.sleep(1000, signal).catch(() => {});
      if (!signal.aborted) await this.rebuild();
    }
  }

  /** Rebuilds from a fresh listing; a change during a rebuild triggers one more. */
  private rebuild(): Promise<void> {
    if (this.rebuilding !== undefined) {
      this.dirty = true;
      return this.rebuilding;
    }
    this.rebuilding = (async () => {
      do {
        this.dirty = false;
        try {
          this.snap = this.build(await this.o.registry.listServices());
        } catch (err) {
          this.o.logger.warn('registry listing failed; keeping the previous routes', { error: String(err) });
        }
      } while (this.dirty);
      this.rebuilding = undefined;
    })();
    return this.rebuilding;
  }

  private build(services: ServiceRecord[]): Snapshot {
    const snap: Snapshot = { router: this.makeRouter!(), http: new Map(), endpoints: new Map() };
    // route key → declaring (service, endpoint) and the versions that declare it
    const declared = new Map<string, { method: HttpMethod; path: string; service: string; endpoint: string; versions: Set<string> }>();
    const versionsOf = new Map<string, Set<string>>();
    const sorted = [...services].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
    for (const s of sorted) {
      if (!versionsOf.has(s.name)) versionsOf.set(s.name, new Set());
      versionsOf.get(s.name)!.add(s.version);
      for (const n of s.nodes) {
        const http = n.metadata?.[HTTP_ADDRESS_METADATA];
        if (http === undefined) continue;
        const list = snap.http.get(s.name) ?? [];
        if (!list.includes(http)) list.push(http);
        snap.http.set(s.name, list);
      }
      for (const e of s.endpoints) {
        if (!this.o.exposes(s.name, e.name)) continue;
        const key = `${s.name} ${e.name}`;
        if (!snap.endpoints.has(key)) snap.endpoints.set(key, e.metadata ?? {});
        for (const r of routesOf(e.metadata, (text, err) => this.o.logger.warn('ignoring a malformed route', { service: s.name, endpoint: e.name, route: text, error: err.detail }))) {
          const rk = `${r.method} ${r.path}`;
          const prior = declared.get(rk);
          if (prior === undefined) declared.set(rk, { ...r, service: s.name, endpoint: e.name, versions: new Set([s.version]) });
          else if (prior.service === s.name && prior.endpoint === e.name) prior.versions.add(s.version);
          else this.o.logger.warn('route declared twice; keeping the first', { route: rk, kept: `${prior.service} ${prior.endpoint}`, ignored: `${s.name} ${e.name}` });
        }
      }
    }
    for (const d of declared.values()) {
      const all = versionsOf.get(d.service)!;
      const filters = d.versions.size === all.size ? undefined : [byVersion(...d.versions)];
      try {
        snap.router!.on(d.method, d.path, noop, { service: d.service, endpoint: d.endpoint, filters } satisfies RouteStore);
      } catch (err) {
        this.o.logger.warn('ignoring a route the router refuses', { route: `${d.method} ${d.path}`, service: d.service, error: String(err) });
      }
    }
    return snap;
  }
}

function noop(): void {}

function emptySnapshot(): Snapshot {
  return { router: undefined, http: new Map(), endpoints: new Map() };
}
