// src/server/dispatch.ts: the request path of both eras, called directly with a fake channel (it
// keeps what the server sends) and, for the legacy era, a Session. Covers tools (validation, results,
// errors), lists and cursors, the legacy lifecycle (initialize, in-flight ids, cancellation, logging,
// progress, server->client requests, timeouts, close), completion, resources, prompts, and the
// 2026-07-28 era (_meta checks, removed methods, resultType and caching hints, server/discover,
// multi-round-trip input requests, subscriptions/listen).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as z4 from 'zod/v4';
import { handleNotification, handleRequest } from '../../src/server/dispatch.js';
import type { RequestEnv } from '../../src/server/dispatch.js';
import { McpError } from '../../src/server/errors.js';
import { ErrorCode, LOG_LEVELS, META, STATELESS_VERSION, SUPPORTED_VERSIONS } from '../../src/server/protocol.js';
import type { LogLevel } from '../../src/server/protocol.js';
import { McpServer } from '../../src/server/server.js';
import type { McpServerOptions } from '../../src/server/server.js';
import { Session } from '../../src/server/session.js';
import type { JsonObject } from '../../src/server/types.js';
import { FakeChannel } from './helpers/fake-channel.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

// ---- fakes and helpers ---------------------------------------------------------------------------


interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function makeServer(options: Partial<McpServerOptions> = {}): McpServer {
  return new McpServer({ name: 'test-server', version: '1.2.3', ...options });
}

interface Rpc {
  status: number;
  body: any;
}

/** Sends one request; `id` is written as JSON (a number or a string). */
async function rpc(server: McpServer, env: RequestEnv, id: number | string, method: string, params?: unknown): Promise<Rpc> {
  const reply = await handleRequest(server, env, JSON.stringify(id), method, params);
  return { status: reply.status, body: reply.json === null ? null : JSON.parse(reply.json) };
}

/** The result of a successful request (fails the test on an error reply). */
async function result(server: McpServer, env: RequestEnv, method: string, params?: unknown): Promise<any> {
  const reply = await rpc(server, env, 1, method, params);
  if (reply.body?.result === undefined) throw new Error(`expected a result, got ${JSON.stringify(reply.body)}`);
  return reply.body.result;
}

/** The error of a failed request, with the HTTP status. */
async function failure(server: McpServer, env: RequestEnv, method: string, params?: unknown): Promise<{ status: number; code: number; message: string; data?: any }> {
  const reply = await rpc(server, env, 1, method, params);
  if (reply.body?.error === undefined) throw new Error(`expected an error, got ${JSON.stringify(reply.body)}`);
  return { status: reply.status, ...reply.body.error };
}

interface LegacyEnv extends RequestEnv {
  session: Session;
  channel: FakeChannel;
}

function legacyEnv(server: McpServer): LegacyEnv {
  return {
    session: new Session({ requestTimeoutMs: server.clientRequestTimeoutMs }),
    channel: new FakeChannel(),
    auth: undefined,
    signal: undefined,
  };
}

/** A legacy session after initialize + notifications/initialized. */
async function initialized(server: McpServer, capabilities: JsonObject = {}, protocolVersion = '2025-11-25'): Promise<LegacyEnv> {
  const env = legacyEnv(server);
  const reply = await rpc(server, env, 0, 'initialize', { protocolVersion, capabilities, clientInfo: { name: 'client', version: '0' } });
  expect(reply.body.result.protocolVersion).toBe(protocolVersion);
  handleNotification(env, 'notifications/initialized', undefined);
  return env;
}

/** A 2026-07-28 request environment (HTTP without a session). */
function statelessEnv(extra: Partial<RequestEnv> = {}): RequestEnv & { channel: FakeChannel } {
  return { session: undefined, channel: new FakeChannel(), auth: undefined, signal: undefined, ...extra } as RequestEnv & { channel: FakeChannel };
}

/** params with a 2026-07-28 `_meta`. */
function p26(params: JsonObject = {}, capabilities: JsonObject = {}, meta: JsonObject = {}): JsonObject {
  return {
    ...params,
    _meta: { [META.protocolVersion]: STATELESS_VERSION, [META.clientCapabilities]: capabilities, ...meta },
  };
}

function text(res: any): string {
  return res.content[0].text;
}

const ELICIT = { message: 'Go on?', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } } };
const ALL_CAPS = { sampling: {}, elicitation: {}, roots: {} };

// ---- tools ---------------------------------------------------------------------------------------

describe('tools/list', () => {
  it('lists tools with their verbatim JSON Schema', async () => {
    const s = makeServer();
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { q: { type: 'string', 'x-extra': true } },
      required: ['q'],
      additionalProperties: false,
    };
    s.tool('search', { title: 'Search', description: 'Finds', inputSchema: schema, annotations: { readOnlyHint: true } }, () => 'x');
    s.tool('plain', {}, () => 'x');
    const env = await initialized(s);
    expect(await result(s, env, 'tools/list')).toEqual({
      tools: [
        { name: 'search', title: 'Search', description: 'Finds', inputSchema: schema, annotations: { readOnlyHint: true } },
        { name: 'plain', inputSchema: { type: 'object' } },
      ],
    });
  });

  it('lists zod v3 and v4 schemas as JSON Schema', async () => {
    const s = makeServer();
    s.tool('v3', { inputSchema: z.object({ a: z.string() }) }, () => 'x');
    s.tool('v4', { inputSchema: z4.object({ b: z4.number() }) }, () => 'x');
    const env = await initialized(s);
    const { tools } = await result(s, env, 'tools/list');
    expect(tools[0].inputSchema).toMatchObject({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] });
    expect(tools[1].inputSchema).toMatchObject({ type: 'object', properties: { b: { type: 'number' } }, required: ['b'] });
  });
});

describe('tools/call', () => {
  it('returns a string as one text block, content arrays and full results as they are', async () => {
    const s = makeServer();
    s.tool('str', {}, () => 'hello');
    s.tool('arr', {}, () => [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }]);
    s.tool('full', {}, () => ({ content: [{ type: 'text', text: 'c' }], _meta: { k: 1 } }));
    s.tool('async', {}, async () => 'later');
    const env = await initialized(s);
    expect(await result(s, env, 'tools/call', { name: 'str' })).toEqual({ content: [{ type: 'text', text: 'hello' }] });
    expect(await result(s, env, 'tools/call', { name: 'arr' })).toEqual({ content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] });
    expect(await result(s, env, 'tools/call', { name: 'full' })).toEqual({ content: [{ type: 'text', text: 'c' }], _meta: { k: 1 } });
    expect(await result(s, env, 'tools/call', { name: 'async' })).toEqual({ content: [{ type: 'text', text: 'later' }] });
  });

  it('mirrors structuredContent as text when a result has no content', async () => {
    const s = makeServer();
    s.tool('sc', { outputSchema: { type: 'object', properties: { n: { type: 'number' } } } }, () => ({ structuredContent: { n: 1 } }) as any);
    const env = await initialized(s);
    expect(await result(s, env, 'tools/call', { name: 'sc' })).toEqual({
      structuredContent: { n: 1 },
      content: [{ type: 'text', text: '{"n":1}' }],
    });
  });

  it('passes the arguments, and an empty object when there are none', async () => {
    const s = makeServer();
    const seen: unknown[] = [];
    s.tool('t', {}, (args) => {
      seen.push(args);
      return 'ok';
    });
    const env = await initialized(s);
    await result(s, env, 'tools/call', { name: 't', arguments: { x: [1, 2] } });
    await result(s, env, 'tools/call', { name: 't' });
    expect(seen).toEqual([{ x: [1, 2] }, {}]);
  });

  it('reports arguments that fail the JSON Schema as an isError result, not a protocol error', async () => {
    const s = makeServer();
    let ran = false;
    s.tool('t', { inputSchema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } }, () => {
      ran = true;
      return 'ok';
    });
    const env = await initialized(s);
    const missing = await result(s, env, 'tools/call', { name: 't', arguments: {} });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/^Invalid arguments for tool "t": /);
    const wrongType = await result(s, env, 'tools/call', { name: 't', arguments: { n: 'one' } });
    expect(wrongType.isError).toBe(true);
    const notObject = await result(s, env, 'tools/call', { name: 't', arguments: [1] });
    expect(notObject.isError).toBe(true);
    expect(ran).toBe(false);
  });

  it('validates with zod v3 and hands the handler the parsed value (defaults applied)', async () => {
    const s = makeServer();
    const seen: unknown[] = [];
    s.tool('t', { inputSchema: z.object({ q: z.string(), n: z.number().default(3) }) }, (args) => {
      seen.push(args);
      return 'ok';
    });
    const env = await initialized(s);
    expect(await result(s, env, 'tools/call', { name: 't', arguments: { q: 'x' } })).toEqual({ content: [{ type: 'text', text: 'ok' }] });
    const bad = await result(s, env, 'tools/call', { name: 't', arguments: { q: 1 } });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toContain('Invalid arguments for tool "t"');
    expect(seen).toEqual([{ q: 'x', n: 3 }]);
  });

  it('validates with zod v4 and strips unknown keys', async () => {
    const s = makeServer();
    const seen: unknown[] = [];
    s.tool('t', { inputSchema: z4.object({ q: z4.string().min(2) }) }, (args) => {
      seen.push(args);
      return 'ok';
    });
    const env = await initialized(s);
    await result(s, env, 'tools/call', { name: 't', arguments: { q: 'ab', extra: 1 } });
    const bad = await result(s, env, 'tools/call', { name: 't', arguments: { q: 'a' } });
    expect(bad.isError).toBe(true);
    expect(seen).toEqual([{ q: 'ab' }]);
  });

  describe('outputSchema', () => {
    const output = { type: 'object', properties: { temp: { type: 'number' } }, required: ['temp'] };

    it('passes a result whose structuredContent matches', async () => {
      const s = makeServer();
      s.tool('w', { outputSchema: output }, () => ({ content: [{ type: 'text', text: '20' }], structuredContent: { temp: 20 } }));
      const env = await initialized(s);
      expect(await result(s, env, 'tools/call', { name: 'w' })).toEqual({ content: [{ type: 'text', text: '20' }], structuredContent: { temp: 20 } });
    });

    it('turns a missing structuredContent into an isError result', async () => {
      const s = makeServer();
      s.tool('w', { outputSchema: output }, () => 'no structure');
      const env = await initialized(s);
      const res = await result(s, env, 'tools/call', { name: 'w' });
      expect(res.isError).toBe(true);
      expect(text(res)).toBe('Tool w has an outputSchema but returned no structuredContent');
    });

    it('turns a structuredContent that does not match into an isError result', async () => {
      const s = makeServer();
      s.tool('w', { outputSchema: output }, () => ({ content: [], structuredContent: { temp: 'hot' } }));
      const env = await initialized(s);
      const res = await result(s, env, 'tools/call', { name: 'w' });
      expect(res.isError).toBe(true);
      expect(text(res)).toMatch(/^Tool w returned structuredContent that does not match its outputSchema: /);
    });

    it('checks zod output schemas too', async () => {
      const s = makeServer();
      s.tool('w', { outputSchema: z4.object({ temp: z4.number() }) }, (args: any) => ({ content: [], structuredContent: { temp: args.v } }));
      const env = await initialized(s);
      expect((await result(s, env, 'tools/call', { name: 'w', arguments: { v: 1 } })).isError).toBeUndefined();
      expect((await result(s, env, 'tools/call', { name: 'w', arguments: { v: 'x' } })).isError).toBe(true);
    });

    it('leaves an isError result from the tool alone', async () => {
      const s = makeServer();
      s.tool('w', { outputSchema: output }, () => ({ content: [{ type: 'text', text: 'failed' }], isError: true }));
      const env = await initialized(s);
      expect(await result(s, env, 'tools/call', { name: 'w' })).toEqual({ content: [{ type: 'text', text: 'failed' }], isError: true });
    });
  });

  it('turns a thrown Error into an isError result with its message', async () => {
    const s = makeServer();
    s.tool('boom', {}, () => {
      throw new Error('disk full');
    });
    s.tool('reject', {}, async () => Promise.reject(new TypeError('bad thing')));
    s.tool('string', {}, () => {
      throw 'plain string'; // eslint-disable-line no-throw-literal
    });
    const env = await initialized(s);
    expect(await result(s, env, 'tools/call', { name: 'boom' })).toEqual({ content: [{ type: 'text', text: 'disk full' }], isError: true });
    expect(await result(s, env, 'tools/call', { name: 'reject' })).toEqual({ content: [{ type: 'text', text: 'bad thing' }], isError: true });
    expect(await result(s, env, 'tools/call', { name: 'string' })).toEqual({ content: [{ type: 'text', text: 'plain string' }], isError: true });
  });

  it('turns a result of the wrong shape into an isError result', async () => {
    const s = makeServer();
    s.tool('num', {}, () => 42 as any);
    const env = await initialized(s);
    const res = await result(s, env, 'tools/call', { name: 'num' });
    expect(res.isError).toBe(true);
    expect(text(res)).toContain('A tool handler must return');
  });

  it('turns a thrown McpError into a JSON-RPC error with its code, message and data', async () => {
    const s = makeServer();
    s.tool('proto', {}, () => {
      throw new McpError(-32042, 'Quota exceeded', { retryAfter: 5 });
    });
    s.tool('nodata', {}, () => {
      throw new McpError(ErrorCode.InvalidParams, 'Nope');
    });
    const env = await initialized(s);
    expect(await rpc(s, env, 9, 'tools/call', { name: 'proto' })).toEqual({
      status: 200,
      body: { jsonrpc: '2.0', id: 9, error: { code: -32042, message: 'Quota exceeded', data: { retryAfter: 5 } } },
    });
    expect((await rpc(s, env, 'x', 'tools/call', { name: 'nodata' })).body).toEqual({
      jsonrpc: '2.0',
      id: 'x',
      error: { code: ErrorCode.InvalidParams, message: 'Nope' },
    });
  });

  it('answers an unknown or disabled tool, or a missing name, with -32602', async () => {
    const s = makeServer();
    s.tool('off', {}, () => 'x').disable();
    const env = await initialized(s);
    expect(await failure(s, env, 'tools/call', { name: 'nope' })).toMatchObject({
      code: ErrorCode.InvalidParams,
      message: 'Unknown tool: nope',
      data: { name: 'nope' },
    });
    expect((await failure(s, env, 'tools/call', { name: 'off' })).code).toBe(ErrorCode.InvalidParams);
    expect((await failure(s, env, 'tools/call', {})).code).toBe(ErrorCode.InvalidParams);
    expect((await failure(s, env, 'tools/call', { name: 7 })).code).toBe(ErrorCode.InvalidParams);
  });

  it('answers params that are not an object with -32602', async () => {
    const s = makeServer();
    const env = await initialized(s);
    for (const bad of [null, [], 'x', 3]) {
      expect(await failure(s, env, 'tools/list', bad)).toMatchObject({ code: ErrorCode.InvalidParams, status: 400 });
    }
  });

  it('hides a tool after disable() and shows it after enable(); remove() drops it; list_changed once each', async () => {
    const s = makeServer();
    const heard: string[] = [];
    s.addListener({ listChanged: (k) => heard.push(k), resourceUpdated: () => {} });
    const handle = s.tool('t', {}, () => 'on');
    s.tool('u', {}, () => 'u');
    const env = await initialized(s);
    const names = async (): Promise<string[]> => (await result(s, env, 'tools/list')).tools.map((t: any) => t.name);
    heard.length = 0;

    handle.disable();
    expect(await names()).toEqual(['u']);
    expect((await failure(s, env, 'tools/call', { name: 't' })).code).toBe(ErrorCode.InvalidParams);
    handle.enable();
    expect(await names()).toEqual(['t', 'u']);
    expect(text(await result(s, env, 'tools/call', { name: 't' }))).toBe('on');
    handle.remove();
    expect(await names()).toEqual(['u']);
    expect(heard).toEqual(['tools', 'tools', 'tools']);
  });
});

