// Quotas (docs/ratelimit.md section 6): long-horizon budgets per client, counted in calendar windows
// (UTC days or UTC months), with the usage readable by the operator. A quota is a fixed window whose
// boundaries follow the calendar rather than a multiple of a length, so it lives here in TS rather than
// in the native core: it is checked once per admitted call, next to the rules, at map-lookup cost.

export type QuotaPeriod = 'day' | 'month';

/** One quota, as users write it (server.limits({ quotas }), --limits FILE). */
export interface QuotaSpec {
  /** Named in errors and in usage(); unique among quotas and rules. */
  readonly name: string;
  readonly period: QuotaPeriod;
  /** Permits per period (an integer >= 1). */
  readonly limit: number;
  /** Methods it counts (default ['tools/call']); '*' for every request method. */
  readonly methods?: readonly string[];
  /** Only these tools (default: all). */
  readonly tools?: readonly string[];
  /** Most clients tracked (default 100000); beyond it the least recently used client is forgotten. */
  readonly maxKeys?: number;
}

/** What the operator reads for one client and quota. */
export interface QuotaUsage {
  readonly quota: string;
  readonly period: QuotaPeriod;
  readonly limit: number;
  readonly used: number;
  /** When the current period started and when it ends (ms since the epoch, UTC). */
  readonly periodStart: number;
  readonly periodEnd: number;
}

/** [start, end) of the UTC day or month holding `now` (ms). */
export function periodOf(period: QuotaPeriod, now: number): [number, number] {
  const d = new Date(now);
  if (period === 'day') {
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    return [start, start + 86_400_000];
  }
  return [Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)];
}

interface Count {
  start: number;
  used: number;
}

/** One quota's counts per client, bounded (least recently admitted client evicted first). */
export class QuotaCounter {
  private readonly counts = new Map<string, Count>();
  readonly maxKeys: number;

  constructor(readonly spec: QuotaSpec) {
    if (typeof spec.name !== 'string' || spec.name === '') throw new TypeError('A quota needs a non-empty name');
    if (spec.period !== 'day' && spec.period !== 'month') {
      throw new TypeError(`Quota ${JSON.stringify(spec.name)}: period must be 'day' or 'month', got ${JSON.stringify(spec.period)}`);
    }
    if (!Number.isInteger(spec.limit) || spec.limit < 1 || spec.limit > 1e12) {
      throw new RangeError(`Quota ${JSON.stringify(spec.name)}: limit must be an integer from 1 to 1e12, got ${String(spec.limit)}`);
    }
    this.maxKeys = spec.maxKeys ?? 100_000;
    if (!Number.isInteger(this.maxKeys) || this.maxKeys < 1 || this.maxKeys > 1e8) {
      throw new RangeError(`Quota ${JSON.stringify(spec.name)}: maxKeys must be an integer from 1 to 1e8, got ${String(spec.maxKeys)}`);
    }
  }

  /** Permits the client has used in the period holding `now`. */
  used(client: string, now: number): number {
    const c = this.counts.get(client);
    return c !== undefined && c.start === periodOf(this.spec.period, now)[0] ? c.used : 0;
  }

  /** Whether `cost` more fits in the client's current period (changes nothing). */
  fits(client: string, cost: number, now: number): boolean {
    return this.used(client, now) + cost <= this.spec.limit;
  }

  /** ms until the client's current period ends. */
  retryAfterMs(now: number): number {
    return Math.max(1, Math.ceil(periodOf(this.spec.period, now)[1] - now));
  }

  /** Counts an admitted call. */
  add(client: string, cost: number, now: number): void {
    const start = periodOf(this.spec.period, now)[0];
    const c = this.counts.get(client);
    if (c !== undefined) {
      this.counts.delete(client); // most recently used last
      if (c.start !== start) ((c.start = start), (c.used = 0));
      c.used += cost;
      this.counts.set(client, c);
      return;
    }
    if (this.counts.size >= this.maxKeys) this.counts.delete(this.counts.keys().next().value!);
    this.counts.set(client, { start, used: cost });
  }

  usage(client: string, now: number): QuotaUsage {
    const [periodStart, periodEnd] = periodOf(this.spec.period, now);
    return { quota: this.spec.name, period: this.spec.period, limit: this.spec.limit, used: this.used(client, now), periodStart, periodEnd };
  }

  /** Every tracked client with usage in the current period (for the operator). */
  clients(now: number): string[] {
    const start = periodOf(this.spec.period, now)[0];
    return [...this.counts].filter(([, c]) => c.start === start && c.used > 0).map(([k]) => k);
  }

  get size(): number {
    return this.counts.size;
  }
}
