import type { QueryOptions, RegisterOptions, Registry, Service, WatchOptions, Watcher } from './types.ts';

/**
 * A registry whose implementation loads on first use: what
 * `createService({ registry: { etcd } })` builds, so `import 'micromesh'`
 * does not load the etcd registry's modules (start-up time is counted per
 * module here, ~2 ms each) and a mesh-only service never does.
 */
export class LazyRegistry implements Registry {
  readonly name: string;
  private inner: Promise<Registry & { close?(): unknown }> | undefined;
  private readonly load: () => Promise<Registry & { close?(): unknown }>;
  private closed = false;

  constructor(name: string, load: () => Promise<Registry & { close?(): unknown }>) {
    this.name = name;
    this.load = load;
  }

  private get(): Promise<Registry & { close?(): unknown }> {
    this.inner ??= this.load();
    return this.inner;
  }

  async register(service: Service, opts?: RegisterOptions): Promise<void> {
    return (await this.get()).register(service, opts);
  }

  async deregister(service: Service, opts?: RegisterOptions): Promise<void> {
    return (await this.get()).deregister(service, opts);
  }

  async getService(name: string, opts?: QueryOptions): Promise<Service[]> {
    return (await this.get()).getService(name, opts);
  }

  async listServices(opts?: QueryOptions): Promise<Service[]> {
    return (await this.get()).listServices(opts);
  }

  watch(opts?: WatchOptions): Watcher {
    let inner: Watcher | undefined;
    let stopped = false;
    const registry = (): Promise<Registry> => this.get();
    return {
      stop() {
        stopped = true;
        inner?.stop();
      },
      async *[Symbol.asyncIterator]() {
        const r = await registry();
        if (stopped || opts?.signal?.aborted) return;
        inner = r.watch(opts);
        yield* inner;
      },
    };
  }

  /** Closes the loaded registry, if it was ever loaded. A later use loads (and connects) again. */
  async close(): Promise<void> {
    if (this.closed && this.inner === undefined) return;
    const inner = this.inner;
    this.inner = undefined;
    this.closed = true;
    if (inner !== undefined) await (await inner).close?.();
  }
}
