// Legacy sessions shared through Redis (src/cluster, docs/scale-out.md): two serveHttp instances on two
// ports in this process, each with its own McpServer and its own Redis connections, one real
// redis-server; the test sends each request to the instance it chooses, as a load balancer without
// sticky sessions would.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { McpServer, connectSharedState, serveHttp } from '../../src/index.js';
import type { RunningHttpServer, ServeHttpOptions, SharedState } from '../../src/index.js';
import { OpenStream, request } from '../fixtures/transport/http-client.js';
import type { HttpReply, Msg } from '../fixtures/transport/http-client.js';
import { useRedisServer } from '../helpers/redis-server.js';

const redis = useRedisServer();

const ACCEPT = 'application/json, text/event-stream';
const VERSION = '2025-06-18';
const STATELESS = '2026-07-28';

// ---- two instances ---------------------------------------------------------------------------------

interface Instance {
  url: string;
  /** Key prefix in Redis (one per pair, so tests do not see each other's keys). */
  prefix: string;
  server: McpServer;
  shared: SharedState;
  running: RunningHttpServer;
  /** Resolves the gate named `key` of the `gated` tool. */
  open(key: string): void;
  /** Calls of `slow` that saw their signal abort, by request id. */
  aborted: Set<unknown>;
}

const instances: Instance[] = [];
const streams: OpenStream[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => void unhandled.push(e);

beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  for (const i of instances.splice(0)) {
    await i.running.close(2000);
    await i.server.close();
    await i.shared.close();
  }
  expect(unhandled).toEqual([]);
});

function registerTools(server: McpServer, gates: Map<string, () => void>, aborted: Set<unknown>): void {
  const gate = (key: string): Promise<void> => new Promise((resolve) => gates.set(key, resolve));
  server.tool('whoami', { inputSchema: { type: 'object' } }, (_a, ctx) => `served with ${ctx.sessionId}`);
  server.tool('log_all', { inputSchema: { type: 'object' } }, (_a, ctx) => {
    for (const level of ['debug', 'info', 'warning', 'error'] as const) ctx.log(level, level);
    return 'logged';
  });
  server.tool('ask', { inputSchema: { type: 'object' } }, async (_a, ctx) => {
    const answer = await ctx.elicit({ message: 'name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } });
    return `hello ${String(answer.content?.['name'])}`;
  });
  server.tool('slow', { inputSchema: { type: 'object' } }, (_a, ctx) => {
    ctx.progress(1);
    return new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => {
        aborted.add(ctx.requestId);
        reject(new Error('aborted'));
      });
    });
  });
  // Progress 1, closes its stream, then (gate "<key>:1") progress 2, then (gate "<key>:2") progress 3 and the result.
  server.tool('gated', { inputSchema: { type: 'object', properties: { key: { type: 'string' } } } }, async ({ key }: { key: string }, ctx) => {
    ctx.progress(1);
    ctx.closeSseStream();
    await gate(`${key}:1`);
    ctx.progress(2);
    await gate(`${key}:2`);
    ctx.progress(3);
    return 'gated done';
  });
  server.resource('mem://doc', { name: 'doc' }, () => 'the doc');
}

let pairs = 0;

async function instance(options: ServeHttpOptions = {}, serverOptions: { stateKey?: string } = {}, prefix = `t${++pairs}:`): Promise<Instance> {
  const server = new McpServer({ name: 'shared', version: '0.0.0', ...serverOptions });
  const gates = new Map<string, () => void>();
  const aborted = new Set<unknown>();
  registerTools(server, gates, aborted);
  const shared = await connectSharedState(server, { redis: redis().url, prefix, dedupeMs: 10_000 });
  const running = await serveHttp(server, { port: 0, host: '127.0.0.1', sharedState: shared, ...options });
  const open = (key: string): void => {
    const f = gates.get(key);
    if (f === undefined) throw new Error(`no call waits at gate ${key}`);
    f();
  };
  const i = { url: running.url, prefix, server, shared, running, open, aborted };
  instances.push(i);
  return i;
}

