// src/server/tasks.ts and the task paths of src/server/dispatch.ts: the TaskStore on its own
// (states, timestamps, ttl expiry with an injected clock, bounds, scoping, cancellation, input), the
// wire shapes of both dialects, and tools/call + tasks/* through handleRequest in the 2026-07-28 era
// (extension io.modelcontextprotocol/tasks: gating, flat shapes, tasks/update, MRTR before the task)
// and the 2025-11-25 era (params.task, tasks/get|result|list|cancel, notifications/tasks/status,
// requests to the client from a task, per-session scoping).
import { afterEach, describe, expect, it } from 'vitest';
import { handleNotification, handleRequest } from '../../src/server/dispatch.js';
import type { RequestEnv } from '../../src/server/dispatch.js';
import { McpError } from '../../src/server/errors.js';
import { ErrorCode, META, STATELESS_VERSION } from '../../src/server/protocol.js';
import { McpServer } from '../../src/server/server.js';
import type { McpServerOptions } from '../../src/server/server.js';
import { Session } from '../../src/server/session.js';
import {
  RELATED_TASK_META,
  TASKS_EXTENSION,
  TaskRoute,
  TaskStore,
  createTaskResult,
  declaresTasks,
  detailedTask,
  legacyTask,
  statelessTask,
} from '../../src/server/tasks.js';
import type { AuthPrincipal, JsonObject } from '../../src/server/types.js';
import { FakeChannel } from './helpers/fake-channel.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

// ---- fakes and helpers ---------------------------------------------------------------------------


/** A clock the test moves by hand. */
function clock(start = Date.UTC(2026, 0, 1)): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves once `check` holds, polling every few milliseconds (fails after 2 s). */
async function until(check: () => boolean | Promise<boolean>, what = 'condition'): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const servers: McpServer[] = [];

function makeServer(options: Partial<McpServerOptions> = {}): McpServer {
  const server = new McpServer({ name: 'test-server', version: '1.2.3', ...options });
  servers.push(server);
  return server;
}

// Tasks left running (60 s waits) are cancelled, so no handler outlives its test.
afterEach(() => {
  for (const server of servers.splice(0)) server.tasks?.cancelAll();
});

async function rpc(server: McpServer, env: RequestEnv, method: string, params?: unknown, id: number | string = 1): Promise<any> {
  const reply = await handleRequest(server, env, JSON.stringify(id), method, params);
  return { status: reply.status, ...(reply.json === null ? {} : JSON.parse(reply.json)) };
}

async function result(server: McpServer, env: RequestEnv, method: string, params?: unknown): Promise<any> {
  const reply = await rpc(server, env, method, params);
  if (reply.result === undefined) throw new Error(`expected a result, got ${JSON.stringify(reply)}`);
  return reply.result;
}

async function failure(server: McpServer, env: RequestEnv, method: string, params?: unknown): Promise<any> {
  const reply = await rpc(server, env, method, params);
  if (reply.error === undefined) throw new Error(`expected an error, got ${JSON.stringify(reply)}`);
  return { status: reply.status, ...reply.error };
}

const EXT = { extensions: { [TASKS_EXTENSION]: {} } };
const ELICIT_EXT = { elicitation: {}, ...EXT };

/** params with a 2026-07-28 `_meta`. */
function p26(params: JsonObject = {}, capabilities: JsonObject = EXT): JsonObject {
  return { ...params, _meta: { [META.protocolVersion]: STATELESS_VERSION, [META.clientCapabilities]: capabilities } };
}

function statelessEnv(auth?: AuthPrincipal): RequestEnv {
  return { session: undefined, channel: new FakeChannel(), auth, signal: undefined };
}

interface LegacyEnv extends RequestEnv {
  session: Session;
  channel: FakeChannel;
}

/** A legacy session after initialize; its standalone stream is `standalone`. */
async function legacySession(server: McpServer, protocolVersion = '2025-11-25', capabilities: JsonObject = {}): Promise<LegacyEnv & { standalone: FakeChannel }> {
  const session = new Session({ requestTimeoutMs: 5000 });
  const standalone = new FakeChannel();
  session.standalone = standalone;
  const env = { session, channel: new FakeChannel(), auth: undefined, signal: undefined, standalone };
  const init = await rpc(server, env, 'initialize', { protocolVersion, capabilities, clientInfo: { name: 'c', version: '0' } }, 0);
  expect(init.result.protocolVersion).toBe(protocolVersion);
  handleNotification(env, 'notifications/initialized', undefined);
  return env;
}

/** Another request of the same legacy session, with its own response channel. */
function sameSession(env: LegacyEnv): LegacyEnv {
  return { ...env, channel: new FakeChannel() };
}

