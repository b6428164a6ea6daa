import { MeshError } from '../errors/index.ts';
import type { Collector, MetricFamily } from './types.ts';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * One service's metrics: the collectors its components registered. No
 * global registry, so services sharing a process never mix their figures.
 * Rendering to Prometheus' text format is `prometheusText` (prometheus.ts),
 * which loads prom-client on first use.
 */
export class MetricsRegistry {
  private readonly collectors = new Set<Collector>();

  /** Adds a collector; the returned function removes it (a component that stops). */
  add(collector: Collector): () => void {
    this.collectors.add(collector);
    return () => this.collectors.delete(collector);
  }

  /**
   * Every family now. Families of the same name from two collectors are
   * merged (a layer may report from several parts); a collector that throws
   * is skipped, so one broken component cannot blank the scrape.
   */
  collect(onError?: (err: unknown) => void): MetricFamily[] {
    const byName = new Map<string, MetricFamily>();
    for (const c of this.collectors) {
      let families: MetricFamily[];
      try {
        families = c();
      } catch (err) {
        onError?.(err);
        continue;
      }
      for (const f of families) {
        if (!NAME.test(f.name)) {
          onError?.(new MeshError('INTERNAL', `metric name ${JSON.stringify(f.name)} is not a Prometheus name`));
          continue;
        }
        const seen = byName.get(f.name);
        if (seen === undefined) byName.set(f.name, { ...f, samples: [...f.samples] } as MetricFamily);
        else if (seen.type === f.type) (seen.samples as unknown[]).push(...f.samples);
      }
    }
    return [...byName.values()];
  }
}
