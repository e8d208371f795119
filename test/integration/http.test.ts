// The Streamable HTTP transport (src/transport/http.ts, sse.ts, headers.ts, legacy-sse.ts) end to end,
// over raw node:http requests so the tests see exact statuses, headers and bytes. Servers run
// in-process on 127.0.0.1 port 0 (the demo set plus test/fixtures/transport/tools.mjs), except the
// slow-reader tests, which run `fastermcp serve --http 0` in a child so its RSS can be read alone.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { McpServer, registerDemo, serveHttp } from '../../src/index.js';
import type { RunningHttpServer, ServeHttpOptions } from '../../src/index.js';
import { MAX_UNREAD_BYTES } from '../../src/transport/sse.js';
// @ts-expect-error: a plain JS module (the CLI imports it as is)
import registerTools from '../fixtures/transport/tools.mjs';
import { OpenStream, request } from '../fixtures/transport/http-client.js';
import type { HttpReply, Msg } from '../fixtures/transport/http-client.js';
import { StdioChild, cli, engineEnv, rssOf, toolsModule } from '../fixtures/transport/stdio-child.js';

const MiB = 1024 * 1024;
const ACCEPT = 'application/json, text/event-stream';
const STATELESS = '2026-07-28';
const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CAPS = 'io.modelcontextprotocol/clientCapabilities';

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run npm run build:ts');
});

// ---- servers and clean-up ------------------------------------------------------------------------

const running: RunningHttpServer[] = [];
const cleanups: (() => void | Promise<void>)[] = [];

afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
  await Promise.all(running.splice(0).map((r) => r.close(2000)));
});

async function start(options: ServeHttpOptions = {}): Promise<RunningHttpServer & { base: string }> {
  const server = new McpServer({ name: 'http-test', version: '0.0.0' });
  registerDemo(server);
  (registerTools as (s: McpServer) => void)(server);
  const r = await serveHttp(server, { port: 0, host: '127.0.0.1', ...options });
  running.push(r);
  return Object.assign(r, { base: r.url.slice(0, r.url.lastIndexOf('/')) });
}

function stream(url: string, options: ConstructorParameters<typeof OpenStream>[1] = {}): OpenStream {
  const s = new OpenStream(url, options);
  cleanups.push(() => s.close());
  return s;
}

// ---- JSON-RPC over HTTP ----------------------------------------------------------------------------

const call = (id: unknown, name: string, args: Msg = {}): Msg => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const textOf = (m: Msg): string => m.result.content[0].text as string;

function post(url: string, body: unknown, headers: Record<string, string | undefined> = {}): Promise<HttpReply> {
  return request(url, {
    headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Opens a legacy session (initialize + initialized); returns its id. */
async function session(url: string, protocolVersion = '2025-06-18'): Promise<string> {
  const r = await post(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo: { name: 't', version: '0' } } });
  expect(r.status).toBe(200);
  expect(r.messages[0]!.result.protocolVersion).toBe(protocolVersion);
  const sid = r.headers['mcp-session-id'];
  expect(sid).toMatch(/^[\x21-\x7e]+$/);
  const n = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sid as string });
  expect(n.status).toBe(202);
  return sid as string;
}

