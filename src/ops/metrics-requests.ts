// Request counts and latencies per method and tool, as a RequestObserver (src/server/observe.ts).
//
// The per-request cost is what matters here (bench/metrics.bench.ts): begin() finds the request's
// series with one Map lookup (tools/call: by tool name) and allocates one small watch; end() adds to
// plain numbers. Nothing is turned into prom-client samples until a scrape (metrics-plain.ts).
//
// Label values are bounded by what the server registered, never by what clients send: a method the
// server does not know is "(unknown)", and so is a tool name that is not registered.
import { performance } from 'node:perf_hooks';
import type { Outcome, RequestEnd, RequestInfo, RequestObserver, RequestWatch } from '../server/observe.js';
import { METHOD_SLOTS } from '../server/protocol.js';
import type { McpServer } from '../server/server.js';
import { LATENCY_BUCKETS, PlainHistogram, type Labels } from './metrics-plain.js';

/** The label value of a method or tool name the server does not know. */
export const UNKNOWN = '(unknown)';

/** Most tool series kept; tools registered beyond this many (over the server's life) share "(other)". */
const MAX_TOOL_SERIES = 2000;
const OTHER = '(other)';

const OUTCOMES: readonly Outcome[] = ['ok', 'error', 'tool_error', 'cancelled'];
const OUTCOME_INDEX: Readonly<Record<Outcome, number>> = { ok: 0, error: 1, tool_error: 2, cancelled: 3 };

/** Everything counted for one (method, tool). */
export class RequestSeries {
  /** Requests by outcome (OUTCOMES order); errors also by code below. */
  readonly outcomes = new Float64Array(4);
  /** Error replies by JSON-RPC code. */
  readonly errors = new Map<number, number>();
  /** Latency in seconds, by outcome (made at the first request with that outcome). */
  readonly latency: (PlainHistogram | undefined)[] = [undefined, undefined, undefined, undefined];

  constructor(readonly labels: Labels) {}

  record(outcome: Outcome, code: number | undefined, seconds: number): void {
    const i = OUTCOME_INDEX[outcome];
    this.outcomes[i]!++;
    if (code !== undefined) this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    (this.latency[i] ??= new PlainHistogram(LATENCY_BUCKETS)).observe(seconds);
  }
}

/** A request being watched: where it counts, and when it began. */
class Watch implements RequestWatch {
  constructor(
    private readonly stats: RequestStats,
    private readonly series: RequestSeries,
    private readonly start: number,
  ) {}

  end(end: RequestEnd): void {
    this.series.record(end.outcome, end.code, (performance.now() - this.start) / 1000);
    // A 403 insufficient_scope is an auth failure too; the transport does not see it (dispatch answers it).
    if (end.reply.challengeScopes !== undefined) this.stats.insufficientScope++;
  }
}

export class RequestStats implements RequestObserver {
  private readonly methods = new Map<string, RequestSeries>();
  private readonly tools = new Map<string, RequestSeries>();
  private readonly unknownMethod = new RequestSeries({ method: UNKNOWN });
  private readonly unknownTool = new RequestSeries({ method: 'tools/call', tool: UNKNOWN });
  private otherTool: RequestSeries | undefined;
  /** Requests refused with 403 insufficient_scope. */
  insufficientScope = 0;
  /** Called at each tools/call (the sandbox may appear after the metrics were made). */
  onToolCall: (() => void) | undefined;

  constructor(private readonly server: McpServer) {
    for (const method of METHOD_SLOTS) if (method !== 'tools/call') this.methods.set(method, new RequestSeries({ method }));
  }

  begin(info: RequestInfo): RequestWatch {
    let series: RequestSeries;
    if (info.method === 'tools/call') {
      this.onToolCall?.();
      const name = info.params?.['name'];
      series = typeof name === 'string' ? (this.tools.get(name) ?? this.toolSeries(name)) : this.unknownTool;
    } else {
      series = this.methods.get(info.method) ?? this.unknownMethod;
    }
    return new Watch(this, series, performance.now());
  }

  /** The series of a tool name not seen before: its own when the server has such a tool, else "(unknown)". */
  private toolSeries(name: string): RequestSeries {
    if (!this.server.tools.has(name)) return this.unknownTool;
    if (this.tools.size >= MAX_TOOL_SERIES) return (this.otherTool ??= new RequestSeries({ method: 'tools/call', tool: OTHER }));
    const series = new RequestSeries({ method: 'tools/call', tool: name });
    this.tools.set(name, series);
    return series;
  }

  /** Every series that has counted something. */
  *series(): Iterable<RequestSeries> {
    for (const s of this.methods.values()) if (used(s)) yield s;
    for (const s of this.tools.values()) if (used(s)) yield s;
    for (const s of [this.unknownMethod, this.unknownTool, this.otherTool]) if (s !== undefined && used(s)) yield s;
  }

  /** requests_total samples: by outcome, errors by code. */
  counts(): { labels: Labels; value: number }[] {
    const out: { labels: Labels; value: number }[] = [];
    for (const s of this.series()) {
      for (let i = 0; i < OUTCOMES.length; i++) {
        if (i === OUTCOME_INDEX.error) continue;
        const value = s.outcomes[i]!;
        if (value > 0) out.push({ labels: { ...s.labels, outcome: OUTCOMES[i]! }, value });
      }
      for (const [code, value] of s.errors) out.push({ labels: { ...s.labels, outcome: 'error', code: String(code) }, value });
    }
    return out;
  }

  /** request_duration_seconds histograms, by outcome. */
  latencies(): { labels: Labels; histogram: PlainHistogram }[] {
    const out: { labels: Labels; histogram: PlainHistogram }[] = [];
    for (const s of this.series()) {
      s.latency.forEach((histogram, i) => {
        if (histogram !== undefined) out.push({ labels: { ...s.labels, outcome: OUTCOMES[i]! }, histogram });
      });
    }
    return out;
  }
}

function used(s: RequestSeries): boolean {
  return s.outcomes[0]! + s.outcomes[1]! + s.outcomes[2]! + s.outcomes[3]! > 0;
}
