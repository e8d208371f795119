// The fast lane of serveHttp() (src/transport/http-lane.ts): POSTs to the endpoint read straight off the
// socket, everything else handed to node:http on the same connection. Over raw sockets, so the tests see
// every byte: the lane must answer exactly what node:http answers (status, headers that matter, body),
// keep requests of one connection in order, and hand off without losing a byte.
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { McpServer, registerDemo, serveHttp } from '../../src/index.js';
import type { RunningHttpServer, ServeHttpOptions } from '../../src/index.js';
// @ts-expect-error: a plain JS module (the CLI imports it as is)
import registerTools from '../fixtures/transport/tools.mjs';

const running: RunningHttpServer[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(running.splice(0).map((r) => r.close(2000)));
});

async function start(options: ServeHttpOptions = {}): Promise<RunningHttpServer & { port: number }> {
  const server = new McpServer({ name: 'lane-test', version: '0.0.0' });
  registerDemo(server);
  (registerTools as (s: McpServer) => void)(server);
  const r = await serveHttp(server, { port: 0, host: '127.0.0.1', ...options });
  running.push(r);
  return Object.assign(r, { port: Number(new URL(r.url).port) });
}

interface RawReply {
  status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: string;
  chunked: boolean;
}

/** A client connection that reads responses (Content-Length, chunked, or to the end) byte-exactly. */
class RawConn {
  private data = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  ended = false;
  readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    sockets.push(this.socket);
    this.socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.wake();
    });
    this.socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    this.socket.on('error', () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  private async more(deadline: number): Promise<void> {
    if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.data.toString('latin1'))}`);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out; unread: ${JSON.stringify(this.data.toString('latin1'))}`)), Math.max(1, deadline - Date.now()));
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** The next whole response. */
  async reply(timeoutMs = 3000): Promise<RawReply> {
    const deadline = Date.now() + timeoutMs;
    let headEnd: number;
    while ((headEnd = this.data.indexOf('\r\n\r\n')) < 0) await this.more(deadline);
    const lines = this.data.subarray(0, headEnd).toString('latin1').split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).toLowerCase();
      const value = line.slice(i + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let at = headEnd + 4;
    if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        let lineEnd: number;
        while ((lineEnd = this.data.indexOf('\r\n', at)) < 0) await this.more(deadline);
        const size = parseInt(this.data.subarray(at, lineEnd).toString('latin1'), 16);
        while (this.data.length < lineEnd + 2 + size + 2) await this.more(deadline);
        parts.push(this.data.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
      const body = Buffer.concat(parts).toString('utf8');
      this.data = this.data.subarray(at);
      return { status, headers, body, chunked: true };
    }
    const length = headers['content-length'] === undefined ? 0 : Number(headers['content-length']);
    while (this.data.length < at + length) await this.more(deadline);
    const body = this.data.subarray(at, at + length).toString('utf8');
    this.data = this.data.subarray(at + length);
    return { status, headers, body, chunked: false };
  }

  /** Resolves when the server has closed the connection. */
  async closed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) await this.more(deadline).catch((e: Error) => (this.ended ? undefined : Promise.reject(e)));
  }
}

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };

/** A 2026-07-28 tools/call as raw request bytes. */
function statelessCall(id: number, name: string, args: Record<string, unknown>, extra: Record<string, string> = {}): string {
  const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: META } });
  return rawPost(body, { 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': name, ...extra });
}

function rawPost(body: string | Buffer, headers: Record<string, string> = {}, path = '/mcp'): string {
  const all: Record<string, string> = {
    Host: '127.0.0.1',
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'Content-Length': String(Buffer.byteLength(body)),
    ...headers,
  };
  let head = `POST ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(all)) if (v !== '') head += `${k}: ${v}\r\n`;
  return head + '\r\n' + body.toString();
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/**
 * Headers whose values a client may rely on (Date and the session id differ run to run). An empty body
 * is framed either way: node:http sends it chunked, the lane with Content-Length: 0.
 */
function comparable(r: RawReply): unknown {
  if (r.body === '' && (r.chunked || r.headers['content-length'] === '0')) r = { ...r, headers: { ...r.headers, 'content-length': '0' }, chunked: false };
  const keep = ['content-type', 'content-length', 'allow', 'www-authenticate', 'retry-after', 'ratelimit', 'ratelimit-policy', 'connection', 'keep-alive'];
  const headers = Object.fromEntries(keep.filter((k) => r.headers[k] !== undefined).map((k) => [k, r.headers[k]]));
  return { status: r.status, headers, body: r.body.replace(/"Mcp-Session-Id":"[^"]*"/, '') };
}

describe('the fast lane answers what node:http answers', () => {
  const cases: [string, string][] = [
    ['stateless tools/call', statelessCall(1, 'echo', { text: 'héllo ✓' })],
    ['stateless tools/call, unknown tool', statelessCall(2, 'nope', {})],
    ['stateless, Mcp-Name disagrees with the body', statelessCall(3, 'echo', { text: 'x' }, { 'Mcp-Name': 'other' })],
    ['stateless, no MCP-Protocol-Version header', statelessCall(4, 'echo', { text: 'x' }, { 'MCP-Protocol-Version': '' })],
    ['legacy initialize', rawPost(INITIALIZE)],
    ['unknown session', rawPost(INITIALIZE, { 'Mcp-Session-Id': 'no-such-session' })],
    ['Host not allowed (403)', rawPost(INITIALIZE, { Host: 'evil.example' })],
    ['Origin not allowed (403)', rawPost(INITIALIZE, { Origin: 'http://evil.example' })],
    ['wrong Content-Type (415)', rawPost(INITIALIZE, { 'Content-Type': 'text/plain' })],
    ['Accept without SSE (406)', rawPost(INITIALIZE, { Accept: 'application/json' })],
    ['body not JSON (400)', rawPost('{"jsonrpc":')],
    ['empty body (400)', rawPost('')],
    ['a batch in 2026-07-28 (400)', rawPost('[{"jsonrpc":"2.0","id":1,"method":"ping"}]')],
    ['a notification (202)', rawPost('{"jsonrpc":"2.0","method":"notifications/initialized"}')],
  ];

  it.each(cases)('%s', async (_what, bytes) => {
    const lane = await start();
    const plain = await start({ fastLane: false });
    const a = new RawConn(lane.port);
    const b = new RawConn(plain.port);
    a.send(bytes);
    b.send(bytes);
    const [ra, rb] = await Promise.all([a.reply(), b.reply()]);
    expect(comparable(ra)).toEqual(comparable(rb));
    expect(ra.headers['date']).toMatch(/GMT$/);
    if (ra.status === 200 && ra.headers['mcp-session-id'] !== undefined) expect(rb.headers['mcp-session-id']).toBeDefined();
    expect(lane.lane?.connectionCount).toBe(1); // answered by the lane, not handed off
  });

  it('with a resource server: 401 with its challenge, then the same call with a key', async () => {
    const keys = [{ key: 'lane-test-key-0123456789', subject: 'alice', scopes: [] }];
    const { ResourceServer, apiKeyAuthenticator } = await import('../../src/index.js');
    const auth = (): InstanceType<typeof ResourceServer> =>
      new ResourceServer({ resource: 'http://127.0.0.1/mcp', authorizationServers: [], authenticator: apiKeyAuthenticator(keys) });
    const lane = await start({ auth: auth() });
    const plain = await start({ auth: auth(), fastLane: false });
    for (const extra of [{}, { Authorization: 'Bearer wrong' }, { 'X-API-Key': 'lane-test-key-0123456789' }]) {
      const a = new RawConn(lane.port);
      const b = new RawConn(plain.port);
      a.send(statelessCall(1, 'echo', { text: 'k' }, extra));
      b.send(statelessCall(1, 'echo', { text: 'k' }, extra));
      const [ra, rb] = await Promise.all([a.reply(), b.reply()]);
      expect(comparable(ra)).toEqual(comparable(rb));
    }
  });
});

describe('one connection', () => {
  it('hands off to node:http mid-connection (GET, DELETE) and keeps every request in order', async () => {
    const r = await start();
    const c = new RawConn(r.port);
    c.send(rawPost(INITIALIZE));
    const init = await c.reply();
    expect(init.status).toBe(200);
    const sid = init.headers['mcp-session-id']!;
    expect(r.lane?.connectionCount).toBe(1);
    // A DELETE and a POST in one write: node:http gets both, in order.
    c.send(`DELETE /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nMcp-Session-Id: ${sid}\r\n\r\n` + statelessCall(7, 'echo', { text: 'after handoff' }));
    expect((await c.reply()).status).toBe(200);
    const after = await c.reply();
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body).result.content[0].text).toBe('after handoff');
    expect(r.lane?.connectionCount).toBe(0); // node:http owns it now
  });

  it('answers pipelined requests in order, the slow one first', async () => {
    const r = await start();
    const c = new RawConn(r.port);
    c.send(statelessCall(1, 'slow', { tag: 'first', ms: 150 }) + statelessCall(2, 'echo', { text: 'second' }) + statelessCall(3, 'echo', { text: 'third' }));
    const replies = [await c.reply(), await c.reply(), await c.reply()];
    expect(replies.map((x) => JSON.parse(x.body).id)).toEqual([1, 2, 3]);
    expect(JSON.parse(JSON.parse(replies[0]!.body).result.content[0].text).tag).toBe('first');
  });

  it('reads a request sent one byte at a time, and a body split from its head', async () => {
    const r = await start();
    const c = new RawConn(r.port);
    const bytes = Buffer.from(statelessCall(1, 'echo', { text: 'trickle ✓' }));
    for (let i = 0; i < bytes.length; i++) {
      c.send(bytes.subarray(i, i + 1));
      if (i % 40 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const reply = await c.reply();
    expect(JSON.parse(reply.body).result.content[0].text).toBe('trickle ✓');
    const big = 'x'.repeat(300_000);
    const whole = Buffer.from(statelessCall(2, 'echo', { text: big }));
    const cut = whole.indexOf('\r\n\r\n') + 4;
    c.send(whole.subarray(0, cut));
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (let at = cut; at < whole.length; at += 65_536) c.send(whole.subarray(at, at + 65_536));
    const second = await c.reply();
    expect(JSON.parse(second.body).result.content[0].text).toBe(big);
    expect(Number(second.headers['content-length'])).toBe(Buffer.byteLength(second.body));
  });

  it('hands to node:http what it does not take: chunked bodies, Expect, HTTP/1.0, other paths, malformed heads, bodies over the limit', async () => {
    const r = await start({ maxBodyBytes: 1000 });
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'c' }, _meta: META } });
    const hdrs = 'Host: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: echo\r\n';
    const chunked = new RawConn(r.port);
    chunked.send(`POST /mcp HTTP/1.1\r\n${hdrs}Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    expect(JSON.parse((await chunked.reply()).body).result.content[0].text).toBe('c');
    const expect100 = new RawConn(r.port);
    expect100.send(`POST /mcp HTTP/1.1\r\n${hdrs}Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
    expect((await expect100.reply()).status).toBe(100);
    expect100.send(body);
    expect((await expect100.reply()).status).toBe(200);
    const http10 = new RawConn(r.port);
    http10.send(`POST /mcp HTTP/1.0\r\n${hdrs}Content-Length: ${body.length}\r\n\r\n${body}`);
    const r10 = await http10.reply();
    expect(r10.status).toBe(200);
    await http10.closed();
    const other = new RawConn(r.port);
    other.send(rawPost(body, {}, '/elsewhere'));
    expect((await other.reply()).status).toBe(404);
    const malformed = new RawConn(r.port);
    malformed.send(`POST /mcp HTTP/1.1\r\nHost : 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}`);
    expect((await malformed.reply()).status).toBe(400);
    const smuggle = new RawConn(r.port);
    smuggle.send(`POST /mcp HTTP/1.1\r\n${hdrs}Content-Length: 3\r\nContent-Length: 4\r\n\r\n{}{}`);
    expect((await smuggle.reply()).status).toBe(400);
    const tooBig = new RawConn(r.port);
    tooBig.send(rawPost(JSON.stringify({ pad: 'p'.repeat(2000) })));
    expect((await tooBig.reply()).status).toBe(413);
    expect(r.lane?.connectionCount).toBe(0);
  });

  it('Connection: close is honoured: the response says so and the connection ends', async () => {
    const r = await start();
    const c = new RawConn(r.port);
    c.send(statelessCall(1, 'echo', { text: 'bye' }, { Connection: 'close' }));
    const reply = await c.reply();
    expect(reply.headers['connection']).toBe('close');
    await c.closed();
  });

  it('streams SSE (chunked) when a handler sends before its result', async () => {
    const r = await start();
    const c = new RawConn(r.port);
    c.send(rawPost(INITIALIZE));
    const sid = (await c.reply()).headers['mcp-session-id']!;
    c.send(rawPost('{"jsonrpc":"2.0","method":"notifications/initialized"}', { 'Mcp-Session-Id': sid }));
    expect((await c.reply()).status).toBe(202);
    c.send(rawPost(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'flood', arguments: { count: 3, size: 10 } } }), { 'Mcp-Session-Id': sid }));
    const reply = await c.reply();
    expect(reply.chunked).toBe(true);
    expect(reply.headers['content-type']).toBe('text/event-stream');
    const data = reply.body.split('\n').filter((l) => l.startsWith('data: ') && l.length > 6).map((l) => JSON.parse(l.slice(6)));
    expect(data.filter((m) => m.method === 'notifications/message')).toHaveLength(3);
    expect(data.at(-1).result.content[0].text).toBe('flooded');
    // The connection goes on with the next request.
    c.send(rawPost(JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'ping' }), { 'Mcp-Session-Id': sid }));
    expect(JSON.parse((await c.reply()).body).id).toBe(6);
  });

  it('a client that goes away aborts its request (the handler sees its signal), and the server serves others', async () => {
    const r = await start();
    const c = new RawConn(r.port);
    c.send(statelessCall(1, 'hold', { key: 'lane-abort' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    c.socket.destroy();
    const d = new RawConn(r.port);
    // 'progress' lists the holds still waiting: the aborted one is gone.
    for (let i = 0; i < 50; i++) {
      d.send(statelessCall(2 + i, 'progress', {}));
      const state = JSON.parse(JSON.parse((await d.reply()).body).result.content[0].text);
      if (!state.waiting.includes('lane-abort')) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the held call was not aborted');
  });

  it('closes idle connections after keepAliveTimeout, and a head that trickles past headersTimeout gets 408', async () => {
    const r = await start();
    r.httpServer.keepAliveTimeout = 200;
    r.httpServer.headersTimeout = 150;
    const idle = new RawConn(r.port);
    idle.send(statelessCall(1, 'echo', { text: 'x' }));
    await idle.reply();
    await idle.closed(2000);
    const slow = new RawConn(r.port);
    slow.send('POST /mcp HTTP/1.1\r\n');
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      slow.send(`X-Pad-${i}: y\r\n`);
    }
    const reply = await slow.reply();
    expect(reply.status).toBe(408);
    await slow.closed();
  });

  it('close() ends lane connections, idle and busy', async () => {
    const r = await start();
    const idle = new RawConn(r.port);
    idle.send(statelessCall(1, 'echo', { text: 'x' }));
    await idle.reply();
    const busy = new RawConn(r.port);
    busy.send(statelessCall(2, 'hold', { key: 'lane-close' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await r.close(300);
    running.splice(running.indexOf(r), 1);
    await idle.closed();
    await busy.closed();
    expect(r.lane?.connectionCount).toBe(0);
  });
});
