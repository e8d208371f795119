// /metrics, /healthz and /readyz end to end (src/ops/, serveHttp's `ops`, the CLI flags): a server with
// API keys and a rate limit gets ok, tool-error, unknown-method, malformed, refused-media-type,
// rate-limited and unauthorized requests; each scrape is parsed strictly (test/helpers/prom-text.ts) and
// the counters must have moved by exactly what was done. Readiness fails naming Redis once the cluster
// limiter's Redis is killed, and answers 503 while the server drains. Run it with FASTERMCP_FORCE_JS=1
// too: the engine label then says "js" (and admission takes its JS path instead of the fused native one).
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { apiKeyAuthenticator, chainAuthenticators, jwtAuthenticator } from '../../src/auth/authenticate.js';
import { createJwtVerifier } from '../../src/jwt/index.js';
import { runtimeInfo } from '../../src/runtime.js';
import { ErrorCode } from '../../src/server/protocol.js';
import { McpServer } from '../../src/server/server.js';
import { serveHttp, type RunningHttpServer, type ServeHttpOptions } from '../../src/transport/http.js';
import { parsePromText, sampleValue, samples, type Families } from '../helpers/prom-text.js';
import { useRedisServer } from '../helpers/redis-server.js';

const redis = useRedisServer();
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const KEY = 'metrics-test-key-0123456789';
const STATELESS = '2026-07-28';
const META = { 'io.modelcontextprotocol/protocolVersion': STATELESS, 'io.modelcontextprotocol/clientCapabilities': {} };

const running: RunningHttpServer[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.close(2000);
});

async function start(setup: (server: McpServer) => void, options: ServeHttpOptions = {}): Promise<{ server: McpServer; r: RunningHttpServer; ops: string }> {
  const server = new McpServer({ name: 'metrics-test', version: '0.0.0' });
  setup(server);
  const r = await serveHttp(server, { port: 0, host: '127.0.0.1', ops: {}, ...options });
  running.push(r);
  return { server, r, ops: r.ops!.url };
}

/** A 2026-07-28 request: its status and JSON body. */
async function call(url: string, method: string, params: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': STATELESS,
      'mcp-method': method,
      ...(typeof params['name'] === 'string' ? { 'mcp-name': params['name'] } : {}),
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: META } }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

async function raw(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { accept: 'application/json, text/event-stream', ...headers }, body, signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  return res.status;
}

async function scrape(base: string): Promise<Families> {
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePromText(await res.text());
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.json() };
}

/** How much each sample of `name` moved between two scrapes (absent counts as 0), non-zero ones only. */
function moved(before: Families, after: Families, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples(after, name)) {
    const d = s.value - (sampleValue(before, name, s.labels) ?? 0);
    if (d !== 0) out[JSON.stringify(s.labels)] = d;
  }
  return out;
}