// ---- pagination ----------------------------------------------------------------------------------

describe('pagination', () => {
  function fiveTools(): McpServer {
    const s = makeServer({ pageSize: 2 });
    for (const n of ['a', 'b', 'c', 'd', 'e']) s.tool(n, {}, () => n);
    return s;
  }

  async function names(s: McpServer, env: RequestEnv, cursor?: string): Promise<{ names: string[]; nextCursor?: string }> {
    const res = await result(s, env, 'tools/list', cursor === undefined ? {} : { cursor });
    return { names: res.tools.map((t: any) => t.name), nextCursor: res.nextCursor };
  }

  it('gives three pages of 2, 2 and 1 over five tools', async () => {
    const s = fiveTools();
    const env = await initialized(s);
    const one = await names(s, env);
    expect(one.names).toEqual(['a', 'b']);
    expect(typeof one.nextCursor).toBe('string');
    const two = await names(s, env, one.nextCursor);
    expect(two.names).toEqual(['c', 'd']);
    const three = await names(s, env, two.nextCursor);
    expect(three).toEqual({ names: ['e'], nextCursor: undefined });
  });

  it('pages the same way in the 2026-07-28 era, with a cursor any instance sharing the key accepts', async () => {
    const key = 'k'.repeat(32);
    const a = makeServer({ pageSize: 2, stateKey: key });
    const b = makeServer({ pageSize: 2, stateKey: key });
    for (const n of ['a', 'b', 'c']) {
      a.tool(n, {}, () => n);
      b.tool(n, {}, () => n);
    }
    const env = statelessEnv();
    const first = await result(a, env, 'tools/list', p26());
    const second = await result(b, env, 'tools/list', p26({ cursor: first.nextCursor }));
    expect(second.tools.map((t: any) => t.name)).toEqual(['c']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('answers a tampered, foreign or non-string cursor with -32602', async () => {
    const s = fiveTools();
    const env = await initialized(s);
    const { nextCursor } = await names(s, env);
    const tampered = nextCursor!.slice(0, -1) + (nextCursor!.endsWith('A') ? 'B' : 'A');
    const foreignServer = fiveTools();
    const foreign = (await names(foreignServer, await initialized(foreignServer))).nextCursor;
    for (const cursor of [tampered, foreign, 'garbage', '', 5, null]) {
      expect(await failure(s, env, 'tools/list', { cursor })).toMatchObject({ code: ErrorCode.InvalidParams, message: 'Invalid cursor', status: 400 });
    }
  });

  it('answers a prompts cursor used on tools (and the other way round) with -32602', async () => {
    const s = fiveTools();
    for (const n of ['p', 'q', 'r']) s.prompt(n, {}, () => ({ messages: [] }));
    for (const n of ['x', 'y', 'z']) s.resource(`file:///${n}`, { name: n }, () => n);
    const env = await initialized(s);
    const promptCursor = (await result(s, env, 'prompts/list')).nextCursor;
    const toolCursor = (await result(s, env, 'tools/list')).nextCursor;
    const resourceCursor = (await result(s, env, 'resources/list')).nextCursor;
    expect(typeof promptCursor).toBe('string');
    expect((await failure(s, env, 'tools/list', { cursor: promptCursor })).code).toBe(ErrorCode.InvalidParams);
    expect((await failure(s, env, 'prompts/list', { cursor: toolCursor })).code).toBe(ErrorCode.InvalidParams);
    expect((await failure(s, env, 'resources/templates/list', { cursor: resourceCursor })).code).toBe(ErrorCode.InvalidParams);
    expect((await result(s, env, 'prompts/list', { cursor: promptCursor })).prompts.map((p: any) => p.name)).toEqual(['r']);
  });

  it('neither skips nor repeats an entry when the boundary entry between pages is removed', async () => {
    const s = makeServer({ pageSize: 2 });
    const handles = new Map(['a', 'b', 'c', 'd', 'e'].map((n) => [n, s.tool(n, {}, () => n)]));
    const env = await initialized(s);
    const one = await names(s, env);
    expect(one.names).toEqual(['a', 'b']);
    handles.get('b')!.remove();
    const two = await names(s, env, one.nextCursor);
    expect(two.names).toEqual(['c', 'd']);
    handles.get('d')!.remove();
    handles.get('c')!.remove();
    const three = await names(s, env, two.nextCursor);
    expect(three).toEqual({ names: ['e'], nextCursor: undefined });
  });
});

// ---- legacy lifecycle ----------------------------------------------------------------------------

describe('legacy lifecycle', () => {
  it('refuses requests before initialize, except ping', async () => {
    const s = makeServer();
    s.tool('t', {}, () => 'x');
    const env = legacyEnv(s);
    for (const method of ['tools/list', 'tools/call', 'resources/list', 'prompts/list', 'logging/setLevel', 'nope/nope']) {
      const err = await failure(s, env, method, { name: 't' });
      expect(err.code).toBe(ErrorCode.InvalidRequest);
      expect(err.message).toMatch(/^Not initialized/);
      expect(err.status).toBe(400);
    }
    expect(await rpc(s, env, 3, 'ping')).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 3, result: {} } });
    expect(await rpc(s, env, 4, 'ping', {})).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 4, result: {} } });
  });

  it.each(['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'])('echoes the known legacy version %s', async (version) => {
    const s = makeServer();
    const env = legacyEnv(s);
    const res = await result(s, env, 'initialize', { protocolVersion: version, capabilities: {} });
    expect(res.protocolVersion).toBe(version);
    expect(env.session.protocolVersion).toBe(version);
  });

  it.each(['1999-01-01', STATELESS_VERSION, 'latest', ''])('answers the unknown version %j with 2025-11-25', async (version) => {
    const s = makeServer();
    const env = legacyEnv(s);
    expect((await result(s, env, 'initialize', { protocolVersion: version })).protocolVersion).toBe('2025-11-25');
  });

  it('answers with capabilities, serverInfo and instructions, and keeps what the client declared', async () => {
    const s = makeServer({ instructions: 'Use search first', title: 'Test' });
    const env = legacyEnv(s);
    const res = await result(s, env, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: { sampling: {} },
      clientInfo: { name: 'c', version: '9' },
    });
    expect(res).toEqual({
      protocolVersion: '2025-06-18',
      capabilities: s.capabilities(),
      serverInfo: { name: 'test-server', version: '1.2.3', title: 'Test' },
      instructions: 'Use search first',
    });
    expect(env.session.clientCapabilities).toEqual({ sampling: {} });
    expect(env.session.clientInfo).toEqual({ name: 'c', version: '9' });
    expect(env.session.initialized).toBe(false);
    handleNotification(env, 'notifications/initialized', {});
    expect(env.session.initialized).toBe(true);
  });

  it('keeps one frozen copy of what alike clients declared, shared by their sessions', async () => {
    const s = makeServer();
    const declared = () => ({ protocolVersion: '2025-11-25', capabilities: { elicitation: {}, roots: { listChanged: true } }, clientInfo: { name: 'alike', version: '2' } });
    const a = legacyEnv(s);
    const b = legacyEnv(s);
    await result(s, a, 'initialize', declared());
    await result(s, b, 'initialize', declared());
    expect(b.session.clientCapabilities).toBe(a.session.clientCapabilities);
    expect(b.session.clientInfo).toBe(a.session.clientInfo);
    expect(Object.isFrozen(a.session.clientCapabilities['roots'])).toBe(true);
    expect(Object.isFrozen(a.session.clientInfo)).toBe(true);
    // Another client's declaration is its own.
    const c = legacyEnv(s);
    await result(s, c, 'initialize', { ...declared(), clientInfo: { name: 'other', version: '2' } });
    expect(c.session.clientInfo).toEqual({ name: 'other', version: '2' });
    expect(c.session.clientCapabilities).toBe(a.session.clientCapabilities);
  });

  it('refuses a second initialize and keeps the first negotiation', async () => {
    const s = makeServer();
    const env = await initialized(s, {}, '2025-06-18');
    expect(await failure(s, env, 'initialize', { protocolVersion: '2025-11-25' })).toMatchObject({
      code: ErrorCode.InvalidRequest,
      message: 'Already initialized',
    });
    expect(env.session.protocolVersion).toBe('2025-06-18');
  });

  it('refuses an initialize with bad params', async () => {
    const s = makeServer();
    for (const params of [{}, { protocolVersion: 1 }, { protocolVersion: '2025-11-25', capabilities: 'all' }, { protocolVersion: '2025-11-25', clientInfo: [] }]) {
      const env = legacyEnv(s);
      expect((await failure(s, env, 'initialize', params)).code).toBe(ErrorCode.InvalidParams);
      expect(env.session.protocolVersion).toBeUndefined();
    }
  });

  it('ignores notifications/initialized before initialize, and unknown notifications', async () => {
    const s = makeServer();
    const env = legacyEnv(s);
    handleNotification(env, 'notifications/initialized', undefined);
    handleNotification(env, 'notifications/whatever', { x: 1 });
    handleNotification(statelessEnv(), 'notifications/cancelled', { requestId: 1 });
    expect(env.session.initialized).toBe(false);
  });

  it('answers an unknown method with -32601 and a 2026-only method with -32601', async () => {
    const s = makeServer();
    const env = await initialized(s);
    expect(await failure(s, env, 'tools/frobnicate')).toMatchObject({ code: ErrorCode.MethodNotFound, status: 404 });
    expect((await failure(s, env, 'server/discover')).code).toBe(ErrorCode.MethodNotFound);
    expect((await failure(s, env, 'subscriptions/listen', { notifications: {} })).code).toBe(ErrorCode.MethodNotFound);
  });

  it('keeps string and number ids apart and echoes the id as written', async () => {
    const s = makeServer();
    const env = await initialized(s);
    const reply = await handleRequest(s, env, '"a\\u0062"', 'tools/list', {});
    expect(reply.json).toBe('{"jsonrpc":"2.0","id":"a\\u0062","result":{"tools":[]}}');
  });

  it('refuses an id already in flight with -32600, and accepts it again once that request is done', async () => {
    const s = makeServer();
    const release = deferred();
    const started = deferred();
    s.tool('slow', {}, async () => {
      started.resolve();
      await release.promise;
      return 'done';
    });
    s.tool('fast', {}, () => 'fast');
    const env = await initialized(s);
    const first = rpc(s, env, 7, 'tools/call', { name: 'slow' });
    await started.promise;
    const dup = await rpc(s, env, 7, 'tools/call', { name: 'fast' });
    expect(dup.body.error.code).toBe(ErrorCode.InvalidRequest);
    expect(dup.body.id).toBe(7);
    // Same digits as a string are another id.
    expect(text((await rpc(s, env, '7', 'tools/call', { name: 'fast' })).body.result)).toBe('fast');
    release.resolve();
    expect(text((await first).body.result)).toBe('done');
    expect(env.session.inflight.size).toBe(0);
    expect(text((await rpc(s, env, 7, 'tools/call', { name: 'fast' })).body.result)).toBe('fast');
  });

  it('tracks resources/subscribe and resources/unsubscribe in the session', async () => {
    const s = makeServer();
    const env = await initialized(s);
    expect(await result(s, env, 'resources/subscribe', { uri: 'file:///a' })).toEqual({});
    expect([...env.session.subscriptions]).toEqual(['file:///a']);
    expect(await result(s, env, 'resources/unsubscribe', { uri: 'file:///a' })).toEqual({});
    expect(env.session.subscriptions.size).toBe(0);
    expect((await failure(s, env, 'resources/subscribe', {})).code).toBe(ErrorCode.InvalidParams);
  });

  it('answers a handler crash outside tools with -32603 and hides its message', async () => {
    const s = makeServer();
    s.prompt('bad', {}, () => {
      throw new Error('secret detail');
    });
    const env = await initialized(s);
    expect(await failure(s, env, 'prompts/get', { name: 'bad' })).toEqual({ status: 500, code: ErrorCode.InternalError, message: 'Internal error' });
  });
});

