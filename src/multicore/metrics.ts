// /metrics of a multi-process server: every worker answers a scrape with the whole cluster's numbers.
// Workers share the port, so a scrape reaches one of them at random; that worker asks the primary,
// which collects every worker's registry over the cluster IPC channel (prom-client's
// AggregatorRegistry: counters and histograms summed, gauges per their aggregator) and answers.
import type { Registry } from 'prom-client';
import { askPrimary } from './worker.js';

const SERVICE = 'fastermcp:metrics';

/** Worker side: the registry the primary collects from, and the text a scrape answers. */
export async function clusterMetricsText(registry: Registry): Promise<() => Promise<string>> {
  const { AggregatorRegistry } = await import('prom-client');
  AggregatorRegistry.setRegistries([registry]);
  // prom-client answers the primary's collection requests only once an AggregatorRegistry exists here.
  new AggregatorRegistry();
  return () => askPrimary<string>(SERVICE);
}

/** Primary side: the service answering SERVICE (prom-client loaded only when a scrape comes). */
export function metricsService(): Record<string, () => Promise<string>> {
  let aggregator: { clusterMetrics(): Promise<string> } | undefined;
  return {
    [SERVICE]: async () => {
      if (aggregator === undefined) {
        const { AggregatorRegistry } = await import('prom-client');
        aggregator = new AggregatorRegistry();
      }
      return aggregator.clusterMetrics();
    },
  };
}
