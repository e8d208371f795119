// Prometheus metrics of one server (docs/metrics.md): one prom-client Registry, owned here and never the
// global one, holding
//   * request counts and latencies per method and tool (a RequestObserver: metrics-requests.ts),
//   * what the HTTP transport refused before dispatch, by cause, and auth failures by reason (the
//     transport's HttpCounters, given to serveHttp / HttpTransport as `counters`),
//   * rate-limit decisions (src/ratelimit/admission.ts counts them; read here at scrape time),
//   * sandbox calls, CPU, memory and pools, worker pool state, legacy sessions and SSE streams,
//   * prom-client's default process and Node.js metrics (CPU, memory, GC, event-loop lag),
//   * fastermcp_engine_info{engine="native"|"js"}.
// Everything but the request observer is read when the registry is scraped, so a request pays only
// for the observer; a server without metrics pays nothing.
//
// Multi-process: hand `registry` to prom-client's AggregatorRegistry.setRegistries() in each worker; the
// primary's clusterMetrics() merges them by each metric's aggregator (counters, histograms and gauges of
// amounts sum; fastermcp_engine_info and lag-like gauges take max).
import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';
import type { Admission } from '../ratelimit/admission.js';
import { runtimeInfo } from '../runtime.js';
import type { Sandbox } from '../sandbox/parent.js';
import type { CallRecord } from '../sandbox/pool.js';
import type { RequestObserver } from '../server/observe.js';
import type { McpServer } from '../server/server.js';
import type { HttpCounters, RefusalCause } from '../transport/http.js';
import { computed, computedHistogram, PlainHistogram, type Labels, type Sample } from './metrics-plain.js';
import { RequestStats } from './metrics-requests.js';

export interface MetricsOptions {
  /** prom-client's default process and Node.js metrics in the same registry (default true). */
  defaultMetrics?: boolean;
  /** Add to this registry instead of a new one (never pass prom-client's global one twice). */
  registry?: Registry;
  /** Sandboxes to watch besides server.sandbox (one made with createSandbox() and registered by hand). */
  sandboxes?: readonly Sandbox[];
}

/** What createMetrics() returns. */
export interface Metrics {
  /** The registry: mount it (opsHandler), scrape it (text()), or hand it to AggregatorRegistry.setRegistries(). */
  readonly registry: Registry;
  /** The request observer, already registered with server.observe(). */
  readonly observer: RequestObserver;
  /** Counters for the HTTP transport's refusals and auth failures: HttpOptions.counters. */
  readonly httpCounters: HttpCounters;
  /** Counts a transport's legacy sessions and SSE streams (serveHttp does this itself); returns the undo. */
  watchTransport(transport: WatchedTransport): () => void;
  /** The text exposition format of every metric. */
  text(): Promise<string>;
  /** The Content-Type of text(). */
  readonly contentType: string;
  /** Stops observing requests and sandboxes. The default metrics' collectors stay (prom-client cannot remove them). */
  close(): void;
}

export interface WatchedTransport {
  readonly sessionCount: number;
  readonly streamCount: number;
}

/** Distinct denied:<operation> causes given their own label value; later ones count as denied:(other). */
const MAX_DENIED_CAUSES = 16;

/** Sandbox memory histogram bounds: 16 MiB to 2 GiB. */
const RSS_BUCKETS = [16, 32, 64, 128, 256, 512, 1024, 2048].map((mb) => mb * 1024 * 1024);
/** Sandbox wall time bounds (seconds): 1 ms to 30 s. */
const WALL_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

// prom-client takes ~40 ms to load: only a server that makes metrics loads it.
const requireCjs = createRequire(import.meta.url);

/** Cumulative counts from a source that may be replaced (server.limits() makes a new Admission). */
class Carried {
  private seen: Admission | undefined;
  private admittedBase = 0;
  private readonly deniedBase = new Map<string, number>();

  read(current: Admission | undefined): { admitted: number; denied: Map<string, number> } {
    if (current !== this.seen) {
      // The old one counts no more: keep what it counted.
      if (this.seen !== undefined) {
        this.admittedBase += this.seen.admitted;
        for (const [policy, n] of this.seen.denied) this.deniedBase.set(policy, (this.deniedBase.get(policy) ?? 0) + n);
      }
      this.seen = current;
    }
    const denied = new Map(this.deniedBase);
    if (current !== undefined) for (const [policy, n] of current.denied) denied.set(policy, (denied.get(policy) ?? 0) + n);
    return { admitted: this.admittedBase + (current?.admitted ?? 0), denied };
  }
}

class SandboxWatch {
  readonly rss = new Map<string, PlainHistogram>();
  readonly wall = new Map<string, PlainHistogram>();
  private readonly watched = new Map<Sandbox, (record: CallRecord) => void>();

