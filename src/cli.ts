#!/usr/bin/env node
// The `fastermcp` command.
//
//   fastermcp serve [module] [--stdio | --http PORT] [--host 127.0.0.1] [options]
//
// `module` exports a function (default export or `register`) that receives the McpServer and
// registers tools, resources and prompts on it; without one the built-in demo set is served. Over
// stdio nothing but JSON-RPC is written to stdout; all diagnostics go to stderr.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, parseArgs } from 'node:util';
import { registerDemo } from './demo/everything.js';
import { runtimeInfo } from './runtime.js';
import { McpServer } from './server/server.js';
import { serveHttp } from './transport/http.js';
import { resourceServerFromFlags } from './auth/config.js';
import { serveStdio } from './transport/stdio.js';
import { limitsFromFlags } from './ratelimit/config.js';
import { registerSandboxDir } from './sandbox/cli.js';
import type { Sandbox } from './sandbox/parent.js';
import { auditCommand } from './ops/audit-verify.js';
import { createLogger } from './ops/log.js';
import type { Logger, LoggerLevel } from './ops/log.js';
import { startOps } from './ops/serve-ops.js';

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
  --no-fast-lane              answer every HTTP request through node:http's request/response objects
                              (default: POSTs to PATH are read straight off the socket, docs/http-lane.md)

Options:
  --allowed-hosts H1,H2       Host names accepted over HTTP (default: localhost,127.0.0.1,[::1]); * for any
  --max-message-bytes N       largest message / request body (default 4194304)
  --session-idle-ms N         legacy HTTP sessions idle this long are closed (default 1800000)
  --max-sessions N            most legacy HTTP sessions at once (default 10000)
  --state-key-file F          HMAC key (>= 32 bytes) for requestState and cursors, shared by all
                              instances of a deployment (default: a random key per process)
  --name NAME                 server name (default fastermcp)

Authentication (Streamable HTTP; with any credential flag, every MCP request needs a credential):
  --jwt-secret-file F         HMAC secret for HS256 tokens (a trailing newline is dropped)
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
  --redis-url U               share the rules' budgets with every server using this Redis (redis:// URL)
  --redis-down open|closed    while Redis is down: per-process limits (open, the default) or refuse (closed)

Sandbox for untrusted tools (docs/sandbox.md; each runs in its own limited process, never in the server):
  --sandbox-dir DIR           register every *.mjs in DIR (exporting \`definition\` and a default handler)
                              as a sandboxed tool; without a module, only these tools are served
  --sandbox-cpu-ms N          CPU time per call (default 1000)
  --sandbox-memory-mb N       memory per sandbox process in MiB (default 256)
  --sandbox-wall-ms N         wall-clock time per call (default 5000)
  --sandbox-pool N            warm processes per tool (default 2; 0 starts a fresh process per call)

Operations (docs/observability.md):
  --log-level L               JSON logs on stderr at L and above: fatal, error, warn, info (default),
                              debug (one line per request), trace, silent
  --audit-log FILE            append a hash-chained record of every tools/call to FILE
  --audit-key-file F          HMAC key (>= 32 bytes) of the audit log; also for \`audit verify\`
  (tracing: register an OpenTelemetry SDK before serving, e.g. with node --import; one span per request)
  -h, --help                  this text
  -v, --version               print the version
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
    ...(values['state-key-file'] === undefined ? {} : { stateKey: readFileSync(values['state-key-file']) }),
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
  logger.info({ engine: info.implementation }, `fastermcp ${info.version}: ${info.implementation} JSON-RPC engine${info.implementation === 'js' ? ' (pure-JS fallback)' : ''}`);
  let ops;
  try {
    ops = await startOps(server, { auditLog: values['audit-log'], auditKeyFile: values['audit-key-file'] }, logger);
  } catch (e) {
    fail((e as Error).message);
  }

  if (values.http === undefined) {
    if (['jwt-secret-file', 'jwt-public-key-file', 'jwks-url', 'jwks-file', 'api-keys-file'].some((f) => values[f as keyof typeof values] !== undefined)) {
      fail('authentication flags apply to --http; a stdio server trusts the process that started it');
    }
    await serveStdio(server, maxMessageBytes === undefined ? {} : { maxMessageBytes });
    server.close('The client closed stdin');
    await sandbox?.close();
    await ops.close();
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
  const running = await serveHttp(server, {
    ...(auth === undefined ? {} : { auth }),
    port,
    host,
    path,
    ...(allowed === undefined ? {} : { allowedHosts: allowed === '*' ? '*' : allowed.split(',').map((h) => h.trim()) }),
    ...(maxMessageBytes === undefined ? {} : { maxBodyBytes: maxMessageBytes }),
    ...(values['session-idle-ms'] === undefined ? {} : { sessionIdleMs: intOption(values['session-idle-ms'], '--session-idle-ms')! }),
    ...(values['max-sessions'] === undefined ? {} : { maxSessions: intOption(values['max-sessions'], '--max-sessions')! }),
    fastLane: values['no-fast-lane'] !== true,
  });
  process.stdout.write(`fastermcp: serving MCP on ${running.url}\n`);
  logger.info({ url: running.url }, `listening on ${running.url}`);
  const stop = (): void => {
    logger.info('shutting down (draining requests in flight)');
    void running.close().then(async () => {
      server.close();
      await sandbox?.close();
      await ops.close();
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`fastermcp: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