/** An HS256 token signed with a key the server does not have. */
function forgedJwt(): string {
  const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${head}.${createHmac('sha256', 'some-other-secret-0123456789abcdef').update(head).digest('base64url')}`;
}

const L = (labels: Record<string, string>): string => JSON.stringify(labels);

async function waitFor<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('/metrics', () => {
  it('counts exactly what was done: ok, tool error, unknown method, malformed, media type, rate-limited, unauthorized', async () => {
    const { r, ops } = await start(
      (server) => {
        server.tool('echo', {}, (args: any) => String(args?.text ?? ''));
        server.tool('fail', {}, () => {
          throw new Error('tool failed');
        });
        server.limits({ rules: [{ name: 'echo-twice', scope: 'client', algorithm: 'fixed-window', limit: 2, windowMs: 3_600_000, tools: ['echo'] }] });
      },
      {
        auth: {
          authenticator: chainAuthenticators([
            jwtAuthenticator(createJwtVerifier({ algorithms: ['HS256'], secret: 'metrics-test-secret-0123456789abcdef' })),
            apiKeyAuthenticator([{ key: KEY, subject: 'tester' }]),
          ]),
          resource: 'http://127.0.0.1/mcp',
          authorizationServers: ['http://127.0.0.1/issuer'],
        },
      },
    );
    const auth = { 'x-api-key': KEY };
    const before = await scrape(ops);

    expect((await call(r.url, 'tools/call', { name: 'echo', arguments: { text: 'a' } }, auth)).status).toBe(200);
    expect((await call(r.url, 'tools/call', { name: 'echo', arguments: { text: 'b' } }, auth)).status).toBe(200);
    const limited = await call(r.url, 'tools/call', { name: 'echo', arguments: { text: 'c' } }, auth);
    expect(limited.status).toBe(429);
    const failed = await call(r.url, 'tools/call', { name: 'fail', arguments: {} }, auth);
    expect(failed.body.result.isError).toBe(true);
    expect((await call(r.url, 'no/such/method', {}, auth)).body.error.code).toBe(ErrorCode.MethodNotFound);
    expect(await raw(r.url, '{"jsonrpc":"2.0",', { 'content-type': 'application/json', ...auth })).toBe(400);
    expect(await raw(r.url, '[1,2', { 'content-type': 'application/json', ...auth })).toBe(400);
    expect(await raw(r.url, '{}', { 'content-type': 'text/plain', ...auth })).toBe(415);
    expect((await call(r.url, 'tools/call', { name: 'echo', arguments: {} })).status).toBe(401);
    expect((await call(r.url, 'tools/call', { name: 'echo', arguments: {} }, { 'x-api-key': 'not-a-key-of-this-server' })).status).toBe(401);
    expect((await call(r.url, 'tools/call', { name: 'echo', arguments: {} }, { authorization: 'Bearer not a token' })).status).toBe(400);
    expect((await call(r.url, 'tools/call', { name: 'echo', arguments: {} }, { authorization: `Bearer ${forgedJwt()}` })).status).toBe(401);

    const after = await scrape(ops);
    expect(moved(before, after, 'mcp_server_requests_total')).toEqual({
      [L({ method: 'tools/call', tool: 'echo', outcome: 'ok' })]: 2,
      [L({ method: 'tools/call', tool: 'fail', outcome: 'tool_error' })]: 1,
      [L({ method: '(unknown)', outcome: 'error', code: String(ErrorCode.MethodNotFound) })]: 1,
    });
    expect(moved(before, after, 'mcp_server_request_duration_seconds_count')).toEqual({
      [L({ method: 'tools/call', tool: 'echo', outcome: 'ok' })]: 2,
      [L({ method: 'tools/call', tool: 'fail', outcome: 'tool_error' })]: 1,
      [L({ method: '(unknown)', outcome: 'error' })]: 1,
    });
    expect(moved(before, after, 'fastermcp_transport_refused_total')).toEqual({
      [L({ transport: 'http', cause: 'invalid_json' })]: 2,
      [L({ transport: 'http', cause: 'unsupported_media_type' })]: 1,
    });
    // Three went through admission and were admitted (echo, echo, fail, no/such/method = 4), one refused.
    expect(moved(before, after, 'fastermcp_ratelimit_admitted_total')).toEqual({ [L({})]: 4 });
    expect(moved(before, after, 'fastermcp_ratelimit_denied_total')).toEqual({ [L({ policy: 'echo-twice' })]: 1 });
    expect(moved(before, after, 'fastermcp_auth_failures_total')).toEqual({
      [L({ error: 'missing' })]: 1,
      [L({ error: 'invalid_token', reason: 'unknown_api_key' })]: 1,
      [L({ error: 'invalid_request', reason: 'malformed_bearer' })]: 1,
      [L({ error: 'invalid_token', reason: 'bad_signature' })]: 1,
    });
    const info = runtimeInfo();
    expect(sampleValue(after, 'fastermcp_engine_info', { engine: info.implementation, version: info.version })).toBe(1);
    if (process.env.FASTERMCP_FORCE_JS === '1') expect(info.implementation).toBe('js');
    // prom-client's default metrics share the registry: process CPU and event-loop lag.
    expect(after.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(after.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
  });

  it('counts legacy sessions and insufficient_scope; keeps the Host check; no /metrics with metrics: false', async () => {
    const { r, ops } = await start(
      (server) => {
        server.tool('admin', { scopes: ['admin'] } as never, () => 'done');
      },
      { auth: { authenticator: apiKeyAuthenticator([{ key: KEY, subject: 'tester', scopes: [] }]), resource: 'http://127.0.0.1/mcp', authorizationServers: [] } },
    );
    const before = await scrape(ops);
    expect((await call(r.url, 'tools/call', { name: 'admin', arguments: {} }, { 'x-api-key': KEY })).status).toBe(403);
    const init = await fetch(r.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-api-key': KEY },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } } }),
    });
    await init.text();
    expect(init.headers.get('mcp-session-id')).toBeTruthy();
    const after = await scrape(ops);
    expect(moved(before, after, 'fastermcp_auth_failures_total')).toEqual({ [L({ error: 'insufficient_scope' })]: 1 });
    expect(sampleValue(after, 'fastermcp_http_sessions')).toBe(1);
    expect(sampleValue(after, 'fastermcp_http_sse_streams')).toBe(0);

    // DNS rebinding: a foreign Host gets 403 on the ops paths as on MCP's.
    const port = new URL(ops).port;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/metrics', headers: { host: `evil.example:${port}` }, timeout: 10_000 }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
    expect((await fetch(`${ops}/metrics`, { method: 'POST' })).status).toBe(405);

    const { ops: noMetrics } = await start(() => {}, { ops: { metrics: false } });
    expect((await fetch(`${noMetrics}/metrics`)).status).toBe(404);
    expect((await getJson(`${noMetrics}/healthz`)).body).toEqual({ status: 'ok' });
  });

  it('serves the endpoints on their own port with ops.port, and not on the MCP port', async () => {
    const { r, ops } = await start((server) => server.tool('echo', {}, () => 'x'), { ops: { port: 0 } });
    const mcpBase = new URL(r.url).origin;
    expect(ops).not.toBe(mcpBase);
    expect((await fetch(`${mcpBase}/metrics`)).status).toBe(404);
    expect((await fetch(`${ops}/mcp`)).status).toBe(404);
    await call(r.url, 'tools/call', { name: 'echo', arguments: {} });
    const f = await scrape(ops);
    expect(sampleValue(f, 'mcp_server_requests_total', { method: 'tools/call', tool: 'echo', outcome: 'ok' })).toBe(1);
    expect(sampleValue(f, 'fastermcp_transport_refused_total', { transport: 'http', cause: 'not_found' })).toBe(1);
    expect((await getJson(`${ops}/readyz`)).status).toBe(200);
  });

  it('answers with metricsText when given (the multi-process aggregate)', async () => {
    const { ops } = await start(() => {}, { ops: { metricsText: async () => '# TYPE cluster_wide gauge\ncluster_wide 7\n' } });
    expect(sampleValue(await scrape(ops), 'cluster_wide')).toBe(7);
  });

  it('watches a sandbox made after the metrics: calls by cause, CPU, memory, processes; readiness waits for it', async () => {
    const { server, r, ops } = await start(() => {});
    server.tool('sbx', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, { runIn: 'sandbox', module: fixture('sandbox/echo.mjs'), limits: { wallMs: 10_000 }, pool: 1 });
    // Its first process takes a spawn and a handshake to start; the checks run within microtasks.
    const early = await r.ops!.health!.ready();
    expect(early.ready).toBe(false);
    expect(early.checks['sandbox']).toEqual({ ok: false, detail: '1 tool(s) still starting' });
    const reply = await call(r.url, 'tools/call', { name: 'sbx', arguments: { text: 'hi' } });
    expect(reply.body.result.content[0].text).toBe('hi');
    const f = await scrape(ops);
    expect(sampleValue(f, 'fastermcp_sandbox_calls_total', { tool: 'sbx', cause: 'ok' })).toBe(1);
    expect(sampleValue(f, 'fastermcp_sandbox_call_wall_seconds_count', { tool: 'sbx' })).toBe(1);
    expect(sampleValue(f, 'fastermcp_sandbox_call_max_rss_bytes_count', { tool: 'sbx' })).toBe(1);
    expect(sampleValue(f, 'fastermcp_sandbox_call_max_rss_bytes_sum', { tool: 'sbx' })).toBeGreaterThan(0);
    expect(sampleValue(f, 'fastermcp_sandbox_processes_started_total', { tool: 'sbx' })).toBeGreaterThanOrEqual(1);
    expect(samples(f, 'fastermcp_sandbox_cpu_seconds_total').map((s) => s.labels.mode).sort()).toEqual(['system', 'user']);
    const ready = await waitFor('the sandbox check', () => getJson(`${ops}/readyz`), (x) => x.status === 200);
    expect(ready.body.checks.sandbox).toMatchObject({ ok: true });
    expect(ready.body.checks.sandbox.detail).toMatch(/^sbx: 1 process/);
  }, 60_000);
});

describe('/healthz and /readyz', () => {
  it('fail readiness naming redis once the cluster limiter\'s Redis is killed, and recover when it is back', async () => {
    const { server, ops } = await start((s) => {
      s.tool('echo', {}, () => 'x');
      s.limits({ rules: [{ name: 'shared', scope: 'global', algorithm: 'token-bucket', limit: 1000, windowMs: 1000 }], redis: { url: redis().url, commandTimeoutMs: 500 } });
    });
    await server.admission!.cluster!.ready(10_000);
    const up = await getJson(`${ops}/readyz`);
    expect(up.status).toBe(200);
    expect(up.body.checks.redis).toEqual({ ok: true, detail: 'rate-limit Redis reachable' });
    expect(sampleValue(await scrape(ops), 'fastermcp_ratelimit_redis_up')).toBe(1);

    await redis().kill();
    const down = await waitFor('readyz 503', () => getJson(`${ops}/readyz`), (x) => x.status === 503);
    expect(down.body.status).toBe('not_ready');
    expect(down.body.checks.redis.ok).toBe(false);
    expect(down.body.checks.redis.detail).toMatch(/^rate-limit Redis unreachable since /);
    expect(down.body.checks.engine.ok).toBe(true);
    expect((await getJson(`${ops}/healthz`)).status).toBe(200); // alive all along
    expect(sampleValue(await scrape(ops), 'fastermcp_ratelimit_redis_up')).toBe(0);

    await redis().restart();
    await waitFor('readyz 200 again', () => getJson(`${ops}/readyz`), (x) => x.status === 200, 20_000);
  }, 60_000);

  it('answer 503 from /readyz (200 from /healthz) while the server drains', async () => {
    let release!: () => void;
    const { r, ops } = await start((s) => {
      s.tool('slow', {}, () => new Promise<string>((resolve) => (release = () => resolve('late'))));
    });
    expect((await getJson(`${ops}/readyz`)).status).toBe(200);
    const pending = call(r.url, 'tools/call', { name: 'slow', arguments: {} });
    await waitFor('the slow call to start', async () => release !== undefined, (x) => x);
    running.splice(running.indexOf(r), 1);
    const closing = r.close(10_000);
    const draining = await getJson(`${ops}/readyz`);
    expect(draining.status).toBe(503);
    expect(draining.body.checks.shutdown).toEqual({ ok: false, detail: 'draining: the server is shutting down' });
    expect((await getJson(`${ops}/healthz`)).status).toBe(200);
    release();
    expect((await pending).body.result.content[0].text).toBe('late');
    await closing;
  }, 30_000);
});

describe('fastermcp serve (dist/cli.js)', () => {
  /** Runs the CLI until it prints its addresses; returns them and the process. */
  async function serve(args: string[]): Promise<{ mcp: string; ops: string; stop: () => Promise<void> }> {
    const child = spawn(process.execPath, [`${root}/dist/cli.js`, 'serve', '--http', '0', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
    const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const stop = async (): Promise<void> => {
      child.kill('SIGTERM');
      await exited;
      clearTimeout(killer);
    };
    try {
      await waitFor('the CLI to listen', async () => out, (s) => /operations endpoints on \S+/.test(s) && /serving MCP on \S+/.test(s), 20_000);
    } catch (e) {
      await stop();
      throw new Error(`${(e as Error).message}\n${out}`);
    }
    return { mcp: /serving MCP on (\S+)/.exec(out)![1]!, ops: /operations endpoints on ([^\s"]+)/.exec(out)![1]!, stop };
  }

  it('serves /metrics, /healthz and /readyz on the HTTP port by default; --no-metrics --ops-port moves them and drops /metrics', async () => {
    const a = await serve([]);
    try {
      expect(a.ops).toBe(new URL(a.mcp).origin);
      await call(a.mcp, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
      const f = await scrape(a.ops);
      expect(sampleValue(f, 'mcp_server_requests_total', { method: 'tools/call', tool: 'echo', outcome: 'ok' })).toBe(1);
      expect((await getJson(`${a.ops}/readyz`)).body.status).toBe('ready');
    } finally {
      await a.stop();
    }
    const b = await serve(['--no-metrics', '--ops-port', '0']);
    try {
      expect(b.ops).not.toBe(new URL(b.mcp).origin);
      expect((await fetch(`${b.ops}/metrics`)).status).toBe(404);
      expect((await getJson(`${b.ops}/healthz`)).body).toEqual({ status: 'ok' });
      expect((await fetch(`${new URL(b.mcp).origin}/healthz`)).status).toBe(404);
    } finally {
      await b.stop();
    }
  }, 60_000);

  it('serves the endpoints of a --stdio server with --ops-port', async () => {
    const child = spawn(process.execPath, [`${root}/dist/cli.js`, 'serve', '--stdio', '--ops-port', '0'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    try {
      await waitFor('the ops address', async () => stderr, (s) => /operations endpoints on \S+/.test(s), 20_000);
      const ops = /operations endpoints on ([^\s"]+)/.exec(stderr)![1]!;
      child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' }, _meta: META } }) + '\n');
      await waitFor('the reply', async () => stdout, (s) => s.includes('"id":1'));
      const f = await scrape(ops);
      expect(sampleValue(f, 'mcp_server_requests_total', { method: 'tools/call', tool: 'echo', outcome: 'ok' })).toBe(1);
      expect(samples(f, 'fastermcp_http_sessions')).toEqual([]); // no HTTP transport here
      expect((await getJson(`${ops}/readyz`)).status).toBe(200);
      child.stdin.end();
      expect(await exited).toBe(0);
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('watches and checks the sandbox of --sandbox-dir', async () => {
    // Readable by nobody (the sandboxed processes' user when the tests run as root).
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-metrics-'));
    chmodSync(dir, 0o755);
    copyFileSync(fixture('sandbox/echo.mjs'), join(dir, 'echo.mjs'));
    chmodSync(join(dir, 'echo.mjs'), 0o644);
    const c = await serve(['--sandbox-dir', dir, '--sandbox-pool', '1', '--ops-port', '0']);
    try {
      const reply = await call(c.mcp, 'tools/call', { name: 'echo', arguments: { text: 'boxed' } });
      expect(reply.body.result.content[0].text).toBe('boxed');
      const f = await scrape(c.ops);
      expect(sampleValue(f, 'fastermcp_sandbox_calls_total', { tool: 'echo', cause: 'ok' })).toBe(1);
      expect(sampleValue(f, 'fastermcp_sandbox_call_wall_seconds_count', { tool: 'echo' })).toBe(1);
      const ready = await getJson(`${c.ops}/readyz`);
      expect(ready.status).toBe(200);
      expect(ready.body.checks.sandbox.detail).toMatch(/^echo: 1 process/);
    } finally {
      await c.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