/** One request on a legacy session; its (only) response message. */
async function inSession(url: string, sid: string, message: Msg): Promise<{ reply: HttpReply; msg: Msg }> {
  const reply = await post(url, message, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' });
  const msg = reply.messages.find((m) => 'id' in m && !('method' in m));
  return { reply, msg: msg! };
}

/** A 2026-07-28 request with matching headers; `headers` override or add. */
function stateless(url: string, id: unknown, method: string, params: Msg, headers: Record<string, string | undefined> = {}, meta?: Msg): Promise<HttpReply> {
  const name = typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : undefined;
  return post(
    url,
    { jsonrpc: '2.0', id, method, params: { ...params, _meta: meta ?? { [META_VERSION]: STATELESS, [META_CAPS]: {} } } },
    { 'mcp-protocol-version': STATELESS, 'mcp-method': method, ...(name === undefined ? {} : { 'mcp-name': name }), ...headers },
  );
}

/** Waits until a `hold {key}` call is in flight on some server of this process. */
async function held(url: string, key: string): Promise<void> {
  await until(async () => {
    const r = await stateless(url, 'progress', 'tools/call', { name: 'progress', arguments: {} });
    return (JSON.parse(textOf(r.messages[0]!)) as { waiting: string[] }).waiting.includes(key);
  }, `hold ${key} to be in flight`);
}

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---- legacy sessions ---------------------------------------------------------------------------------

describe('legacy sessions (2024-11-05 .. 2025-11-25)', () => {
  it('keeps request ids per connection: two HTTP sessions and one stdio connection use ids 1, 2, 3 at once', async () => {
    const { url } = await start();
    const [a, b] = await Promise.all([session(url), session(url)]);
    const child = new StdioChild('native');
    cleanups.push(async () => void (await child.close()));
    await child.initialize();
    // Durations differ per connection so that completions interleave across them.
    const ms = (who: number, id: number): number => [[300, 200, 100], [100, 300, 200], [200, 100, 300]][who]![id - 1]!;
    const http = [a, b].flatMap((sid, who) =>
      [1, 2, 3].map(async (id) => ({ who, id, msg: (await inSession(url, sid, call(id, 'slow', { tag: `http-${who}-${id}`, ms: ms(who, id) }))).msg })),
    );
    for (const id of [1, 2, 3]) child.send(call(id, 'slow', { tag: `stdio-${id}`, ms: ms(2, id) }));
    for (const { who, id, msg } of await Promise.all(http)) {
      expect(msg.id).toBe(id);
      expect(JSON.parse(textOf(msg))).toEqual({ tag: `http-${who}-${id}`, ms: ms(who, id) });
    }
    for (const id of [1, 2, 3]) expect(JSON.parse(textOf(await child.reply(id)))).toEqual({ tag: `stdio-${id}`, ms: ms(2, id) });
    expect(child.messages.filter((m) => typeof m.id === 'number')).toHaveLength(3);
  });

  it('answers a duplicate in-flight id within one session with an error, not a crossed reply', async () => {
    const { url } = await start();
    const sid = await session(url);
    const first = inSession(url, sid, call(5, 'hold', { key: 'dup' }));
    first.catch(() => {});
    // Once the first is in flight, a second request with id 5 collides with it.
    await held(url, 'dup');
    const second = await inSession(url, sid, call(5, 'echo', { text: 'second' }));
    expect(second.reply.status).toBe(200);
    expect(second.msg.id).toBe(5);
    expect(second.msg.error.code).toBe(-32600);
    expect(second.msg.error.message).toMatch(/in use/);
    await inSession(url, sid, call(6, 'release', { key: 'dup' }));
    const { msg } = await first;
    expect(textOf(msg)).toBe('released dup');
    // The id is free again afterwards.
    expect(textOf((await inSession(url, sid, call(5, 'echo', { text: 'again' }))).msg)).toBe('again');
  });

  it('expires an idle session (then 404) but not one with an open GET stream or a call in flight', async () => {
    const r = await start({ sessionIdleMs: 200 });
    const { url } = r;
    const idle = await session(url);
    const streaming = await session(url);
    const calling = await session(url);
    const get = stream(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': streaming } });
    await get.head;
    expect(get.status).toBe(200);
    const inFlight = inSession(url, calling, call(1, 'hold', { key: 'expiry' }));
    inFlight.catch(() => {});
    expect(r.transport.sessionCount).toBe(3);
    await until(() => r.transport.sessionCount === 2, 'the idle session to expire');
    // Several more idle periods pass; the other two stay.
    await new Promise((res) => setTimeout(res, 1000));
    expect(r.transport.sessionCount).toBe(2);
    const gone = await post(url, { jsonrpc: '2.0', id: 9, method: 'ping' }, { 'mcp-session-id': idle });
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.body).error.code).toBe(-32001);
    expect((await inSession(url, streaming, { jsonrpc: '2.0', id: 1, method: 'ping' })).reply.status).toBe(200);
    // Released from another (2026-07-28) request; the held call still gets its result.
    expect((await stateless(url, 1, 'tools/call', { name: 'release', arguments: { key: 'expiry' } })).status).toBe(200);
    const { msg } = await inFlight;
    expect(textOf(msg)).toBe('released expiry');
    expect(get.ended).toBe(false);
  });

  it('DELETE ends a session (then 404); unknown sessions get 404; GET needs a session (405); one GET stream per session (409)', async () => {
    const { url } = await start();
    const sid = await session(url);
    const unknown = await post(url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': 'no-such-session' });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error.code).toBe(-32001);
    expect((await request(url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': 'no-such-session' } })).status).toBe(404);

    const noSession = await request(url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    expect(noSession.status).toBe(405);

    const get = stream(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
    await get.head;
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toMatch(/^text\/event-stream/);
    const second = await request(url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
    expect(second.status).toBe(409);

    const del = await request(url, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    expect(del.status).toBe(200);
    await get.done; // the session's stream ends with it
    const after = await post(url, { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'mcp-session-id': sid });
    expect(after.status).toBe(404);
    expect((await request(url, { method: 'DELETE', headers: { 'mcp-session-id': sid } })).status).toBe(404);
  });

  it('caps the number of sessions: initialize beyond maxSessions gets 503', async () => {
    const { url } = await start({ maxSessions: 2 });
    await session(url);
    const second = await session(url);
    const third = await post(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } });
    expect(third.status).toBe(503);
    expect(third.headers['retry-after']).toBeDefined();
    expect(third.headers['mcp-session-id']).toBeUndefined();
    // Room again once one ends.
    expect((await request(url, { method: 'DELETE', headers: { 'mcp-session-id': second } })).status).toBe(200);
    await session(url);
  });

  it('accepts a JSON-RPC batch when the session negotiated 2025-03-26 and refuses it (400, -32600) otherwise', async () => {
    const { url } = await start();
    const old = await session(url, '2025-03-26');
    const batch = [{ jsonrpc: '2.0', id: 1, method: 'ping' }, call(2, 'echo', { text: 'batched' }), { jsonrpc: '2.0', method: 'notifications/initialized' }];
    const ok = await post(url, batch, { 'mcp-session-id': old });
    expect(ok.status).toBe(200);
    const replies = JSON.parse(ok.body) as Msg[];
    expect(Array.isArray(replies)).toBe(true);
    const byId = new Map(replies.map((m) => [m.id, m]));
    expect([...byId.keys()].sort()).toEqual([1, 2]);
    expect(textOf(byId.get(2)!)).toBe('batched');

    for (const version of ['2025-06-18', '2025-11-25']) {
      const sid = await session(url, version);
      const refused = await post(url, batch, { 'mcp-session-id': sid });
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.body).error.code).toBe(-32600);
    }
    const statelessBatch = await post(url, batch);
    expect(statelessBatch.status).toBe(400);
    expect(JSON.parse(statelessBatch.body).error.code).toBe(-32600);
  });

  it('resumes with Last-Event-ID after the server closed the stream mid-call (test_reconnection)', async () => {
    const { url } = await start({ retryMs: 500 });
    const sid = await session(url);
    const first = await post(url, call(1, 'test_reconnection'), { 'mcp-session-id': sid });
    // The stream ended before the result: only the priming event (id, retry, empty data) came.
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(first.messages).toEqual([]);
    const priming = first.events[0]!;
    expect(priming.id).toBeTruthy();
    expect(priming.retry).toBe(500);
    expect(priming.data).toBe('');

    const resumed = await request(url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': priming.id! } });
    expect(resumed.status).toBe(200);
    const result = resumed.messages.find((m) => m.id === 1);
    expect(textOf(result!)).toBe('Reconnection test completed');
    // Every replayed event carries an id on the same stream, after the priming one.
    const streamId = priming.id!.slice(0, priming.id!.lastIndexOf(':'));
    for (const e of resumed.events.filter((ev) => ev.data !== undefined)) expect(e.id!.startsWith(streamId + ':')).toBe(true);
  });

  it('refuses (409) a Last-Event-ID whose following events the log no longer keeps', async () => {
    const { url } = await start({ eventLog: { maxEvents: 2, maxBytes: 1 << 20 } });
    const sid = await session(url);
    // Priming event, three log notifications and the result: five events, the log keeps two.
    const r = await post(url, call(1, 'test_tool_with_logging'), { 'mcp-session-id': sid });
    expect(r.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(r.messages.filter((m) => m.method === 'notifications/message')).toHaveLength(3);
    expect(textOf(r.messages.find((m) => m.id === 1)!)).toBe('Tool with logging executed successfully');
    const ids = r.events.map((e) => e.id!);
    const lost = await request(url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': ids[0]! } });
    expect(lost.status).toBe(409);
    // From the third-last event on everything is still there: the last two are replayed.
    const kept = await request(url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': ids[ids.length - 3]! } });
    expect(kept.status).toBe(200);
    expect(kept.events.map((e) => e.id)).toEqual(ids.slice(-2));
  });

  it('refuses (409) a Last-Event-ID whose stream was pushed out of the log entirely', async () => {
    const { url } = await start({ eventLog: { maxEvents: 3, maxBytes: 1 << 20 } });
    const sid = await session(url);
    const first = await post(url, call(1, 'test_tool_with_logging'), { 'mcp-session-id': sid });
    expect(first.messages).toHaveLength(4);
    // A second exchange of four logged events pushes all of the first one's out of the log.
    const second = await post(url, call(2, 'test_tool_with_logging'), { 'mcp-session-id': sid });
    expect(second.messages).toHaveLength(4);
    const lost = await request(url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': first.events[0]!.id! } });
    expect(lost.status).toBe(409);
    // Resuming after the last event of a finished stream misses nothing: an empty, ended replay.
    const last = first.events[first.events.length - 1]!.id!;
    const nothing = await request(url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': last } });
    expect(nothing.status).toBe(200);
    expect(nothing.messages).toEqual([]);
  });

  it('a resume takes the stream over: the response it was on ends', async () => {
    const { url } = await start();
    const sid = await session(url);
    const old = stream(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
    await old.until(() => old.events.length > 0, 'the priming event');
    const primingId = old.events[0]!.id!;
    const resumed = stream(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': primingId } });
    await resumed.head;
    expect(resumed.status).toBe(200);
    await Promise.race([
      old.done,
      new Promise((_, reject) => setTimeout(() => reject(new Error('the previous response is still open')), 10_000)),
    ]);
    expect(old.ended).toBe(true);
    // Messages go to the new response.
    await inSession(url, sid, call(1, 'test_trigger_tool_change'));
    await resumed.until(() => resumed.messages.some((m) => m.method === 'notifications/tools/list_changed'), 'list_changed on the new response');
  });

  it('sends keepalive comments on an idle SSE stream', async () => {
    const { url } = await start({ keepAliveMs: 50 });
    const sid = await session(url);
    const get = stream(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
    await get.until(() => get.events.filter((e) => e.comments.includes('keepalive')).length >= 2, 'two keepalive comments');
    expect(get.raw).toMatch(/^(id: [^\n]+\nretry: \d+\ndata: \n\n)?(: keepalive\n\n)+/);
  });

  it('delivers list_changed notifications on the GET stream', async () => {
    const { url } = await start();
    const sid = await session(url);
    const get = stream(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
    await get.head;
    await inSession(url, sid, call(1, 'test_trigger_tool_change'));
    await get.until(() => get.messages.some((m) => m.method === 'notifications/tools/list_changed'), 'tools/list_changed');
  });

  it('one server listener serves every GET stream: list changes to each, resources/updated to subscribers; sessions without one hold none', async () => {
    const r = await start();
    const { url } = r;
    const listeners = (): number => (r.transport as unknown as { server: { listeners: Set<unknown> } }).server.listeners.size;
    const a = await session(url);
    const b = await session(url);
    const quiet = await session(url);
    expect(listeners()).toBe(0);
    const getA = stream(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': a } });
    const getB = stream(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': b } });
    await Promise.all([getA.head, getB.head]);
    expect([getA.status, getB.status]).toEqual([200, 200]);
    expect(listeners()).toBe(1);
    const uri = 'test://watched';
    expect((await inSession(url, b, { jsonrpc: '2.0', id: 's', method: 'resources/subscribe', params: { uri } })).msg.result).toEqual({});
    expect(textOf((await inSession(url, quiet, call(1, 'notify', { uri, count: 1 }))).msg)).toBe('notified');
    await getB.until(() => getB.messages.some((m) => m.method === 'notifications/resources/updated' && m.params.uri === uri), 'resources/updated');
    await inSession(url, quiet, call(2, 'test_trigger_tool_change'));
    await getA.until(() => getA.messages.some((m) => m.method === 'notifications/tools/list_changed'), 'tools/list_changed on a');
    await getB.until(() => getB.messages.some((m) => m.method === 'notifications/tools/list_changed'), 'tools/list_changed on b');
    // a did not subscribe: the update (sent before the list change, on the same stream) never came.
    expect(getA.messages.some((m) => m.method === 'notifications/resources/updated')).toBe(false);
    // The listener goes with the last session that has a GET stream.
    expect((await request(url, { method: 'DELETE', headers: { 'mcp-session-id': a } })).status).toBe(200);
    expect(listeners()).toBe(1);
    expect((await request(url, { method: 'DELETE', headers: { 'mcp-session-id': b } })).status).toBe(200);
    expect(listeners()).toBe(0);
    await Promise.all([getA.done, getB.done]);
  });
});

// ---- checks every request goes through ---------------------------------------------------------------

describe('request checks', () => {
  it('403 for a foreign Host and for a foreign Origin; loopback names pass', async () => {
    const { url } = await start();
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    const port = new URL(url).port;
    const host = await post(url, ping, { host: `evil.example:${port}` });
    expect(host.status).toBe(403);
    expect(JSON.parse(host.body).error.message).toMatch(/Host/);
    const origin = await post(url, ping, { origin: 'http://evil.example' });
    expect(origin.status).toBe(403);
    expect(JSON.parse(origin.body).error.message).toMatch(/Origin/);
    expect((await post(url, ping, { origin: 'null' })).status).toBe(403);
    // A loopback Host and Origin get past the check (to the era rules: ping without a session is 2026 → 400).
    for (const h of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect((await post(url, ping, { host: h, origin: `http://${h}` })).status).not.toBe(403);
    }
    expect((await request(url, { method: 'GET', headers: { host: 'evil.example', accept: 'text/event-stream' } })).status).toBe(403);
  });

  it('413 for a body over maxBodyBytes, with and without Content-Length', async () => {
    const { url } = await start({ maxBodyBytes: 64 * 1024 });
    const big = JSON.stringify(call(1, 'echo', { text: 'x'.repeat(200 * 1024) }));
    const declared = await post(url, big);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error.message).toContain(String(64 * 1024));

    const chunks: string[] = [];
    for (let i = 0; i < big.length; i += 8192) chunks.push(big.slice(i, i + 8192));
    const chunked = await request(url, { headers: { 'content-type': 'application/json', accept: ACCEPT }, body: chunks });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).error.message).toContain(String(64 * 1024));

    // Just under the limit is served.
    const sid = await session(url);
    const fits = await inSession(url, sid, call(2, 'echo', { text: 'y'.repeat(60 * 1024) }));
    expect(textOf(fits.msg)).toHaveLength(60 * 1024);
  });

  it('415 for another content type, 406 without both Accept types, 400 with -32700 for invalid JSON', async () => {
    const { url } = await start();
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const type = await request(url, { headers: { 'content-type': 'text/plain', accept: ACCEPT }, body: ping });
    expect(type.status).toBe(415);
    const noType = await request(url, { headers: { accept: ACCEPT }, body: ping });
    expect(noType.status).toBe(415);
    for (const accept of ['application/json', 'text/event-stream', undefined]) {
      const r = await request(url, { headers: { 'content-type': 'application/json', accept }, body: ping });
      expect(r.status, `Accept: ${accept}`).toBe(406);
    }
    const bad = await post(url, '{"jsonrpc":"2.0","id":1,"method":');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe(-32700);
    // A body is one message (or one batch): two values, or one with trailing bytes, do not parse.
    for (const body of [ping + '\n' + ping, ping + ' garbage']) {
      const r = await post(url, body);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body).error.code).toBe(-32700);
    }
    const put = await request(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: ping });
    expect(put.status).toBe(405);
    const elsewhere = await post(url.replace(/\/mcp$/, '/other'), ping);
    expect(elsewhere.status).toBe(404);
  });
});

// ---- 2026-07-28 ---------------------------------------------------------------------------------------

describe('2026-07-28 requests', () => {
  it('serves a request with _meta and matching headers', async () => {
    const { url } = await start();
    const r = await stateless(url, 1, 'tools/call', { name: 'echo', arguments: { text: 'stateless' } });
    expect(r.status).toBe(200);
    expect(r.headers['mcp-session-id']).toBeUndefined();
    expect(textOf(r.messages[0]!)).toBe('stateless');
    expect(r.messages[0]!.result.resultType).toBe('complete');
  });

  it('400 -32602 without _meta; 404 -32601 for an unknown method', async () => {
    const { url } = await start();
    const noMeta = await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }, { 'mcp-protocol-version': STATELESS, 'mcp-method': 'tools/list' });
    expect(noMeta.status).toBe(400);
    expect(JSON.parse(noMeta.body).error.code).toBe(-32602);
    const noParams = await post(url, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-protocol-version': STATELESS, 'mcp-method': 'tools/list' });
    expect(noParams.status).toBe(400);
    expect(JSON.parse(noParams.body).error.code).toBe(-32602);
    const unknown = await stateless(url, 3, 'no/such/method', {});
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error.code).toBe(-32601);
    // Legacy-only methods do not exist in this era.
    const ping = await stateless(url, 4, 'ping', {});
    expect(ping.status).toBe(404);
    expect(JSON.parse(ping.body).error.code).toBe(-32601);
  });

  it('400 -32020 when Mcp-Method, Mcp-Name or MCP-Protocol-Version disagree with the body', async () => {
    const { url } = await start();
    const method = await stateless(url, 1, 'tools/list', {}, { 'mcp-method': 'prompts/list' });
    expect(method.status).toBe(400);
    expect(JSON.parse(method.body).error.code).toBe(-32020);
    const missing = await stateless(url, 2, 'tools/list', {}, { 'mcp-method': undefined });
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body).error.code).toBe(-32020);
    const name = await stateless(url, 3, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { 'mcp-name': 'test_simple_text' });
    expect(name.status).toBe(400);
    expect(JSON.parse(name.body).error.code).toBe(-32020);
    const param = await stateless(url, 4, 'tools/call', { name: 'test_header_param', arguments: { region: 'eu' } }, { 'mcp-param-region': 'us' });
    expect(param.status).toBe(400);
    expect(JSON.parse(param.body).error.code).toBe(-32020);
    const paramOk = await stateless(url, 5, 'tools/call', { name: 'test_header_param', arguments: { region: 'eu' } }, { 'mcp-param-region': 'eu' });
    expect(paramOk.status).toBe(200);
    const version = await stateless(url, 6, 'tools/list', {}, { 'mcp-protocol-version': '2025-06-18' });
    expect(version.status).toBe(400);
    const err = JSON.parse(version.body).error;
    expect(err.code).toBe(-32020);
    expect(JSON.parse(version.body).id).toBe(6);
  });

  it('400 -32022 for an unsupported version, with data {supported, requested}', async () => {
    const { url } = await start();
    const r = await stateless(url, 1, 'tools/list', {}, { 'mcp-protocol-version': '2099-01-01' }, { [META_VERSION]: '2099-01-01', [META_CAPS]: {} });
    expect(r.status).toBe(400);
    const err = JSON.parse(r.body).error;
    expect(err.code).toBe(-32022);
    expect(err.data.requested).toBe('2099-01-01');
    expect(err.data.supported).toContain(STATELESS);
    expect(err.data.supported).toContain('2025-06-18');
  });
});

// ---- shutdown -------------------------------------------------------------------------------------------

describe('graceful shutdown', () => {
  it('close() lets a call in flight finish, answers new requests 503, then closes the listener', async () => {
    const r = await start();
    const { url } = r;
    const sid = await session(url);
    const listener = await session(url);
    const get = stream(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': listener } });
    await get.head;
    const inFlight = inSession(url, sid, call(1, 'hold', { key: 'shutdown' }));
    inFlight.catch(() => {});
    await held(url, 'shutdown');
    const closed = r.close(20_000);
    // Open-ended streams end at once; they do not hold the shutdown up.
    await get.done;
    let closedYet = false;
    void closed.then(() => (closedYet = true));
    const refused = await post(url, { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'mcp-session-id': sid });
    expect(refused.status).toBe(503);
    const refusedNew = await stateless(url, 3, 'tools/list', {});
    expect(refusedNew.status).toBe(503);
    expect(closedYet).toBe(false);
    // Release through the module's shared hold table (a request could not get in any more).
    const other = await start();
    await stateless(other.url, 1, 'tools/call', { name: 'release', arguments: { key: 'shutdown' } });
    const { msg } = await inFlight;
    expect(textOf(msg)).toBe('released shutdown');
    await closed;
    await expect(
      new Promise((resolve, reject) => {
        const s = connect(Number(new URL(url).port), '127.0.0.1');
        s.on('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});

// ---- 2024-11-05 HTTP+SSE ---------------------------------------------------------------------------------

describe('2024-11-05 HTTP+SSE endpoints', () => {
  it('GET /sse names the endpoint; POST /messages?sessionId= is 202 and the reply comes on the stream', async () => {
    const { base } = await start();
    const sse = stream(`${base}/sse`, { headers: { accept: 'text/event-stream' } });
    await sse.until(() => sse.events.some((e) => e.event === 'endpoint'), 'the endpoint event');
    const endpoint = sse.events.find((e) => e.event === 'endpoint')!.data!;
    const replies = (): Msg[] => sse.events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data!) as Msg);
    expect(endpoint).toMatch(/^\/messages\?sessionId=[\x21-\x7e]+$/);
    const to = `${base}${endpoint}`;
    const init = await request(to, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {} } }),
    });
    expect(init.status).toBe(202);
    await sse.until(() => replies().some((m) => m.id === 1), 'the initialize result');
    expect(replies().find((m) => m.id === 1)!.result.protocolVersion).toBe('2024-11-05');
    await request(to, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    const echo = await request(to, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(call(2, 'echo', { text: 'old transport' })) });
    expect(echo.status).toBe(202);
    await sse.until(() => replies().some((m) => m.id === 2), 'the echo result');
    expect(textOf(replies().find((m) => m.id === 2)!)).toBe('old transport');

    const unknown = await request(`${base}/messages?sessionId=nope`, { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unknown.status).toBe(404);
    // The session ends with its stream.
    sse.close();
    await until(async () => (await request(to, { headers: { 'content-type': 'application/json' }, body: '{}' })).status === 404, 'the session to end');
  });
});

describe('mounting and caps', () => {
  it('HttpTransport.handle works behind a body parser (req.body already read) and passes other paths to next()', async () => {
    const { createServer } = await import('node:http');
    const { HttpTransport } = await import('../../src/index.js');
    const server = new McpServer({ name: 'mounted', version: '0.0.0' });
    registerDemo(server);
    const transport = new HttpTransport(server);
    // A stand-in for express.json(): reads the stream and sets req.body, then calls the MCP handler.
    const http = createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8').on('data', (d: string) => (text += d));
      req.on('end', () => {
        if (text !== '') (req as typeof req & { body?: unknown }).body = JSON.parse(text);
        transport.handle(req, res, () => res.writeHead(418).end('not mcp'));
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      await transport.close(1000);
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    });
    const port = (http.address() as { port: number }).port;
    const meta = { [META_VERSION]: STATELESS, [META_CAPS]: {} };
    const reply = await post(`http://127.0.0.1:${port}/mcp`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'parsed upstream' }, _meta: meta } }, { 'mcp-protocol-version': STATELESS, 'mcp-method': 'tools/call', 'mcp-name': 'echo' });
    expect(reply.status).toBe(200);
    expect(textOf(reply.messages[0]!)).toBe('parsed upstream');
    expect((await request(`http://127.0.0.1:${port}/elsewhere`)).status).toBe(418);
  });

  it('caps the 2024-11-05 /sse sessions at maxSessions (503 beyond)', async () => {
    const { base } = await start({ maxSessions: 1 });
    const first = stream(`${base}/sse`, { headers: { accept: 'text/event-stream' } });
    await first.until(() => first.events.some((e) => e.event === 'endpoint'), 'the endpoint event');
    const second = await request(`${base}/sse`, { method: 'GET', headers: { accept: 'text/event-stream' }, timeoutMs: 5000 });
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBe('5');
  });
});

// ---- clients that stop reading --------------------------------------------------------------------------

/** `fastermcp serve tools.mjs --http 0` in a child; resolves with its URL. */
async function httpChild(): Promise<{ url: string; pid: number }> {
  const child = spawn(process.execPath, [cli, 'serve', toolsModule, '--http', '0'], { env: engineEnv('native'), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`no URL from the child; stderr: ${stderr}`)), 20_000);
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /serving MCP on (\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
  });
  return { url, pid: child.pid! };
}

describe('clients that stop reading (server in a child process)', () => {
  // 60k messages of 10 KB: 600 MB that a server buffering for a stalled client would have to hold.
  const COUNT = 60_000;
  const SIZE = 10_000;

  async function flood(pid: number, url: string, sid: string, start: () => Promise<unknown>, cut: OpenStream): Promise<number> {
    const before = (JSON.parse(textOf((await inSession(url, sid, call('p0', 'progress'))).msg)) as { finished: number }).finished;
    const baseline = rssOf(pid);
    const done = start();
    let peak = baseline;
    // Poll until every message was produced; the stalled stream must have been cut by then.
    await until(async () => {
      peak = Math.max(peak, rssOf(pid));
      const p = JSON.parse(textOf((await inSession(url, sid, call('p', 'progress'))).msg)) as { finished: number };
      return p.finished > before;
    }, 'the flood to finish', 120_000);
    await done;
    peak = Math.max(peak, rssOf(pid));
    // Growth, not an absolute: the runtimes' own footprint differs (Node 24's is larger). Holding
    // the flood for the stalled client would take 600 MB and more (870 MB measured without the cut).
    expect(peak - baseline, 'server RSS growth while its client did not read').toBeLessThan(400 * MiB);
    // Reading again gets what was sent before the cut, then the stream ends without its result.
    cut.res?.resume();
    await cut.done;
    expect(cut.error, 'the stalled stream was cut off').toBeDefined();
    expect(cut.bytes).toBeLessThan(COUNT * SIZE);
    expect(cut.bytes).toBeGreaterThan(0);
    return peak;
  }

  it(`cuts off a POST SSE response with more than ${MAX_UNREAD_BYTES} bytes unread; server memory stays bounded`, async () => {
    const { url, pid } = await httpChild();
    const sid = await session(url);
    const body = JSON.stringify(call(1, 'flood', { count: COUNT, size: SIZE }));
    const cut = stream(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-session-id': sid },
      body,
      paused: true,
      keepRaw: false,
    });
    await flood(pid, url, sid, () => cut.head, cut);
    expect(cut.status).toBe(200);
    expect(cut.headers['content-type']).toMatch(/^text\/event-stream/);
    // The session is fine afterwards.
    expect((await inSession(url, sid, { jsonrpc: '2.0', id: 'ok', method: 'ping' })).msg.result).toEqual({});
  }, 180_000);

  it(`cuts off a GET stream with more than ${MAX_UNREAD_BYTES} bytes unread; server memory stays bounded`, async () => {
    const { url, pid } = await httpChild();
    const sid = await session(url);
    const uri = `test://big/${'u'.repeat(SIZE)}`;
    expect((await inSession(url, sid, { jsonrpc: '2.0', id: 's', method: 'resources/subscribe', params: { uri } })).msg.result).toEqual({});
    const get = stream(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid }, paused: true, keepRaw: false });
    await get.head;
    expect(get.status).toBe(200);
    await flood(pid, url, sid, () => inSession(url, sid, call(1, 'notify', { uri, count: COUNT })), get);
    // The cut stream no longer counts as open: a new GET stream is allowed.
    const again = stream(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
    await again.head;
    expect(again.status).toBe(200);
  }, 180_000);
});