async function pair(options: ServeHttpOptions = {}): Promise<[Instance, Instance]> {
  const a = await instance(options);
  return [a, await instance(options, {}, a.prefix)];
}

// ---- requests ---------------------------------------------------------------------------------------

function post(url: string, body: unknown, headers: Record<string, string | undefined> = {}): Promise<HttpReply> {
  return request(url, { headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers }, body: JSON.stringify(body) });
}

function inSession(url: string, sid: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpReply> {
  return post(url, body, { 'mcp-session-id': sid, 'mcp-protocol-version': VERSION, ...headers });
}

const call = (id: number, name: string, args: Msg = {}, meta?: Msg): Msg => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...(meta === undefined ? {} : { _meta: meta }) },
});

function resultOf(reply: HttpReply, id: number): Msg {
  const m = reply.messages.find((x) => x.id === id && !('method' in x));
  if (m === undefined) throw new Error(`no response ${id} in ${reply.status} ${reply.body.slice(0, 300)}`);
  return m;
}

const textOf = (m: Msg): string => m.result.content[0].text as string;

/** initialize on `url` (notifications/initialized on `then`, another instance if given). */
async function openSession(url: string, then = url, headers: Record<string, string> = {}, capabilities: Msg = {}): Promise<string> {
  const r = await post(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: VERSION, capabilities, clientInfo: { name: 't', version: '0' } } }, headers);
  expect(r.status).toBe(200);
  const sid = r.headers['mcp-session-id'] as string;
  expect(sid).toBeTruthy();
  const n = await post(then, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sid, ...headers });
  expect(n.status).toBe(202);
  return sid;
}

function stream(url: string, options: ConstructorParameters<typeof OpenStream>[1]): OpenStream {
  const s = new OpenStream(url, options);
  streams.push(s);
  return s;
}

function getStream(url: string, sid: string, lastEventId?: string): OpenStream {
  return stream(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid, ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }) } });
}

function postStream(url: string, sid: string, body: unknown): OpenStream {
  return stream(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-session-id': sid, 'mcp-protocol-version': VERSION },
    body: JSON.stringify(body),
  });
}