describe('legacy cancellation', () => {
  function slowTool(s: McpServer): { started: Deferred<AbortSignal>; finished: Deferred<void> } {
    const started = deferred<AbortSignal>();
    const finished = deferred();
    s.tool('slow', {}, async (_args, ctx) => {
      started.resolve(ctx.signal);
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      finished.resolve();
      return 'too late';
    });
    return { started, finished };
  }

  it('aborts ctx.signal with the reason and sends no reply to the cancelled request', async () => {
    const s = makeServer();
    const { started } = slowTool(s);
    const env = await initialized(s);
    const pending = rpc(s, env, 5, 'tools/call', { name: 'slow' });
    const signal = await started.promise;
    handleNotification(env, 'notifications/cancelled', { requestId: 5, reason: 'User pressed stop' });
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('User pressed stop');
    expect(await pending).toEqual({ status: 202, body: null });
    expect(env.session.inflight.size).toBe(0);
    expect(env.channel.sent).toEqual([]);
  });

  it('sends no reply either when the tool throws after being cancelled', async () => {
    const s = makeServer();
    const started = deferred();
    s.tool('throws', {}, async (_args, ctx) => {
      started.resolve();
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      throw ctx.signal.reason;
    });
    const env = await initialized(s);
    const pending = rpc(s, env, 'abc', 'tools/call', { name: 'throws' });
    await started.promise;
    handleNotification(env, 'notifications/cancelled', { requestId: 'abc' });
    expect(await pending).toEqual({ status: 202, body: null });
  });

  it('ignores a cancellation for another id, an id of the other type, or malformed params', async () => {
    const s = makeServer();
    const { started } = slowTool(s);
    const env = await initialized(s);
    const pending = rpc(s, env, 5, 'tools/call', { name: 'slow' });
    const signal = await started.promise;
    handleNotification(env, 'notifications/cancelled', { requestId: 6 });
    handleNotification(env, 'notifications/cancelled', { requestId: '5' });
    handleNotification(env, 'notifications/cancelled', { requestId: null });
    handleNotification(env, 'notifications/cancelled', 5);
    handleNotification(env, 'notifications/cancelled', undefined);
    expect(signal.aborted).toBe(false);
    handleNotification(env, 'notifications/cancelled', { requestId: 5 });
    expect((signal.reason as Error).message).toBe('Cancelled by the client');
    expect((await pending).body).toBeNull();
  });

  it('aborts a handler when the transport signal (HTTP request closed) aborts', async () => {
    const s = makeServer();
    const { started } = slowTool(s);
    const env = await initialized(s);
    const controller = new AbortController();
    const pending = rpc(s, { ...env, signal: controller.signal }, 5, 'tools/call', { name: 'slow' });
    const signal = await started.promise;
    controller.abort();
    expect(signal.aborted).toBe(true);
    // Not a client cancellation: the reply is still produced (the transport has nowhere to send it).
    expect(text((await pending).body.result)).toBe('too late');
  });

  it('session.close() aborts handlers in flight, and they get no reply', async () => {
    const s = makeServer();
    const { started } = slowTool(s);
    const env = await initialized(s);
    const pending = rpc(s, env, 5, 'tools/call', { name: 'slow' });
    const signal = await started.promise;
    env.session.close('Connection closed');
    expect((signal.reason as Error).message).toBe('Connection closed');
    expect((await pending).body).toBeNull();
  });
});

describe('legacy logging and progress', () => {
  function loggingTool(s: McpServer): void {
    s.tool('logs', {}, (_args, ctx) => {
      for (const level of LOG_LEVELS) ctx.log(level, { at: level }, 'lg');
      return 'ok';
    });
  }

  function levels(channel: FakeChannel): string[] {
    return channel.sent.filter((m) => m.method === 'notifications/message').map((m) => m.params.level);
  }

  it('sends every level before logging/setLevel', async () => {
    const s = makeServer();
    loggingTool(s);
    const env = await initialized(s);
    await result(s, env, 'tools/call', { name: 'logs' });
    expect(levels(env.channel)).toEqual([...LOG_LEVELS]);
    expect(env.channel.sent[0]).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: { level: 'debug', data: { at: 'debug' }, logger: 'lg' },
    });
  });

  it('filters ctx.log by the level logging/setLevel set', async () => {
    const s = makeServer();
    loggingTool(s);
    const env = await initialized(s);
    expect(await result(s, env, 'logging/setLevel', { level: 'warning' })).toEqual({});
    await result(s, env, 'tools/call', { name: 'logs' });
    expect(levels(env.channel)).toEqual(['warning', 'error', 'critical', 'alert', 'emergency']);
  });

  it('refuses an unknown level with -32602 and keeps the old one', async () => {
    const s = makeServer();
    const env = await initialized(s);
    await result(s, env, 'logging/setLevel', { level: 'error' });
    for (const level of ['verbose', 'ERROR', 3, undefined]) {
      expect((await failure(s, env, 'logging/setLevel', { level })).code).toBe(ErrorCode.InvalidParams);
    }
    expect(env.session.minLogRank).toBe(LOG_LEVELS.indexOf('error'));
  });

  it('throws on a log level that does not exist', async () => {
    const s = makeServer();
    s.tool('bad', {}, (_args, ctx) => {
      ctx.log('loud' as LogLevel, 'x');
      return 'ok';
    });
    const env = await initialized(s);
    expect(text(await result(s, env, 'tools/call', { name: 'bad' }))).toBe('Unknown log level "loud"');
  });

  function progressTool(s: McpServer): void {
    s.tool('p', {}, (_args, ctx) => {
      ctx.progress(1, 10, 'first');
      ctx.progress(1); // not larger: dropped
      ctx.progress(0.5); // smaller: dropped
      ctx.progress(Number.NaN); // not a number: dropped
      ctx.progress(2.5);
      ctx.progress(10, 10);
      return 'ok';
    });
  }

  it('sends progress only for a request with a progressToken, and only increasing values', async () => {
    const s = makeServer();
    progressTool(s);
    const env = await initialized(s);
    await result(s, env, 'tools/call', { name: 'p', _meta: { progressToken: 'tok-1' } });
    expect(env.channel.sent).toEqual([
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok-1', progress: 1, total: 10, message: 'first' } },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok-1', progress: 2.5 } },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok-1', progress: 10, total: 10 } },
    ]);
    env.channel.sent.length = 0;
    await result(s, env, 'tools/call', { name: 'p' });
    await result(s, env, 'tools/call', { name: 'p', _meta: {} });
    expect(env.channel.sent).toEqual([]);
  });

  it('keeps a numeric progressToken as a number', async () => {
    const s = makeServer();
    progressTool(s);
    const env = await initialized(s);
    await result(s, env, 'tools/call', { name: 'p', _meta: { progressToken: 0 } });
    expect(env.channel.sent[0].params.progressToken).toBe(0);
  });

  it('sends nothing on a closed channel or after cancellation', async () => {
    const s = makeServer();
    const started = deferred();
    const go = deferred();
    s.tool('late', {}, async (_args, ctx) => {
      started.resolve();
      await go.promise;
      ctx.progress(1);
      ctx.log('error', 'after cancel');
      return 'x';
    });
    progressTool(s);
    const env = await initialized(s);
    const pending = rpc(s, env, 1, 'tools/call', { name: 'late', _meta: { progressToken: 't' } });
    await started.promise;
    handleNotification(env, 'notifications/cancelled', { requestId: 1 });
    go.resolve();
    await pending;
    env.channel.open = false;
    await result(s, env, 'tools/call', { name: 'p', _meta: { progressToken: 't' } });
    expect(env.channel.sent).toEqual([]);
  });
});