/** A server with the demo-like task tools used below. */
function taskServer(options: Partial<McpServerOptions> = {}): McpServer {
  const s = makeServer(options);
  s.tool('sync', { description: 'never a task' }, () => 'sync done');
  s.tool('quick', { execution: { taskSupport: 'optional' } }, () => 'quick done');
  s.tool(
    'wait',
    { execution: { taskSupport: 'optional' }, inputSchema: { type: 'object', properties: { ms: { type: 'number' } } } },
    async ({ ms }: { ms?: number }, ctx) => {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, ms ?? 60_000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new Error('aborted'));
        });
      });
      return 'waited';
    },
  );
  s.tool('must', { execution: { taskSupport: 'required' } }, () => 'must done');
  s.tool('tool_error', { execution: { taskSupport: 'optional' } }, () => {
    throw new Error('tool broke');
  });
  s.tool('protocol_error', { execution: { taskSupport: 'optional' } }, () => {
    throw new McpError(-32603, 'protocol broke', { why: 'test' });
  });
  s.tool('ask', { execution: { taskSupport: 'optional' } }, async (_args, ctx) => {
    const answer = await ctx.elicit({ message: 'Sure?', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } } }, 'confirm');
    return `answer=${JSON.stringify(answer.content ?? null)}`;
  });
  s.tool('ask_two', { execution: { taskSupport: 'optional' } }, async (_args, ctx) => {
    const form = { message: 'x', requestedSchema: { type: 'object', properties: {} } };
    const answers = await ctx.input({ a: { method: 'elicitation/create', params: form }, b: { method: 'elicitation/create', params: form } });
    return `a=${JSON.stringify(answers['a']!['content'])} b=${JSON.stringify(answers['b']!['content'])}`;
  });
  return s;
}

// ---- the store ----------------------------------------------------------------------------------

