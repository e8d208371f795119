// `fastermcp serve --http 0 --redis-url U` (docs/scale-out.md): two server processes on one real
// redis-server serve one legacy session, whichever gets each request.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useRedisServer } from '../helpers/redis-server.js';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const redis = useRedisServer();
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run npm run build:ts');
});

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** `fastermcp serve --http 0 ...`; resolves with its URL once it serves. */
function serve(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [cli, 'serve', '--http', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /serving MCP on (\S+)/.exec(out);
      if (m !== null) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`fastermcp serve exited ${code}: ${stderr}`)));
  });
}

async function post(url: string, body: unknown, sid?: string): Promise<{ status: number; sid: string | null; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...(sid === undefined ? {} : { 'Mcp-Session-Id': sid }) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, sid: res.headers.get('mcp-session-id'), text: await res.text() };
}

describe('fastermcp serve --redis-url (shared sessions)', () => {
  it('a session initialised on one process is served by the other', async () => {
    const [a, b] = await Promise.all([serve(['--redis-url', redis().url]), serve(['--redis-url', redis().url])]);
    const init = await post(a, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } });
    expect(init.status).toBe(200);
    const sid = init.sid!;
    expect((await post(b, { jsonrpc: '2.0', method: 'notifications/initialized' }, sid)).status).toBe(202);
    const echoed = await post(b, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'across' } } }, sid);
    expect(echoed.status).toBe(200);
    expect(JSON.parse(echoed.text).result.content[0].text).toBe('across');
    expect((await fetch(a, { method: 'DELETE', headers: { 'Mcp-Session-Id': sid } })).status).toBe(200);
    expect((await post(b, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }, sid)).status).toBe(404);
  });

  it('refuses to start when the Redis of --redis-url does not answer', async () => {
    await expect(serve(['--redis-url', 'redis://127.0.0.1:1'])).rejects.toThrow(/shared session store at redis:\/\/127\.0\.0\.1:1\/? is not reachable/);
  });
});
