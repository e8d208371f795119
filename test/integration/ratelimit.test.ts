// Rate limits and quotas end to end (docs/ratelimit.md): over HTTP, a client past its limit gets 429 with
// Retry-After, RateLimit-Policy and RateLimit, and a JSON-RPC error -32029 naming the policy and
// data.retryAfterMs, while another client (another subject, or another address) is unaffected; rules
// compose (a refused call charges no other rule); tool costs, method rules and quotas count as documented.
// Over stdio (the CLI with --rate-limit-per-client, native and pure-JS engines) the same error comes back.
import { request as httpRequest, createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { McpServer, apiKeyAuthenticator } from '../../src/index.js';
import { HttpTransport } from '../../src/transport/http.js';
import type { LimitsOptions } from '../../src/ratelimit/admission.js';
import { StdioChild, cli } from '../fixtures/transport/stdio-child.js';
import type { Engine, Msg } from '../fixtures/transport/stdio-child.js';

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const KEYS = [
  { key: 'key-alice-0123456789abcdef', subject: 'alice', scopes: [] },
  { key: 'key-bob-0123456789abcdef00', subject: 'bob', scopes: [] },
];

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Msg;
}

let http: Server;
let port = 0;
let mcp: McpServer;

/** Starts a fresh server with `limits`; `auth` off makes clients anonymous (keyed by address). */
async function start(limits: LimitsOptions, auth = true): Promise<void> {
  await stop();
  mcp = new McpServer({ name: 'ratelimit-test', version: '1.0.0' });
  mcp.tool('echo', {}, () => 'ok');
  mcp.tool('expensive', { cost: 2 }, () => 'ok');
  mcp.tool('other', {}, () => 'ok');
  mcp.limits(limits);
  const transport = new HttpTransport(mcp, auth ? { auth: { authenticator: apiKeyAuthenticator(KEYS), resource: 'http://127.0.0.1/mcp', authorizationServers: [] } } : {});
  http = createServer((req, res) => transport.handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as AddressInfo).port;
}

async function stop(): Promise<void> {
  if (http !== undefined && http.listening) await new Promise<void>((resolve) => http.close(() => resolve()));
}

afterAll(stop);

/** One 2026-07-28 request over a fresh connection, from `from` (a loopback address) as `key`'s subject. */
function send(method: string, params: Record<string, unknown>, who?: 'alice' | 'bob', from = '127.0.0.1'): Promise<Answer> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 9, method, params: { ...params, _meta: META } });
  const name = (params['name'] ?? params['uri']) as string | undefined;
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'Mcp-Method': method,
    'MCP-Protocol-Version': '2026-07-28',
    Host: `127.0.0.1:${port}`,
    ...(name === undefined ? {} : { 'Mcp-Name': name }),
    ...(who === undefined ? {} : { Authorization: `Bearer ${KEYS.find((k) => k.subject === who)!.key}` }),
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers, localAddress: from, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Msg) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const callTool = (name: string, who?: 'alice' | 'bob', from?: string): Promise<Answer> => send('tools/call', { name, arguments: {} }, who, from);

function expectLimited(a: Answer, policy: string): void {
  expect(a.status).toBe(429);
  expect(a.body.error.code).toBe(-32029);
  expect(a.body.error.data.policy).toBe(policy);
  expect(a.body.error.message).toContain(policy);
  expect(a.body.id).toBe(9);
}

