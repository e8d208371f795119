// src/ops/metrics.ts and health.ts without a transport: requests through dispatch are counted by method,
// tool, outcome and code, exactly; label values stay bounded by what the server registered; the engine is
// named; close() stops counting; and readiness runs every check (a failing, throwing, slow or draining
// one makes the server not ready, naming why).
import { afterEach, describe, expect, it } from 'vitest';
import { createHealth } from '../../src/ops/health.js';
import { createMetrics, type Metrics } from '../../src/ops/metrics.js';
import { runtimeInfo } from '../../src/runtime.js';
import { handleNotification, handleRequest } from '../../src/server/dispatch.js';
import type { RequestEnv } from '../../src/server/dispatch.js';
import { ErrorCode, METHOD_SLOTS } from '../../src/server/protocol.js';
import { McpServer } from '../../src/server/server.js';
import { Session } from '../../src/server/session.js';
import { parsePromText, sampleValue, samples, type Families } from '../helpers/prom-text.js';
import { FakeChannel } from './helpers/fake-channel.js';

function legacyEnv(server: McpServer): RequestEnv {
  const session = new Session({ requestTimeoutMs: 1000 });
  const env: RequestEnv = { session, channel: new FakeChannel(), auth: undefined, signal: undefined };
  handleRequest(server, env, '0', 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  handleNotification(env, 'notifications/initialized', undefined);
  return env;
}

const open: Metrics[] = [];
afterEach(() => {
  for (const m of open.splice(0)) m.close();
});

function metricsOf(server: McpServer): Metrics {
  // No default metrics: their collectors are process-wide and these tests make many registries.
  const m = createMetrics(server, { defaultMetrics: false });
  open.push(m);
  return m;
}

async function scrape(m: Metrics): Promise<Families> {
  return parsePromText(await m.text());
}

describe('request metrics', () => {
  it('count requests by method, tool, outcome and error code, with one latency observation each', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.tool('echo', {}, () => 'fine');
    server.tool('bad', {}, () => {
      throw new Error('boom');
    });
    const env = legacyEnv(server); // before the metrics: initialize is not counted
    const m = metricsOf(server);
    for (let i = 0; i < 3; i++) handleRequest(server, env, String(10 + i), 'tools/call', { name: 'echo', arguments: {} });
    handleRequest(server, env, '20', 'tools/call', { name: 'bad', arguments: {} });
    handleRequest(server, env, '21', 'tools/list', {});
    handleRequest(server, env, '22', 'no/such/method', {});
    handleRequest(server, env, '23', 'tools/list', 'not an object');
    await handleRequest(server, env, '24', 'ping', {});

    const f = await scrape(m);
    expect(f.get('mcp_server_requests_total')!.type).toBe('counter');
    const counts = samples(f, 'mcp_server_requests_total').map((s) => [s.labels, s.value]);
    expect(counts).toEqual(
      expect.arrayContaining([
        [{ method: 'tools/call', tool: 'echo', outcome: 'ok' }, 3],
        [{ method: 'tools/call', tool: 'bad', outcome: 'tool_error' }, 1],
        [{ method: 'tools/list', outcome: 'ok' }, 1],
        [{ method: 'tools/list', outcome: 'error', code: String(ErrorCode.InvalidParams) }, 1],
        [{ method: '(unknown)', outcome: 'error', code: String(ErrorCode.MethodNotFound) }, 1],
        [{ method: 'ping', outcome: 'ok' }, 1],
      ]),
    );
    expect(counts).toHaveLength(6);
    // Every request has one latency observation under its outcome.
    expect(sampleValue(f, 'mcp_server_request_duration_seconds_count', { method: 'tools/call', tool: 'echo', outcome: 'ok' })).toBe(3);
    expect(sampleValue(f, 'mcp_server_request_duration_seconds_count', { method: 'tools/list', outcome: 'error' })).toBe(1);
    const total = samples(f, 'mcp_server_request_duration_seconds_count').reduce((n, s) => n + s.value, 0);
    expect(total).toBe(8);
    expect(f.get('mcp_server_request_duration_seconds')!.type).toBe('histogram');
  });

  it('never make a series for a tool or method name a client invents', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.tool('echo', {}, () => 'fine');
    const env = legacyEnv(server);
    const m = metricsOf(server);
    for (let i = 0; i < 50; i++) {
      handleRequest(server, env, String(100 + i), 'tools/call', { name: `made-up-${i}`, arguments: {} });
      handleRequest(server, env, String(200 + i), `made/up/${i}`, {});
    }
    handleRequest(server, env, '300', 'tools/call', { name: 42 });
    const f = await scrape(m);
    const counts = samples(f, 'mcp_server_requests_total');
    expect(counts.map((s) => s.labels.tool ?? s.labels.method)).toEqual(['(unknown)', '(unknown)']);
    expect(sampleValue(f, 'mcp_server_requests_total', { method: 'tools/call', tool: '(unknown)', outcome: 'error', code: String(ErrorCode.InvalidParams) })).toBe(51);
    expect(sampleValue(f, 'mcp_server_requests_total', { method: '(unknown)', outcome: 'error', code: String(ErrorCode.MethodNotFound) })).toBe(50);
  });

  it('give a tool registered after the metrics its own series', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    const env = legacyEnv(server);
    const m = metricsOf(server);
    server.tool('late', {}, () => 'here');
    handleRequest(server, env, '1', 'tools/call', { name: 'late', arguments: {} });
    expect(sampleValue(await scrape(m), 'mcp_server_requests_total', { method: 'tools/call', tool: 'late', outcome: 'ok' })).toBe(1);
  });

  it('name the engine, and stop counting once closed', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.tool('echo', {}, () => 'fine');
    const env = legacyEnv(server);
    const m = metricsOf(server);
    handleRequest(server, env, '1', 'tools/call', { name: 'echo', arguments: {} });
    const info = runtimeInfo();
    const f = await scrape(m);
    expect(sampleValue(f, 'fastermcp_engine_info', { engine: info.implementation, version: info.version })).toBe(1);
    if (process.env.FASTERMCP_FORCE_JS === '1') expect(info.implementation).toBe('js');
    m.close();
    expect(server.observers).toHaveLength(0);
    handleRequest(server, env, '2', 'tools/call', { name: 'echo', arguments: {} });
    expect(sampleValue(await scrape(m), 'mcp_server_requests_total', { method: 'tools/call', tool: 'echo', outcome: 'ok' })).toBe(1);
  });

  it('keep rate-limit counts when server.limits() replaces the rules', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.tool('echo', {}, () => 'fine');
    const m = metricsOf(server);
    const rule = { name: 'two', scope: 'global' as const, algorithm: 'fixed-window' as const, limit: 2, windowMs: 3_600_000 };
    const first = server.limits({ rules: [rule], implementation: 'js' })!;
    const slot = METHOD_SLOTS.indexOf('tools/call');
    for (let i = 0; i < 3; i++) first.admit(slot, -1, 'c', String(i), 1000);
    const before = await scrape(m);
    expect(sampleValue(before, 'fastermcp_ratelimit_admitted_total')).toBe(2);
    expect(sampleValue(before, 'fastermcp_ratelimit_denied_total', { policy: 'two' })).toBe(1);
    server.limits({ rules: [{ ...rule, name: 'other' }], implementation: 'js' });
    const after = await scrape(m);
    expect(sampleValue(after, 'fastermcp_ratelimit_admitted_total')).toBe(sampleValue(before, 'fastermcp_ratelimit_admitted_total'));
    expect(samples(after, 'fastermcp_ratelimit_denied_total')).toEqual(samples(before, 'fastermcp_ratelimit_denied_total'));
  });

  it('add to a registry handed in, as AggregatorRegistry.setRegistries() would take it', async () => {
    const { Registry, AggregatorRegistry } = await import('prom-client');
    const server = new McpServer({ name: 's', version: '1' });
    server.tool('echo', {}, () => 'fine');
    const env = legacyEnv(server);
    const registry = new Registry();
    const m = createMetrics(server, { registry, defaultMetrics: false });
    open.push(m);
    expect(m.registry).toBe(registry);
    handleRequest(server, env, '1', 'tools/call', { name: 'echo', arguments: {} });
    // Two processes' JSON, as a primary gets them: counters and histograms sum, engine_info takes max.
    const json = await registry.getMetricsAsJSON();
    const merged = AggregatorRegistry.aggregate([json, json]);
    const f = parsePromText(await merged.metrics());
    expect(sampleValue(f, 'mcp_server_requests_total', { method: 'tools/call', tool: 'echo', outcome: 'ok' })).toBe(2);
    expect(sampleValue(f, 'mcp_server_request_duration_seconds_count', { method: 'tools/call', tool: 'echo', outcome: 'ok' })).toBe(2);
    const info = runtimeInfo();
    expect(sampleValue(f, 'fastermcp_engine_info', { engine: info.implementation, version: info.version })).toBe(1);
  });
});