describe('legacy server->client requests', () => {
  it('ctx.sample sends sampling/createMessage and resolves with the response delivered to the session', async () => {
    const s = makeServer();
    s.tool('ask', {}, async (_args, ctx) => JSON.stringify(await ctx.sample({ messages: [], maxTokens: 10 })));
    const env = await initialized(s, ALL_CAPS);
    const pending = rpc(s, env, 1, 'tools/call', { name: 'ask' });
    const request = await env.channel.next();
    expect(request).toEqual({ jsonrpc: '2.0', id: 1, method: 'sampling/createMessage', params: { messages: [], maxTokens: 10 } });
    const answer = { role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'm' };
    expect(env.session.resolveResponse('1', { jsonrpc: '2.0', id: 1, result: answer })).toBe(true);
    expect(JSON.parse(text((await pending).body.result))).toEqual(answer);
  });

  it('ctx.elicit and ctx.listRoots send their requests, with fresh ids', async () => {
    const s = makeServer();
    s.tool('both', {}, async (_args, ctx) => {
      const e = await ctx.elicit(ELICIT);
      const r = await ctx.listRoots();
      return JSON.stringify([e, r]);
    });
    const env = await initialized(s, ALL_CAPS);
    const pending = rpc(s, env, 1, 'tools/call', { name: 'both' });
    const elicit = await env.channel.next();
    expect(elicit).toMatchObject({ id: 1, method: 'elicitation/create', params: ELICIT });
    env.session.resolveResponse('1', { id: 1, result: { action: 'accept', content: { ok: true } } });
    const roots = await env.channel.next();
    expect(roots).toEqual({ jsonrpc: '2.0', id: 2, method: 'roots/list', params: {} });
    env.session.resolveResponse('2', { id: 2, result: { roots: [{ uri: 'file:///home' }] } });
    expect(JSON.parse(text((await pending).body.result))).toEqual([
      { action: 'accept', content: { ok: true } },
      { roots: [{ uri: 'file:///home' }] },
    ]);
  });

  it('ctx.input sends several requests at once and resolves with the answers by key', async () => {
    const s = makeServer();
    s.tool('multi', {}, async (_args, ctx) =>
      JSON.stringify(
        await ctx.input({
          name: { method: 'elicitation/create', params: ELICIT },
          roots: { method: 'roots/list', params: {} },
        }),
      ),
    );
    const env = await initialized(s, ALL_CAPS);
    const pending = rpc(s, env, 1, 'tools/call', { name: 'multi' });
    const [a, b] = [await env.channel.next(), await env.channel.next()];
    expect([a.method, b.method]).toEqual(['elicitation/create', 'roots/list']);
    env.session.resolveResponse(String(b.id), { id: b.id, result: { roots: [] } });
    env.session.resolveResponse(String(a.id), { id: a.id, result: { action: 'decline' } });
    expect(JSON.parse(text((await pending).body.result))).toEqual({ name: { action: 'decline' }, roots: { roots: [] } });
  });

  it('rejects with the client error, which the tool can catch', async () => {
    const s = makeServer();
    s.tool('ask', {}, async (_args, ctx) => {
      try {
        await ctx.sample({ messages: [] });
        return 'answered';
      } catch (e) {
        return `${(e as McpError).code}: ${(e as Error).message}`;
      }
    });
    const env = await initialized(s, ALL_CAPS);
    const pending = rpc(s, env, 1, 'tools/call', { name: 'ask' });
    await env.channel.next();
    env.session.resolveResponse('1', { id: 1, error: { code: -1, message: 'User rejected sampling' } });
    expect(text((await pending).body.result)).toBe('-1: User rejected sampling');
  });

  it('times out after clientRequestTimeoutMs, rejecting the wait and cancelling on the client', async () => {
    const s = makeServer({ clientRequestTimeoutMs: 5 });
    s.tool('ask', {}, async (_args, ctx) => {
      try {
        await ctx.sample({ messages: [] });
        return 'answered';
      } catch (e) {
        return (e as Error).message;
      }
    });
    const env = await initialized(s, ALL_CAPS);
    const res = await result(s, env, 'tools/call', { name: 'ask' });
    expect(text(res)).toBe('The client did not answer sampling/createMessage within 5 ms');
    expect(env.channel.sent.map((m) => m.method)).toEqual(['sampling/createMessage', 'notifications/cancelled']);
    expect(env.session.resolveResponse('1', { id: 1, result: {} })).toBe(false);
  });

  it('an uncaught timeout becomes a JSON-RPC error (it is an McpError)', async () => {
    const s = makeServer({ clientRequestTimeoutMs: 5 });
    s.tool('ask', {}, async (_args, ctx) => JSON.stringify(await ctx.listRoots()));
    const env = await initialized(s, ALL_CAPS);
    expect((await failure(s, env, 'tools/call', { name: 'ask' })).code).toBe(ErrorCode.InternalError);
  });

  it('session.close() rejects the waiting request and aborts the handler; no reply is sent', async () => {
    const s = makeServer();
    const seen = deferred<{ error: string; aborted: boolean }>();
    s.tool('ask', {}, async (_args, ctx) => {
      try {
        await ctx.elicit(ELICIT);
      } catch (e) {
        seen.resolve({ error: (e as Error).message, aborted: ctx.signal.aborted });
      }
      return 'after close';
    });
    const env = await initialized(s, ALL_CAPS);
    const pending = rpc(s, env, 1, 'tools/call', { name: 'ask' });
    await env.channel.next();
    env.channel.open = false;
    env.session.close('Connection closed');
    expect(await seen.promise).toEqual({ error: 'Connection closed', aborted: true });
    expect((await pending).body).toBeNull();
    expect(env.session.inflight.size).toBe(0);
  });

  it('cancelling the tool call cancels its request to the client', async () => {
    const s = makeServer();
    s.tool('ask', {}, async (_args, ctx) => JSON.stringify(await ctx.sample({ messages: [] })));
    const env = await initialized(s, ALL_CAPS);
    const pending = rpc(s, env, 'call-1', 'tools/call', { name: 'ask' });
    const request = await env.channel.next();
    handleNotification(env, 'notifications/cancelled', { requestId: 'call-1' });
    expect(await env.channel.next()).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: request.id, reason: 'The request that needed it was cancelled' },
    });
    expect((await pending).body).toBeNull();
  });

  it('refuses a request the client has no capability for with -32021 and data.requiredCapabilities', async () => {
    const s = makeServer();
    s.tool('ask', {}, async (_args, ctx) => JSON.stringify(await ctx.sample({ messages: [] })));
    s.tool('url', {}, async (_args, ctx) => JSON.stringify(await ctx.elicit({ mode: 'url', url: 'https://x', message: 'm', elicitationId: 'e' })));
    const env = await initialized(s, { elicitation: {} });
    expect(await failure(s, env, 'tools/call', { name: 'ask' })).toEqual({
      status: 400,
      code: ErrorCode.MissingRequiredClientCapability,
      message: 'Missing required client capability: sampling',
      data: { requiredCapabilities: { sampling: {} } },
    });
    // URL-mode elicitation needs elicitation.url.
    expect((await failure(s, env, 'tools/call', { name: 'url' })).data).toEqual({ requiredCapabilities: { elicitation: {} } });
    expect(env.channel.sent).toEqual([]);
  });

  it('sends URL-mode elicitation when the client declared elicitation.url', async () => {
    const s = makeServer();
    s.tool('url', {}, async (_args, ctx) => JSON.stringify(await ctx.elicit({ mode: 'url', url: 'https://x', message: 'm', elicitationId: 'e' })));
    const env = await initialized(s, { elicitation: { url: {} } });
    const pending = rpc(s, env, 1, 'tools/call', { name: 'url' });
    expect((await env.channel.next()).params.mode).toBe('url');
    env.session.resolveResponse('1', { id: 1, result: { action: 'accept' } });
    expect(text((await pending).body.result)).toBe('{"action":"accept"}');
  });

  it('refuses an input request method that does not exist, even one named like an Object member', async () => {
    const s = makeServer();
    s.tool('weird', {}, async (_args, ctx) => JSON.stringify(await ctx.input({ x: { method: 'toString' as any, params: {} } })));
    const env = await initialized(s, ALL_CAPS);
    expect(await failure(s, env, 'tools/call', { name: 'weird' })).toMatchObject({
      code: ErrorCode.InvalidParams,
      message: 'Unsupported input request method toString',
    });
  });

  it('exposes the request and the caller on the context', async () => {
    const s = makeServer();
    let seen: any;
    s.tool('who', {}, (_args, ctx) => {
      seen = {
        era: ctx.era,
        version: ctx.protocolVersion,
        id: ctx.requestId,
        sessionId: ctx.sessionId,
        clientInfo: ctx.clientInfo,
        meta: ctx.meta,
        sampling: ctx.hasCapability('sampling'),
        roots: ctx.hasCapability('roots'),
      };
      return 'ok';
    });
    const env = await initialized(s, { sampling: {} }, '2025-06-18');
    await rpc(s, env, 'req-1', 'tools/call', { name: 'who', _meta: { progressToken: 1, extra: true } });
    expect(seen).toEqual({
      era: 'legacy',
      version: '2025-06-18',
      id: 'req-1',
      sessionId: env.session.id,
      clientInfo: { name: 'client', version: '0' },
      meta: { progressToken: 1, extra: true },
      sampling: true,
      roots: false,
    });
  });
});

// ---- completion, resources, prompts --------------------------------------------------------------

describe('completion/complete', () => {
  function completing(): McpServer {
    const s = makeServer();
    const langs = Array.from({ length: 150 }, (_, i) => `lang${i}`);
    s.prompt(
      'code',
      {
        arguments: [{ name: 'language' }, { name: 'style' }],
        complete: {
          language: (value) => langs.filter((l) => l.startsWith(value)),
          style: (value, { arguments: args }) => ({ values: [`${value}-${args['language'] ?? 'none'}`], total: 40, hasMore: true }),
        },
      },
      () => ({ messages: [] }),
    );
    s.resourceTemplate(
      'users://{id}/profile',
      { name: 'profile', complete: { id: async (value) => ['1', '12', '123'].filter((v) => v.startsWith(value)) } },
      () => '{}',
    );
    s.resource('file:///static', { name: 'static' }, () => 'x');
    return s;
  }

  it('completes a prompt argument, capping the values at 100 with hasMore and the real total', async () => {
    const s = completing();
    const env = await initialized(s);
    const res = await result(s, env, 'completion/complete', { ref: { type: 'ref/prompt', name: 'code' }, argument: { name: 'language', value: 'lang' } });
    expect(res.completion.values).toHaveLength(100);
    expect(res.completion.values[0]).toBe('lang0');
    expect(res.completion.total).toBe(150);
    expect(res.completion.hasMore).toBe(true);
    const few = await result(s, env, 'completion/complete', { ref: { type: 'ref/prompt', name: 'code' }, argument: { name: 'language', value: 'lang14' } });
    expect(few).toEqual({ completion: { values: ['lang14', ...Array.from({ length: 10 }, (_, i) => `lang14${i}`)], total: 11, hasMore: false } });
  });

  it('passes context arguments and keeps total and hasMore a completer returns', async () => {
    const s = completing();
    const env = await initialized(s);
    const res = await result(s, env, 'completion/complete', {
      ref: { type: 'ref/prompt', name: 'code' },
      argument: { name: 'style', value: 'terse' },
      context: { arguments: { language: 'go' } },
    });
    expect(res).toEqual({ completion: { values: ['terse-go'], total: 40, hasMore: true } });
  });

  it('completes a template variable', async () => {
    const s = completing();
    const env = await initialized(s);
    const res = await result(s, env, 'completion/complete', { ref: { type: 'ref/resource', uri: 'users://{id}/profile' }, argument: { name: 'id', value: '12' } });
    expect(res).toEqual({ completion: { values: ['12', '123'], total: 2, hasMore: false } });
  });

  it('gives no values for an argument without a completer or for a static resource', async () => {
    const s = completing();
    const env = await initialized(s);
    const empty = { completion: { values: [], hasMore: false } };
    expect(await result(s, env, 'completion/complete', { ref: { type: 'ref/prompt', name: 'code' }, argument: { name: 'other', value: '' } })).toEqual(empty);
    expect(await result(s, env, 'completion/complete', { ref: { type: 'ref/resource', uri: 'file:///static' }, argument: { name: 'x', value: '' } })).toEqual(empty);
  });

  it('answers an unknown prompt, template or ref type, or a malformed argument, with -32602', async () => {
    const s = completing();
    const env = await initialized(s);
    for (const params of [
      { ref: { type: 'ref/prompt', name: 'nope' }, argument: { name: 'a', value: '' } },
      { ref: { type: 'ref/resource', uri: 'users://{nope}' }, argument: { name: 'a', value: '' } },
      { ref: { type: 'ref/tool', name: 'x' }, argument: { name: 'a', value: '' } },
      { ref: { type: 'ref/prompt', name: 'code' }, argument: { name: 'language' } },
      { ref: { type: 'ref/prompt', name: 'code' } },
      { argument: { name: 'a', value: '' } },
    ]) {
      expect((await failure(s, env, 'completion/complete', params)).code).toBe(ErrorCode.InvalidParams);
    }
  });
});