  watch(sandbox: Sandbox | undefined): void {
    if (sandbox === undefined || this.watched.has(sandbox)) return;
    const onCall = (record: CallRecord): void => {
      let rss = this.rss.get(record.tool);
      if (rss === undefined) {
        rss = new PlainHistogram(RSS_BUCKETS);
        this.rss.set(record.tool, rss);
        this.wall.set(record.tool, new PlainHistogram(WALL_BUCKETS));
      }
      rss.observe(record.maxRssKiB * 1024);
      this.wall.get(record.tool)!.observe(record.wallMicros / 1e6);
    };
    sandbox.on('call', onCall);
    this.watched.set(sandbox, onCall);
  }

  get sandboxes(): Iterable<Sandbox> {
    return this.watched.keys();
  }

  close(): void {
    for (const [sandbox, onCall] of this.watched) sandbox.off('call', onCall);
    this.watched.clear();
  }
}

function keyed<K>(map: Map<K, number>, labels: (key: K) => Labels): Sample[] {
  return [...map].map(([key, value]) => ({ labels: labels(key), value }));
}

function bump<K>(map: Map<K, number>, key: K, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** Metrics for `server`: its requests from now on, and its state whenever the registry is scraped. */
export function createMetrics(server: McpServer, options: MetricsOptions = {}): Metrics {
  const prom = requireCjs('prom-client') as typeof import('prom-client');
  const registry = options.registry ?? new prom.Registry();
  if (options.defaultMetrics !== false) prom.collectDefaultMetrics({ register: registry });

  const requests = new RequestStats(server);
  const sandboxes = new SandboxWatch();
  for (const s of options.sandboxes ?? []) sandboxes.watch(s);
  const watchServerSandbox = (): void => sandboxes.watch(server.sandbox);
  watchServerSandbox();
  // The server's sandbox is made by its first sandboxed tool, possibly later: looked for before each
  // tools/call (its calls come through there) and at each scrape.
  requests.onToolCall = watchServerSandbox;
  const unobserve = server.observe(requests);

  const refused = new Map<RefusalCause, number>();
  const unauthorized = new Map<string, number>();
  const httpCounters: HttpCounters = {
    refused: (cause) => bump(refused, cause),
    unauthorized: (error, reason) => bump(unauthorized, `${error}\n${reason}`),
  };
  const transports = new Set<WatchedTransport>();
  const limits = new Carried();

  const counter = (name: string, help: string, read: () => readonly Sample[]): void => computed(registry, 'counter', name, help, 'sum', read);
  const gauge = (name: string, help: string, read: () => readonly Sample[], aggregator: 'sum' | 'max' = 'sum'): void =>
    computed(registry, 'gauge', name, help, aggregator, read);

  counter('mcp_server_requests_total', 'MCP requests handled, by method, tool (tools/call), outcome and JSON-RPC error code.', () => requests.counts());
  computedHistogram(registry, 'mcp_server_request_duration_seconds', 'Time from dispatch to reply of MCP requests, by method, tool (tools/call) and outcome.', () =>
    requests.latencies(),
  );
  counter('fastermcp_transport_refused_total', 'Requests the transport answered itself before dispatch (malformed, too large, wrong media type, unknown session, ...), by cause.', () =>
    keyed(refused, (cause) => ({ transport: 'http', cause })),
  );
  counter('fastermcp_auth_failures_total', 'Requests refused for their credentials: missing, invalid_token or invalid_request (with the reason), or insufficient_scope.', () => {
    const out = keyed(unauthorized, (key): Labels => {
      const [error, reason] = key.split('\n') as [string, string];
      return reason === '' ? { error } : { error, reason };
    });
    if (requests.insufficientScope > 0) out.push({ labels: { error: 'insufficient_scope' }, value: requests.insufficientScope });
    return out;
  });

  counter('fastermcp_ratelimit_admitted_total', 'Requests the rate-limit rules and quotas admitted (only counted while limits are set).', () => {
    const admission = server.admission;
    const { admitted } = limits.read(admission);
    return admission === undefined && admitted === 0 ? [] : [{ labels: {}, value: admitted }];
  });
  counter('fastermcp_ratelimit_denied_total', 'Requests refused by a rate-limit rule or quota, by its name ("(redis unavailable)": cluster mode, Redis down, policy closed).', () =>
    keyed(limits.read(server.admission).denied, (policy) => ({ policy })),
  );
  gauge('fastermcp_ratelimit_redis_up', 'Cluster-mode rate limits: 1 while the shared Redis is reachable, else 0.', () => {
    const cluster = server.admission?.cluster;
    return cluster === undefined ? [] : [{ labels: {}, value: cluster.health().state === 'up' ? 1 : 0 }];
  });

  const sandboxMetrics = (): [string, ReturnType<Sandbox['metrics']>[string]][] => {
    watchServerSandbox();
    const out: [string, ReturnType<Sandbox['metrics']>[string]][] = [];
    for (const sandbox of sandboxes.sandboxes) out.push(...Object.entries(sandbox.metrics()));
    return out;
  };
  // Causes come from the sandboxed process for some faults (denied:<operation>): bounded here.
  const deniedSeen = new Set<string>();
  const causeLabel = (cause: string): string => {
    if (!cause.startsWith('denied:') || deniedSeen.has(cause)) return cause;
    if (deniedSeen.size >= MAX_DENIED_CAUSES) return 'denied:(other)';
    deniedSeen.add(cause);
    return cause;
  };
  counter('fastermcp_sandbox_calls_total', 'Calls of sandboxed tools, by tool and how they ended (ok, error, timeout, cpu_limit, memory_limit, crashed, denied:..., ...).', () =>
    sandboxMetrics().flatMap(([tool, m]) => {
      const byCause = new Map<string, number>();
      for (const [cause, value] of Object.entries(m.byCause)) bump(byCause, causeLabel(cause), value);
      return keyed(byCause, (cause) => ({ tool, cause }));
    }),
  );
  counter('fastermcp_sandbox_cpu_seconds_total', 'CPU time sandboxed tool calls used, by tool and mode (user, system).', () =>
    sandboxMetrics().flatMap(([tool, m]) => [
      { labels: { tool, mode: 'user' }, value: m.cpuUserMicros / 1e6 },
      { labels: { tool, mode: 'system' }, value: m.cpuSystemMicros / 1e6 },
    ]),
  );
  computedHistogram(registry, 'fastermcp_sandbox_call_max_rss_bytes', 'Peak resident memory of the sandbox process over a call, by tool.', () =>
    [...sandboxes.rss].map(([tool, histogram]) => ({ labels: { tool }, histogram })),
  );
  computedHistogram(registry, 'fastermcp_sandbox_call_wall_seconds', 'Wall-clock time of sandboxed tool calls in their process, by tool.', () =>
    [...sandboxes.wall].map(([tool, histogram]) => ({ labels: { tool }, histogram })),
  );
  gauge('fastermcp_sandbox_processes', 'Sandbox processes alive, by tool and state (idle, busy, starting).', () =>
    sandboxMetrics().flatMap(([tool, m]) => [
      { labels: { tool, state: 'idle' }, value: m.idle },
      { labels: { tool, state: 'busy' }, value: m.busy },
      { labels: { tool, state: 'starting' }, value: Math.max(0, m.live - m.idle - m.busy) },
    ]),
  );
  gauge('fastermcp_sandbox_queued_calls', 'Calls of a sandboxed tool waiting for a free process.', () => sandboxMetrics().map(([tool, m]) => ({ labels: { tool }, value: m.queued })));
  counter('fastermcp_sandbox_processes_started_total', 'Sandbox processes started, by tool.', () => sandboxMetrics().map(([tool, m]) => ({ labels: { tool }, value: m.started })));
  gauge('fastermcp_sandbox_tool_unavailable', '1 for a sandboxed tool whose processes keep failing to start (it answers unavailable), else 0.', () =>
    sandboxMetrics().map(([tool, m]) => ({ labels: { tool }, value: m.unavailable === null ? 0 : 1 })),
  );

  gauge('fastermcp_worker_pool_threads', 'Worker threads of the pool of runIn: worker tools.', () => {
    const pool = server.workerPool;
    return pool === undefined ? [] : [{ labels: {}, value: pool.stats().threads }];
  });
  gauge('fastermcp_worker_pool_calls', 'Worker pool calls now, by state (queued, running).', () => {
    const pool = server.workerPool;
    if (pool === undefined) return [];
    const s = pool.stats();
    return [
      { labels: { state: 'queued' }, value: s.queued },
      { labels: { state: 'running' }, value: s.running },
    ];
  });
  counter('fastermcp_worker_pool_calls_total', 'Worker pool calls that ended, by result (completed, or the failure cause).', () => {
    const pool = server.workerPool;
    if (pool === undefined) return [];
    const s = pool.stats();
    return [{ labels: { result: 'completed' }, value: s.completed }, ...Object.entries(s.failed).map(([result, value]) => ({ labels: { result }, value }))];
  });

  gauge('fastermcp_http_sessions', 'Legacy (2025-11-25 and earlier) HTTP sessions open.', () => {
    let n = 0;
    for (const t of transports) n += t.sessionCount;
    return transports.size === 0 ? [] : [{ labels: {}, value: n }];
  });
  gauge('fastermcp_http_sse_streams', 'Legacy HTTP sessions with an open GET (SSE) stream.', () => {
    let n = 0;
    for (const t of transports) n += t.streamCount;
    return transports.size === 0 ? [] : [{ labels: {}, value: n }];
  });

  const info = runtimeInfo();
  gauge('fastermcp_engine_info', 'The JSON-RPC engine this process runs (native addon or the pure-JS fallback) and the package version; always 1.', () => [
    { labels: { engine: info.implementation, version: info.version }, value: 1 },
  ], 'max');

  return {
    registry,
    observer: requests,
    httpCounters,
    watchTransport(transport) {
      transports.add(transport);
      return () => void transports.delete(transport);
    },
    text: () => registry.metrics(),
    get contentType() {
      return registry.contentType;
    },
    close() {
      unobserve();
      requests.onToolCall = undefined;
      sandboxes.close();
      transports.clear();
    },
  };
}