async function eventually(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---- 1. session store ------------------------------------------------------------------------------

describe('a session opened on A is served by B', () => {
  it('tools/call, logging/setLevel, resources/subscribe and DELETE work across the two', async () => {
    const [a, b] = await pair();
    const sid = await openSession(a.url, b.url);

    // tools/call on B: one store read made B's copy.
    const onB = await inSession(b.url, sid, call(1, 'whoami'));
    expect(onB.status).toBe(200);
    expect(textOf(resultOf(onB, 1))).toBe(`served with ${sid}`);
    expect(b.shared.sessionsLoaded).toBe(1);
    expect(b.running.transport.sessionCount).toBe(1);

    // logging/setLevel on B applies to a call on A.
    const level = await inSession(b.url, sid, { jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'warning' } });
    expect(resultOf(level, 2).result).toEqual({});
    // The change reaches A over pub/sub, usually before the next request; a request racing it may still
    // see the old level (docs/scale-out.md), so A is asked until it applies.
    await eventually('A to apply the level set on B', async () => {
      const logged = await inSession(a.url, sid, call(3, 'log_all'));
      return JSON.stringify(logged.messages.filter((m) => m.method === 'notifications/message').map((m) => m.params.level)) === '["warning","error"]';
    });

    // resources/subscribe on B; the update is announced on A; the GET stream is on B.
    const sub = await inSession(b.url, sid, { jsonrpc: '2.0', id: 4, method: 'resources/subscribe', params: { uri: 'mem://doc' } });
    expect(resultOf(sub, 4).result).toEqual({});
    const get = getStream(b.url, sid);
    await get.until(() => get.events.length > 0, 'the priming event');
    a.server.notifyResourceUpdated('mem://doc');
    a.server.notifyResourceUpdated('mem://other'); // not subscribed: never sent
    await get.until(() => get.messages.some((m) => m.method === 'notifications/resources/updated'), 'resources/updated on B');
    expect(get.messages.filter((m) => m.method === 'notifications/resources/updated')).toEqual([
      { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'mem://doc' } },
    ]);

    // DELETE on A ends it everywhere.
    const del = await request(a.url, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    expect(del.status).toBe(200);
    await get.until(() => get.ended, 'the GET stream on B to end');
    for (const url of [a.url, b.url]) {
      const after = await inSession(url, sid, call(5, 'whoami'));
      expect(after.status).toBe(404);
      expect(JSON.parse(after.body).error.code).toBe(-32001);
    }
    expect(b.running.transport.sessionCount).toBe(0);
  });

  it('an unknown id is one Redis read, then 404, on every instance; initialize may land anywhere', async () => {
    const [a, b] = await pair();
    // Commands Redis has run, by name (INFO commandstats), this INFO call aside.
    const ran = async (): Promise<Record<string, number>> => {
      const info = await a.shared.client.info('commandstats');
      const out: Record<string, number> = {};
      for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (m[1] !== 'info') out[m[1]!] = Number(m[2]);
      return out;
    };
    for (const url of [a.url, b.url]) {
      const before = await ran();
      expect((await inSession(url, 'no-such-session', call(1, 'whoami'))).status).toBe(404);
      const after = await ran();
      const delta = Object.fromEntries(Object.keys(after).filter((k) => after[k] !== (before[k] ?? 0)).map((k) => [k, after[k]! - (before[k] ?? 0)]));
      expect(delta).toEqual({ get: 1 });
    }
    const sid = await openSession(b.url, a.url);
    expect(textOf(resultOf(await inSession(a.url, sid, call(2, 'whoami')), 2))).toBe(`served with ${sid}`);
  });

  it('records expire with the idle timeout, except while a client listens on a GET stream', async () => {
    const [a, b] = await pair({ sessionIdleMs: 300 });
    const idle = await openSession(a.url);
    const listening = await openSession(a.url);
    const get = getStream(a.url, listening);
    await get.until(() => get.events.length > 0, 'the priming event');
    expect(await a.shared.client.pttl(`${a.prefix}s:${idle}`)).toBeLessThanOrEqual(300);
    // Four idle timeouts later.
    await new Promise((r) => setTimeout(r, 1200));
    expect((await inSession(b.url, idle, call(1, 'whoami'))).status).toBe(404);
    expect((await inSession(b.url, listening, call(2, 'whoami'))).status).toBe(200);
  });

  it('a session is its authenticated opener\'s alone, on every instance', async () => {
    const authenticate = (req: IncomingMessage) => {
      const user = req.headers['x-user'];
      return typeof user === 'string' ? { subject: user, scopes: [], claims: {} } : undefined;
    };
    const [a, b] = await pair({ authenticate });
    const sid = await openSession(a.url, a.url, { 'x-user': 'alice' });
    expect((await inSession(b.url, sid, call(1, 'whoami'), { 'x-user': 'bob' })).status).toBe(404);
    expect((await inSession(b.url, sid, call(2, 'whoami'))).status).toBe(404);
    expect((await inSession(b.url, sid, call(3, 'whoami'), { 'x-user': 'alice' })).status).toBe(200);
    // Once B holds the copy, the owner check still applies there.
    expect((await inSession(b.url, sid, call(4, 'whoami'), { 'x-user': 'bob' })).status).toBe(404);
  });
});

// ---- 2. event store ----------------------------------------------------------------------------------

