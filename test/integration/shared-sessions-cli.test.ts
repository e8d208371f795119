// `fastermcp serve --http 0 --redis-url U` (docs/scale-out.md): two server processes on one real
// redis-server serve one legacy session, whichever gets each request.
import { describe, expect, it } from 'vitest';
import { useCliServers } from '../helpers/cli-serve.js';
import { useRedisServer } from '../helpers/redis-server.js';

const redis = useRedisServer();
const serve = useCliServers();

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
