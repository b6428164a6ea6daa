/**
 * `loadConfig`: reads every source, merges them in order, validates the
 * result with the schema and keeps it; then reloads a source whenever it
 * changes (debounced on the Clock), keeping the last valid value when a
 * reload fails and telling the watchers of each path whose value changed.
 */
import { MeshError, SystemClock, silentLogger, type Clock, type Logger, type TimerHandle } from '../index.ts';
import { deepEqual, deepFreeze, getAt, mergeSnapshots, originOf, splitPath } from './merge.ts';
import { ID } from './parse.ts';
import type {
  Config, ConfigPath, ConfigSource, ConfigValueAt, ConfigWatchFn, InferOutput, LoadConfigOptions, SourceSnapshot, StandardSchemaV1,
} from './types.ts';

/**
 * Loads the config: rejects with the first source's error (NOT_FOUND for a
 * missing file or mesh key, INVALID_CONFIG for a bad document or a schema
 * violation, CANCELLED when `signal` aborts).
 */
export async function loadConfig<S extends StandardSchemaV1 | undefined = undefined>(opts: LoadConfigOptions<S>): Promise<Config<InferOutput<S>>> {
  const sources = opts?.sources;
  if (!Array.isArray(sources) || sources.some((s) => s === null || typeof s !== 'object' || typeof s.load !== 'function')) {
    throw new MeshError('INVALID_CONFIG', 'loadConfig: sources must be an array of config sources (file(), env(), flags(), mesh())', { id: ID });
  }
  const debounceMs = opts.debounceMs ?? 100;
  if (typeof debounceMs !== 'number' || !(debounceMs >= 0 && debounceMs <= 60_000)) {
    throw new MeshError('INVALID_CONFIG', `loadConfig: debounceMs must be a number in [0, 60000], got ${JSON.stringify(debounceMs)}`, { id: ID });
  }
  const schema = opts.schema;
  if (schema !== undefined && typeof schema?.['~standard']?.validate !== 'function') {
    throw new MeshError('INVALID_CONFIG', 'loadConfig: schema must implement Standard Schema v1 (zod 4, valibot, arktype)', { id: ID });
  }
  if (opts.signal?.aborted) throw cancelled();
  const config = new LoadedConfig<InferOutput<S>>(sources, schema, opts.clock ?? new SystemClock(), opts.logger ?? silentLogger, debounceMs, opts.signal);
  try {
    await config.start(opts.watch !== false);
  } catch (err) {
    await config.close();
    throw opts.signal?.aborted ? cancelled() : err;
  }
  return config;
}

const cancelled = () => new MeshError('CANCELLED', 'loadConfig: cancelled', { id: ID });

interface Watcher {
  path: string[];
  fn: ConfigWatchFn<any>;
}