describe('SSE resumability across instances', () => {
  it('a stream left on A resumes on B: the missed events, then the live rest, in order, once each', async () => {
    const [a, b] = await pair({ retryMs: 10 });
    const sid = await openSession(a.url);
    // A closes the stream after progress 1 (priming, progress: two events).
    const first = await inSession(a.url, sid, call(1, 'gated', { key: 'g' }, { progressToken: 'p' }));
    expect(first.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(first.messages.map((m) => m.params?.progress)).toEqual([1]);
    const lastId = first.events[first.events.length - 1]!.id!;
    const streamId = lastId.slice(0, lastId.lastIndexOf(':'));
    // Progress 2 happens while no client is connected: kept in the store.
    a.open('g:1');
    await eventually('progress 2 in the store', async () => (await b.shared.client.xlen(`${b.prefix}e:${sid}`)) >= 2);

    const resumed = getStream(b.url, sid, lastId);
    await resumed.until(() => resumed.messages.length >= 1, 'the missed progress 2');
    expect(resumed.status).toBe(200);
    // The rest is produced on A after the resume, and relayed by B.
    a.open('g:2');
    await resumed.done;
    expect(resumed.error).toBeUndefined();
    expect(resumed.messages.map((m) => m.params?.progress ?? textOf(m))).toEqual([2, 3, 'gated done']);
    const ids = resumed.events.filter((e) => e.data !== undefined).map((e) => e.id);
    const firstSeq = Number(lastId.slice(lastId.lastIndexOf(':') + 1));
    expect(ids).toEqual([1, 2, 3].map((k) => `${streamId}:${firstSeq + k}`));
    expect(b.shared.eventsReplayed).toBe(1);
    expect(b.shared.eventsRelayed).toBe(2);

    // The finished stream resumed again from its start on B: everything after the id, then the end.
    const again = await request(b.url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': lastId } });
    expect(again.status).toBe(200);
    expect(again.messages.map((m) => m.params?.progress ?? textOf(m))).toEqual([2, 3, 'gated done']);
    // Relays hold no subscription once over: the bus and node channels only.
    expect(b.shared.bus.channels).toBe(2);
  });

  it('a GET stream of A resumed on B: A\'s response ends, and what A then sends on it reaches the client through B', async () => {
    const [a, b] = await pair();
    const sid = await openSession(a.url);
    await inSession(a.url, sid, { jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri: 'mem://doc' } });
    const old = getStream(a.url, sid);
    await old.until(() => old.events.length > 0, 'the priming event on A');
    const resumed = getStream(b.url, sid, old.events[0]!.id!);
    await resumed.head;
    expect(resumed.status).toBe(200);
    await old.done;
    // A still holds the session's GET stream: the update goes into it, and B relays it.
    b.server.notifyResourceUpdated('mem://doc');
    await resumed.until(() => resumed.messages.some((m) => m.method === 'notifications/resources/updated'), 'the update relayed by B');
    expect(resumed.events.filter((e) => e.data !== undefined)[0]!.id).toBe(`${old.events[0]!.id!.split(':')[0]}:2`);
    expect(old.messages).toEqual([]);
  });

  it('409 on B when the store no longer keeps the events after Last-Event-ID', async () => {
    const [a, b] = await pair({ eventLog: { maxEvents: 2, maxBytes: 1 << 20 } });
    const sid = await openSession(a.url);
    const r = await inSession(a.url, sid, call(1, 'log_all'));
    // Priming event, four log messages and the result: the store keeps the last two.
    expect(r.messages).toHaveLength(5);
    const ids = r.events.map((e) => e.id!);
    await eventually('the trimmed store', async () => (await b.shared.client.hget(`${b.prefix}e:${sid}:hw`, `${ids[0]!.split(':')[0]}:end`)) !== null);
    const lost = await request(b.url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': ids[0]! } });
    expect(lost.status).toBe(409);
    const kept = await request(b.url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': ids[ids.length - 3]! } });
    expect(kept.status).toBe(200);
    expect(kept.events.map((e) => e.id)).toEqual(ids.slice(-2));
  });
});

// ---- 3. message routing ------------------------------------------------------------------------------

describe('messages between client and server cross instances', () => {
  it('an elicitation made on A is answered by a POST to B', async () => {
    const [a, b] = await pair();
    const sid = await openSession(a.url, a.url, {}, { elicitation: {} });
    const s = postStream(a.url, sid, call(10, 'ask'));
    await s.until(() => s.messages.some((m) => m.method === 'elicitation/create'), 'the elicitation request');
    const ask = s.messages.find((m) => m.method === 'elicitation/create')!;
    expect(typeof ask.id).toBe('number');
    const answered = await inSession(b.url, sid, { jsonrpc: '2.0', id: ask.id, result: { action: 'accept', content: { name: 'Zed' } } });
    expect(answered.status).toBe(202);
    const reply = (x: OpenStream, id: number): Msg | undefined => x.messages.find((m) => m.id === id && !('method' in m));
    await s.until(() => reply(s, 10) !== undefined, 'the tool result');
    expect(textOf(reply(s, 10)!)).toBe('hello Zed');
    expect(b.shared.messagesRouted).toBe(1);
    // Ids are allocated per session in the store: a second request from B gets the next one.
    const s2 = postStream(b.url, sid, call(20, 'ask'));
    await s2.until(() => s2.messages.some((m) => m.method === 'elicitation/create'), 'the second elicitation');
    expect(s2.messages.find((m) => m.method === 'elicitation/create')!.id).toBe(ask.id + 1);
    await inSession(a.url, sid, { jsonrpc: '2.0', id: ask.id + 1, result: { action: 'decline' } });
    await s2.until(() => reply(s2, 20) !== undefined, 'the second result');
    expect(textOf(reply(s2, 20)!)).toBe('hello undefined');
  });

  it('notifications/cancelled posted to B aborts the request running on A', async () => {
    const [a, b] = await pair();
    const sid = await openSession(a.url);
    const s = postStream(a.url, sid, call(7, 'slow', {}, { progressToken: 'x' }));
    await s.until(() => s.messages.some((m) => m.method === 'notifications/progress'), 'the call to start');
    const cancel = await inSession(b.url, sid, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'changed my mind' } });
    expect(cancel.status).toBe(202);
    await eventually('the abort on A', () => a.aborted.has(7));
    expect(b.shared.messagesRouted).toBe(1);
  });

  it('list_changed emitted by both instances reaches the client once; a repeat by the same instance is a new change', async () => {
    const [a, b] = await pair();
    const sid = await openSession(a.url);
    await inSession(a.url, sid, { jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri: 'mem://doc' } });
    const get = getStream(b.url, sid);
    await get.until(() => get.events.length > 0, 'the priming event');
    const listChanged = (): number => get.messages.filter((m) => m.method === 'notifications/tools/list_changed').length;
    const updated = (): number => get.messages.filter((m) => m.method === 'notifications/resources/updated').length;
    // The same change made in every process (as a deployment would): one notification.
    a.server.tool('late', { inputSchema: { type: 'object' } }, () => 'late');
    await get.until(() => listChanged() === 1, 'list_changed from A');
    b.server.tool('late', { inputSchema: { type: 'object' } }, () => 'late');
    // B's next event is published after whatever B did with its list_changed (one connection, in order).
    b.server.notifyResourceUpdated('mem://doc');
    await get.until(() => updated() === 1, 'the marker from B');
    expect(listChanged()).toBe(1);
    // A changes its list again: delivered.
    a.server.tool('later', { inputSchema: { type: 'object' } }, () => 'later');
    await get.until(() => listChanged() === 2, 'the second list_changed from A');
  });
});