describe('resources', () => {
  function resourceServer(options: Partial<McpServerOptions> = {}): McpServer {
    const s = makeServer(options);
    s.resource('file:///readme', { name: 'readme', mimeType: 'text/markdown' }, () => '# Hi');
    s.resource('file:///raw', { name: 'raw', cache: { ttlMs: 60_000, scope: 'private' } }, (uri) => [{ uri, blob: 'AAEC', mimeType: 'application/octet-stream' }]);
    s.resource('file:///full', { name: 'full' }, (uri) => ({ contents: [{ uri, text: 'full' }], _meta: { m: 1 } }));
    s.resourceTemplate('users://{id}/posts/{post}', { name: 'post', mimeType: 'application/json' }, (uri, variables) =>
      JSON.stringify({ uri, variables }),
    );
    s.resourceTemplate('search://{?q,lang}', { name: 'search' }, (_uri, variables) => JSON.stringify(variables));
    return s;
  }

  it('lists resources and templates', async () => {
    const s = resourceServer();
    const env = await initialized(s);
    expect((await result(s, env, 'resources/list')).resources.map((r: any) => r.uri)).toEqual(['file:///readme', 'file:///raw', 'file:///full']);
    expect(await result(s, env, 'resources/templates/list')).toEqual({
      resourceTemplates: [
        { uriTemplate: 'users://{id}/posts/{post}', name: 'post', mimeType: 'application/json' },
        { uriTemplate: 'search://{?q,lang}', name: 'search' },
      ],
    });
  });

  it('reads a static resource: a string gets the uri and mimeType, arrays and full results pass', async () => {
    const s = resourceServer();
    const env = await initialized(s);
    expect(await result(s, env, 'resources/read', { uri: 'file:///readme' })).toEqual({
      contents: [{ uri: 'file:///readme', mimeType: 'text/markdown', text: '# Hi' }],
    });
    expect(await result(s, env, 'resources/read', { uri: 'file:///raw' })).toEqual({
      contents: [{ uri: 'file:///raw', blob: 'AAEC', mimeType: 'application/octet-stream' }],
    });
    expect(await result(s, env, 'resources/read', { uri: 'file:///full' })).toEqual({ contents: [{ uri: 'file:///full', text: 'full' }], _meta: { m: 1 } });
  });

  it('reads through a template with its variables', async () => {
    const s = resourceServer();
    const env = await initialized(s);
    const res = await result(s, env, 'resources/read', { uri: 'users://42/posts/hello%20world' });
    expect(res.contents[0].mimeType).toBe('application/json');
    expect(JSON.parse(res.contents[0].text)).toEqual({ uri: 'users://42/posts/hello%20world', variables: { id: '42', post: 'hello world' } });
    const query = await result(s, env, 'resources/read', { uri: 'search://?q=cats&lang=en' });
    expect(JSON.parse(query.contents[0].text)).toEqual({ q: 'cats', lang: 'en' });
  });

  it('answers an unknown uri with -32002 and data.uri in the legacy era', async () => {
    const s = resourceServer();
    const env = await initialized(s);
    expect(await failure(s, env, 'resources/read', { uri: 'file:///missing' })).toEqual({
      status: 200,
      code: ErrorCode.ResourceNotFound,
      message: 'Resource not found: file:///missing',
      data: { uri: 'file:///missing' },
    });
    expect((await failure(s, env, 'resources/read', {})).code).toBe(ErrorCode.InvalidParams);
  });

  it('answers an unknown uri with -32602 and data.uri (status 400) in the 2026-07-28 era', async () => {
    const s = resourceServer();
    expect(await failure(s, statelessEnv(), 'resources/read', p26({ uri: 'file:///missing' }))).toEqual({
      status: 400,
      code: ErrorCode.InvalidParams,
      message: 'Resource not found: file:///missing',
      data: { uri: 'file:///missing' },
    });
  });

  it('treats a disabled resource as not found', async () => {
    const s = makeServer();
    s.resource('file:///a', { name: 'a' }, () => 'a').disable();
    const env = await initialized(s);
    expect((await failure(s, env, 'resources/read', { uri: 'file:///a' })).code).toBe(ErrorCode.ResourceNotFound);
  });

  it('gives a read its resource cache hint in the 2026-07-28 era, or the list default', async () => {
    const s = resourceServer({ listCache: { ttlMs: 1000, scope: 'public' } });
    const env = statelessEnv();
    expect(await result(s, env, 'resources/read', p26({ uri: 'file:///raw' }))).toMatchObject({ ttlMs: 60_000, cacheScope: 'private', resultType: 'complete' });
    expect(await result(s, env, 'resources/read', p26({ uri: 'file:///readme' }))).toMatchObject({ ttlMs: 1000, cacheScope: 'public', resultType: 'complete' });
  });

  it('answers a handler returning the wrong shape with -32603', async () => {
    const s = makeServer();
    s.resource('file:///bad', { name: 'bad' }, () => 42 as any);
    const env = await initialized(s);
    expect((await failure(s, env, 'resources/read', { uri: 'file:///bad' })).code).toBe(ErrorCode.InternalError);
  });
});

describe('prompts/get', () => {
  function promptServer(): McpServer {
    const s = makeServer();
    s.prompt(
      'greet',
      { arguments: [{ name: 'who', required: true }, { name: 'tone' }] },
      (args) => ({ description: 'A greeting', messages: [{ role: 'user', content: { type: 'text', text: `Hello ${args['who']} (${args['tone'] ?? 'plain'})` } }] }),
    );
    s.prompt('bad', {}, () => ({ nope: true }) as any);
    return s;
  }

  it('renders a prompt with its arguments', async () => {
    const s = promptServer();
    const env = await initialized(s);
    expect(await result(s, env, 'prompts/get', { name: 'greet', arguments: { who: 'Ada', tone: 'warm' } })).toEqual({
      description: 'A greeting',
      messages: [{ role: 'user', content: { type: 'text', text: 'Hello Ada (warm)' } }],
    });
    expect(await result(s, env, 'prompts/list')).toEqual({
      prompts: [{ name: 'greet', arguments: [{ name: 'who', required: true }, { name: 'tone' }] }, { name: 'bad' }],
    });
  });

  it('refuses a missing required argument with -32602', async () => {
    const s = promptServer();
    const env = await initialized(s);
    expect(await failure(s, env, 'prompts/get', { name: 'greet', arguments: { tone: 'warm' } })).toMatchObject({
      code: ErrorCode.InvalidParams,
      message: 'Missing required argument "who" for prompt "greet"',
    });
    expect((await failure(s, env, 'prompts/get', { name: 'greet' })).code).toBe(ErrorCode.InvalidParams);
  });

  it('refuses argument values that are not strings, and arguments that are not an object', async () => {
    const s = promptServer();
    const env = await initialized(s);
    for (const args of [{ who: 1 }, { who: 'a', tone: null }, { who: 'a', tone: ['x'] }, { who: { a: 1 } }]) {
      expect((await failure(s, env, 'prompts/get', { name: 'greet', arguments: args })).code).toBe(ErrorCode.InvalidParams);
    }
    expect((await failure(s, env, 'prompts/get', { name: 'greet', arguments: ['Ada'] })).code).toBe(ErrorCode.InvalidParams);
  });

  it('answers an unknown prompt with -32602 and a handler returning no messages with -32603', async () => {
    const s = promptServer();
    const env = await initialized(s);
    expect(await failure(s, env, 'prompts/get', { name: 'nope' })).toMatchObject({ code: ErrorCode.InvalidParams, data: { name: 'nope' } });
    expect((await failure(s, env, 'prompts/get', { name: 'bad' })).code).toBe(ErrorCode.InternalError);
  });
});

// ---- 2026-07-28 ----------------------------------------------------------------------------------

