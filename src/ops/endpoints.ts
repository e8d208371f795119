// The operations endpoints over HTTP: GET /metrics (Prometheus text format), /healthz (200 while the
// process answers) and /readyz (200 or 503 with every check). They sit outside the MCP endpoint and
// outside MCP auth; the Host check of the transport still applies (DNS rebinding).
//
//   opsHandler({ metrics, health })  a (req, res) => boolean to put in front of any node:http handler
//   serveOps({ ..., port })           the same on a listener of its own (`--ops-port`)
//   startOps(server, options)         what serveHttp({ ops }) uses: makes metrics and health, and serves
//                                     them on the MCP port or on a port of their own
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Sandbox } from '../sandbox/parent.js';
import type { McpServer } from '../server/server.js';
import type { HttpCounters } from '../transport/http.js';
import { createHealth, type Health } from './health.js';
import { createMetrics, type Metrics, type WatchedTransport } from './metrics.js';

export interface OpsPaths {
  metrics?: string;
  healthz?: string;
  readyz?: string;
}

export interface OpsHandlerOptions {
  /** What /metrics serves (absent: no /metrics). */
  metrics?: Metrics;
  /** What /healthz and /readyz answer (absent: neither). */
  health?: Health;
  /**
   * The /metrics body instead of metrics.text(): the lead process of a multi-process server answers
   * with the cluster-wide aggregate (prom-client AggregatorRegistry.clusterMetrics()).
   */
  metricsText?: () => Promise<string>;
  /** Host names accepted (port ignored), or '*'. Default: localhost, 127.0.0.1, [::1] (as the transport). */
  allowedHosts?: readonly string[] | '*';
  /** Default /metrics, /healthz, /readyz. */
  paths?: OpsPaths;
}

/** Answers an ops request and returns true, or returns false for any other path (untouched). */
export type OpsHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

function hostname(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1).toLowerCase();
  const i = hostHeader.lastIndexOf(':');
  return (i < 0 ? hostHeader : hostHeader.slice(0, i)).toLowerCase();
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json', JSON.stringify(value));
}

export function opsHandler(options: OpsHandlerOptions): OpsHandler {
  const paths = { metrics: '/metrics', healthz: '/healthz', readyz: '/readyz', ...options.paths };
  const routes = new Map<string, 'metrics' | 'healthz' | 'readyz'>();
  if (options.metrics !== undefined || options.metricsText !== undefined) routes.set(paths.metrics, 'metrics');
  if (options.health !== undefined) {
    routes.set(paths.healthz, 'healthz');
    routes.set(paths.readyz, 'readyz');
  }
  for (const p of routes.keys()) if (!p.startsWith('/')) throw new TypeError(`An ops path must start with /, got ${JSON.stringify(p)}`);
  const allowed = options.allowedHosts === '*' ? '*' : new Set((options.allowedHosts ?? LOOPBACK).map((h) => h.toLowerCase()));
  const metricsText = options.metricsText ?? (options.metrics === undefined ? undefined : () => options.metrics!.text());
  const contentType = options.metricsText !== undefined ? PROMETHEUS_TEXT : (options.metrics?.contentType ?? PROMETHEUS_TEXT);
  const health = options.health;

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const route = routes.get(q < 0 ? url : url.slice(0, q));
    if (route === undefined) return false;
    const host = req.headers.host;
    if (allowed !== '*' && (host === undefined || !allowed.has(hostname(host)))) {
      sendJson(res, 403, { error: `Forbidden: Host ${JSON.stringify(host ?? '')} is not allowed` });
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', `Method ${req.method} not allowed\n`, { Allow: 'GET, HEAD' });
      return true;
    }
    if (route === 'healthz') {
      sendJson(res, 200, health!.live());
      return true;
    }
    const answer =
      route === 'readyz'
        ? health!.ready().then((r) => sendJson(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not_ready', checks: r.checks }))
        : metricsText!().then((text) => send(res, 200, contentType, text));
    answer.catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `Could not collect ${route}: ${e instanceof Error ? e.message : String(e)}\n`);
      else res.end();
    });
    return true;
  };
}

export interface ServeOpsOptions extends OpsHandlerOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface RunningOps {
  /** http://host:port (no path). */
  url: string;
  httpServer: Server;
  close(): Promise<void>;
}

/** The ops endpoints on a listener of their own; anything else gets 404. */
export async function serveOps(options: ServeOpsOptions): Promise<RunningOps> {
  const handle = opsHandler(options);
  const host = options.host ?? '127.0.0.1';
  const httpServer = createServer((req, res) => {
    if (!handle(req, res)) sendJson(res, 404, { error: 'Not found: this listener serves /metrics, /healthz and /readyz' });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const address = httpServer.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    httpServer,
    close: () =>
      new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      }),
  };
}