// ---- 4. requestState key -------------------------------------------------------------------------------

describe('one state key for every process', () => {
  function stateless(url: string, id: number, params: Msg): Promise<HttpReply> {
    return post(
      url,
      { jsonrpc: '2.0', id, method: 'tools/call', params: { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': STATELESS, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } } } },
      { 'mcp-protocol-version': STATELESS, 'mcp-method': 'tools/call', 'mcp-name': params.name as string },
    );
  }

  it('a requestState signed on A verifies on B; an explicit stateKey is kept', async () => {
    const [a, b] = await pair();
    const first = await stateless(a.url, 1, { name: 'ask', arguments: {} });
    expect(first.status).toBe(200);
    const round = resultOf(first, 1).result;
    expect(round.resultType).toBe('input_required');
    const second = await stateless(b.url, 2, {
      name: 'ask',
      arguments: {},
      requestState: round.requestState,
      inputResponses: { [Object.keys(round.inputRequests)[0]!]: { action: 'accept', content: { name: 'Ann' } } },
    });
    expect(textOf(resultOf(second, 2))).toBe('hello Ann');

    const own = await instance({}, { stateKey: 'k'.repeat(32) });
    const refused = await stateless(own.url, 3, { name: 'ask', arguments: {}, requestState: round.requestState, inputResponses: {} });
    expect(resultOf(refused, 3).error.message).toBe('Invalid requestState (bad_signature)');
  });
});

// ---- 5, 6. failure, health, counters -------------------------------------------------------------------

describe('when Redis goes away', () => {
  it('unknown sessions get 503, held ones keep working, stateless is unaffected; all recovers', async () => {
    const [a, b] = await pair();
    const sid = await openSession(a.url);
    expect(await a.shared.health()).toMatchObject({ ok: true });

    await redis().kill();
    try {
      await outage(a, b, sid);
    } finally {
      // Redis returns empty (no persistence).
      await redis().restart();
    }
    // A's next use stores its copy again, and B can load it.
    await eventually('both instances to reconnect', async () => (await a.shared.health()).ok && (await b.shared.health()).ok);
    await eventually('B to serve the session again', async () => {
      await inSession(a.url, sid, call(5, 'whoami'));
      return (await inSession(b.url, sid, call(6, 'whoami'))).status === 200;
    });
    expect(await b.shared.client.get(`${b.prefix}state-key`)).not.toBeNull();
    expect(b.shared.storeErrors).toBeGreaterThan(0);
    expect(await openSession(b.url, a.url)).toBeTruthy();
    // The bus is back too: a change made on B reaches A's copy.
    await inSession(b.url, sid, { jsonrpc: '2.0', id: 7, method: 'logging/setLevel', params: { level: 'error' } });
    await eventually('A to apply the level set on B', async () => {
      const logged = await inSession(a.url, sid, call(8, 'log_all'));
      return JSON.stringify(logged.messages.filter((m) => m.method === 'notifications/message').map((m) => m.params.level)) === '["error"]';
    });
  });

  it('a Redis that hangs: 503 after the command timeout, and back when it answers again', async () => {
    const [a, b] = await pair();
    const sid = await openSession(a.url);
    redis().pause();
    try {
      const refused = await inSession(b.url, sid, call(1, 'whoami'));
      expect(refused.status).toBe(503);
      expect((await a.shared.health()).ok).toBe(false);
      expect(textOf(resultOf(await inSession(a.url, sid, call(2, 'whoami')), 2))).toBe(`served with ${sid}`);
    } finally {
      redis().resume();
    }
    await eventually('B to load the session', async () => (await inSession(b.url, sid, call(3, 'whoami'))).status === 200);
  });

  async function outage(a: Instance, b: Instance, sid: string): Promise<void> {
    await eventually('health to report the outage', async () => !(await a.shared.health()).ok);
    expect((await a.shared.health()).detail).toMatch(/Redis/);

    const refused = await inSession(b.url, sid, call(1, 'whoami'));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    const error = JSON.parse(refused.body).error;
    expect(error.code).toBe(-32603);
    expect(error.message).toMatch(/session store is unreachable/);
    // A holds the session: it keeps serving it.
    expect(textOf(resultOf(await inSession(a.url, sid, call(2, 'whoami')), 2))).toBe(`served with ${sid}`);
    // A new session cannot be stored, so none is opened.
    const init = await post(b.url, { jsonrpc: '2.0', id: 3, method: 'initialize', params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 't', version: '0' } } });
    expect(init.status).toBe(503);
    expect(b.running.transport.sessionCount).toBe(0);
    // 2026-07-28 requests need no store.
    const discover = await post(
      b.url,
      { jsonrpc: '2.0', id: 4, method: 'server/discover', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': STATELESS, 'io.modelcontextprotocol/clientCapabilities': {} } } },
      { 'mcp-protocol-version': STATELESS, 'mcp-method': 'server/discover' },
    );
    expect(discover.status).toBe(200);
  }

  it('close() leaves no subscription, connection or timer behind', async () => {
    const [a, b] = await pair();
    const sid = await openSession(a.url);
    // A relay in progress on B when everything closes.
    const s = postStream(a.url, sid, call(1, 'gated', { key: 'c' }));
    await s.done;
    const lastId = s.events[s.events.length - 1]!.id!;
    const relay = getStream(b.url, sid, lastId);
    await relay.head;
    expect(relay.status).toBe(200);
    expect(b.shared.bus.channels).toBe(3);
    await b.running.close(10_000);
    await relay.done;
    expect(b.shared.bus.channels).toBe(2);
    await b.shared.close();
    expect(b.shared.client.status).toBe('end');
    expect((await b.shared.health()).ok).toBe(false);
    a.open('c:1');
    await eventually('the second gate', () => {
      try {
        a.open('c:2');
        return true;
      } catch {
        return false;
      }
    });
  });
});

// ---- an official client, its requests spread over both instances -----------------------------------

describe('the official SDK v1 client, every request to the other instance in turn', () => {
  it('calls, elicitation answered across instances, log level, subscription updates', async () => {
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    const { ElicitRequestSchema, LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const [a, b] = await pair();
    const urls = [a.url, b.url];
    let turn = 0;
    const sentTo: string[] = [];
    // A load balancer without stickiness: each HTTP request to the next instance.
    let getStreams = 0;
    const roundRobin = async (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const target = urls[turn++ % 2]!;
      sentTo.push(target);
      const res = await fetch(target, init);
      if (init?.method === 'GET' && res.status === 200) getStreams++;
      return res;
    };
    const client = new Client({ name: 'rr', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Robin' } }));
    const logs: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params.level));
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
    const transport = new StreamableHTTPClientTransport(new URL(a.url), { fetch: roundRobin });
    await client.connect(transport);
    try {
      for (let i = 0; i < 4; i++) {
        const r = await client.callTool({ name: 'whoami', arguments: {} });
        expect((r.content as { text: string }[])[0]!.text).toBe(`served with ${transport.sessionId}`);
      }
      const asked = await client.callTool({ name: 'ask', arguments: {} });
      expect((asked.content as { text: string }[])[0]!.text).toBe('hello Robin');
      await client.setLoggingLevel('error');
      await client.callTool({ name: 'log_all', arguments: {} });
      await client.callTool({ name: 'log_all', arguments: {} });
      expect(logs).toEqual(['error', 'error']);
      await client.subscribeResource({ uri: 'mem://doc' });
      // The SDK opened its GET stream after initialized; an update announced on either instance reaches it.
      await eventually('the GET stream', () => getStreams > 0);
      a.server.notifyResourceUpdated('mem://doc');
      await eventually('the update through the GET stream', () => updates.length > 0);
      expect(updates).toEqual(['mem://doc']);
      expect(new Set(sentTo)).toEqual(new Set(urls));
    } finally {
      await client.close();
    }
  });
});
