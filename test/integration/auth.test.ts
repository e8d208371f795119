// The HTTP transport as an OAuth resource server (docs/auth.md), over real HTTP: 401 and 403 bodies
// and WWW-Authenticate challenges as the MCP authorization spec asks, the RFC 9728 metadata at both
// well-known paths, scope filtering of the lists, API keys beside JWTs, sessions bound to their
// opener, and the principal (never the token) in handlers. Both protocol eras.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServer, apiKeyAuthenticator, chainAuthenticators, createJwtVerifier, jwtAuthenticator } from '../../src/index.js';
import { HttpTransport } from '../../src/transport/http.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const ISSUER = 'https://issuer.example';
const API_KEY = 'k-0123456789abcdef-api-key';
const NOW = () => Math.floor(Date.now() / 1000);

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
function token(claims: Record<string, unknown>, secret = SECRET): string {
  const head = b64({ alg: 'HS256', typ: 'JWT' }) + '.' + b64(claims);
  return head + '.' + createHmac('sha256', secret).update(head).digest('base64url');
}

let http: Server;
let base = '';
let resource = '';
let mcp: McpServer;

beforeAll(async () => {
  http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  resource = `${base}/mcp`;
  mcp = new McpServer({ name: 'auth-test', version: '1.0.0' });
  mcp.tool('whoami', {}, (_args, ctx) => JSON.stringify({ subject: ctx.auth?.subject, scopes: ctx.auth?.scopes, auth: ctx.auth }));
  mcp.tool('admin_reset', { scopes: ['admin'] }, () => 'reset');
  mcp.resource('file:///secret', { name: 'secret', scopes: ['files:read'] }, () => 'top secret');
  mcp.prompt('ops', { scopes: ['ops'] }, () => ({ messages: [] }));
  const verifier = createJwtVerifier({ algorithms: ['HS256'], secret: SECRET, issuer: ISSUER, audience: resource });
  const transport = new HttpTransport(mcp, {
    auth: {
      authenticator: chainAuthenticators([jwtAuthenticator(verifier), apiKeyAuthenticator([{ key: API_KEY, subject: 'ci-bot', scopes: ['admin'] }])]),
      resource,
      authorizationServers: [ISSUER],
      scopesSupported: ['mcp:tools', 'offline_access'],
    },
  });
  http.on('request', (req, res) => transport.handle(req, res));
});

afterAll(() => new Promise<void>((resolve) => http.close(() => resolve())));

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };

function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(resource, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
}

/** A 2026-07-28 request (no session) with the Mcp-* headers the revision asks for. */
function call(method: string, params: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  const name = (params['name'] ?? params['uri']) as string | undefined;
  return post(
    { jsonrpc: '2.0', id: 7, method, params: { ...params, _meta: META } },
    { 'Mcp-Method': method, 'MCP-Protocol-Version': '2026-07-28', ...(name === undefined ? {} : { 'Mcp-Name': name }), ...headers },
  );
}

const bearer = (t: string): Record<string, string> => ({ Authorization: `Bearer ${t}` });
const good = (claims: Record<string, unknown> = {}): string => token({ iss: ISSUER, aud: resource, sub: 'alice', exp: NOW() + 600, scope: 'mcp:tools', ...claims });

