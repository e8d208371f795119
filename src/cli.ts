#!/usr/bin/env node
// The `fastermcp` command.
//
//   fastermcp serve [module] [--stdio | --http PORT] [--host 127.0.0.1] [options]
//
// `module` exports a function (default export or `register`) that receives the McpServer and
// registers tools, resources and prompts on it; without one the built-in demo set is served. Over
// stdio nothing but JSON-RPC is written to stdout; all diagnostics go to stderr.
import nodeCluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, parseArgs } from 'node:util';
import { registerDemo } from './demo/everything.js';
import { readKeyFile } from './key-file.js';
import { runtimeInfo } from './runtime.js';
import { McpServer } from './server/server.js';
import { serveHttp } from './transport/http.js';
import { resourceServerFromFlags } from './auth/config.js';
import { MAX_PIPE_BYTES } from './transport/pipes.js';
import { StdioTransport } from './transport/stdio.js';
import { limitsFromFlags } from './ratelimit/config.js';
import { registerSandboxDir } from './sandbox/cli.js';
import type { Sandbox } from './sandbox/parent.js';
import { runPrimary } from './multicore/primary.js';
import { isClusterWorker, leaveCluster, onDrain, reportReady, workerSlot } from './multicore/worker.js';
import { clusterMetricsText, metricsService } from './multicore/metrics.js';
import { connectSharedState } from './cluster/redis-state.js';
import { opsFromFlags, serveOpsFor } from './ops/endpoints.js';
import { auditCommand } from './ops/audit-verify.js';
import { createLogger } from './ops/log.js';
import type { Logger, LoggerLevel } from './ops/log.js';
import { startObservability } from './ops/serve-ops.js';
import { auditService, primaryAudit } from './multicore/audit.js';