describe('2026-07-28 request checks', () => {
  it('refuses a request without _meta with -32602 (400)', async () => {
    const s = makeServer();
    for (const params of [undefined, {}, { _meta: 'x' }, { _meta: null }]) {
      const err = await failure(s, statelessEnv(), 'tools/list', params);
      expect(err).toMatchObject({ code: ErrorCode.InvalidParams, status: 400 });
      expect(err.message).toMatch(/^Missing params\._meta/);
    }
  });

  it('refuses _meta without a protocolVersion string with -32602 (400)', async () => {
    const s = makeServer();
    for (const version of [undefined, 20260728, null]) {
      const meta: JsonObject = { [META.clientCapabilities]: {} };
      if (version !== undefined) meta[META.protocolVersion] = version;
      expect(await failure(s, statelessEnv(), 'tools/list', { _meta: meta })).toMatchObject({
        code: ErrorCode.InvalidParams,
        status: 400,
        message: `Missing _meta ${META.protocolVersion}`,
      });
    }
  });

  it('refuses _meta without clientCapabilities (an object) with -32602 (400)', async () => {
    const s = makeServer();
    for (const caps of [undefined, null, 'all', ['sampling']]) {
      const meta: JsonObject = { [META.protocolVersion]: STATELESS_VERSION };
      if (caps !== undefined) meta[META.clientCapabilities] = caps;
      expect(await failure(s, statelessEnv(), 'tools/list', { _meta: meta })).toMatchObject({ code: ErrorCode.InvalidParams, status: 400 });
    }
  });

  it('checks a _meta object on every request, even the same object that passed before', async () => {
    // The reader shares one frozen value among requests that sent the same _meta text; an object that passed
    // once may have changed since, and a frozen one that failed fails again.
    const s = makeServer();
    const meta: JsonObject = { [META.protocolVersion]: STATELESS_VERSION, [META.clientCapabilities]: {} };
    expect(await result(s, statelessEnv(), 'tools/list', { _meta: meta })).toMatchObject({ tools: [] });
    meta[META.protocolVersion] = '2099-01-01';
    expect(await failure(s, statelessEnv(), 'tools/list', { _meta: meta })).toMatchObject({ code: ErrorCode.UnsupportedProtocolVersion, status: 400 });
    const frozen = Object.freeze({ [META.protocolVersion]: STATELESS_VERSION, [META.clientCapabilities]: Object.freeze({}), [META.logLevel]: 'loud' });
    for (let i = 0; i < 2; i++) {
      expect(await failure(s, statelessEnv(), 'tools/list', { _meta: frozen })).toMatchObject({ code: ErrorCode.InvalidParams, message: `Unknown _meta ${META.logLevel} "loud"` });
    }
  });

  it('refuses a clientInfo that is not an object with -32602', async () => {
    const s = makeServer();
    expect((await failure(s, statelessEnv(), 'tools/list', p26({}, {}, { [META.clientInfo]: 'me' }))).code).toBe(ErrorCode.InvalidParams);
  });

  it.each(['2099-01-01', '2025-11-25', ''])('refuses the version %j with -32022 (400) and lists the supported ones', async (version) => {
    const s = makeServer();
    const meta = { [META.protocolVersion]: version, [META.clientCapabilities]: {} };
    expect(await failure(s, statelessEnv(), 'tools/list', { _meta: meta })).toEqual({
      status: 400,
      code: ErrorCode.UnsupportedProtocolVersion,
      message: `Unsupported protocol version ${JSON.stringify(version)}`,
      data: { supported: [...SUPPORTED_VERSIONS], requested: version },
    });
  });

  it.each(['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe', 'nope'])(
    'answers the method %s, which this era does not have, with -32601 (404)',
    async (method) => {
      const s = makeServer();
      expect(await failure(s, statelessEnv(), method, p26({ protocolVersion: '2025-11-25', level: 'info', uri: 'file:///x' }))).toMatchObject({
        code: ErrorCode.MethodNotFound,
        status: 404,
        message: `Method not found: ${method}`,
      });
    },
  );

  it('uses the 2026-07-28 era on a session that was not initialized when _meta names a version (stdio)', async () => {
    const s = makeServer();
    s.tool('t', {}, () => 'x');
    const env = legacyEnv(s);
    const res = await result(s, env, 'tools/call', p26({ name: 't' }));
    expect(res).toEqual({ content: [{ type: 'text', text: 'x' }], resultType: 'complete' });
    expect(env.session.protocolVersion).toBeUndefined();
  });

  it('refuses an id in flight on the same connection with -32600 (stdio)', async () => {
    const s = makeServer();
    const release = deferred();
    const started = deferred();
    s.tool('slow', {}, async () => {
      started.resolve();
      await release.promise;
      return 'x';
    });
    const env = legacyEnv(s);
    const first = rpc(s, env, 1, 'tools/call', p26({ name: 'slow' }));
    await started.promise;
    expect((await rpc(s, env, 1, 'tools/list', p26())).body.error.code).toBe(ErrorCode.InvalidRequest);
    release.resolve();
    expect((await first).body.result.resultType).toBe('complete');
    expect(env.session.inflight.size).toBe(0);
  });

  it('lets the transport check headers against the body', async () => {
    const s = makeServer();
    s.tool('t', {}, () => 'x');
    const calls: [string, unknown][] = [];
    const env = statelessEnv({
      checkHeaders: (method, params) => {
        calls.push([method, params['name']]);
        if (params['name'] === 't') throw new McpError(ErrorCode.HeaderMismatch, 'Mcp-Name does not match', undefined, 400);
      },
    });
    expect(await failure(s, env, 'tools/call', p26({ name: 't' }))).toMatchObject({ code: ErrorCode.HeaderMismatch, status: 400 });
    expect(calls).toEqual([['tools/call', 't']]);
  });

  it('filters ctx.log by _meta logLevel and sends no log without one', async () => {
    const s = makeServer();
    s.tool('logs', {}, (_args, ctx) => {
      for (const level of LOG_LEVELS) ctx.log(level, level);
      return 'ok';
    });
    const env = statelessEnv();
    await result(s, env, 'tools/call', p26({ name: 'logs' }));
    expect(env.channel.sent).toEqual([]);
    await result(s, env, 'tools/call', p26({ name: 'logs' }, {}, { [META.logLevel]: 'critical' }));
    expect(env.channel.sent.map((m) => m.params.level)).toEqual(['critical', 'alert', 'emergency']);
  });

  it('sends progress with a progressToken in _meta', async () => {
    const s = makeServer();
    s.tool('p', {}, (_args, ctx) => {
      ctx.progress(1);
      ctx.progress(1);
      ctx.progress(2);
      return 'ok';
    });
    const env = statelessEnv();
    await result(s, env, 'tools/call', p26({ name: 'p' }, {}, { progressToken: 'pt' }));
    expect(env.channel.sent.map((m) => [m.method, m.params.progress])).toEqual([
      ['notifications/progress', 1],
      ['notifications/progress', 2],
    ]);
  });

  it('gives the context the era, version, client info and capabilities from _meta, and no session', async () => {
    const s = makeServer();
    let seen: any;
    s.tool('who', {}, (_args, ctx) => {
      seen = { era: ctx.era, version: ctx.protocolVersion, sessionId: ctx.sessionId, clientInfo: ctx.clientInfo, elicit: ctx.hasCapability('elicitation') };
      return 'ok';
    });
    await result(s, statelessEnv(), 'tools/call', p26({ name: 'who' }, { elicitation: {} }, { [META.clientInfo]: { name: 'c', version: '1' } }));
    expect(seen).toEqual({ era: 'stateless', version: STATELESS_VERSION, sessionId: undefined, clientInfo: { name: 'c', version: '1' }, elicit: true });
  });
});