describe('TaskStore', () => {
  it('creates working tasks with ISO timestamps, a random id, the default ttl and poll interval', () => {
    const c = clock();
    const store = new TaskStore({ now: c.now, defaultTtlMs: 1000, pollIntervalMs: 250 });
    const a = store.create('o');
    const b = store.create('o');
    expect(a.taskId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.taskId).not.toBe(b.taskId);
    expect([a.status, a.ttlMs, a.pollIntervalMs, a.createdAt, a.lastUpdatedAt]).toEqual(['working', 1000, 250, c.now(), c.now()]);
    expect(legacyTask(a)).toEqual({
      taskId: a.taskId,
      status: 'working',
      createdAt: '2026-01-01T00:00:00.000Z',
      lastUpdatedAt: '2026-01-01T00:00:00.000Z',
      ttl: 1000,
      pollInterval: 250,
    });
  });

  it('clamps a requested ttl to 1..maxTtlMs and ignores nonsense', () => {
    const store = new TaskStore({ defaultTtlMs: 500, maxTtlMs: 10_000 });
    expect(store.create('o', { ttlMs: 2500.7 }).ttlMs).toBe(2500);
    expect(store.create('o', { ttlMs: 1e9 }).ttlMs).toBe(10_000);
    for (const ttlMs of [0, -5, Number.NaN, Infinity]) expect(store.create('o', { ttlMs }).ttlMs).toBe(500);
  });

  it.each([
    [{ maxTasks: 0 }],
    [{ defaultTtlMs: 1.5 }],
    [{ maxTtlMs: -1 }],
    [{ pollIntervalMs: Number.NaN }],
  ])('refuses the options %j', (options) => {
    expect(() => new TaskStore(options)).toThrow(RangeError);
  });

  it('shows a task to its owner only', () => {
    const store = new TaskStore();
    const task = store.create('alice');
    expect(store.get(task.taskId, 'alice')).toBe(task);
    expect(store.get(task.taskId, 'bob')).toBeUndefined();
    expect(() => store.require(task.taskId, 'bob')).toThrow(expect.objectContaining({ code: ErrorCode.InvalidParams }));
    expect(() => store.require(42, 'alice')).toThrow(expect.objectContaining({ code: ErrorCode.InvalidParams }));
    expect(store.get('no-such-task', 'alice')).toBeUndefined();
  });

  it('keeps an ended task for its ttl after the end, then forgets it', () => {
    const c = clock();
    const store = new TaskStore({ now: c.now });
    const task = store.create('o', { ttlMs: 1000 });
    c.advance(5000); // running tasks do not expire
    expect(store.get(task.taskId, 'o')).toBe(task);
    store.complete(task, { content: [] });
    expect(task.endedAt).toBe(c.now());
    c.advance(999);
    expect(store.get(task.taskId, 'o')?.result).toEqual({ content: [] });
    c.advance(1);
    expect(store.get(task.taskId, 'o')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('records the first end only: terminal states never change', () => {
    const store = new TaskStore();
    const task = store.create('o');
    expect(store.cancel(task)).toBe(true);
    store.complete(task, { content: [] });
    store.fail(task, { code: -1, message: 'x' });
    expect(store.cancel(task)).toBe(false);
    expect([task.status, task.result, task.error, task.statusMessage]).toEqual(['cancelled', undefined, undefined, 'Cancelled by the client']);
  });

  it('aborts the handler signal on cancel and wakes waiters', async () => {
    const store = new TaskStore();
    const task = store.create('o');
    const ended = store.ended(task);
    expect(task.signal.aborted).toBe(false);
    store.cancel(task, 'stop');
    await ended;
    expect(task.signal.aborted).toBe(true);
    expect((task.signal.reason as Error).message).toBe('stop');
  });

  it('ended() rejects when the waiting request is aborted', async () => {
    const store = new TaskStore();
    const task = store.create('o');
    const controller = new AbortController();
    const waiting = store.ended(task, controller.signal);
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(task.status).toBe('working');
  });

  it('refuses a task beyond maxTasks instead of evicting one before its ttl', () => {
    const c = clock();
    const store = new TaskStore({ maxTasks: 2, now: c.now });
    const a = store.create('o', { ttlMs: 100 });
    store.create('o');
    expect(() => store.create('o')).toThrow(expect.objectContaining({ code: ErrorCode.InternalError, data: { maxTasks: 2 } }));
    store.complete(a, { content: [] });
    expect(() => store.create('o')).toThrow(McpError);
    c.advance(100);
    expect(store.create('o').status).toBe('working');
  });

  it('lists an owner\'s tasks oldest first, in pages', () => {
    const store = new TaskStore();
    const mine = [store.create('me'), store.create('me')];
    store.create('other');
    mine.push(store.create('me'));
    const first = store.list('me', -1, 2);
    expect(first.tasks).toEqual(mine.slice(0, 2));
    expect(first.last).toBe(mine[1]!.seq);
    expect(store.list('me', first.last!, 2)).toEqual({ tasks: [mine[2]], last: undefined });
    expect(store.list('nobody', -1, 2)).toEqual({ tasks: [], last: undefined });
  });

  it('takes answers for pending inputs only, and is working again once all are in', () => {
    const store = new TaskStore();
    const task = store.create('o');
    const statuses: string[] = [];
    task.onStatus = (t) => statuses.push(`${t.status}:${t.statusMessage ?? ''}`);
    const form = { method: 'elicitation/create' as const, params: {} };
    store.requireInput(task, { a: form, b: form });
    store.answer(task, { a: 12, zzz: { x: 1 } }); // not an object / not asked: ignored
    expect(Object.keys(task.pending)).toEqual(['a', 'b']);
    store.answer(task, { a: { action: 'accept' } });
    expect([task.status, Object.keys(task.pending)]).toEqual(['input_required', ['b']]);
    store.answer(task, { b: { action: 'decline' } });
    expect(task.status).toBe('working');
    expect(task.answers).toEqual({ a: { action: 'accept' }, b: { action: 'decline' } });
    expect(statuses).toEqual(['input_required:Waiting for input: a, b', 'input_required:Waiting for input: b', 'working:']);
  });

  it('cancels a task that waited a whole ttl for input', () => {
    const c = clock();
    const store = new TaskStore({ now: c.now });
    const task = store.create('o', { ttlMs: 1000 });
    store.requireInput(task, { a: { method: 'roots/list', params: {} } });
    c.advance(999);
    expect(store.get(task.taskId, 'o')?.status).toBe('input_required');
    c.advance(1);
    expect(store.get(task.taskId, 'o')?.status).toBe('cancelled');
    expect(task.signal.aborted).toBe(true);
  });

  it('cancels and drops the running tasks of an owner that is gone', () => {
    let gone = false;
    const store = new TaskStore();
    const task = store.create('o', { ownerGone: () => gone });
    gone = true;
    expect(store.get(task.taskId, 'o')).toBeUndefined();
    expect([task.status, task.signal.aborted]).toEqual(['cancelled', true]);
  });

  it('cancelAll() cancels every running task', () => {
    const store = new TaskStore();
    const a = store.create('o');
    const b = store.create('p');
    store.complete(store.create('o'), { content: [] });
    expect(store.cancelAll()).toBe(2);
    expect([a.status, b.status]).toEqual(['cancelled', 'cancelled']);
  });

  it('tracks outstanding client requests of a legacy task as input_required', () => {
    const store = new TaskStore();
    const task = store.create('o');
    store.clientRequest(task, 1);
    store.clientRequest(task, 1);
    expect(task.status).toBe('input_required');
    store.clientRequest(task, -1);
    expect(task.status).toBe('input_required');
    store.clientRequest(task, -1);
    expect(task.status).toBe('working');
  });
});

describe('task wire shapes', () => {
  const store = new TaskStore({ now: () => 0, defaultTtlMs: 60_000, pollIntervalMs: 500 });

  it('2026-07-28: flat CreateTaskResult with ttlMs/pollIntervalMs and nothing else', () => {
    const task = store.create('o');
    expect(createTaskResult(task)).toEqual({
      resultType: 'task',
      taskId: task.taskId,
      status: 'working',
      createdAt: '1970-01-01T00:00:00.000Z',
      lastUpdatedAt: '1970-01-01T00:00:00.000Z',
      ttlMs: 60_000,
      pollIntervalMs: 500,
    });
  });

  it('2026-07-28: DetailedTask inlines result, error or inputRequests by status', () => {
    const done = store.create('o');
    store.complete(done, { content: [{ type: 'text', text: 'r' }], isError: true });
    expect(detailedTask(done)).toMatchObject({ status: 'completed', result: { isError: true } });
    const failed = store.create('o');
    store.fail(failed, { code: -32603, message: 'boom' });
    expect(detailedTask(failed)).toMatchObject({ status: 'failed', error: { code: -32603, message: 'boom' }, statusMessage: 'boom' });
    expect(detailedTask(failed)).not.toHaveProperty('result');
    const waiting = store.create('o');
    store.requireInput(waiting, { k: { method: 'roots/list', params: {} } });
    expect(detailedTask(waiting)).toMatchObject({ status: 'input_required', inputRequests: { k: { method: 'roots/list', params: {} } } });
    const working = store.create('o');
    expect(Object.keys(detailedTask(working)).sort()).toEqual(Object.keys(statelessTask(working)).sort());
  });

  it('declaresTasks() wants an object under capabilities.extensions', () => {
    expect(declaresTasks(EXT)).toBe(true);
    expect(declaresTasks({})).toBe(false);
    expect(declaresTasks({ extensions: { [TASKS_EXTENSION]: true } })).toBe(false);
    expect(declaresTasks({ extensions: [] })).toBe(false);
  });
});

describe('TaskRoute', () => {
  it('prefers an attached stream, falls back to the session stream, and queues requests with nowhere to go', () => {
    let fallback: FakeChannel | null = null;
    const route = new TaskRoute(() => fallback, 2);
    route.notify('{"n":0}'); // dropped
    route.requests.send('{"r":1}');
    route.requests.send('{"r":2}');
    route.requests.send('{"r":3}'); // over the bound: dropped
    const result = new FakeChannel();
    const detach = route.attach(result);
    expect(result.sent).toEqual([{ r: 1 }, { r: 2 }]);
    route.notify('{"n":1}');
    detach();
    fallback = new FakeChannel();
    route.notify('{"n":2}');
    route.requests.send('{"r":4}');
    expect(result.sent).toEqual([{ r: 1 }, { r: 2 }, { n: 1 }]);
    expect(fallback.sent).toEqual([{ n: 2 }, { r: 4 }]);
  });
});

// ---- 2026-07-28: the extension ------------------------------------------------------------------

describe('2026-07-28 tasks extension', () => {
  it('server/discover declares the extension (and no tasks key) when a tool supports tasks', async () => {
    const caps = (await result(taskServer(), statelessEnv(), 'server/discover', p26())).capabilities;
    expect(caps.extensions).toEqual({ [TASKS_EXTENSION]: {} });
    expect(caps).not.toHaveProperty('tasks');
    const plain = makeServer();
    plain.tool('sync', {}, () => 'x');
    expect((await result(plain, statelessEnv(), 'server/discover', p26())).capabilities).not.toHaveProperty('extensions');
    expect((await result(taskServer({ tasks: false }), statelessEnv(), 'server/discover', p26())).capabilities).not.toHaveProperty('extensions');
  });

  it('lists execution.taskSupport in tools/list', async () => {
    const { tools } = await result(taskServer(), statelessEnv(), 'tools/list', p26());
    expect(tools.find((t: any) => t.name === 'must').execution).toEqual({ taskSupport: 'required' });
    expect(tools.find((t: any) => t.name === 'sync')).not.toHaveProperty('execution');
  });

  it.each([
    ['tasks/get', { taskId: 'x' }],
    ['tasks/update', { taskId: 'x', inputResponses: {} }],
    ['tasks/cancel', { taskId: 'x' }],
  ])('%s without the extension is -32021 naming it, HTTP 400', async (method, params) => {
    expect(await failure(taskServer(), statelessEnv(), method, p26(params, {}))).toMatchObject({
      status: 400,
      code: ErrorCode.MissingRequiredClientCapability,
      data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
    });
  });

  it.each(['tasks/result', 'tasks/list'])('%s is gone: -32601, HTTP 404', async (method) => {
    expect(await failure(taskServer(), statelessEnv(), method, p26({ taskId: 'x' }))).toMatchObject({ status: 404, code: ErrorCode.MethodNotFound });
  });

  it('a required task tool without the extension is -32021; with it, a task', async () => {
    const s = taskServer();
    expect(await failure(s, statelessEnv(), 'tools/call', p26({ name: 'must' }, {}))).toMatchObject({
      status: 400,
      code: ErrorCode.MissingRequiredClientCapability,
      data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
    });
    expect((await result(s, statelessEnv(), 'tools/call', p26({ name: 'must' }))).resultType).toBe('task');
  });

  it('an optional task tool runs synchronously without the extension, and never for a sync tool', async () => {
    const s = taskServer();
    expect(await result(s, statelessEnv(), 'tools/call', p26({ name: 'quick' }, {}))).toEqual({ content: [{ type: 'text', text: 'quick done' }], resultType: 'complete' });
    // An old-style params.task does not make a sync tool a task.
    expect(await result(s, statelessEnv(), 'tools/call', p26({ name: 'sync', task: { ttl: 60000 } }))).toEqual({
      content: [{ type: 'text', text: 'sync done' }],
      resultType: 'complete',
    });
  });

  it('creates a task, durable at once, that completes with the result inlined in tasks/get', async () => {
    const s = taskServer();
    const env = statelessEnv();
    const created = await result(s, env, 'tools/call', p26({ name: 'wait', arguments: { ms: 30 } }));
    expect(Object.keys(created).sort()).toEqual(['createdAt', 'lastUpdatedAt', 'pollIntervalMs', 'resultType', 'status', 'taskId', 'ttlMs']);
    expect(created).toMatchObject({ resultType: 'task', status: 'working', ttlMs: 300_000, pollIntervalMs: 500 });
    const working = await result(s, env, 'tasks/get', p26({ taskId: created.taskId }));
    expect(working).toMatchObject({ resultType: 'complete', taskId: created.taskId, status: 'working' });
    expect(working).not.toHaveProperty('result');
    await until(async () => (await result(s, env, 'tasks/get', p26({ taskId: created.taskId }))).status === 'completed', 'completion');
    const done = await result(s, env, 'tasks/get', p26({ taskId: created.taskId }));
    expect(done.result).toEqual({ content: [{ type: 'text', text: 'waited' }] });
    expect(done).not.toHaveProperty('requestState');
  });

  it('a tool error completes the task with isError; a protocol error fails it with error and no result', async () => {
    const s = taskServer();
    const env = statelessEnv();
    const a = await result(s, env, 'tools/call', p26({ name: 'tool_error' }));
    const b = await result(s, env, 'tools/call', p26({ name: 'protocol_error' }));
    await until(() => s.tasks!.get(a.taskId, 'principal -')!.terminal && s.tasks!.get(b.taskId, 'principal -')!.terminal);
    expect(await result(s, env, 'tasks/get', p26({ taskId: a.taskId }))).toMatchObject({
      status: 'completed',
      result: { isError: true, content: [{ type: 'text', text: 'tool broke' }] },
    });
    const failed = await result(s, env, 'tasks/get', p26({ taskId: b.taskId }));
    expect(failed).toMatchObject({ status: 'failed', error: { code: -32603, message: 'protocol broke', data: { why: 'test' } } });
    expect(failed).not.toHaveProperty('result');
  });

  it('tasks/cancel acks with an empty result, aborts the handler, and acks again for an ended task', async () => {
    const s = taskServer();
    const env = statelessEnv();
    const { taskId } = await result(s, env, 'tools/call', p26({ name: 'wait' }));
    const task = s.tasks!.get(taskId, 'principal -')!;
    expect(await result(s, env, 'tasks/cancel', p26({ taskId }))).toEqual({ resultType: 'complete' });
    expect(task.signal.aborted).toBe(true);
    expect(await result(s, env, 'tasks/get', p26({ taskId }))).toMatchObject({ status: 'cancelled' });
    expect(await result(s, env, 'tasks/cancel', p26({ taskId }))).toEqual({ resultType: 'complete' });
    await new Promise((r) => setTimeout(r, 5)); // the handler's late end does not change the status
    expect(task.status).toBe('cancelled');
  });

  it('an unknown task id is -32602 for get, update and cancel', async () => {
    const s = taskServer();
    for (const method of ['tasks/get', 'tasks/cancel']) {
      expect((await failure(s, statelessEnv(), method, p26({ taskId: 'nope' }))).code).toBe(ErrorCode.InvalidParams);
    }
    expect((await failure(s, statelessEnv(), 'tasks/update', p26({ taskId: 'nope', inputResponses: {} }))).code).toBe(ErrorCode.InvalidParams);
    expect((await failure(s, statelessEnv(), 'tasks/get', p26({}))).code).toBe(ErrorCode.InvalidParams);
  });

  it('a task asking for input waits in input_required; tasks/update resumes it, rerunning the handler with the answers', async () => {
    const s = taskServer();
    const env = statelessEnv();
    const { taskId } = await result(s, env, 'tools/call', p26({ name: 'ask' }, ELICIT_EXT));
    await until(async () => (await result(s, env, 'tasks/get', p26({ taskId }))).status === 'input_required');
    const waiting = await result(s, env, 'tasks/get', p26({ taskId }));
    expect(Object.keys(waiting.inputRequests)).toEqual(['confirm']);
    expect(waiting.inputRequests.confirm.method).toBe('elicitation/create');
    // Keys nobody asked for are acked and ignored.
    expect(await result(s, env, 'tasks/update', p26({ taskId, inputResponses: { 'unknown-key': { ignored: true } } }))).toEqual({ resultType: 'complete' });
    expect((await result(s, env, 'tasks/get', p26({ taskId }))).status).toBe('input_required');
    expect(await result(s, env, 'tasks/update', p26({ taskId, inputResponses: { confirm: { action: 'accept', content: { ok: true } } } }))).toEqual({
      resultType: 'complete',
    });
    await until(async () => (await result(s, env, 'tasks/get', p26({ taskId }))).status === 'completed');
    expect((await result(s, env, 'tasks/get', p26({ taskId }))).result.content[0].text).toBe('answer={"ok":true}');
  });

  it('partial answers keep the task in input_required with only the unanswered key', async () => {
    const s = taskServer();
    const env = statelessEnv();
    const { taskId } = await result(s, env, 'tools/call', p26({ name: 'ask_two' }, ELICIT_EXT));
    await until(async () => (await result(s, env, 'tasks/get', p26({ taskId }))).status === 'input_required');
    await result(s, env, 'tasks/update', p26({ taskId, inputResponses: { a: { action: 'accept', content: { n: 1 } } } }));
    const partial = await result(s, env, 'tasks/get', p26({ taskId }));
    expect([partial.status, Object.keys(partial.inputRequests)]).toEqual(['input_required', ['b']]);
    await result(s, env, 'tasks/update', p26({ taskId, inputResponses: { b: { action: 'accept', content: { n: 2 } } } }));
    await until(async () => (await result(s, env, 'tasks/get', p26({ taskId }))).status === 'completed');
    expect((await result(s, env, 'tasks/get', p26({ taskId }))).result.content[0].text).toBe('a={"n":1} b={"n":2}');
  });

  it('tasks/update needs an inputResponses object', async () => {
    const s = taskServer();
    const { taskId } = await result(s, statelessEnv(), 'tools/call', p26({ name: 'wait' }));
    expect((await failure(s, statelessEnv(), 'tasks/update', p26({ taskId }))).code).toBe(ErrorCode.InvalidParams);
    expect((await failure(s, statelessEnv(), 'tasks/update', p26({ taskId, inputResponses: [] }))).code).toBe(ErrorCode.InvalidParams);
  });

  it('prepare asks through input_required rounds before the task exists; the task gets its value', async () => {
    const s = makeServer();
    const runs: string[] = [];
    s.tool<Record<string, never>, string>(
      'composed',
      {
        execution: { taskSupport: 'required' },
        prepare: async (_args, ctx) => {
          runs.push('prepare');
          const answer = await ctx.elicit({ message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } }, 'user_name');
          return String(answer.content?.['name']);
        },
      },
      (_args, ctx, name) => {
        runs.push(`handler ${ctx.signal.aborted}`);
        return `Hello, ${name}!`;
      },
    );
    const env = statelessEnv();
    const r1 = await result(s, env, 'tools/call', p26({ name: 'composed' }, ELICIT_EXT));
    expect(r1.resultType).toBe('input_required');
    expect(r1).not.toHaveProperty('taskId');
    expect(Object.keys(r1.inputRequests)).toEqual(['user_name']);
    const r2 = await result(
      s,
      env,
      'tools/call',
      p26({ name: 'composed', requestState: r1.requestState, inputResponses: { user_name: { action: 'accept', content: { name: 'Alice' } } } }, ELICIT_EXT),
    );
    expect(r2.resultType).toBe('task');
    expect(r2).not.toHaveProperty('requestState');
    expect(r2).not.toHaveProperty('inputRequests');
    await until(async () => (await result(s, env, 'tasks/get', p26({ taskId: r2.taskId }))).status === 'completed');
    expect((await result(s, env, 'tasks/get', p26({ taskId: r2.taskId }))).result.content[0].text).toBe('Hello, Alice!');
    expect(runs).toEqual(['prepare', 'prepare', 'handler false']);
  });

  it('a task outlives its request: aborting the request does not cancel it', async () => {
    const s = taskServer();
    const controller = new AbortController();
    const env = { ...statelessEnv(), signal: controller.signal };
    const { taskId } = await result(s, env, 'tools/call', p26({ name: 'wait', arguments: { ms: 20 } }));
    controller.abort(new Error('client closed the request'));
    await until(async () => (await result(s, statelessEnv(), 'tasks/get', p26({ taskId }))).status === 'completed');
  });

  it('scopes tasks by auth principal: another principal gets -32602', async () => {
    const s = taskServer();
    const alice: AuthPrincipal = { subject: 'alice', scopes: [] };
    const bob: AuthPrincipal = { subject: 'bob', scopes: [] };
    const { taskId } = await result(s, statelessEnv(alice), 'tools/call', p26({ name: 'wait' }));
    expect((await result(s, statelessEnv(alice), 'tasks/get', p26({ taskId }))).taskId).toBe(taskId);
    for (const env of [statelessEnv(bob), statelessEnv()]) {
      expect((await failure(s, env, 'tasks/get', p26({ taskId }))).code).toBe(ErrorCode.InvalidParams);
      expect((await failure(s, env, 'tasks/cancel', p26({ taskId }))).code).toBe(ErrorCode.InvalidParams);
    }
    await result(s, statelessEnv(alice), 'tasks/cancel', p26({ taskId }));
  });

  it('expires an ended task ttl ms after its end (injected clock)', async () => {
    const c = clock();
    const s = taskServer({ tasks: { now: c.now, defaultTtlMs: 10_000 } });
    const env = statelessEnv();
    const { taskId, ttlMs } = await result(s, env, 'tools/call', p26({ name: 'quick' }));
    expect(ttlMs).toBe(10_000);
    await until(async () => (await result(s, env, 'tasks/get', p26({ taskId }))).status === 'completed');
    c.advance(9_999);
    expect((await result(s, env, 'tasks/get', p26({ taskId }))).status).toBe('completed');
    c.advance(1);
    expect((await failure(s, env, 'tasks/get', p26({ taskId }))).code).toBe(ErrorCode.InvalidParams);
  });

  it('runs every call synchronously with tasks: false', async () => {
    const s = taskServer({ tasks: false });
    expect(await result(s, statelessEnv(), 'tools/call', p26({ name: 'must' }))).toEqual({ content: [{ type: 'text', text: 'must done' }], resultType: 'complete' });
    expect((await failure(s, statelessEnv(), 'tasks/get', p26({ taskId: 'x' }))).code).toBe(ErrorCode.MethodNotFound);
  });
});

// ---- 2025-11-25: experimental tasks --------------------------------------------------------------

describe('2025-11-25 experimental tasks', () => {
  it('declares the tasks capability for 2025-11-25 only', async () => {
    const s = taskServer();
    const env = await legacySession(s);
    const caps = (await rpc(s, { ...env, session: new Session({ requestTimeoutMs: 10 }) }, 'initialize', { protocolVersion: '2025-11-25' }, 0)).result.capabilities;
    expect(caps.tasks).toEqual({ list: {}, cancel: {}, requests: { tools: { call: {} } } });
    expect(caps).not.toHaveProperty('extensions');
    const older = (await rpc(s, { ...env, session: new Session({ requestTimeoutMs: 10 }) }, 'initialize', { protocolVersion: '2025-06-18' }, 0)).result.capabilities;
    expect(older).not.toHaveProperty('tasks');
  });

  it('params.task makes a CreateTaskResult { task }; tasks/result waits and returns the result with related-task _meta', async () => {
    const s = taskServer();
    const env = await legacySession(s);
    const created = await result(s, env, 'tools/call', { name: 'wait', arguments: { ms: 20 }, task: { ttl: 60_000 } });
    expect(Object.keys(created)).toEqual(['task']);
    expect(created.task).toMatchObject({ status: 'working', ttl: 60_000, pollInterval: 500 });
    expect(created.task).not.toHaveProperty('ttlMs');
    const taskId = created.task.taskId;
    expect(await result(s, env, 'tasks/get', { taskId })).toEqual(created.task);
    const stream = sameSession(env);
    const payload = await result(s, stream, 'tasks/result', { taskId });
    expect(payload).toEqual({ content: [{ type: 'text', text: 'waited' }], _meta: { [RELATED_TASK_META]: { taskId } } });
    expect(payload).not.toHaveProperty('resultType');
    expect((await result(s, env, 'tasks/get', { taskId })).status).toBe('completed');
    // The change went out on the stream waiting for the task (else on the session's stream).
    expect(env.standalone.sent).toEqual([]);
    expect(stream.channel.sent).toContainEqual(
      expect.objectContaining({ method: 'notifications/tasks/status', params: expect.objectContaining({ taskId, status: 'completed' }) }),
    );
  });

  it('without params.task an optional tool runs synchronously; a required one is -32601; a forbidden one with params.task is -32601', async () => {
    const s = taskServer();
    const env = await legacySession(s);
    expect(await result(s, env, 'tools/call', { name: 'quick' })).toEqual({ content: [{ type: 'text', text: 'quick done' }] });
    expect((await failure(s, env, 'tools/call', { name: 'must' })).code).toBe(ErrorCode.MethodNotFound);
    expect((await failure(s, env, 'tools/call', { name: 'sync', task: {} })).code).toBe(ErrorCode.MethodNotFound);
    expect((await failure(s, env, 'tools/call', { name: 'quick', task: 5 })).code).toBe(ErrorCode.InvalidParams);
  });

  it('a tool that is never a task (taskSupport absent or forbidden) asked for one is -32601 naming it, and runs when not asked', async () => {
    // Such a tool's calls skip the task decision (ToolEntry.plain) unless params.task is there.
    const s = taskServer();
    s.tool('never', { execution: { taskSupport: 'forbidden' } }, () => 'never a task');
    const env = await legacySession(s);
    for (const name of ['sync', 'never']) {
      expect(await failure(s, env, 'tools/call', { name, task: {} })).toMatchObject({ code: ErrorCode.MethodNotFound, message: `Tool ${name} does not support tasks` });
      expect((await failure(s, env, 'tools/call', { name, task: 5 })).code).toBe(ErrorCode.InvalidParams);
    }
    expect(await result(s, env, 'tools/call', { name: 'never' })).toEqual({ content: [{ type: 'text', text: 'never a task' }] });
    // Revisions before 2025-11-25 know no tasks: params.task is ignored there.
    const old = await legacySession(s, '2025-06-18');
    expect(await result(s, old, 'tools/call', { name: 'never', task: {} })).toEqual({ content: [{ type: 'text', text: 'never a task' }] });
  });

  it('older revisions know no tasks: params.task is ignored and tasks/* are -32601', async () => {
    const s = taskServer();
    const env = await legacySession(s, '2025-06-18');
    expect(await result(s, env, 'tools/call', { name: 'must', task: { ttl: 1 } })).toEqual({ content: [{ type: 'text', text: 'must done' }] });
    for (const method of ['tasks/get', 'tasks/result', 'tasks/list', 'tasks/cancel']) {
      expect((await failure(s, env, method, { taskId: 'x' })).code).toBe(ErrorCode.MethodNotFound);
    }
  });

  it('a tool error ends the task as failed, and tasks/result still returns the CallToolResult', async () => {
    const s = taskServer();
    const env = await legacySession(s);
    const { task } = await result(s, env, 'tools/call', { name: 'tool_error', task: {} });
    const payload = await result(s, env, 'tasks/result', { taskId: task.taskId });
    expect(payload).toMatchObject({ isError: true, content: [{ type: 'text', text: 'tool broke' }] });
    expect(await result(s, env, 'tasks/get', { taskId: task.taskId })).toMatchObject({ status: 'failed', statusMessage: 'The tool reported an error' });
  });

  it('a protocol error ends the task as failed, and tasks/result answers that JSON-RPC error', async () => {
    const s = taskServer();
    const env = await legacySession(s);
    const { task } = await result(s, env, 'tools/call', { name: 'protocol_error', task: {} });
    expect(await failure(s, env, 'tasks/result', { taskId: task.taskId })).toMatchObject({ code: -32603, message: 'protocol broke', data: { why: 'test' } });
    expect((await result(s, env, 'tasks/get', { taskId: task.taskId })).status).toBe('failed');
  });

  it('tasks/cancel answers the cancelled task, aborts the handler; a second cancel is -32602; tasks/result is an error', async () => {
    const s = taskServer();
    const env = await legacySession(s);
    const { task } = await result(s, env, 'tools/call', { name: 'wait', task: {} });
    const waiting = rpc(s, sameSession(env), 'tasks/result', { taskId: task.taskId }, 7);
    const cancelled = await result(s, env, 'tasks/cancel', { taskId: task.taskId });
    expect(cancelled).toMatchObject({ taskId: task.taskId, status: 'cancelled', statusMessage: 'Cancelled by the client' });
    expect(s.tasks!.get(task.taskId, `session ${env.session.id} -`)!.signal.aborted).toBe(true);
    expect((await failure(s, env, 'tasks/cancel', { taskId: task.taskId })).code).toBe(ErrorCode.InvalidParams);
    expect((await waiting).error).toMatchObject({ code: ErrorCode.InternalError, data: { [RELATED_TASK_META]: { taskId: task.taskId } } });
  });

  it('a task asking the client goes input_required; the request carries related-task _meta and travels on the tasks/result stream', async () => {
    const s = taskServer();
    const env = await legacySession(s, '2025-11-25', { elicitation: {} });
    env.session.standalone = null; // no GET stream: the request waits for tasks/result
    const { task } = await result(s, env, 'tools/call', { name: 'ask', task: {} });
    await until(async () => (await result(s, env, 'tasks/get', { taskId: task.taskId })).status === 'input_required');
    const stream = sameSession(env);
    const payload = rpc(s, stream, 'tasks/result', { taskId: task.taskId }, 9);
    const request = await stream.channel.next();
    expect(request).toMatchObject({
      method: 'elicitation/create',
      params: { message: 'Sure?', _meta: { [RELATED_TASK_META]: { taskId: task.taskId } } },
    });
    env.session.resolveResponse(JSON.stringify(request.id), { jsonrpc: '2.0', id: request.id, result: { action: 'accept', content: { ok: 1 } } });
    expect((await payload).result).toMatchObject({ content: [{ type: 'text', text: 'answer={"ok":1}' }] });
    expect((await result(s, env, 'tasks/get', { taskId: task.taskId })).status).toBe('completed');
  });

  it('tasks/list pages through this session\'s tasks only', async () => {
    const s = taskServer({ pageSize: 2 });
    const env = await legacySession(s);
    const other = await legacySession(s);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await result(s, env, 'tools/call', { name: 'wait', task: {} })).task.taskId);
    const foreign = (await result(s, other, 'tools/call', { name: 'wait', task: {} })).task.taskId;
    const page1 = await result(s, env, 'tasks/list');
    expect(page1.tasks.map((t: any) => t.taskId)).toEqual(ids.slice(0, 2));
    const page2 = await result(s, env, 'tasks/list', { cursor: page1.nextCursor });
    expect(page2).toEqual({ tasks: [expect.objectContaining({ taskId: ids[2] })] });
    expect((await failure(s, env, 'tasks/list', { cursor: 'forged' })).code).toBe(ErrorCode.InvalidParams);
    expect((await result(s, other, 'tasks/list')).tasks.map((t: any) => t.taskId)).toEqual([foreign]);
    // Another session cannot see, wait for or cancel this one's tasks.
    for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel']) {
      expect((await failure(s, other, method, { taskId: ids[0] })).code).toBe(ErrorCode.InvalidParams);
    }
  });

  it('the tasks of a closed session are cancelled and dropped', async () => {
    const s = taskServer();
    const env = await legacySession(s);
    const { task } = await result(s, env, 'tools/call', { name: 'wait', task: {} });
    const owner = `session ${env.session.id} -`;
    const record = s.tasks!.get(task.taskId, owner)!;
    env.session.close();
    expect(s.tasks!.get(task.taskId, owner)).toBeUndefined();
    expect([record.status, record.signal.aborted]).toEqual(['cancelled', true]);
  });

  it('progress from a task carries related-task _meta', async () => {
    const s = makeServer();
    const gate = deferred();
    s.tool('progress', { execution: { taskSupport: 'optional' } }, async (_args, ctx) => {
      ctx.progress(1, 2);
      await gate.promise;
      return 'ok';
    });
    const env = await legacySession(s);
    const { task } = await result(s, env, 'tools/call', { name: 'progress', task: {}, _meta: { progressToken: 'p' } });
    await until(() => env.standalone.sent.some((m) => m.method === 'notifications/progress'));
    expect(env.standalone.sent.find((m) => m.method === 'notifications/progress').params).toEqual({
      progressToken: 'p',
      progress: 1,
      total: 2,
      _meta: { [RELATED_TASK_META]: { taskId: task.taskId } },
    });
    gate.resolve();
    await result(s, env, 'tasks/result', { taskId: task.taskId });
  });
});

describe('tool registration with tasks', () => {
  it('refuses an unknown taskSupport and a prepare that is not a function', () => {
    const s = makeServer();
    expect(() => s.tool('a', { execution: { taskSupport: 'sometimes' as any } }, () => 'x')).toThrow(TypeError);
    expect(() => s.tool('b', { prepare: 5 as any }, () => 'x')).toThrow(TypeError);
  });

  it('passes prepare\'s value to the handler of an ordinary call', async () => {
    const s = makeServer();
    s.tool<{ n: number }, number>('double', { prepare: ({ n }) => n * 2 }, (_args, _ctx, doubled) => String(doubled));
    expect(await result(s, statelessEnv(), 'tools/call', p26({ name: 'double', arguments: { n: 21 } }))).toMatchObject({ content: [{ text: '42' }] });
  });

  it('a prepare that throws is a tool error, not a task', async () => {
    const s = makeServer();
    s.tool('bad', { execution: { taskSupport: 'optional' }, prepare: () => { throw new Error('no'); } }, () => 'x');
    expect(await result(s, statelessEnv(), 'tools/call', p26({ name: 'bad' }))).toEqual({ content: [{ type: 'text', text: 'no' }], isError: true, resultType: 'complete' });
  });
});
