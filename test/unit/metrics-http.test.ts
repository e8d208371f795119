// The HTTP transport's counters (HttpOptions.counters, src/transport/http.ts): each way the transport
// answers a request itself is counted once under its cause, over raw node:http requests (exact statuses
// and headers), and a request that reaches dispatch counts nothing here. Both engines (the engine's
// refusal reasons come from the native engine or the JS twin).
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { McpServer } from '../../src/server/server.js';
import { serveHttp, type HttpCounters, type RefusalCause, type RunningHttpServer } from '../../src/transport/http.js';

const running: RunningHttpServer[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.close(1000);
});

interface Recorded {
  refused: RefusalCause[];
  unauthorized: string[];
}

async function start(): Promise<{ url: URL; seen: Recorded }> {
  const server = new McpServer({ name: 't', version: '0' });
  server.tool('echo', {}, () => 'x');
  const seen: Recorded = { refused: [], unauthorized: [] };
  const counters: HttpCounters = {
    refused: (cause) => void seen.refused.push(cause),
    unauthorized: (error, reason) => void seen.unauthorized.push(`${error}/${reason}`),
  };
  const r = await serveHttp(server, { port: 0, maxBodyBytes: 1024, counters });
  running.push(r);
  return { url: new URL(r.url), seen };
}

/** One raw request; resolves with the status. */
function send(url: URL, method: string, headers: Record<string, string>, body?: string, path = url.pathname): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method, headers, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const callBody = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {}, _meta: META }, ...extra });
const STATELESS_HEADERS = { ...JSON_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };

describe('HttpOptions.counters', () => {
  it('counts each refusal once under its cause, and nothing for a request that reaches dispatch', async () => {
    const { url, seen } = await start();
    const cases: [RefusalCause, () => Promise<number>, number][] = [
      ['host_forbidden', () => send(url, 'POST', { ...STATELESS_HEADERS, host: 'evil.example' }, callBody()), 403],
      ['origin_forbidden', () => send(url, 'POST', { ...STATELESS_HEADERS, origin: 'http://evil.example' }, callBody()), 403],
      ['not_found', () => send(url, 'GET', {}, undefined, '/elsewhere'), 404],
      ['method_not_allowed', () => send(url, 'PUT', JSON_HEADERS, '{}'), 405],
      ['method_not_allowed', () => send(url, 'GET', { accept: 'text/event-stream' }), 405],
      ['not_acceptable', () => send(url, 'POST', { 'content-type': 'application/json', accept: 'text/html' }, callBody()), 406],
      ['unsupported_media_type', () => send(url, 'POST', { ...STATELESS_HEADERS, 'content-type': 'text/plain' }, callBody()), 415],
      ['payload_too_large', () => send(url, 'POST', STATELESS_HEADERS, 'x'.repeat(2048)), 413],
      ['session_not_found', () => send(url, 'POST', { ...STATELESS_HEADERS, 'mcp-session-id': 'nope' }, callBody()), 404],
      ['invalid_json', () => send(url, 'POST', STATELESS_HEADERS, ''), 400], // an empty body is not JSON text (the engine's reason)
      ['invalid_json', () => send(url, 'POST', STATELESS_HEADERS, '{"jsonrpc":'), 400],
      ['bad_version', () => send(url, 'POST', STATELESS_HEADERS, callBody({ jsonrpc: '1.0' })), 400],
      ['batch_not_allowed', () => send(url, 'POST', STATELESS_HEADERS, `[${callBody()}]`), 400],
      ['header_mismatch', () => send(url, 'POST', { ...STATELESS_HEADERS, 'mcp-protocol-version': '2025-11-25' }, callBody()), 400],
    ];
    for (const [cause, run, status] of cases) {
      const before = seen.refused.length;
      expect(await run(), cause).toBe(status);
      expect(seen.refused.slice(before), cause).toEqual([cause]);
    }
    const before = seen.refused.length;
    expect(await send(url, 'POST', STATELESS_HEADERS, callBody())).toBe(200);
    expect(seen.refused.length).toBe(before);
    expect(seen.unauthorized).toEqual([]);
  });

  it('counts a closing transport\'s 503 as shutting_down', async () => {
    const { url, seen } = await start();
    const r = running.pop()!;
    const closing = r.transport.close(1000);
    expect(await send(url, 'POST', STATELESS_HEADERS, callBody())).toBe(503);
    expect(seen.refused).toEqual(['shutting_down']);
    await closing;
    await r.close(1000);
  });
});