describe('2026-07-28 results', () => {
  function fullServer(options: Partial<McpServerOptions> = {}): McpServer {
    const s = makeServer(options);
    s.tool('t', {}, () => 'x');
    s.resource('file:///a', { name: 'a' }, () => 'a');
    s.resourceTemplate('users://{id}', { name: 'u', complete: { id: () => ['1'] } }, () => 'u');
    s.prompt('p', {}, () => ({ messages: [] }));
    return s;
  }

  const CALLS: [string, JsonObject, boolean][] = [
    ['server/discover', {}, true],
    ['tools/list', {}, true],
    ['resources/list', {}, true],
    ['resources/templates/list', {}, true],
    ['prompts/list', {}, true],
    ['resources/read', { uri: 'file:///a' }, true],
    ['resources/read', { uri: 'users://1' }, true],
    ['tools/call', { name: 't' }, false],
    ['prompts/get', { name: 'p' }, false],
    ['completion/complete', { ref: { type: 'ref/resource', uri: 'users://{id}' }, argument: { name: 'id', value: '' } }, false],
  ];

  it.each(CALLS)('%s %j has resultType "complete" and caching hints only where they belong', async (method, params, cacheable) => {
    const s = fullServer();
    const res = await result(s, statelessEnv(), method, p26(params));
    expect(res.resultType).toBe('complete');
    if (cacheable) expect(res).toMatchObject({ ttlMs: 0, cacheScope: 'public' });
    else expect(res.ttlMs === undefined && res.cacheScope === undefined).toBe(true);
  });

  it('uses listCache for list results, and "private" for an authenticated caller', async () => {
    const s = fullServer({ listCache: { ttlMs: 30_000, scope: 'public' } });
    expect(await result(s, statelessEnv(), 'tools/list', p26())).toMatchObject({ ttlMs: 30_000, cacheScope: 'public' });
    const auth = { subject: 'alice', scopes: [] };
    for (const method of ['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'server/discover']) {
      expect(await result(s, statelessEnv({ auth }), method, p26())).toMatchObject({ ttlMs: 30_000, cacheScope: 'private' });
    }
    expect(await result(s, statelessEnv({ auth }), 'resources/read', p26({ uri: 'file:///a' }))).toMatchObject({ cacheScope: 'private' });
  });

  it('has no resultType or caching hints in the legacy era', async () => {
    const s = fullServer();
    const env = await initialized(s);
    for (const [method, params] of CALLS.filter(([m]) => m !== 'server/discover')) {
      const res = await result(s, env, method, params);
      expect([res.resultType, res.ttlMs, res.cacheScope]).toEqual([undefined, undefined, undefined]);
    }
  });

  it('server/discover lists versions and capabilities, with serverInfo in _meta', async () => {
    const s = makeServer({ instructions: 'Read the docs', description: 'A test server' });
    expect(await result(s, statelessEnv(), 'server/discover', p26())).toEqual({
      supportedVersions: [...SUPPORTED_VERSIONS],
      capabilities: s.capabilities(),
      instructions: 'Read the docs',
      ttlMs: 0,
      cacheScope: 'public',
      resultType: 'complete',
      _meta: { [META.serverInfo]: { name: 'test-server', version: '1.2.3', description: 'A test server' } },
    });
    expect(SUPPORTED_VERSIONS[0]).toBe(STATELESS_VERSION);
  });

  it('server/discover leaves out instructions the server does not have', async () => {
    const res = await result(makeServer(), statelessEnv(), 'server/discover', p26());
    expect('instructions' in res).toBe(false);
    expect('serverInfo' in res).toBe(false);
  });

  // Known bug (dispatch.ts `stateless`, `runTool`, `normalizeResource`, `promptsGet`): the result
  // object a handler returns is sent as is and then written to: resultType (and for resources/read
  // ttlMs/cacheScope) are added to the caller's own object. A handler returning a shared constant
  // then leaks `resultType` into legacy-era results. Flip to `it` once dispatch copies the result.
  it('does not write resultType into the object a handler returned', async () => {
    const s = makeServer();
    const SHARED = { content: [{ type: 'text' as const, text: 'constant' }] };
    s.tool('const', {}, () => SHARED);
    await result(s, statelessEnv(), 'tools/call', p26({ name: 'const' }));
    expect(SHARED).toEqual({ content: [{ type: 'text', text: 'constant' }] });
    const env = await initialized(s);
    expect(await result(s, env, 'tools/call', { name: 'const' })).toEqual({ content: [{ type: 'text', text: 'constant' }] });
  });
});

describe('2026-07-28 multi-round-trip input requests', () => {
  function confirmTool(s: McpServer): { runs: () => number } {
    let runs = 0;
    s.tool('confirm', {}, async (_args, ctx) => {
      runs++;
      const answer = await ctx.elicit(ELICIT, 'confirm');
      return JSON.stringify(answer);
    });
    return { runs: () => runs };
  }

  const CAPS = { elicitation: {}, sampling: {}, roots: {} };

  it('round 1 answers input_required with the input requests and a requestState; round 2 completes', async () => {
    const s = makeServer();
    const { runs } = confirmTool(s);
    const env = statelessEnv();
    const round1 = await result(s, env, 'tools/call', p26({ name: 'confirm' }, CAPS));
    expect(round1).toEqual({
      resultType: 'input_required',
      inputRequests: { confirm: { method: 'elicitation/create', params: ELICIT } },
      requestState: expect.stringMatching(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/),
    });
    const round2 = await result(
      s,
      env,
      'tools/call',
      p26({ name: 'confirm', requestState: round1.requestState, inputResponses: { confirm: { action: 'accept', content: { ok: true } } } }, CAPS),
    );
    expect(round2).toEqual({ content: [{ type: 'text', text: '{"action":"accept","content":{"ok":true}}' }], resultType: 'complete' });
    expect(runs()).toBe(2);
    expect(env.channel.sent).toEqual([]);
  });

  it('accepts answers without a requestState, and answers wrapped as { result }', async () => {
    const s = makeServer();
    confirmTool(s);
    const res = await result(s, statelessEnv(), 'tools/call', p26({ name: 'confirm', inputResponses: { confirm: { result: { action: 'decline' } } } }, CAPS));
    expect(text(res)).toBe('{"action":"decline"}');
  });

  it('gives a first-round 2026-07-28 handler inputResponses {} of its own (mutable), and a legacy one none', async () => {
    const s = makeServer();
    const seen: unknown[] = [];
    s.tool('look', {}, (_args, ctx) => {
      const answers = ctx.inputResponses;
      seen.push(answers, ctx.inputResponses);
      if (answers !== undefined) answers['mine'] = 1;
      return 'x';
    });
    await result(s, statelessEnv(), 'tools/call', p26({ name: 'look' }, CAPS));
    await result(s, statelessEnv(), 'tools/call', p26({ name: 'look' }, CAPS));
    await result(s, await initialized(s), 'tools/call', { name: 'look' });
    expect(seen[0]).toEqual({ mine: 1 });
    expect(seen[1]).toBe(seen[0]); // the same object on every read within a request
    expect(seen[2]).toEqual({ mine: 1 });
    expect(seen[2]).not.toBe(seen[0]); // and a fresh one per request
    expect(seen.slice(4)).toEqual([undefined, undefined]);
  });

  it('keeps the answers of earlier rounds across several rounds', async () => {
    const s = makeServer();
    const seen: unknown[] = [];
    s.tool('three', {}, async (_args, ctx) => {
      const a = await ctx.elicit(ELICIT, 'a');
      const b = await ctx.sample({ messages: [], maxTokens: 5 }, 'b');
      const c = await ctx.listRoots('c');
      seen.push(ctx.inputResponses);
      return JSON.stringify({ a, b, c });
    });
    const env = statelessEnv();
    const call = (extra: JsonObject): Promise<any> => result(s, env, 'tools/call', p26({ name: 'three', ...extra }, CAPS));

    const r1 = await call({});
    expect(Object.keys(r1.inputRequests)).toEqual(['a']);
    const r2 = await call({ requestState: r1.requestState, inputResponses: { a: { action: 'accept', content: { ok: true } } } });
    expect(r2.resultType).toBe('input_required');
    expect(r2.inputRequests).toEqual({ b: { method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } } });
    // Only the new answer is sent; the first comes back from the requestState.
    const r3 = await call({ requestState: r2.requestState, inputResponses: { b: { role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'm' } } });
    expect(r3.inputRequests).toEqual({ c: { method: 'roots/list', params: {} } });
    const r4 = await call({ requestState: r3.requestState, inputResponses: { c: { roots: [] } } });
    expect(JSON.parse(text(r4))).toEqual({
      a: { action: 'accept', content: { ok: true } },
      b: { role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'm' },
      c: { roots: [] },
    });
    expect(seen).toHaveLength(1);
    expect(Object.keys(seen[0] as object).sort()).toEqual(['a', 'b', 'c']);
  });

  it('asks for several inputs at once with ctx.input, and only for those still missing', async () => {
    const s = makeServer();
    s.tool('two', {}, async (_args, ctx) =>
      JSON.stringify(await ctx.input({ x: { method: 'elicitation/create', params: ELICIT }, y: { method: 'roots/list', params: {} } })),
    );
    const env = statelessEnv();
    const r1 = await result(s, env, 'tools/call', p26({ name: 'two' }, CAPS));
    expect(Object.keys(r1.inputRequests)).toEqual(['x', 'y']);
    const r2 = await result(s, env, 'tools/call', p26({ name: 'two', requestState: r1.requestState, inputResponses: { y: { roots: [] } } }, CAPS));
    expect(r2.inputRequests).toEqual({ x: { method: 'elicitation/create', params: ELICIT } });
    const r3 = await result(s, env, 'tools/call', p26({ name: 'two', requestState: r2.requestState, inputResponses: { x: { action: 'cancel' } } }, CAPS));
    expect(JSON.parse(text(r3))).toEqual({ x: { action: 'cancel' }, y: { roots: [] } });
  });

  it('names automatic keys by kind so rounds line up', async () => {
    const s = makeServer();
    s.tool('auto', {}, async (_args, ctx) => {
      await ctx.sample({ messages: [] });
      await ctx.elicit(ELICIT);
      return 'ok';
    });
    const env = statelessEnv();
    const r1 = await result(s, env, 'tools/call', p26({ name: 'auto' }, CAPS));
    const [first] = Object.keys(r1.inputRequests);
    expect(first).toMatch(/^sampling_/);
    const r2 = await result(s, env, 'tools/call', p26({ name: 'auto', requestState: r1.requestState, inputResponses: { [first!]: { model: 'm' } } }, CAPS));
    const [second] = Object.keys(r2.inputRequests);
    expect(second).toMatch(/^elicitation_/);
    const r3 = await result(s, env, 'tools/call', p26({ name: 'auto', requestState: r2.requestState, inputResponses: { [second!]: { action: 'accept' } } }, CAPS));
    expect(text(r3)).toBe('ok');
  });

  it('re-requests answers that are not objects', async () => {
    const s = makeServer();
    confirmTool(s);
    const env = statelessEnv();
    const r1 = await result(s, env, 'tools/call', p26({ name: 'confirm' }, CAPS));
    for (const bad of ['yes', 1, null, [{ action: 'accept' }], true]) {
      const again = await result(s, env, 'tools/call', p26({ name: 'confirm', requestState: r1.requestState, inputResponses: { confirm: bad } }, CAPS));
      expect(again.resultType).toBe('input_required');
      expect(Object.keys(again.inputRequests)).toEqual(['confirm']);
    }
  });

  it('answers a tampered requestState with -32602', async () => {
    const s = makeServer();
    confirmTool(s);
    const env = statelessEnv();
    const { requestState } = await result(s, env, 'tools/call', p26({ name: 'confirm' }, CAPS));
    const [body, signature] = (requestState as string).split('.');
    const tampered = [
      `${body}.${signature!.slice(0, -1)}${signature!.endsWith('A') ? 'B' : 'A'}`,
      `${body!.slice(1)}.${signature}`,
      `${body}x.${signature}`,
      'nonsense',
      42,
      { state: 1 },
    ];
    for (const token of tampered) {
      const err = await failure(s, env, 'tools/call', p26({ name: 'confirm', requestState: token, inputResponses: { confirm: { action: 'accept' } } }, CAPS));
      expect(err).toMatchObject({ code: ErrorCode.InvalidParams, status: 400 });
      expect(err.message).toMatch(/^Invalid requestState \((malformed|bad_signature)\)$/);
    }
  });

  it('answers a requestState signed by another server with -32602', async () => {
    const a = makeServer();
    const b = makeServer();
    confirmTool(a);
    confirmTool(b);
    const { requestState } = await result(a, statelessEnv(), 'tools/call', p26({ name: 'confirm' }, CAPS));
    expect(await failure(b, statelessEnv(), 'tools/call', p26({ name: 'confirm', requestState }, CAPS))).toMatchObject({
      code: ErrorCode.InvalidParams,
      data: { reason: 'bad_signature' },
    });
  });

  it('answers an expired requestState with -32602', async () => {
    const s = makeServer({ requestStateTtlMs: 1 });
    confirmTool(s);
    const { requestState } = await result(s, statelessEnv(), 'tools/call', p26({ name: 'confirm' }, CAPS));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await failure(s, statelessEnv(), 'tools/call', p26({ name: 'confirm', requestState }, CAPS))).toMatchObject({
      code: ErrorCode.InvalidParams,
      data: { reason: 'expired' },
    });
  });

  it('answers the requestState of another tool, method or resource with -32602', async () => {
    const s = makeServer();
    confirmTool(s);
    s.tool('other', {}, async (_args, ctx) => JSON.stringify(await ctx.elicit(ELICIT, 'confirm')));
    s.prompt('confirm', {}, async (_args, ctx) => {
      await ctx.elicit(ELICIT, 'confirm');
      return { messages: [] };
    });
    s.resourceTemplate('doc://{id}', { name: 'doc' }, async (_uri, _vars, ctx) => JSON.stringify(await ctx.elicit(ELICIT, 'confirm')));
    const env = statelessEnv();
    const { requestState } = await result(s, env, 'tools/call', p26({ name: 'confirm' }, CAPS));
    const answers = { confirm: { action: 'accept' } };
    const message = 'requestState belongs to a different request';
    expect(await failure(s, env, 'tools/call', p26({ name: 'other', requestState, inputResponses: answers }, CAPS))).toMatchObject({ code: ErrorCode.InvalidParams, message });
    expect(await failure(s, env, 'prompts/get', p26({ name: 'confirm', requestState, inputResponses: answers }, CAPS))).toMatchObject({ code: ErrorCode.InvalidParams, message });
    const doc1 = await result(s, env, 'resources/read', p26({ uri: 'doc://1' }, CAPS));
    expect(doc1.resultType).toBe('input_required');
    expect(await failure(s, env, 'resources/read', p26({ uri: 'doc://2', requestState: doc1.requestState }, CAPS))).toMatchObject({ message });
  });

  it('answers a list cursor passed as requestState with -32602 (wrong purpose)', async () => {
    const s = makeServer({ pageSize: 1 });
    confirmTool(s);
    s.tool('second', {}, () => 'x');
    const env = statelessEnv();
    const { nextCursor } = await result(s, env, 'tools/list', p26());
    expect(await failure(s, env, 'tools/call', p26({ name: 'confirm', requestState: nextCursor }, CAPS))).toMatchObject({
      code: ErrorCode.InvalidParams,
      data: { reason: 'wrong_purpose' },
    });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [{ action: 'accept' }]],
    ['a string', 'accept'],
  ])('answers inputResponses that are %s with -32602', async (_name, inputResponses) => {
    const s = makeServer();
    confirmTool(s);
    expect(await failure(s, statelessEnv(), 'tools/call', p26({ name: 'confirm', inputResponses }, CAPS))).toMatchObject({
      code: ErrorCode.InvalidParams,
      status: 400,
    });
  });

  it('answers a missing client capability with -32021 (400) and data.requiredCapabilities', async () => {
    const s = makeServer();
    confirmTool(s);
    s.tool('sample', {}, async (_args, ctx) => JSON.stringify(await ctx.sample({ messages: [] })));
    s.tool('roots', {}, async (_args, ctx) => JSON.stringify(await ctx.listRoots()));
    const env = statelessEnv();
    for (const [tool, cap] of [['confirm', 'elicitation'], ['sample', 'sampling'], ['roots', 'roots']] as const) {
      expect(await failure(s, env, 'tools/call', p26({ name: tool }, {}))).toEqual({
        status: 400,
        code: ErrorCode.MissingRequiredClientCapability,
        message: `Missing required client capability: ${cap}`,
        data: { requiredCapabilities: { [cap]: {} } },
      });
    }
  });

  it('carries the state passed to ctx.input to the next round as ctx.state', async () => {
    const s = makeServer();
    const states: unknown[] = [];
    s.tool('stateful', {}, async (_args, ctx) => {
      states.push(ctx.state);
      const step = (ctx.state as { step?: number } | undefined)?.step ?? 0;
      if (step === 0) await ctx.input({ first: { method: 'elicitation/create', params: ELICIT } }, { step: 1, started: 'x' });
      // Without a new state, the one of the round before travels on.
      const answers = await ctx.input({ second: { method: 'roots/list', params: {} } });
      return JSON.stringify({ answers, state: ctx.state });
    });
    const env = statelessEnv();
    const r1 = await result(s, env, 'tools/call', p26({ name: 'stateful' }, CAPS));
    expect(Object.keys(r1.inputRequests)).toEqual(['first']);
    const r2 = await result(s, env, 'tools/call', p26({ name: 'stateful', requestState: r1.requestState, inputResponses: { first: { action: 'accept' } } }, CAPS));
    expect(Object.keys(r2.inputRequests)).toEqual(['second']);
    const r3 = await result(s, env, 'tools/call', p26({ name: 'stateful', requestState: r2.requestState, inputResponses: { second: { roots: [] } } }, CAPS));
    expect(JSON.parse(text(r3))).toEqual({ answers: { second: { roots: [] } }, state: { step: 1, started: 'x' } });
    expect(states).toEqual([undefined, { step: 1, started: 'x' }, { step: 1, started: 'x' }]);
  });

  it('works for prompts/get and resources/read as well, without caching hints on input_required', async () => {
    const s = makeServer();
    s.prompt('ask', {}, async (_args, ctx) => {
      const a = await ctx.elicit(ELICIT, 'q');
      return { messages: [{ role: 'user', content: { type: 'text', text: JSON.stringify(a) } }] };
    });
    s.resourceTemplate('doc://{id}', { name: 'doc' }, async (_uri, vars, ctx) => `${vars['id']}:${JSON.stringify(await ctx.listRoots('r'))}`);
    const env = statelessEnv();
    const p1 = await result(s, env, 'prompts/get', p26({ name: 'ask' }, CAPS));
    expect(p1.resultType).toBe('input_required');
    const p2 = await result(s, env, 'prompts/get', p26({ name: 'ask', requestState: p1.requestState, inputResponses: { q: { action: 'accept' } } }, CAPS));
    expect(p2).toEqual({ messages: [{ role: 'user', content: { type: 'text', text: '{"action":"accept"}' } }], resultType: 'complete' });
    const d1 = await result(s, env, 'resources/read', p26({ uri: 'doc://7' }, CAPS));
    expect(d1).toEqual({ resultType: 'input_required', inputRequests: { r: { method: 'roots/list', params: {} } }, requestState: expect.any(String) });
    const d2 = await result(s, env, 'resources/read', p26({ uri: 'doc://7', requestState: d1.requestState, inputResponses: { r: { roots: [] } } }, CAPS));
    expect(d2).toEqual({ contents: [{ uri: 'doc://7', text: '7:{"roots":[]}' }], ttlMs: 0, cacheScope: 'public', resultType: 'complete' });
  });

  it('reports a handler error as isError even in a later round', async () => {
    const s = makeServer();
    s.tool('fails', {}, async (_args, ctx) => {
      await ctx.elicit(ELICIT, 'x');
      throw new Error('then it broke');
    });
    const env = statelessEnv();
    const r1 = await result(s, env, 'tools/call', p26({ name: 'fails' }, CAPS));
    const r2 = await result(s, env, 'tools/call', p26({ name: 'fails', requestState: r1.requestState, inputResponses: { x: { action: 'accept' } } }, CAPS));
    expect(r2).toEqual({ content: [{ type: 'text', text: 'then it broke' }], isError: true, resultType: 'complete' });
  });
});