const USAGE = `Usage: fastermcp serve [module] [--stdio | --http PORT] [options]
       fastermcp audit verify FILE --audit-key-file F

Serves the tools, resources and prompts that <module> registers (a module whose default export,
or export named "register", is a function receiving the McpServer). Without a module, serves the
built-in demo set (an "echo" tool and the fixtures of the MCP conformance suite).

Transports:
  --stdio                     newline-delimited JSON-RPC on stdin/stdout (the default)
  --http PORT                 Streamable HTTP (both protocol eras) on PORT (0 picks a free port)
  --host HOST                 address to listen on (default 127.0.0.1)
  --path PATH                 MCP endpoint path (default /mcp)
  --workers N|auto            serve with N processes sharing the port (node:cluster; auto: one per
                              core). SIGHUP restarts them one at a time; legacy sessions and rate
                              limits span processes only with --redis-url (docs/scale-out.md)
  --no-fast-lane              answer every HTTP request through node:http's request/response objects
                              (default: POSTs to PATH are read straight off the socket, docs/http-lane.md)

Options:
  --allowed-hosts H1,H2       Host names accepted over HTTP (default: localhost,127.0.0.1,[::1]); * for any
  --max-message-bytes N       largest message / request body (default 4194304)
  --pipe-bytes N              with --stdio: kernel buffer asked for the stdin and stdout pipes (default
                              1048576; 0 leaves them as they are; Linux and the addon only, docs/stdio.md)
  --session-idle-ms N         legacy HTTP sessions idle this long are closed (default 1800000)
  --max-sessions N            most legacy HTTP sessions at once (default 10000)
  --state-key-file F          HMAC key (>= 32 bytes) for requestState and cursors, shared by all
                              instances of a deployment (default: a random key per process)
  --name NAME                 server name (default fastermcp)

Authentication (Streamable HTTP; with any credential flag, every MCP request needs a credential):
  --jwt-secret-file F         HMAC secret for HS256 tokens
  --jwt-public-key-file F     public key (PEM or DER SPKI); the algorithm follows the key unless given
  --jwks-url U                JWK Set URL (fetched, cached, refetched for unknown kids)
  --jwks-file F               local JWK Set (JSON)
  --jwt-issuer I1,I2          accepted token issuers (also the authorization servers, unless given)
  --jwt-audience A1,A2        accepted audiences (default: the resource URL)
  --jwt-algorithms A1,A2      allowed algorithms (default HS256 for a secret, the key's for a key file)
  --api-keys-file F           static API keys: JSON [{ "key", "subject", "scopes" }] (X-API-Key or Bearer)
  --authorization-server U    authorization server issuer URL(s) for the resource metadata
  --resource-url U            this server's resource URL (default http://HOST:PORT/PATH)
  --scopes S1,S2              scopes advertised besides the ones tools, resources and prompts require

Rate limits (docs/ratelimit.md; a refused call gets JSON-RPC error -32029, and HTTP 429 with Retry-After):
  --limits F                  rules, quotas and costs: JSON { "rules": [...], "quotas": [...], "costs": {...} }
  --rate-limit-per-client N/S token bucket per client on tools/call: bursts of N, refilled to N every S seconds
  --redis-url U               share the rules' budgets with every server using this Redis (redis:// URL);
                              over --http, also legacy sessions, SSE events and the requestState key
                              (docs/scale-out.md): any process can serve any session
  --redis-down open|closed    while Redis is down: per-process limits (open, the default) or refuse (closed)

Sandbox for untrusted tools (docs/sandbox.md; each runs in its own limited process, never in the server):
  --sandbox-dir DIR           register every *.mjs in DIR (exporting \`definition\` and a default handler)
                              as a sandboxed tool; without a module, only these tools are served
  --sandbox-cpu-ms N          CPU time per call (default 1000)
  --sandbox-memory-mb N       memory per sandbox process in MiB (default 256)
  --sandbox-wall-ms N         wall-clock time per call (default 5000)
  --sandbox-pool N            warm processes per tool (default 2; 0 starts a fresh process per call)

Operations (docs/metrics.md, docs/observability.md; endpoints outside the MCP path and its auth):
  --no-metrics                do not serve /metrics (by default /metrics, /healthz and /readyz are
                              served on the HTTP port)
  --ops-port PORT             serve /metrics, /healthz and /readyz on their own port (same host);
                              with --stdio, the only way to get them
  --log-level L               JSON logs on stderr at L and above: fatal, error, warn, info (default),
                              debug (one line per request), trace, silent
  --audit-log FILE            append a hash-chained record of every tools/call to FILE
  --audit-key-file F          HMAC key (>= 32 bytes) of the audit log; also for \`audit verify\`
  (tracing: register an OpenTelemetry SDK before serving, e.g. with node --import; one span per request)
  -h, --help                  this text
  -v, --version               print the version

Key files (--state-key-file, --jwt-secret-file, --audit-key-file) are used byte for byte, random bytes
included (head -c 32 /dev/urandom > F); a text key's one trailing newline is not part of it.
`;

