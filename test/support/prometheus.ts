// A real Prometheus for the observability tests: Debian's prometheus on
// 127.0.0.1 with a free port, its TSDB in a temporary directory, one scrape
// job fed by http_sd (every admin port of a mesh, from any node's
// /v1/prometheus/targets), stopped by PID. Without prometheus the tests skip
// with the reason unless MICROMESH_REQUIRE_SERVERS=1 (CI) makes them fail.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, serverGate, serverProcess } from './servers.ts';

/** Where prometheus is: $PROMETHEUS_PATH, else Debian's /usr/bin/prometheus. */
export function prometheusPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';
}

export interface PrometheusOptions {
  /** http_sd URLs of the job, e.g. `http://127.0.0.1:9100/v1/prometheus/targets`. */
  httpSd: string[];
  /** Default `micromesh`. */
  jobName?: string;
  /** Seconds between scrapes (also the scrape timeout and rule evaluation period). Default 1. */
  scrapeIntervalS?: number;
  /** Seconds between http_sd polls. Default 1. */
  refreshIntervalS?: number;
  /** The job's `relabel_configs`, as Prometheus reads them (snake_case keys). Default: none. */
  relabelConfigs?: Record<string, unknown>[];
}

/** One series of an instant query's answer. */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
  /** Seconds since the epoch. */
  time: number;
}

/** One active target of /api/v1/targets. */
export interface PromTarget {
  /** Labels after relabelling (`instance`, `job`, ...). */
  labels: Record<string, string>;
  /** Labels from service discovery, `__meta_*` included. */
  discoveredLabels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  /** `up`, `down` or `unknown` (not scraped yet). */
  health: string;
  lastError: string;
}

export interface Prometheus {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** Its last lines, for failure messages. */
  readonly output: string[];
  /** An instant query (`/api/v1/query`); throws with Prometheus' error when the query fails. */
  query(expr: string): Promise<PromSample[]>;
  /** The active targets (`/api/v1/targets?state=active`). */
  targets(): Promise<PromTarget[]>;
  /** Polls `probe` every 250 ms until it returns something other than undefined or false; throws naming `what` after `timeoutMs` (default 30 s). */
  until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  /** Stops it by PID: SIGTERM, then SIGKILL after 5 s (or `signal` at once). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its data and config. */
  dispose(): Promise<void>;
}

export interface PrometheusGate {
  /** node:test's `skip`: the reason when prometheus is missing (the gate throws instead under MICROMESH_REQUIRE_SERVERS=1). */
  readonly skip: string | false;
  start(options: PrometheusOptions): Promise<Prometheus>;
}

/** Top-level `await` it, as `skip` must be known when tests register. */
export async function prometheusGate(env: NodeJS.ProcessEnv = process.env): Promise<PrometheusGate> {
  const path = prometheusPath(env);
  const { skip } = await serverGate(path, 'apt-get install prometheus, or set PROMETHEUS_PATH', env);
  return { skip, start: (options) => startPrometheus(path, options) };
}

/** The configuration file: JSON, which Prometheus' YAML parser reads as it is. */
export function prometheusConfig(o: PrometheusOptions): string {
  const every = `${o.scrapeIntervalS ?? 1}s`;
  return JSON.stringify({
    global: { scrape_interval: every, scrape_timeout: every, evaluation_interval: every },
    scrape_configs: [{
      job_name: o.jobName ?? 'micromesh',
      http_sd_configs: o.httpSd.map((url) => ({ url, refresh_interval: `${o.refreshIntervalS ?? 1}s` })),
      ...(o.relabelConfigs !== undefined ? { relabel_configs: o.relabelConfigs } : {}),
    }],
  }, null, 2);
}

async function startPrometheus(path: string, o: PrometheusOptions): Promise<Prometheus> {
  const root = await mkdtemp(join(tmpdir(), 'micromesh-prometheus-'));
  const configFile = join(root, 'prometheus.yml');
  await writeFile(configFile, prometheusConfig(o));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = serverProcess({
    name: 'prometheus',
    command: path,
    args: [
      `--config.file=${configFile}`, `--storage.tsdb.path=${join(root, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    ready: async () => (await getText(`${url}/-/ready`)).status === 200,
    readyTimeoutMs: 20_000, signal: 'SIGTERM', killAfterMs: 5000,
  });
  try {
    await server.start();
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }

  const api = async <T>(path: string): Promise<T> => {
    const r = await getText(`${url}${path}`);
    const body = JSON.parse(r.body) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? r.status}`);
    return body.data;
  };

  return {
    url,
    port,
    get pid() {
      return server.pid;
    },
    output: server.output,
    async query(expr) {
      const data = await api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      if (data.resultType !== 'vector') throw new Error(`prometheus query ${expr}: a ${data.resultType}, not an instant vector`);
      return data.result.map((s) => ({ metric: s.metric, time: s.value[0], value: Number(s.value[1]) }));
    },
    async targets() {
      return (await api<{ activeTargets: PromTarget[] }>('/api/v1/targets?state=active')).activeTargets;
    },
    async until(what, probe, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      for (;;) {
        try {
          const v = await probe();
          if (v !== undefined && v !== false) return v;
        } catch (err) {
          last = err;
        }
        if (Date.now() > deadline) {
          throw new Error(`prometheus: ${what} not seen within ${timeoutMs} ms${last !== undefined ? ` (last error: ${String(last)})` : ''}; its log: ${server.output.slice(-5).join(' | ')}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    stop: (signal) => server.stop(signal),
    async dispose() {
      await server.stop('SIGKILL');
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A GET that never throws for a refused connection (status 0 then), with a 2 s timeout. */
function getText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 2000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}