/** What serveHttp() takes as `ops`. */
export interface OpsOptions {
  /** Serve /metrics (default true): true makes them with createMetrics(server), or pass your own. */
  metrics?: boolean | Metrics;
  /** Serve /healthz and /readyz (default true): true makes them with createHealth(server), or pass your own. */
  health?: boolean | Health;
  /** Serve the endpoints on a listener of their own at this port (same host) instead of the MCP port. */
  port?: number;
  /** The /metrics body instead of the metrics' own (multi-process: the cluster-wide aggregate). */
  metricsText?: () => Promise<string>;
  paths?: OpsPaths;
  /** Sandboxes to watch and check besides server.sandbox (one made with createSandbox(), as --sandbox-dir does). */
  sandboxes?: readonly Sandbox[];
}

/** The ops side of a running serveHttp(). */
export interface StartedOps {
  readonly metrics: Metrics | undefined;
  readonly health: Health | undefined;
  /** For HttpOptions.counters. */
  readonly counters: HttpCounters | undefined;
  /** Answers ops requests on the MCP port (undefined when they have their own port). */
  readonly handle: OpsHandler | undefined;
  /** Where the endpoints are, once listening on their own port. */
  readonly url: string | undefined;
  /** Their own listener, once listening (undefined on the MCP port). */
  readonly listener: RunningOps | undefined;
  watch(transport: WatchedTransport): void;
  /** Starts the own listener, if any. */
  listen(host: string, allowedHosts: readonly string[] | '*' | undefined): Promise<void>;
  /** Readiness fails from now on (the server is closing). */
  drain(): void;
  /** Stops what was made here and closes the own listener. */
  close(): Promise<void>;
}

/** serveHttp()'s ops: metrics and health made (or taken), and how they are served. */
export function startOps(server: McpServer, options: OpsOptions, allowedHosts: readonly string[] | '*' | undefined): StartedOps {
  const ownMetrics = options.metrics === undefined || options.metrics === true;
  const sandboxes = options.sandboxes === undefined ? {} : { sandboxes: options.sandboxes };
  const metrics = ownMetrics ? createMetrics(server, sandboxes) : options.metrics === false ? undefined : (options.metrics as Metrics);
  const health = options.health === undefined || options.health === true ? createHealth(server, sandboxes) : options.health === false ? undefined : options.health;
  const handlerOptions: OpsHandlerOptions = {
    ...(metrics === undefined ? {} : { metrics }),
    ...(health === undefined ? {} : { health }),
    ...(options.metricsText === undefined ? {} : { metricsText: options.metricsText }),
    ...(options.paths === undefined ? {} : { paths: options.paths }),
  };
  let own: RunningOps | undefined;
  let unwatch: (() => void) | undefined;
  return {
    metrics,
    health,
    counters: metrics?.httpCounters,
    handle: options.port === undefined ? opsHandler({ ...handlerOptions, ...(allowedHosts === undefined ? {} : { allowedHosts }) }) : undefined,
    get url() {
      return own?.url;
    },
    get listener() {
      return own;
    },
    watch(transport) {
      unwatch = metrics?.watchTransport(transport);
    },
    async listen(host, hosts) {
      if (options.port === undefined) return;
      own = await serveOps({ ...handlerOptions, port: options.port, host, ...(hosts === undefined ? {} : { allowedHosts: hosts }) });
    },
    drain() {
      health?.drain();
    },
    async close() {
      unwatch?.();
      if (ownMetrics) metrics?.close();
      await own?.close();
    },
  };
}

/** The CLI's ops flags (`--no-metrics`, `--ops-port PORT`) as serveHttp()'s `ops`; throws on a bad port. */
export function opsFromFlags(flags: { noMetrics: boolean; opsPort: string | undefined; sandbox?: Sandbox | undefined }): OpsOptions {
  const options: OpsOptions = { metrics: !flags.noMetrics, health: true, ...(flags.sandbox === undefined ? {} : { sandboxes: [flags.sandbox] }) };
  if (flags.opsPort !== undefined) {
    const port = Number(flags.opsPort);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`--ops-port needs a port number from 0 to 65535, got ${JSON.stringify(flags.opsPort)}`);
    options.port = port;
  }
  return options;
}

/**
 * The ops endpoints of a server that has no HTTP transport (stdio), on a listener of their own. Its
 * close() fails readiness, then stops the listener and the metrics made here.
 */
export async function serveOpsFor(server: McpServer, options: OpsOptions & { port: number; host?: string; allowedHosts?: readonly string[] | '*' }): Promise<RunningOps> {
  const ops = startOps(server, options, options.allowedHosts);
  await ops.listen(options.host ?? '127.0.0.1', options.allowedHosts);
  const listener = ops.listener!;
  return {
    url: listener.url,
    httpServer: listener.httpServer,
    close: async () => {
      ops.drain();
      await ops.close();
    },
  };
}