function fail(message: string): never {
  process.stderr.write(`fastermcp: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) fail(`${name} needs a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        stdio: { type: 'boolean' },
        http: { type: 'string' },
        host: { type: 'string' },
        path: { type: 'string' },
        'allowed-hosts': { type: 'string' },
        'max-message-bytes': { type: 'string' },
        'session-idle-ms': { type: 'string' },
        'max-sessions': { type: 'string' },
        'no-fast-lane': { type: 'boolean' },
        'pipe-bytes': { type: 'string' },
        workers: { type: 'string' },
        'state-key-file': { type: 'string' },
        name: { type: 'string' },
        'jwt-secret-file': { type: 'string' },
        'jwt-public-key-file': { type: 'string' },
        'jwks-url': { type: 'string' },
        'jwks-file': { type: 'string' },
        'jwt-issuer': { type: 'string' },
        'jwt-audience': { type: 'string' },
        'jwt-algorithms': { type: 'string' },
        'api-keys-file': { type: 'string' },
        'authorization-server': { type: 'string' },
        'resource-url': { type: 'string' },
        scopes: { type: 'string' },
        limits: { type: 'string' },
        'rate-limit-per-client': { type: 'string' },
        'redis-url': { type: 'string' },
        'redis-down': { type: 'string' },
        'sandbox-dir': { type: 'string' },
        'sandbox-cpu-ms': { type: 'string' },
        'sandbox-memory-mb': { type: 'string' },
        'sandbox-wall-ms': { type: 'string' },
        'sandbox-pool': { type: 'string' },
        'no-metrics': { type: 'boolean' },
        'ops-port': { type: 'string' },
        'log-level': { type: 'string' },
        'audit-log': { type: 'string' },
        'audit-key-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (e) {
    fail((e as Error).message);
  }
  const { values, positionals } = parsed;
  const info = runtimeInfo();
  if (values.version === true) {
    process.stdout.write(`${info.version}\n`);
    return;
  }
  if (values.help === true || positionals.length === 0) {
    process.stdout.write(USAGE);
    return;
  }
  const [command, modulePath, ...extra] = positionals;
  if (command === 'audit') {
    process.exitCode = await auditCommand(positionals.slice(1), values['audit-key-file'], (line) => process.stderr.write(`fastermcp: ${line}\n`));
    return;
  }
  if (command !== 'serve') fail(`unknown command ${JSON.stringify(command)}`);
  if (extra.length > 0) fail(`unexpected arguments: ${extra.join(' ')}`);
  if (values.stdio === true && values.http !== undefined) fail('choose one of --stdio and --http');
  let logger: Logger;
  try {
    logger = createLogger({ level: (values['log-level'] ?? 'info') as LoggerLevel });
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.workers !== undefined) {
    if (values.http === undefined) fail('--workers needs --http (a stdio server has one client)');
    const workers = values.workers === 'auto' ? availableParallelism() : intOption(values.workers, '--workers')!;
    if (workers < 1) fail('--workers needs at least 1');
    if (nodeCluster.isPrimary) {
      if (workers > 1 && values['redis-url'] === undefined) {
        logger.warn(
          '--workers without --redis-url: each process keeps its own legacy sessions and rate-limit budgets, ' +
            'so a legacy client (Mcp-Session-Id) may reach a process that does not know its session; stateless 2026-07-28 clients are unaffected',
        );
      }
      // The primary owns what must be one per server: the audit log's chain, the cluster-wide /metrics.
      let audit;
      try {
        audit = await primaryAudit({ auditLog: values['audit-log'], auditKeyFile: values['audit-key-file'] }, logger);
      } catch (e) {
        fail((e as Error).message);
      }
      runPrimary({
        workers,
        args: argv,
        log: (line) => logger.info(line),
        services: { ...(values['no-metrics'] === true ? {} : metricsService()), ...(audit === undefined ? {} : auditService(audit)) },
        onExit: () => audit?.close(),
      });
      return;
    }
  }

  if (values.http === undefined) {
    // stdout carries the protocol: a module's console.log must not corrupt it.
    const toStderr = (...args: unknown[]): void => void process.stderr.write(format(...args) + '\n');
    console.log = console.info = console.debug = toStderr;
  }
  const server = new McpServer({
    name: values.name ?? 'fastermcp',
    version: info.version,
    title: 'fastermcp',
    instructions: modulePath === undefined && values['sandbox-dir'] === undefined ? 'A demo server: the echo tool returns its text argument.' : undefined,
    ...(values['state-key-file'] === undefined ? {} : { stateKey: readKeyFile(values['state-key-file']) }),
  });
  const sandboxDir = values['sandbox-dir'];
  for (const flag of ['sandbox-cpu-ms', 'sandbox-memory-mb', 'sandbox-wall-ms', 'sandbox-pool'] as const) {
    if (values[flag] !== undefined && sandboxDir === undefined) fail(`--${flag} needs --sandbox-dir`);
  }
  if (modulePath === undefined) {
    if (sandboxDir === undefined) registerDemo(server);
  } else {
    const mod = (await import(pathToFileURL(resolve(modulePath)).href)) as { default?: unknown; register?: unknown };
    const register = typeof mod.default === 'function' ? mod.default : mod.register;
    if (typeof register !== 'function') fail(`${modulePath} must export a function (default or "register") that receives the server`);
    await (register as (s: McpServer) => unknown)(server);
  }
  try {
    const limits = limitsFromFlags({
      limitsFile: values.limits,
      rateLimitPerClient: values['rate-limit-per-client'],
      redisUrl: values['redis-url'],
      redisDown: values['redis-down'],
    });
    if (limits !== undefined) server.limits(limits);
  } catch (e) {
    fail((e as Error).message);
  }
  const cluster = server.admission?.cluster;
  if (cluster !== undefined) {
    // Serve once Redis answers (or after 5 s, saying so: calls then follow --redis-down until it does).
    await cluster.ready(5000).catch((e: unknown) => {
      logger.warn(`Redis is not reachable yet (${(e as Error).message}); calls follow --redis-down ${cluster.onRedisDown} until it is`);
    });
    // The operator's health signal: every change of the Redis connection, on stderr.
    cluster.on('health', (h: { state: string; lastError?: string }) => {
      const line = `rate-limit Redis is ${h.state}${h.lastError === undefined ? '' : ` (${h.lastError})`}${h.state === 'down' ? `; calls follow --redis-down ${cluster.onRedisDown}` : ''}`;
      if (h.state === 'down') logger.warn(line);
      else logger.info(line);
    });
  }
  let sandbox: Sandbox | undefined;
  if (sandboxDir !== undefined) {
    const cpuMs = intOption(values['sandbox-cpu-ms'], '--sandbox-cpu-ms');
    const memoryMb = intOption(values['sandbox-memory-mb'], '--sandbox-memory-mb');
    const wallMs = intOption(values['sandbox-wall-ms'], '--sandbox-wall-ms');
    const pool = intOption(values['sandbox-pool'], '--sandbox-pool');
    try {
      sandbox = await registerSandboxDir(server, sandboxDir, { cpuMs, memoryMb, wallMs, pool }, (line) => logger.info(line));
    } catch (e) {
      fail((e as Error).message);
    }
  }
  const maxMessageBytes = intOption(values['max-message-bytes'], '--max-message-bytes');
  // A process the --workers primary forked: it reports to the primary and drains when told.
  const inCluster = isClusterWorker();
  logger.info({ engine: info.implementation }, `fastermcp ${info.version}: ${info.implementation} JSON-RPC engine${info.implementation === 'js' ? ' (pure-JS fallback)' : ''}`);
  if (values.http === undefined && ['jwt-secret-file', 'jwt-public-key-file', 'jwks-url', 'jwks-file', 'api-keys-file'].some((f) => values[f as keyof typeof values] !== undefined)) {
    fail('authentication flags apply to --http; a stdio server trusts the process that started it');
  }
  if (values.http !== undefined && values['pipe-bytes'] !== undefined) fail('--pipe-bytes applies to --stdio');
  let ops;
  let observability;
  try {
    ops = opsFromFlags({ noMetrics: values['no-metrics'] === true, opsPort: values['ops-port'], sandbox });
    // A worker's audit records go to the primary's one writer (src/multicore/audit.ts).
    observability = await startObservability(server, inCluster ? { auditToPrimary: values['audit-log'] !== undefined } : { auditLog: values['audit-log'], auditKeyFile: values['audit-key-file'] }, logger);
  } catch (e) {
    fail((e as Error).message);
  }

  if (values.http === undefined) {
    const stdioOps = ops.port === undefined ? undefined : await serveOpsFor(server, {
      ...ops,
      port: ops.port,
      host: values.host ?? '127.0.0.1',
      ...(values['allowed-hosts'] === undefined ? {} : { allowedHosts: values['allowed-hosts'] === '*' ? '*' : values['allowed-hosts'].split(',').map((h) => h.trim()) }),
    });
    if (stdioOps !== undefined) logger.info(`operations endpoints on ${stdioOps.url}`);
    const pipeBytes = intOption(values['pipe-bytes'], '--pipe-bytes');
    if (pipeBytes !== undefined && pipeBytes > MAX_PIPE_BYTES) fail(`--pipe-bytes must be at most ${MAX_PIPE_BYTES}, got ${pipeBytes}`);
    const stdio = new StdioTransport(server, {
      ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }),
      ...(pipeBytes === undefined ? {} : { pipeBytes }),
    });
    const served = stdio.start();
    logger.debug({ pipes: stdio.pipes, reading: stdio.reading }, 'stdio pipes');
    for (const p of stdio.pipes) if ('skipped' in p && p.skipped === 'refused') logger.warn(`fd ${p.fd}: the kernel refused a larger pipe (${p.error ?? ''}); it keeps its size`);
    await served;
    await stdioOps?.close();
    server.close('The client closed stdin');
    await sandbox?.close();
    await observability.close();
    return;
  }
  const port = intOption(values.http, '--http');
  const allowed = values['allowed-hosts'];
  const host = values.host ?? '127.0.0.1';
  const path = values.path ?? '/mcp';
  let auth;
  try {
    auth = resourceServerFromFlags(
      {
        jwtSecretFile: values['jwt-secret-file'],
        jwtPublicKeyFile: values['jwt-public-key-file'],
        jwksUrl: values['jwks-url'],
        jwksFile: values['jwks-file'],
        jwtIssuer: values['jwt-issuer'],
        jwtAudience: values['jwt-audience'],
        jwtAlgorithms: values['jwt-algorithms'],
        apiKeysFile: values['api-keys-file'],
        authorizationServer: values['authorization-server'],
        resourceUrl: values['resource-url'],
        scopes: values.scopes,
      },
      port === 0 ? undefined : `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`,
    );
  } catch (e) {
    fail((e as Error).message);
  }
  // Scale-out (docs/scale-out.md): sessions, events and the state key in the same Redis.
  const redisUrl = values['redis-url'];
  const sharedState = redisUrl === undefined ? undefined : await connectSharedState(server, { redis: redisUrl }).catch((e: unknown) => fail((e as Error).message));
  // A worker's /metrics is the whole cluster's, asked of the primary once this worker's registry exists.
  let clusterText: (() => Promise<string>) | undefined;
  const clusterOps = !inCluster || ops.metrics === false ? ops : { ...ops, metricsText: () => (clusterText === undefined ? Promise.reject(new Error('the worker is starting')) : clusterText()) };
  const running = await serveHttp(server, {
    ...(sharedState === undefined ? {} : { sharedState }),
    ...(auth === undefined ? {} : { auth }),
    port,
    host,
    path,
    ...(allowed === undefined ? {} : { allowedHosts: allowed === '*' ? '*' : allowed.split(',').map((h) => h.trim()) }),
    ...(maxMessageBytes === undefined ? {} : { maxBodyBytes: maxMessageBytes }),
    ...(values['session-idle-ms'] === undefined ? {} : { sessionIdleMs: intOption(values['session-idle-ms'], '--session-idle-ms')! }),
    ...(values['max-sessions'] === undefined ? {} : { maxSessions: intOption(values['max-sessions'], '--max-sessions')! }),
    fastLane: values['no-fast-lane'] !== true,
    ops: clusterOps,
  });
  if (inCluster && running.ops?.metrics !== undefined) clusterText = await clusterMetricsText(running.ops.metrics.registry);
  // /readyz: the session store's Redis too (the rate limiter's has its own check).
  if (sharedState !== undefined) running.ops?.health?.addCheck('session-store', () => sharedState.health());
  const slot = workerSlot();
  if (inCluster) reportReady(running.url);
  else process.stdout.write(`fastermcp: serving MCP on ${running.url}\n`);
  logger.info({ url: running.url, worker: slot }, `listening on ${running.url}`);
  if (running.ops !== undefined && slot === undefined && running.ops.url !== undefined) logger.info(`operations endpoints on ${running.ops.url}`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ worker: slot }, `${slot === undefined ? '' : `worker ${slot} (pid ${process.pid}) `}shutting down (draining requests in flight)`);
    void (inCluster ? running.drain().then(leaveCluster) : running.close()).then(async () => {
      await sharedState?.close();
      server.close();
      await sandbox?.close();
      await observability.close();
      process.exit(0);
    });
  };
  if (inCluster) {
    // The primary decides when workers stop: a terminal's Ctrl-C reaches the whole process group,
    // and a worker leaving on its own would look like a crash to be replaced.
    onDrain(stop);
    process.on('SIGINT', () => {});
    process.once('SIGTERM', stop);
    return;
  }
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`fastermcp: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