/** The auth-params of a Bearer challenge. */
function challenge(res: Response): Record<string, string> {
  const value = res.headers.get('www-authenticate') ?? '';
  expect(value.startsWith('Bearer ')).toBe(true);
  const params: Record<string, string> = {};
  for (const m of value.slice(7).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) params[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  return params;
}

describe('401: no credential or a refused one', () => {
  it('no credential: 401, a challenge naming the metadata and the scopes, no error code', async () => {
    const res = await call('tools/list', {});
    expect(res.status).toBe(401);
    const c = challenge(res);
    expect(c).toEqual({ resource_metadata: `${base}/.well-known/oauth-protected-resource/mcp`, scope: 'mcp:tools admin files:read ops' });
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32011 } });
  });

  it.each([
    ['a bad signature', token({ iss: ISSUER, aud: resource, sub: 'alice', exp: NOW() + 600 }, 'another-secret-of-32-bytes-or-more!!')],
    ['an expired token', good({ exp: NOW() - 10 })],
    ['a token for another resource (RFC 8707)', good({ aud: 'https://other.example/mcp' })],
    ['a token from another issuer', good({ iss: 'https://evil.example' })],
    ['garbage', 'abc.def.ghi'],
  ])('%s: 401 invalid_token with a description that does not echo the token', async (_what, t) => {
    const res = await call('tools/list', {}, bearer(t));
    expect(res.status).toBe(401);
    const c = challenge(res);
    expect(c['error']).toBe('invalid_token');
    expect(c['error_description']).toBeTruthy();
    expect(c['resource_metadata']).toBe(`${base}/.well-known/oauth-protected-resource/mcp`);
    const body = await res.text();
    expect(body).not.toContain(t);
    expect(JSON.parse(body)).toMatchObject({ error: { code: -32011 } });
  });

  it('a malformed Bearer value: 400 invalid_request', async () => {
    const res = await call('tools/list', {}, { Authorization: 'Bearer a b c' });
    expect(res.status).toBe(400);
    expect(challenge(res)['error']).toBe('invalid_request');
  });

  it('an unknown API key: 401 invalid_token', async () => {
    const res = await call('tools/list', {}, { 'X-API-Key': 'not-a-key-of-this-server' });
    expect(res.status).toBe(401);
    expect(challenge(res)['error']).toBe('invalid_token');
  });

  it('a token in the query string is not a credential', async () => {
    const res = await fetch(`${resource}?access_token=${good()}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Mcp-Method': 'tools/list' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: META } }),
    });
    expect(res.status).toBe(401);
  });
});

describe('API keys: the fast path for a repeat key', () => {
  it('answers a key seen before from its text, and still decides every other text by its digest', () => {
    const a = apiKeyAuthenticator([{ key: 'first-key-0123456789abcdef', subject: 'first', scopes: ['x'] }]);
    const b = apiKeyAuthenticator([{ key: 'second-key-0123456789abcdef', subject: 'second' }]);
    const ask = (auth: typeof a, bearer: string) => auth.authenticate({ bearer, apiKey: undefined }) as { ok: boolean; principal?: { subject: string } } | null;
    for (let i = 0; i < 3; i++) expect(ask(a, 'first-key-0123456789abcdef')?.principal?.subject).toBe('first');
    // A key of another authenticator, a near miss and an empty value are never answered from a cache.
    expect(ask(a, 'second-key-0123456789abcdef')).toBeNull();
    expect(ask(b, 'first-key-0123456789abcdef')).toBeNull();
    expect(ask(a, 'first-key-0123456789abcdeF')).toBeNull();
    expect(a.authenticate({ bearer: undefined, apiKey: 'first-key-0123456789abcdeX' })).toMatchObject({ ok: false, error: 'invalid_token' });
    expect(ask(a, '')).toBeNull();
    // Many distinct valid keys: the kept texts stay bounded and every key keeps working.
    const many = Array.from({ length: 3000 }, (_, i) => ({ key: `key-${i}-0123456789abcdef`, subject: `s${i}` }));
    const c = apiKeyAuthenticator(many);
    for (const k of many) expect(ask(c, k.key)?.principal?.subject).toBe(k.subject);
    for (const k of many.slice(0, 10)) expect(ask(c, k.key)?.principal?.subject).toBe(k.subject);
  });
});

describe('protected resource metadata (RFC 9728)', () => {
  it.each(['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'])('%s', async (path) => {
    const res = await fetch(base + path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({
      resource,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
      // offline_access is the authorization server's business: never advertised by a resource.
      scopes_supported: ['mcp:tools', 'admin', 'files:read', 'ops'],
    });
  });

  it('is read-only', async () => {
    const res = await fetch(base + '/.well-known/oauth-protected-resource', { method: 'POST' });
    expect(res.status).toBe(405);
  });
});

describe('scopes', () => {
  it('lists only what the caller may use', async () => {
    const names = async (t: string): Promise<string[]> => {
      const res = await call('tools/list', {}, bearer(t));
      expect(res.status).toBe(200);
      return ((await res.json()) as { result: { tools: { name: string }[] } }).result.tools.map((x) => x.name);
    };
    expect(await names(good())).toEqual(['whoami']);
    expect(await names(good({ scope: 'mcp:tools admin' }))).toEqual(['whoami', 'admin_reset']);
    const resources = await call('resources/list', {}, bearer(good({ scp: ['files:read'] })));
    expect(((await resources.json()) as { result: { resources: unknown[] } }).result.resources).toHaveLength(1);
    const prompts = await call('prompts/list', {}, bearer(good()));
    expect(((await prompts.json()) as { result: { prompts: unknown[] } }).result.prompts).toHaveLength(0);
  });

  it('calling a tool without its scope: 403 insufficient_scope naming granted and required scopes', async () => {
    const res = await call('tools/call', { name: 'admin_reset', arguments: {} }, bearer(good()));
    expect(res.status).toBe(403);
    const c = challenge(res);
    expect(c['error']).toBe('insufficient_scope');
    expect(c['scope']).toBe('mcp:tools admin');
    expect(c['resource_metadata']).toBe(`${base}/.well-known/oauth-protected-resource/mcp`);
    expect(await res.json()).toMatchObject({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32013, message: 'Forbidden: tool admin_reset needs scope admin', data: { requiredScopes: ['admin'] } },
    });
  });

  it('reading a resource or getting a prompt without its scope: 403 naming what was refused', async () => {
    const resource = await call('resources/read', { uri: 'file:///secret' }, bearer(good()));
    expect(resource.status).toBe(403);
    expect(await resource.json()).toMatchObject({ error: { message: 'Forbidden: resource file:///secret needs scope files:read' } });
    const prompt = await call('prompts/get', { name: 'ops' }, bearer(good()));
    expect(prompt.status).toBe(403);
    expect(await prompt.json()).toMatchObject({ error: { message: expect.stringMatching(/^Forbidden: prompt ops needs scope /) } });
    const ok = await call('resources/read', { uri: 'file:///secret' }, bearer(good({ scope: 'files:read' })));
    expect(ok.status).toBe(200);
  });

  it('with the scope the call runs', async () => {
    const res = await call('tools/call', { name: 'admin_reset', arguments: {} }, bearer(good({ scope: 'admin' })));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ result: { content: [{ type: 'text', text: 'reset' }] } });
  });

  it('an API key authenticates as its subject with its scopes (X-API-Key or Bearer)', async () => {
    for (const headers of [{ 'X-API-Key': API_KEY }, bearer(API_KEY)]) {
      const res = await call('tools/call', { name: 'admin_reset', arguments: {} }, headers);
      expect(res.status).toBe(200);
    }
  });
});

describe('the principal reaches handlers, the token does not', () => {
  it('ctx.auth has the subject, scopes and claims', async () => {
    const t = good({ scope: 'mcp:tools extra', client_id: 'client-1' });
    const res = await call('tools/call', { name: 'whoami', arguments: {} }, bearer(t));
    const text = ((await res.json()) as { result: { content: { text: string }[] } }).result.content[0]!.text;
    const seen = JSON.parse(text) as { subject: string; scopes: string[]; auth: { clientId: string; claims: { sub: string } } };
    expect(seen.subject).toBe('alice');
    expect(seen.scopes).toEqual(['mcp:tools', 'extra']);
    expect(seen.auth.clientId).toBe('client-1');
    expect(seen.auth.claims.sub).toBe('alice');
    expect(text).not.toContain(t.split('.')[2]!);
  });
});

describe('legacy sessions', () => {
  async function initialize(t: string): Promise<string> {
    const res = await post(
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } },
      bearer(t),
    );
    expect(res.status).toBe(200);
    const id = res.headers.get('mcp-session-id');
    expect(id).toBeTruthy();
    return id!;
  }

  it('every request needs the token, even inside a session', async () => {
    const sid = await initialize(good());
    const res = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'Mcp-Session-Id': sid });
    expect(res.status).toBe(401);
  });

  it("a session is its opener's: another subject gets 404", async () => {
    const sid = await initialize(good());
    const other = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'Mcp-Session-Id': sid, ...bearer(good({ sub: 'mallory' })) });
    expect(other.status).toBe(404);
    const own = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'Mcp-Session-Id': sid, ...bearer(good()) });
    expect(own.status).toBe(200);
    const del = await fetch(resource, { method: 'DELETE', headers: { 'Mcp-Session-Id': sid, ...bearer(good({ sub: 'mallory' })) } });
    expect(del.status).toBe(404);
  });

  it('insufficient scope inside a session is still a 403 with the challenge', async () => {
    const sid = await initialize(good());
    const res = await post({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'admin_reset', arguments: {} } }, { 'Mcp-Session-Id': sid, ...bearer(good()) });
    expect(res.status).toBe(403);
    expect(challenge(res)['error']).toBe('insufficient_scope');
  });
});

describe('fastermcp serve with authentication flags', () => {
  const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

  /** Runs the CLI with `args`; resolves with its URL once it serves, or its exit code and stderr. */
  function serve(args: string[]): Promise<{ url?: string; code?: number | null; stderr: string; stop: () => void }> {
    const child = spawn(process.execPath, [cli, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    return new Promise((resolve) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /serving MCP on (\S+)/.exec(out);
        if (m !== null) resolve({ url: m[1]!, stderr, stop: () => child.kill('SIGKILL') });
      });
      child.on('exit', (code) => resolve({ code, stderr, stop: () => {} }));
    });
  }

  it('with --jwt-secret-file every request needs a token; the metadata names the issuer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-auth-'));
    writeFileSync(join(dir, 'secret'), SECRET + '\n');
    const keysFile = join(dir, 'keys.json');
    writeFileSync(keysFile, JSON.stringify([{ key: API_KEY, subject: 'ci', scopes: [] }]));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const url = `http://127.0.0.1:${port}/mcp`;
    const run = await serve(['--http', String(port), '--jwt-secret-file', join(dir, 'secret'), '--jwt-issuer', ISSUER, '--api-keys-file', keysFile]);
    try {
      expect(run.url, run.stderr).toBe(url);
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: META } });
      const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Mcp-Method': 'tools/list' };
      const anonymous = await fetch(url, { method: 'POST', headers, body });
      expect(anonymous.status).toBe(401);
      const t = token({ iss: ISSUER, aud: url, sub: 'cli-user', exp: NOW() + 600 });
      const withToken = await fetch(url, { method: 'POST', headers: { ...headers, Authorization: `Bearer ${t}` }, body });
      expect(withToken.status).toBe(200);
      const withKey = await fetch(url, { method: 'POST', headers: { ...headers, 'X-API-Key': API_KEY }, body });
      expect(withKey.status).toBe(200);
      const doc = (await (await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
      expect(doc).toMatchObject({ resource: url, authorization_servers: [ISSUER] });
    } finally {
      run.stop();
    }
  });

  it('refuses flag combinations it cannot serve, with a reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-auth-'));
    writeFileSync(join(dir, 'secret'), SECRET);
    const noIssuer = await serve(['--http', '0', '--jwt-secret-file', join(dir, 'secret'), '--resource-url', 'http://127.0.0.1:1/mcp']);
    expect(noIssuer.code).toBe(2);
    expect(noIssuer.stderr).toMatch(/--authorization-server \(or --jwt-issuer\)/);
    const port0 = await serve(['--http', '0', '--jwt-secret-file', join(dir, 'secret'), '--jwt-issuer', ISSUER]);
    expect(port0.code).toBe(2);
    expect(port0.stderr).toMatch(/--jwt-audience or --resource-url/);
    const stdio = await serve(['--stdio', '--jwt-secret-file', join(dir, 'secret')]);
    expect(stdio.code).toBe(2);
    expect(stdio.stderr).toMatch(/apply to --http/);
  });
});
