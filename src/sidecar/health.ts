import { MeshError, type Clock, type Logger, type ServiceRecord, type TimerHandle } from '../index.ts';
import type { HttpServer } from '../http/index.ts';
import { exchange } from './exchange.ts';
import {
  SIDECAR_APP_METADATA, SIDECAR_HEALTH_METADATA, SIDECAR_SERVICE, type AppHealthReport, type AppHealthStatus,
} from './names.ts';

/**
 * The app's health: a GET of its health URL every interval (2xx passing,
 * anything else or no answer critical), as micro's sidecar did, reported
 * at `/health`, through `$mesh Sidecar.Health` and in the companion record.
 * What a change does to the registry is the sidecar's business (onChange).
 */

export interface AppHealthOptions {
  app: string;
  /** Undefined: the app is taken as passing, and nothing is checked. */
  url: string | undefined;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
}

/** The longest a check waits for the app, ms (less when the interval is shorter). */
const MAX_CHECK_TIMEOUT_MS = 2000;

export class AppHealth {
  private readonly o: AppHealthOptions;
  private current: AppHealthReport;
  private timer: TimerHandle | undefined;
  private abort: AbortController | undefined;

  constructor(o: AppHealthOptions) {
    this.o = o;
    this.current = { status: 'passing', app: o.app };
  }

  get report(): AppHealthReport {
    return { ...this.current };
  }

  /** Checks once; resolves with whether the status changed. */
  async check(signal?: AbortSignal): Promise<boolean> {
    if (this.o.url === undefined) return false;
    const before = this.current.status;
    let reason: string | undefined;
    try {
      const res = await exchange({
        method: 'GET', url: this.o.url, timeoutMs: Math.min(this.o.intervalMs, MAX_CHECK_TIMEOUT_MS), signal,
        limitBytes: 0, what: `health check of app "${this.o.app}"`, errorId: 'micromesh.sidecar',
      }, this.o.clock);
      if (res.status < 200 || res.status > 299) reason = `${this.o.url} answered HTTP ${res.status}`;
    } catch (err) {
      if (signal?.aborted) throw err;
      reason = err instanceof MeshError ? `${err.code}: ${err.detail}` : String(err);
    }
    const status: AppHealthStatus = reason === undefined ? 'passing' : 'critical';
    this.current = { status, ...(reason !== undefined ? { reason } : {}), app: this.o.app, checkedAtMs: this.o.clock.wallTime() };
    if (status === before) return false;
    if (status === 'critical') this.o.logger.warn('app is critical', { reason });
    else this.o.logger.info('app is passing');
    return true;
  }

  /**
   * Checks every interval until stop(), calling `onChange` (awaited, so
   * changes apply in order) when the status changes. Idempotent.
   */
  start(onChange: (report: AppHealthReport) => Promise<void>): void {
    if (this.o.url === undefined || this.abort !== undefined) return;
    const abort = (this.abort = new AbortController());
    const tick = async (): Promise<void> => {
      try {
        if (await this.check(abort.signal)) await onChange(this.report);
      } catch (err) {
        if (!abort.signal.aborted) this.o.logger.warn('applying the app health failed', { error: String(err) });
      }
      if (!abort.signal.aborted) this.timer = this.o.clock.setTimeout(() => void tick(), this.o.intervalMs);
    };
    this.timer = this.o.clock.setTimeout(() => void tick(), this.o.intervalMs);
  }

  /** Idempotent. */
  stop(): void {
    this.abort?.abort();
    this.abort = undefined;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** `GET /health`: 200 with the report while passing, 503 while critical. */
export function registerHealthRoute(http: HttpServer, health: AppHealth): void {
  http.install((app) => app.get('/health', (_req, reply) => {
    const r = health.report;
    return reply.code(r.status === 'passing' ? 200 : 503).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(r));
  }));
}

/**
 * The sidecar's companion record: one node (the sidecar's own id and RPC
 * address) naming the app and its health, so `micromesh health APP` finds
 * the app even while its own record is withdrawn.
 */
export function companionRecord(node: { id: string; address: string }, app: string, status: AppHealthStatus): ServiceRecord {
  return {
    name: SIDECAR_SERVICE,
    version: 'latest',
    metadata: {},
    endpoints: [],
    nodes: [{ id: node.id, address: node.address, metadata: { [SIDECAR_APP_METADATA]: app, [SIDECAR_HEALTH_METADATA]: status } }],
  };
}