describe('health', () => {
  it('is ready with the built-in checks, and not ready while draining', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    const health = createHealth(server);
    expect(health.live()).toEqual({ status: 'ok' });
    const ready = await health.ready();
    expect(ready.ready).toBe(true);
    expect(Object.keys(ready.checks)).toEqual(['engine', 'shutdown']);
    expect(ready.checks['engine']!.detail).toMatch(runtimeInfo().implementation === 'native' ? /native addon/ : /pure-JS fallback/);
    health.drain();
    const draining = await health.ready();
    expect(draining.ready).toBe(false);
    expect(draining.checks['shutdown']).toEqual({ ok: false, detail: 'draining: the server is shutting down' });
  });

  it('works without a server (a multi-process primary): engine, shutdown and added checks', async () => {
    const health = createHealth(undefined);
    health.addCheck('workers', () => ({ ok: false, detail: '1 of 2 workers ready' }));
    const r = await health.ready();
    expect(Object.keys(r.checks)).toEqual(['engine', 'shutdown', 'workers']);
    expect(r.ready).toBe(false);
  });

  it('runs added checks: a failing, throwing, rejecting or slow one fails with why', async () => {
    const server = new McpServer({ name: 's', version: '1' });
    const health = createHealth(server, { checkTimeoutMs: 50 });
    const removeDb = health.addCheck('db', () => ({ ok: true, detail: 'connected' }));
    expect((await health.ready()).ready).toBe(true);
    health.addCheck('cache', async () => ({ ok: false, detail: 'cache down' }));
    health.addCheck('thrower', () => {
      throw new Error('exploded');
    });
    health.addCheck('slow', () => new Promise(() => {}));
    const r = await health.ready();
    expect(r.ready).toBe(false);
    expect(r.checks['db']).toEqual({ ok: true, detail: 'connected' });
    expect(r.checks['cache']).toEqual({ ok: false, detail: 'cache down' });
    expect(r.checks['thrower']).toEqual({ ok: false, detail: 'exploded' });
    expect(r.checks['slow']).toEqual({ ok: false, detail: 'check slow did not answer within 50 ms' });
    removeDb();
    expect('db' in (await health.ready()).checks).toBe(false);
    expect(() => health.addCheck('cache', () => ({ ok: true, detail: '' }))).toThrow(/already exists/);
    expect(() => health.addCheck('redis', () => ({ ok: true, detail: '' }))).toThrow(/already exists/);
    expect(() => health.addCheck('Bad Name', () => ({ ok: true, detail: '' }))).toThrow(/check name/);
  });
});
