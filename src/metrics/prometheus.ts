import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { MetricsRegistry } from './registry.ts';
import type { MetricFamily } from './types.ts';

/** prom-client is loaded by the first scrape, not by importing micromesh (most nodes never open an admin port). */
const load = createRequire(import.meta.url);

interface Value {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/** What prom-client's Registry reads from a metric: our family, converted when the scrape asks. */
class FamilyAdapter {
  readonly name: string;
  readonly help: string;
  readonly type: MetricFamily['type'];
  readonly aggregator = 'sum';
  family: MetricFamily;

  constructor(family: MetricFamily) {
    this.name = family.name;
    this.help = family.help;
    this.type = family.type;
    this.family = family;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: Value[] } {
    const f = this.family;
    const values: Value[] = [];
    if (f.type === 'histogram') {
      for (const s of f.samples) {
        f.bounds.forEach((le, i) => values.push({ metricName: `${f.name}_bucket`, labels: { ...s.labels, le }, value: s.buckets[i] ?? 0 }));
        values.push({ metricName: `${f.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.count });
        values.push({ metricName: `${f.name}_sum`, labels: { ...s.labels }, value: s.sum });
        values.push({ metricName: `${f.name}_count`, labels: { ...s.labels }, value: s.count });
      }
    } else {
      for (const s of f.samples) values.push({ labels: { ...s.labels }, value: s.value });
    }
    return { name: f.name, help: f.help, type: f.type, aggregator: this.aggregator, values };
  }
}

export interface PrometheusExporterOptions {
  /** Node's default metrics (CPU, memory, event loop lag, GC, handles). Default true. */
  processMetrics?: boolean;
  /** A collector that threw (its families are left out of that scrape). */
  onError?: (err: unknown) => void;
}

/**
 * Renders a MetricsRegistry in Prometheus' text format through prom-client,
 * which also supplies Node's process metrics, registered in a prom-client
 * Registry of this exporter's own (never the global one).
 */
export class PrometheusExporter {
  private readonly source: MetricsRegistry;
  private readonly opts: PrometheusExporterOptions;
  private prom: { client: typeof PromClient; registry: PromClient.Registry } | undefined;
  private readonly adapters = new Map<string, FamilyAdapter>();

  constructor(source: MetricsRegistry, opts: PrometheusExporterOptions = {}) {
    this.source = source;
    this.opts = opts;
  }

  /** The exposition and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    const { client, registry } = this.init();
    const families = this.source.collect(this.opts.onError);
    const now = new Set<string>();
    for (const f of families) {
      now.add(f.name);
      const a = this.adapters.get(f.name);
      if (a !== undefined && a.type === f.type) {
        a.family = f;
        continue;
      }
      if (a !== undefined) registry.removeSingleMetric(f.name);
      const fresh = new FamilyAdapter(f);
      this.adapters.set(f.name, fresh);
      registry.registerMetric(fresh as unknown as PromClient.Metric);
    }
    for (const name of [...this.adapters.keys()]) {
      if (now.has(name)) continue;
      this.adapters.delete(name);
      registry.removeSingleMetric(name);
    }
    return { contentType: client.Registry.PROMETHEUS_CONTENT_TYPE, body: await registry.metrics() };
  }

  private init(): NonNullable<PrometheusExporter['prom']> {
    if (this.prom !== undefined) return this.prom;
    const client = load('prom-client') as typeof PromClient;
    const registry = new client.Registry();
    if (this.opts.processMetrics !== false) client.collectDefaultMetrics({ register: registry });
    this.prom = { client, registry };
    return this.prom;
  }
}