describe('2026-07-28 subscriptions/listen', () => {
  function listening(filter: unknown, id: number | string = 'sub-1'): { s: McpServer; env: RequestEnv & { channel: FakeChannel }; stop: AbortController; done: Promise<Rpc> } {
    const s = makeServer();
    const stop = new AbortController();
    const env = statelessEnv({ signal: stop.signal });
    const done = rpc(s, env, id, 'subscriptions/listen', p26({ notifications: filter }));
    return { s, env, stop, done };
  }

  it('acknowledges the part of the filter it honours, tagged with the subscription id', async () => {
    const { env, stop, done } = listening({
      toolsListChanged: true,
      promptsListChanged: false,
      resourcesListChanged: 'yes',
      resourceSubscriptions: ['file:///a', 7, 'file:///b'],
      somethingElse: true,
    });
    expect(await env.channel.next()).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: {
        notifications: { toolsListChanged: true, resourceSubscriptions: ['file:///a', 'file:///b'] },
        _meta: { [META.subscriptionId]: 'sub-1' },
      },
    });
    stop.abort();
    await done;
  });

  it('forwards only the notifications the filter asked for, and ends with a result when its signal aborts', async () => {
    const { s, env, stop, done } = listening({ toolsListChanged: true, resourcesListChanged: true, resourceSubscriptions: ['file:///watched'] }, 42);
    await env.channel.next(); // acknowledged
    const tag = { [META.subscriptionId]: 42 };
    s.tool('t', {}, () => 'x'); // tools: wanted
    s.prompt('p', {}, () => ({ messages: [] })); // prompts: not wanted
    s.resourceTemplate('x://{a}', { name: 'x' }, () => ''); // templates count as resources
    s.notifyResourceUpdated('file:///other'); // not watched
    s.notifyResourceUpdated('file:///watched');
    expect(env.channel.sent.slice(1)).toEqual([
      { jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: tag } },
      { jsonrpc: '2.0', method: 'notifications/resources/list_changed', params: { _meta: tag } },
      { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'file:///watched', _meta: tag } },
    ]);
    stop.abort();
    expect(await done).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 42, result: { _meta: tag, resultType: 'complete' } } });
    // After the end nothing more is forwarded.
    const before = env.channel.sent.length;
    s.tool('u', {}, () => 'x');
    s.notifyResourceUpdated('file:///watched');
    expect(env.channel.sent).toHaveLength(before);
  });

  it('forwards nothing for an empty filter', async () => {
    const { s, env, stop, done } = listening({});
    expect((await env.channel.next()).params.notifications).toEqual({});
    s.tool('t', {}, () => 'x');
    s.notifyResourceUpdated('file:///a');
    stop.abort();
    await done;
    expect(env.channel.sent).toHaveLength(1);
  });

  it('sends nothing on a closed channel', async () => {
    const { s, env, stop, done } = listening({ toolsListChanged: true });
    await env.channel.next();
    env.channel.open = false;
    s.tool('t', {}, () => 'x');
    stop.abort();
    await done;
    expect(env.channel.sent).toHaveLength(1);
  });

  it('ends when the session closes (stdio), with no reply (nobody is left to read it)', async () => {
    const s = makeServer();
    const env = legacyEnv(s);
    const done = rpc(s, env, 3, 'subscriptions/listen', p26({ notifications: { promptsListChanged: true } }));
    await env.channel.next();
    s.prompt('p', {}, () => ({ messages: [] }));
    expect((await env.channel.next()).method).toBe('notifications/prompts/list_changed');
    env.session.close();
    expect((await done).body).toBeNull();
  });

  it('refuses a request without a notifications object with -32602', async () => {
    const s = makeServer();
    for (const notifications of [undefined, null, ['toolsListChanged'], true]) {
      const err = await failure(s, statelessEnv(), 'subscriptions/listen', p26(notifications === undefined ? {} : { notifications }));
      expect(err).toMatchObject({ code: ErrorCode.InvalidParams, status: 400 });
    }
  });
});

// ---- cancellation and log levels, edge cases ----------------------------------------------------

describe('cancellation and log levels, edge cases', () => {
  // A cancelled request gets no reply at all, also when its handler rejects on abort (as handlers
  // that honour ctx.signal do): the spec says not to answer a cancelled request.
  it('sends no reply to a cancelled resources/read whose handler rejects on abort', async () => {
    const s = makeServer();
    const started = deferred();
    s.resource('file:///slow', { name: 'slow' }, (_uri, ctx) => {
      started.resolve();
      return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
    });
    const env = await initialized(s);
    const pending = rpc(s, env, 1, 'resources/read', { uri: 'file:///slow' });
    await started.promise;
    handleNotification(env, 'notifications/cancelled', { requestId: 1 });
    expect((await pending).body).toBeNull();
  });

  // dispatch.ts `stateless`: over stdio a 2026-07-28 request can be cancelled (it is put in the
  // session's in-flight map), but its reply is sent anyway (an isError "Cancelled" tool result).
  it('sends no reply to a cancelled 2026-07-28 request on a stdio connection', async () => {
    const s = makeServer();
    const started = deferred();
    s.tool('slow', {}, async (_args, ctx) => {
      started.resolve();
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      return 'late';
    });
    const env = legacyEnv(s);
    const pending = rpc(s, env, 1, 'tools/call', p26({ name: 'slow' }));
    await started.promise;
    handleNotification(env, 'notifications/cancelled', { requestId: 1 });
    expect((await pending).body).toBeNull();
  });

  // dispatch.ts `context`: an unknown _meta logLevel becomes rank 0, so the client gets every level
  // (debug included) instead of an invalid-params error or no logs.
  it('does not turn an unknown _meta logLevel into "send everything"', async () => {
    const s = makeServer();
    s.tool('logs', {}, (_args, ctx) => {
      ctx.log('debug', 'noise');
      return 'ok';
    });
    const env = statelessEnv();
    const reply = await rpc(s, env, 1, 'tools/call', p26({ name: 'logs' }, {}, { [META.logLevel]: 'verbose' }));
    expect(reply.body.error).toMatchObject({ code: ErrorCode.InvalidParams });
    expect(reply.status).toBe(400);
    expect(env.channel.sent).toEqual([]);
  });
});

// ---- ids as written, callers, completion context, validated output --------------------------------

describe('request ids, callers and validated values', () => {
  it('cancels a request whose id was written with escapes, by the id value', async () => {
    const s = makeServer();
    const started = deferred();
    s.tool('block', {}, (_args, ctx) => {
      started.resolve();
      return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(`aborted: ${(ctx.signal.reason as Error).message}`), { once: true }));
    });
    const env = await initialized(s);
    // The id token as the client wrote it: "a\u0062" is the string "ab".
    const reply = handleRequest(s, env, '"a\\u0062"', 'tools/call', { name: 'block' });
    await started.promise;
    handleNotification(env, 'notifications/cancelled', { requestId: 'ab', reason: 'stop' });
    expect((await reply).json).toBeNull();
  });

  it('refuses a requestState issued to another authenticated caller', async () => {
    const s = makeServer();
    s.tool('ask', {}, async (_args, ctx) => {
      const answer = await ctx.elicit(ELICIT, 'q');
      return `got ${answer.action}`;
    });
    const alice = statelessEnv({ auth: { subject: 'alice', scopes: [] } });
    const first = await result(s, alice, 'tools/call', p26({ name: 'ask' }, ALL_CAPS));
    expect(first.resultType).toBe('input_required');
    const retry = p26({ name: 'ask', requestState: first.requestState, inputResponses: { q: { action: 'accept', content: {} } } }, ALL_CAPS);
    const mallory = statelessEnv({ auth: { subject: 'mallory', scopes: [] } });
    expect(await failure(s, mallory, 'tools/call', retry)).toMatchObject({ code: ErrorCode.InvalidParams, status: 400, message: 'requestState belongs to a different caller' });
    expect(await failure(s, statelessEnv(), 'tools/call', retry)).toMatchObject({ code: ErrorCode.InvalidParams });
    expect(text(await result(s, alice, 'tools/call', retry))).toBe('got accept');
  });

  it('refuses completion context arguments that are not strings', async () => {
    const s = makeServer();
    s.prompt('p', { arguments: [{ name: 'a' }], complete: { a: () => ['x'] } }, () => ({ messages: [] }));
    const env = await initialized(s);
    const params = { ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'a', value: '' } };
    expect((await result(s, env, 'completion/complete', { ...params, context: { arguments: { b: 'ok' } } })).completion.values).toEqual(['x']);
    for (const args of [{ b: 1 }, ['b'], 'b']) {
      expect(await failure(s, env, 'completion/complete', { ...params, context: { arguments: args } })).toMatchObject({ code: ErrorCode.InvalidParams });
    }
  });

  it('sends the structuredContent its outputSchema produced (zod defaults filled in)', async () => {
    const s = makeServer();
    s.tool('stats', { outputSchema: z.object({ n: z.number(), unit: z.string().default('ms') }) }, () => ({ content: [], structuredContent: { n: 3 } }));
    const env = await initialized(s);
    expect((await result(s, env, 'tools/call', { name: 'stats' })).structuredContent).toEqual({ n: 3, unit: 'ms' });
    const listed = (await result(s, env, 'tools/list')).tools[0].outputSchema;
    expect(listed.required).toEqual(['n', 'unit']);
  });

  it('turns an input schema that throws while checking into an isError result', async () => {
    const s = makeServer();
    const throwing = z.object({ a: z.string() }).superRefine(() => {
      throw new Error('refinement blew up');
    });
    s.tool('t', { inputSchema: throwing }, () => 'never');
    const env = await initialized(s);
    const res = await result(s, env, 'tools/call', { name: 't', arguments: { a: 'x' } });
    expect(res.isError).toBe(true);
    expect(text(res)).toContain('refinement blew up');
  });
});

describe('URL-mode elicitation', () => {
  it('sends notifications/elicitation/complete, and -32042 carries the elicitations to complete', async () => {
    const { urlElicitationRequired } = await import('../../src/server/errors.js');
    const s = makeServer();
    const url = { mode: 'url', elicitationId: 'e1', url: 'https://example.com/connect', message: 'Connect your account' };
    s.tool('connect', {}, async (_args, ctx) => {
      const answer = await ctx.elicit(url);
      ctx.elicitationComplete('e1');
      return `user ${answer.action}`;
    });
    s.tool('needs_login', {}, () => {
      throw urlElicitationRequired([url]);
    });
    const env = await initialized(s, { elicitation: { url: {} } });
    const reply = rpc(s, env, 5, 'tools/call', { name: 'connect' });
    const sent = await env.channel.next();
    expect(sent).toMatchObject({ method: 'elicitation/create', params: url });
    env.session.resolveResponse(String(sent.id), { id: sent.id, result: { action: 'accept' } });
    expect(text((await reply).body.result)).toBe('user accept');
    expect(await env.channel.next()).toEqual({ jsonrpc: '2.0', method: 'notifications/elicitation/complete', params: { elicitationId: 'e1' } });
    expect(await failure(s, env, 'tools/call', { name: 'needs_login' })).toMatchObject({ code: -32042, data: { elicitations: [url] } });
  });
});