describe('rate limits over Streamable HTTP', () => {
  it('answers a client past its limit with 429, Retry-After and the RateLimit fields; another client is unaffected', async () => {
    await start({ rules: [{ name: 'per-client', scope: 'client', algorithm: 'token-bucket', limit: 3, windowMs: 60_000 }] });
    for (let i = 0; i < 3; i++) expect((await callTool('echo', 'alice')).body.result.content[0].text).toBe('ok');
    const refused = await callTool('echo', 'alice');
    expectLimited(refused, 'per-client');
    // One token comes back every 20 s.
    expect(refused.body.error.data.retryAfterMs).toBeGreaterThan(19_000);
    expect(refused.body.error.data.retryAfterMs).toBeLessThanOrEqual(20_000);
    expect(refused.headers['retry-after']).toBe('20');
    expect(refused.headers['ratelimit-policy']).toBe('"per-client";q=3;w=60');
    expect(refused.headers['ratelimit']).toMatch(/^"per-client";r=0;t=(59|60)$/);
    // bob has his own bucket; discovery and lists are not counted by a tools/call rule.
    expect((await callTool('echo', 'bob')).status).toBe(200);
    expect((await send('tools/list', {}, 'alice')).status).toBe(200);
    expect((await send('server/discover', {}, 'alice')).status).toBe(200);
  });

  it('keys anonymous callers by their address', async () => {
    await start({ rules: [{ name: 'per-address', scope: 'client', algorithm: 'fixed-window', limit: 1, windowMs: 3_600_000 }] }, false);
    expect((await callTool('echo', undefined, '127.0.0.1')).status).toBe(200);
    expectLimited(await callTool('echo', undefined, '127.0.0.1'), 'per-address');
    expect((await callTool('echo', undefined, '127.0.0.2')).status).toBe(200);
  });

  it('composes rules: a call one rule refuses charges no other rule', async () => {
    await start({
      rules: [
        { name: 'global', scope: 'global', algorithm: 'sliding-window-log', limit: 3, windowMs: 60_000 },
        { name: 'per-client', scope: 'client', algorithm: 'sliding-window-counter', limit: 2, windowMs: 60_000 },
      ],
    });
    expect((await callTool('echo', 'alice')).status).toBe(200);
    expect((await callTool('echo', 'alice')).status).toBe(200);
    expectLimited(await callTool('echo', 'alice'), 'per-client');
    expectLimited(await callTool('echo', 'alice'), 'per-client');
    // Had alice's refused calls charged the global rule, it would be spent; one permit is left for bob.
    expect((await callTool('echo', 'bob')).status).toBe(200);
    const last = await callTool('echo', 'bob');
    expectLimited(last, 'global');
    expect(last.headers['ratelimit-policy']).toBe('"global";q=3;w=60, "per-client";q=2;w=60');
  });

  it("charges a tool's cost, and limits per tool and per method", async () => {
    await start({
      rules: [
        { name: 'budget', scope: 'client', algorithm: 'fixed-window', limit: 3, windowMs: 3_600_000 },
        { name: 'other-tool', scope: 'tool', algorithm: 'fixed-window', limit: 1, windowMs: 3_600_000, tools: ['other'] },
        { name: 'lists', scope: 'method', algorithm: 'fixed-window', limit: 2, windowMs: 3_600_000, methods: ['tools/list', 'prompts/list'] },
      ],
    });
    expect((await callTool('expensive', 'alice')).status).toBe(200); // 2 of 3
    expectLimited(await callTool('expensive', 'alice'), 'budget'); // would be 4
    expect((await callTool('echo', 'alice')).status).toBe(200); // 3 of 3
    expect((await callTool('other', 'bob')).status).toBe(200);
    expectLimited(await callTool('other', 'bob'), 'other-tool'); // per tool: any client
    expect((await send('tools/list', {}, 'bob')).status).toBe(200);
    expect((await send('tools/list', {}, 'alice')).status).toBe(200);
    expectLimited(await send('tools/list', {}, 'bob'), 'lists');
    expect((await send('prompts/list', {}, 'bob')).status).toBe(200); // its own key under the method scope
  });

  it('a call that costs more than a limit can ever admit says so, with no Retry-After', async () => {
    await start({ rules: [{ name: 'tiny', scope: 'client', algorithm: 'token-bucket', limit: 1, windowMs: 1000 }] });
    const a = await callTool('expensive', 'alice');
    expectLimited(a, 'tiny');
    expect(a.body.error.data.retryAfterMs).toBeNull();
    expect(a.headers['retry-after']).toBeUndefined();
    expect((await callTool('echo', 'alice')).status).toBe(200);
  });

  it('counts quotas per client per UTC day, and the operator reads the usage', async () => {
    await start({ quotas: [{ name: 'daily', period: 'day', limit: 2 }] });
    expect((await callTool('echo', 'alice')).status).toBe(200);
    expect((await callTool('echo', 'alice')).status).toBe(200);
    const refused = await callTool('echo', 'alice');
    expectLimited(refused, 'daily');
    expect(refused.headers['ratelimit-policy']).toBe('"daily";q=2;w=86400');
    expect((await callTool('echo', 'bob')).status).toBe(200);
    const usage = mcp.admission!.usage('s:alice');
    expect(usage).toEqual([expect.objectContaining({ quota: 'daily', period: 'day', limit: 2, used: 2 })]);
    expect(mcp.admission!.quotaClients().sort()).toEqual(['s:alice', 's:bob']);
  });
});

describe.each<Engine>(['native', 'js'])('rate limits over stdio (%s engine)', (engine) => {
  const children: StdioChild[] = [];
  beforeAll(() => {
    if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run npm run build:ts');
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.close()));
  });

  it('--rate-limit-per-client N/SECONDS refuses the call past the burst with -32029 and data.retryAfterMs', async () => {
    const c = new StdioChild(engine, ['--rate-limit-per-client', '2/60'], null);
    children.push(c);
    await c.initialize('2025-06-18');
    for (const id of [2, 3, 4]) c.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
    c.send({ jsonrpc: '2.0', id: 5, method: 'ping' });
    expect((await c.reply(2)).result.content[0].text).toBe('x');
    expect((await c.reply(3)).result.content[0].text).toBe('x');
    const refused = await c.reply(4);
    expect(refused.error.code).toBe(-32029);
    expect(refused.error.data.policy).toBe('per-client');
    expect(refused.error.data.retryAfterMs).toBeGreaterThan(29_000);
    expect((await c.reply(5)).result).toEqual({});
  });

  it('--limits FILE: rules and costs from JSON; a bad file is refused with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-limits-'));
    const good = join(dir, 'limits.json');
    writeFileSync(good, JSON.stringify({ rules: [{ name: 'calls', scope: 'global', algorithm: 'fixed-window', limit: 1, windowMs: 60000 }] }));
    const c = new StdioChild(engine, ['--limits', good], null);
    children.push(c);
    await c.initialize('2025-06-18');
    c.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
    c.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
    expect((await c.reply(2)).result.content[0].text).toBe('x');
    expect((await c.reply(3)).error.data.policy).toBe('calls');

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ rules: [{ name: 'x', scope: 'galaxy', algorithm: 'fixed-window', limit: 1, windowMs: 1 }] }));
    const child = spawn(process.execPath, [cli, 'serve', '--stdio', '--limits', bad], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('rules[0]: scope must be one of');
  });
});
