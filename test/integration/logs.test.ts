// Structured logs of `fastermcp serve` (src/ops/log.ts, src/cli.ts): with --log-level debug every
// stderr line is a JSON object, each request reaching dispatch gets one line (method, tool, id,
// subject, outcome, duration), a server-side failure is logged at error, stdout carries only the URL,
// and no line anywhere holds the JWT, its secret, the API key, the state key or the audit key.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, failureLogger, loggingObserver } from '../../src/ops/log.js';
import { McpServer } from '../../src/server/server.js';
import { MemoryClient } from '../helpers/memory-client.js';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fastermcp-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');
const SECRET = randomBytes(32).toString('hex');
const API_KEY = `key-${randomBytes(16).toString('hex')}`;
const STATE_KEY = randomBytes(32).toString('hex');
const AUDIT_KEY = randomBytes(32).toString('hex');
const ARGUMENT = `argument-${randomBytes(8).toString('hex')}`;
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'https://mcp.test/mcp';

function jwt(claims: object): string {
  const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${head}.${b64url(createHmac('sha256', SECRET).update(head).digest())}`;
}

/** The MCP module served: a tool, and a resource whose handler fails (an internal error). */
const MODULE = `export default function register(server) {
  server.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, (a) => a.text ?? '');
  server.resource('test://broken', { name: 'broken' }, () => { throw new Error('disk on fire'); });
}
`;

function startServe(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => Buffer; stdout: () => string }> {
  const child = spawn(process.execPath, [cli, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const errChunks: Buffer[] = [];
  let out = '';
  child.stderr!.on('data', (d: Buffer) => errChunks.push(d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 20 s; stderr: ${Buffer.concat(errChunks)}`)), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /serving MCP on (\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, stderr: () => Buffer.concat(errChunks), stdout: () => out });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${Buffer.concat(errChunks)}`));
    });
  });
}

function stopped(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

describe('fastermcp serve --log-level debug', () => {
  it('writes JSON lines to stderr, one per request, and never a credential or key', async () => {
    const files = { secret: join(dir, 'jwt.secret'), keys: join(dir, 'keys.json'), state: join(dir, 'state.key'), audit: join(dir, 'audit.key'), module: join(dir, 'module.mjs') };
    writeFileSync(files.secret, SECRET + '\n');
    writeFileSync(files.keys, JSON.stringify([{ key: API_KEY, subject: 'key-user', scopes: [] }]));
    writeFileSync(files.state, STATE_KEY);
    writeFileSync(files.audit, AUDIT_KEY);
    writeFileSync(files.module, MODULE);
    const run = await startServe([
      files.module,
      '--http', '0',
      '--log-level', 'debug',
      '--jwt-secret-file', files.secret,
      '--jwt-issuer', ISSUER,
      '--jwt-audience', AUDIENCE,
      '--resource-url', AUDIENCE,
      '--api-keys-file', files.keys,
      '--state-key-file', files.state,
      '--audit-log', join(dir, 'audit.jsonl'),
      '--audit-key-file', files.audit,
    ]);
    const token = jwt({ iss: ISSUER, aud: AUDIENCE, sub: 'jwt-user', exp: Math.floor(Date.now() / 1000) + 600 });
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    const post = async (id: number, method: string, params: object, auth: Record<string, string>): Promise<Response> =>
      fetch(run.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': method,
          ...('name' in params || 'uri' in params ? { 'mcp-name': String((params as { name?: unknown; uri?: unknown }).name ?? (params as { uri?: unknown }).uri) } : {}),
          ...auth,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } }),
        signal: AbortSignal.timeout(10_000),
      });
    try {
      expect((await post(1, 'tools/call', { name: 'echo', arguments: { text: ARGUMENT } }, { authorization: `Bearer ${token}` })).status).toBe(200);
      expect((await post(2, 'tools/call', { name: 'echo', arguments: { text: 'yo' } }, { 'x-api-key': API_KEY })).status).toBe(200);
      expect((await post(3, 'resources/read', { uri: 'test://broken' }, { 'x-api-key': API_KEY })).status).toBeGreaterThanOrEqual(200);
      expect((await post(4, 'tools/list', {}, { authorization: 'Bearer not-a-valid-token' })).status).toBe(401);
    } finally {
      expect(await stopped(run.child)).toBe(0);
    }

    const raw = run.stderr();
    const lines = raw.toString('utf8').split('\n').filter((l) => l !== '');
    const records = lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`a stderr line is not JSON: ${l}`);
      }
    });
    const byId = (id: number): Record<string, unknown> | undefined => records.find((r) => r['id'] === id && r['method'] !== undefined);
    expect(byId(1)).toMatchObject({ level: 20, msg: 'request', method: 'tools/call', tool: 'echo', subject: 'jwt-user', outcome: 'ok' });
    expect(byId(2)).toMatchObject({ level: 20, method: 'tools/call', tool: 'echo', subject: 'key-user', outcome: 'ok' });
    expect(typeof byId(1)!['ms']).toBe('number');
    expect(byId(3)).toMatchObject({ level: 50, msg: 'request failed', method: 'resources/read', outcome: 'error', code: -32603, subject: 'key-user' });
    expect(byId(4)).toBeUndefined(); // refused before dispatch
    expect(records[0]).toMatchObject({ level: 30, msg: expect.stringMatching(/(native|js) JSON-RPC engine/) });
    expect(records.some((r) => String(r['msg']).startsWith('listening on http://127.0.0.1:'))).toBe(true);
    expect(records.some((r) => r['msg'] === 'shutting down (draining requests in flight)')).toBe(true);
    expect(records.some((r) => String(r['msg']).startsWith('audit log closed at seq 2'))).toBe(true);

    for (const secret of [token, token.split('.')[2]!, SECRET, API_KEY, STATE_KEY, AUDIT_KEY, 'not-a-valid-token', ARGUMENT, 'disk on fire']) {
      expect(raw.includes(secret), `stderr holds ${secret.slice(0, 12)}…`).toBe(false);
    }
    expect(run.stdout()).toMatch(/^fastermcp: serving MCP on \S+\n$/);
  }, 60_000);

  it('--log-level silent writes nothing to stderr; an unknown level is refused', async () => {
    const run = await startServe(['--http', '0', '--log-level', 'silent']);
    const res = await fetch(run.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}', signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBeLessThan(500);
    expect(await stopped(run.child)).toBe(0);
    expect(run.stderr().length).toBe(0);
    await expect(startServe(['--http', '0', '--log-level', 'chatty'])).rejects.toThrow(/Unknown log level "chatty"/);
  }, 60_000);
});

describe('loggingObserver', () => {
  it('at info logs only server failures; at debug every request; no arguments or results', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = { write: (s: string) => void lines.push(JSON.parse(s)) };
    for (const level of ['info', 'debug'] as const) {
      lines.length = 0;
      const server = new McpServer({ name: 's', version: '1' });
      server.tool('echo', {}, (a: { text?: string }) => a.text ?? '');
      server.resource('test://broken', { name: 'broken' }, () => {
        throw new Error('disk on fire');
      });
      server.observe(loggingObserver(createLogger({ level, destination })));
      const client = new MemoryClient(server);
      await client.initialize('2025-11-25');
      await client.reply(client.call('echo', { text: 'private words' }));
      await client.reply(client.request('resources/read', { uri: 'test://broken' }));
      await client.reply(client.call('x'.repeat(1000), {}));
      const requests = lines.filter((l) => l['method'] !== undefined);
      if (level === 'info') {
        expect(requests.map((l) => [l['method'], l['level']])).toEqual([['resources/read', 50]]);
      } else {
        expect(requests.map((l) => [l['method'], l['outcome'], l['level']])).toEqual([
          ['initialize', 'ok', 20],
          ['tools/call', 'ok', 20],
          ['resources/read', 'error', 50],
          ['tools/call', 'error', 20], // an unknown tool is the client's mistake
        ]);
        expect(requests[3]!['tool']).toBe('x'.repeat(256)); // client-chosen names are cut
        expect(typeof requests[1]!['session']).toBe('string');
      }
      expect(JSON.stringify(lines)).not.toContain('private words');
    }
  });

  it('failureLogger (server.onFailure) logs server failures at error with the class of what was thrown, nothing else', async () => {
    const lines: Record<string, unknown>[] = [];
    const server = new McpServer({ name: 's', version: '1' });
    server.tool('echo', {}, (a: { text?: string }) => a.text ?? '');
    server.resource('test://broken', { name: 'broken' }, () => {
      throw new RangeError('secret-ish detail');
    });
    server.onFailure(failureLogger(createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s)) } })));
    const client = new MemoryClient(server);
    await client.initialize('2025-11-25');
    await client.reply(client.call('echo', { text: 'private words' }));
    await client.reply(client.request('resources/read', { uri: 'test://broken' }));
    expect(lines.map((l) => [l['msg'], l['method'], l['code'], l['errorType'], l['level']])).toEqual([['request failed', 'resources/read', -32603, 'RangeError', 50]]);
    expect(JSON.stringify(lines)).not.toMatch(/private words|secret-ish/);
  });

  it('redacts secret-bearing keys should anything log them', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
    logger.info({ authorization: 'Bearer abc', jwt: 'j1', req: { headers: { cookie: 'c=1', 'x-api-key': 'k1' } }, headers: { authorization: 'a1' }, auth: { token: 't1', stateKey: 's1' }, auditKey: 'ak' }, 'oops');
    expect(lines[0]).not.toMatch(/abc|j1|c=1|k1|a1|t1|s1|ak/);
    expect(lines[0]).toContain('[redacted]');
  });
});
