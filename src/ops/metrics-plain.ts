// Metrics whose values live in plain JS numbers and are read only when the registry is scraped. A
// prom-client Registry takes any object with a name, get() and reset() (its own Counter and Histogram
// are such objects): these hand it their values computed at scrape time, so the request path only adds
// to numbers and never hashes a label set. AggregatorRegistry (multi-process) merges them like its own,
// by each metric's `aggregator`.
import type { Aggregator, Metric, Registry } from 'prom-client';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

/** Histogram bucket upper bounds (seconds) of request latencies: 50 us to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * A histogram's counts, by bucket (not cumulative: counts[i] holds observations in (bounds[i-1],
 * bounds[i]], the last slot those above every bound), and their sum.
 */
export class PlainHistogram {
  readonly counts: Float64Array;
  sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    // Most observations fall in the first few buckets: a forward scan beats a binary search there.
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
  }

  get count(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }
}

type Kind = 'counter' | 'gauge' | 'histogram';

/** One metric of the registry whose samples `read` computes when it is scraped. */
class ComputedMetric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: Kind,
    readonly aggregator: Aggregator,
    private readonly read: () => readonly { labels: Labels; value: number; metricName?: string }[],
  ) {}

  get(): Promise<{ name: string; help: string; type: Kind; aggregator: Aggregator; values: { labels: Labels; value: number; metricName?: string }[] }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.read()] });
  }

  /** Registry.resetMetrics(): the values belong to their sources, which keep counting. */
  reset(): void {}
}

function register(registry: Registry, metric: ComputedMetric): void {
  registry.registerMetric(metric as unknown as Metric<string>);
}

/** A counter (name ending in _total) or gauge whose samples are read at scrape time. */
export function computed(registry: Registry, type: 'counter' | 'gauge', name: string, help: string, aggregator: Aggregator, read: () => readonly Sample[]): void {
  if (type === 'counter' && !name.endsWith('_total')) throw new Error(`Counter ${name} must end in _total`);
  register(registry, new ComputedMetric(name, help, type, aggregator, read));
}

/** A histogram: `read` gives each label set's PlainHistogram (all with the same bounds). */
export function computedHistogram(registry: Registry, name: string, help: string, read: () => readonly { labels: Labels; histogram: PlainHistogram }[]): void {
  register(
    registry,
    new ComputedMetric(name, help, 'histogram', 'sum', () => {
      const out: { labels: Labels; value: number; metricName: string }[] = [];
      for (const { labels, histogram } of read()) {
        const { bounds, counts } = histogram;
        let cumulative = 0;
        for (let i = 0; i < bounds.length; i++) {
          cumulative += counts[i]!;
          out.push({ labels: { ...labels, le: String(bounds[i]) }, value: cumulative, metricName: `${name}_bucket` });
        }
        cumulative += counts[bounds.length]!;
        out.push({ labels: { ...labels, le: '+Inf' }, value: cumulative, metricName: `${name}_bucket` });
        out.push({ labels, value: histogram.sum, metricName: `${name}_sum` });
        out.push({ labels, value: cumulative, metricName: `${name}_count` });
      }
      return out;
    }),
  );
}