class LoadedConfig<T> implements Config<T> {
  private current!: T;
  private origins: ReadonlyMap<string, string> = new Map();
  private snapshots: SourceSnapshot[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly errorFns = new Set<(err: MeshError) => void>();
  private readonly timers: (TimerHandle | undefined)[] = [];
  private readonly stop = new AbortController();
  /** Reloads run one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private readonly onAbort = () => void this.close();

  private readonly sources: readonly ConfigSource[];
  private readonly schema: StandardSchemaV1 | undefined;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly debounceMs: number;
  private readonly signal: AbortSignal | undefined;

  constructor(sources: readonly ConfigSource[], schema: StandardSchemaV1 | undefined, clock: Clock, logger: Logger, debounceMs: number, signal: AbortSignal | undefined) {
    this.sources = sources;
    this.schema = schema;
    this.clock = clock;
    this.logger = logger;
    this.debounceMs = debounceMs;
    this.signal = signal;
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  async start(watch: boolean): Promise<void> {
    // Watch first, so a change made while loading is not missed (it only costs a reload).
    if (watch) this.sources.forEach((s, i) => this.watchSource(s, i));
    this.snapshots = await Promise.all(this.sources.map((s) => this.read(s)));
    const { value, origins } = await this.validate(this.snapshots);
    this.current = value;
    this.origins = origins;
  }

  get value(): T {
    return this.current;
  }

  get<P extends ConfigPath<T>>(path: P): ConfigValueAt<T, P> {
    return getAt(this.current, splitPath(path)) as ConfigValueAt<T, P>;
  }

  sourceOf(path: string): string | undefined {
    return originOf(this.origins, splitPath(path));
  }

  watch<P extends ConfigPath<T>>(path: P, fn: ConfigWatchFn<ConfigValueAt<T, P>>): () => void {
    if (typeof path !== 'string' || typeof fn !== 'function') {
      throw new MeshError('INVALID_ARGUMENT', 'config.watch(path, fn): path must be a dotted string and fn a function', { id: ID });
    }
    const w: Watcher = { path: splitPath(path), fn };
    this.watchers.add(w);
    return () => void this.watchers.delete(w);
  }

  onError(fn: (err: MeshError) => void): () => void {
    this.errorFns.add(fn);
    return () => void this.errorFns.delete(fn);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stop.abort();
      this.signal?.removeEventListener('abort', this.onAbort);
      for (const t of this.timers) this.clock.clearTimeout(t);
      await this.chain;
      this.watchers.clear();
      this.errorFns.clear();
    })();
    return this.closing;
  }

  private watchSource(source: ConfigSource, i: number): void {
    try {
      source.watch?.({
        changed: () => this.schedule(i),
        error: (err) => this.report(err),
        signal: this.stop.signal,
        clock: this.clock,
        logger: this.logger.child({ source: source.name }),
      });
    } catch (err) {
      this.logger.warn('config source not watched', { source: source.name, err: (err as Error).message });
    }
  }

  private schedule(i: number): void {
    if (this.stop.signal.aborted) return;
    this.clock.clearTimeout(this.timers[i]);
    this.timers[i] = this.clock.setTimeout(() => {
      this.timers[i] = undefined;
      this.chain = this.chain.then(() => this.reload(i));
    }, this.debounceMs);
  }

  /** A source's snapshot, any failure as a MeshError naming the source. */
  private async read(source: ConfigSource): Promise<SourceSnapshot> {
    try {
      return await source.load(this.stop.signal);
    } catch (err) {
      if (this.stop.signal.aborted) throw cancelled();
      if (err instanceof MeshError) throw err;
      throw new MeshError('UNAVAILABLE', `config source ${source.name}: ${(err as Error)?.message ?? String(err)}`, { id: ID, cause: err });
    }
  }

  private async reload(i: number): Promise<void> {
    if (this.stop.signal.aborted) return;
    try {
      // The newest snapshot is kept even when the merge is refused: it is the source's truth, and a
      // change elsewhere must not resurrect a value the source no longer holds.
      this.snapshots[i] = await this.read(this.sources[i]);
      const next = await this.validate(this.snapshots);
      if (this.stop.signal.aborted) return;
      const previous = this.current;
      this.current = next.value;
      this.origins = next.origins;
      this.notify(previous, next.value);
    } catch (err) {
      if (this.stop.signal.aborted) return;
      this.report(err instanceof MeshError ? err : new MeshError('INTERNAL', String(err), { id: ID, cause: err }));
    }
  }

  private notify(previous: T, next: T): void {
    for (const w of [...this.watchers]) {
      const before = getAt(previous, w.path);
      const after = getAt(next, w.path);
      if (deepEqual(before, after)) continue;
      const failed = (err: unknown) =>
        this.logger.error('config watcher failed', { path: w.path.join('.'), err: err instanceof Error ? err.message : String(err) });
      try {
        const r = w.fn(after, before);
        if (r instanceof Promise) r.catch(failed);
      } catch (err) {
        failed(err);
      }
    }
  }

  private report(err: MeshError): void {
    this.logger.warn('config reload failed; keeping the last valid config', { code: err.code, err: err.detail });
    for (const fn of [...this.errorFns]) {
      try {
        fn(err);
      } catch (e) {
        this.logger.error('config onError handler failed', { err: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  /** Merges the snapshots and runs the schema: the frozen value and each leaf's origin, or INVALID_CONFIG. */
  private async validate(snapshots: readonly SourceSnapshot[]): Promise<{ value: T; origins: ReadonlyMap<string, string> }> {
    const merged = mergeSnapshots(snapshots.map((snapshot, i) => ({ name: this.sources[i].name, snapshot })));
    if (this.schema === undefined) return { value: deepFreeze(merged.tree) as T, origins: merged.origins };
    const result = await this.schema['~standard'].validate(merged.tree);
    if (result.issues === undefined) return { value: deepFreeze(result.value) as T, origins: merged.origins };
    const problems = result.issues.map((issue) => {
      const path = (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null ? p.key : p));
      const value = getAt(merged.tree, path);
      const origin = originOf(merged.origins, path);
      const got = value === undefined ? '' : `, got ${preview(value)}`;
      return `${path.join('.') || '(root)'}: ${issue.message}${got} (${origin === undefined ? 'no source sets it' : `from ${origin}`})`;
    });
    throw new MeshError('INVALID_CONFIG', `invalid config: ${problems.join('; ')}`, { id: ID });
  }
}

function preview(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
