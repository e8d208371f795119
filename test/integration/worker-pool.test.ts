// The trusted worker pool (src/pool) on real Piscina threads: tools served through an McpServer over
// an in-process stdio pair (PassThrough streams into a StdioTransport), and pool.run() directly.
// Covers the happy path (every transfer mode), each crash kind (throw, process.exit, heap limit,
// uncaught error, hang -> timeout), cancellation (running: the thread is terminated and the others
// are untouched; waiting: dropped; a 2025-11-25 task cancelled by tasks/cancel), overload (maxQueue, maxQueuePerCaller; a -32029 error through
// the server), fairness (one caller's single call behind 200 of another's), recovery, close, and the
// built package (dist/, whose threads load dist/pool/worker.js without tsx). The handler context:
// progress and log notes reach the client in order and before the result, at the requested level only,
// and are not even posted when not asked for; ctx.signal aborts on cancellation and timeout (a handler
// that stops in its grace period keeps its thread, one that ignores it is terminated).
//
// No timing thresholds: tests wait for states (pool.stats(), files, replies) with bounded waits, and
// a thread is held busy by a handler that blocks until a file appears.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { McpServer } from '../../src/server/server.js';
import { MemoryClient as SharedMemoryClient } from '../helpers/memory-client.js';
import { POOL_META_KEY, PoolError, createWorkerPool } from '../../src/pool/index.js';
import type { WorkerPool, WorkerPoolOptions } from '../../src/pool/index.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/pool/${name}`, import.meta.url));
const TOOLS = fixture('tools.mjs');
const CONTEXT = fixture('context.mjs');
const WAIT = { timeout: 15_000, interval: 5 };

const pools: WorkerPool[] = [];
const dirs: string[] = [];
const clients: MemoryClient[] = [];

function pool(options: WorkerPoolOptions = {}): WorkerPool {
  const p = createWorkerPool({ maxThreads: 2, taskTimeoutMs: 20_000, ...options });
  pools.push(p);
  return p;
}

/** A file whose creation releases holdUntil calls. */
function gate(): { path: string; release(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'fastermcp-pool-'));
  dirs.push(dir);
  const path = join(dir, 'release');
  return { path, release: () => writeFileSync(path, '') };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(pools.splice(0).map((p) => p.close({ force: true })));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A client on an in-process stdio pair, closed after each test. */
class MemoryClient extends SharedMemoryClient {
  constructor(server: McpServer, onReply?: (m: any) => void) {
    super(server, onReply);
    clients.push(this);
  }
}

/** A server with the fixture handlers registered on `p`. */
function serverWith(p: WorkerPool): McpServer {
  const server = new McpServer({ name: 'pool-test', version: '1.0.0' });
  const open = { type: 'object' as const, additionalProperties: true };
  server.tool('echo', { inputSchema: open }, p.tool(TOOLS));
  server.tool('sum', { inputSchema: open, outputSchema: { type: 'object', properties: { total: { type: 'number' } }, required: ['total'] } }, p.tool(TOOLS, 'sumSquares'));
  server.tool('async_echo', { inputSchema: open }, p.tool(TOOLS, 'asyncEcho'));
  server.tool('tag', { inputSchema: open }, p.tool(TOOLS, 'tag'));
  server.tool('hold', { inputSchema: open }, p.tool(TOOLS, 'holdUntil'));
  server.tool('throws', { inputSchema: open }, p.tool(fixture('throws.mjs'), 'throws'));
  server.tool('rejects', { inputSchema: open }, p.tool(fixture('throws.mjs'), 'rejects'));
  server.tool('bigint', { inputSchema: open }, p.tool(fixture('throws.mjs'), 'bigint'));
  server.tool('missing_export', { inputSchema: open }, p.tool(fixture('throws.mjs'), 'noSuchExport'));
  server.tool('exit', { inputSchema: open }, p.tool(fixture('exit.mjs')));
  server.tool('oom', { inputSchema: open }, p.tool(fixture('oom.mjs')));
  server.tool('spin', { inputSchema: open }, p.tool(fixture('spin.mjs')));
  server.tool('spin_task', { inputSchema: open, execution: { taskSupport: 'optional' } }, p.tool(fixture('spin.mjs')));
  server.tool('uncaught', { inputSchema: open }, p.tool(fixture('uncaught.mjs')));
  for (const name of ['report', 'burst', 'reportThenThrow', 'whoami', 'awaitAbort', 'spinUntilAborted', 'ignoreAbort', 'thread']) {
    server.tool(name, { inputSchema: open }, p.tool(CONTEXT, name));
  }
  return server;
}

async function connected(p: WorkerPool, onReply?: (m: any) => void): Promise<{ server: McpServer; client: MemoryClient }> {
  const server = serverWith(p);
  const client = new MemoryClient(server, onReply);
  await client.initialize();
  return { server, client };
}

const text = (reply: any): string => reply.result.content[0].text;
const poolMeta = (reply: any): any => reply.result._meta?.[POOL_META_KEY];
/** The thread that answered a call of the `thread` tool. */
function threadOf(reply: any): number {
  const id = reply.result?.structuredContent?.threadId;
  expect(id, JSON.stringify(reply)).toBeTypeOf('number');
  return id as number;
}

/**
 * The thread of a fresh pool with a short taskTimeoutMs, once it is up: Piscina counts its first
 * threads ready before they have loaded (tsx, the worker entry), so on a loaded machine the first call
 * can time out; its replacement's clock starts only when it is ready. At most 5 tries.
 */
async function warmThread(client: MemoryClient): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const reply = await client.reply(client.call('thread', {}));
    if (reply.result?.structuredContent !== undefined || attempt === 5) return threadOf(reply);
  }
}

describe('worker pool through an McpServer', () => {
  it.each(['json', 'bytes', 'clone'] as const)('serves tools on worker threads (transfer %s)', async (transfer) => {
    const p = pool({ transfer });
    const { client } = await connected(p);
    const list = await client.reply(client.request('tools/list', {}));
    expect(list.result.tools.map((t: any) => t.name)).toContain('sum');

    const args = { text: 'héllo ✓', nested: { n: [1, 2, 3] }, big: 'x'.repeat(100_000) };
    const echoed = await client.reply(client.call('echo', args));
    expect(JSON.parse(text(echoed))).toEqual(args);

    const sum = await client.reply(client.call('sum', { n: 1000 }));
    expect(sum.result.structuredContent.total).toBe(332_833_500);
    expect(sum.result.structuredContent.threadId).toBeGreaterThan(0); // not the main thread (0)
    expect(sum.result.isError).toBeUndefined();

    const asyncOne = await client.reply(client.call('async_echo', { a: 1 }));
    expect(asyncOne.result.content).toEqual([{ type: 'text', text: '{"a":1}' }]);

    const stats = p.stats();
    expect(stats.completed).toBe(3);
    expect(stats.running).toBe(0);
    expect(stats.queued).toBe(0);
    expect(stats.runTimeP50Ms).toBeGreaterThan(0);
    expect(Object.values(stats.failed).every((n) => n === 0)).toBe(true);
  });

  it('turns a handler that throws or rejects into an isError result with its message', async () => {
    const p = pool();
    const { client } = await connected(p);
    const thrown = await client.reply(client.call('throws', { message: 'bad input: 42' }));
    expect(thrown.result.isError).toBe(true);
    expect(text(thrown)).toBe('bad input: 42');
    expect(poolMeta(thrown)).toEqual({ code: 'MCP_POOL_HANDLER_ERROR', failure: 'error' });

    const rejected = await client.reply(client.call('rejects', { message: 'async bad' }));
    expect(text(rejected)).toBe('async bad');

    const unserializable = await client.reply(client.call('bigint', {}));
    expect(text(unserializable)).toMatch(/not JSON-serializable.*BigInt/);

    const missing = await client.reply(client.call('missing_export', {}));
    expect(text(missing)).toMatch(/has no function export "noSuchExport"/);

    // A throw is the handler's failure, not the thread's: it stays alive.
    expect(p.stats().failed).toMatchObject({ error: 4, crashed: 0 });
  });

  it.each([
    ['exit', {}, 'crashed', 'MCP_POOL_CRASHED', /exited with code 7 before answering/],
    ['uncaught', {}, 'crashed', 'MCP_POOL_CRASHED', /died of an uncaught error \(thrown from a timer\)/],
    ['oom', {}, 'oom', 'MCP_POOL_OOM', /ran out of memory \(worker heap limit resourceLimits.maxOldGenerationSizeMb = 32\)/],
    ['spin', {}, 'timeout', 'MCP_POOL_TIMEOUT', /ran longer than taskTimeoutMs \(300 ms\)/],
  ] as const)('maps a thread that dies (%s) to an isError result and keeps serving', async (tool, args, failure, code, message) => {
    // Only the hang waits for the timeout; the others get one far beyond what they need.
    const p = pool({ maxThreads: 1, resourceLimits: { maxOldGenerationSizeMb: 32 }, taskTimeoutMs: tool === 'spin' ? 300 : 20_000 });
    const { client } = await connected(p);
    const reply = await client.reply(client.call(tool, args));
    expect(reply.result.isError).toBe(true);
    expect(text(reply)).toMatch(message);
    expect(poolMeta(reply)).toEqual({ code, failure });
    expect(p.stats().failed[failure]).toBe(1);
    // The dead thread was replaced: the next calls are served.
    for (let i = 0; i < 3; i++) expect(JSON.parse(text(await client.reply(client.call('echo', { i }))))).toEqual({ i });
    expect(p.stats().threads).toBeGreaterThanOrEqual(1);
  });

  it('cancels a running call: no reply, its thread terminated, the call on the other thread unaffected', async () => {
    const p = pool({ maxThreads: 2 });
    const { client } = await connected(p);
    const g = gate();
    const held = client.call('hold', { path: g.path });
    const spinning = client.call('spin', {});
    await vi.waitFor(() => expect(p.stats().running).toBe(2), WAIT);
    client.send({ method: 'notifications/cancelled', params: { requestId: spinning, reason: 'user gave up' } });
    await vi.waitFor(() => expect(p.stats().failed.cancelled).toBe(1), WAIT);
    expect(p.stats().running).toBe(1);
    // The held call is still on its thread, and a new call gets the freed slot.
    const after = client.call('echo', { after: true });
    expect(JSON.parse(text(await client.reply(after)))).toEqual({ after: true });
    g.release();
    expect(text(await client.reply(held))).toBe('released');
    // The cancelled request is never answered (the dispatcher drops it).
    expect(client.messages.some((m) => m.id === spinning && m.method === undefined)).toBe(false);
    expect(p.stats()).toMatchObject({ running: 0, completed: 2 });
  });

  it('runs a pool tool as a task (2025-11-25); tasks/cancel terminates its thread', async () => {
    const p = pool({ maxThreads: 1 });
    const server = serverWith(p);
    const client = new MemoryClient(server);
    await client.initialize('2025-11-25');
    const created = await client.reply(client.request('tools/call', { name: 'spin_task', arguments: {}, task: { ttl: 60_000 } }));
    const taskId = created.result.task.taskId as string;
    expect(created.result.task.status).toBe('working');
    await vi.waitFor(() => expect(p.stats().running).toBe(1), WAIT);
    const cancelled = await client.reply(client.request('tasks/cancel', { taskId }));
    expect(cancelled.result.status).toBe('cancelled');
    await vi.waitFor(() => expect(p.stats().failed.cancelled).toBe(1), WAIT);
    expect(p.stats().running).toBe(0);
    // The thread it spun on is gone; the pool serves the next call on a fresh one.
    expect(JSON.parse(text(await client.reply(client.call('echo', { next: 1 }))))).toEqual({ next: 1 });
  });

  it('answers an overloaded pool with JSON-RPC error -32029 (as rate limits do)', async () => {
    const p = pool({ maxThreads: 1, maxQueue: 2 });
    const { client } = await connected(p);
    const g = gate();
    const held = client.call('hold', { path: g.path });
    const waiting = [client.call('tag', { tag: 1 }), client.call('tag', { tag: 2 })];
    await vi.waitFor(() => expect(p.stats().queued).toBe(2), WAIT);
    const refused = await client.reply(client.call('tag', { tag: 3 }));
    expect(refused.error.code).toBe(-32029);
    expect(refused.error.message).toMatch(/Worker pool is overloaded: 2 calls are waiting \(maxQueue 2\)/);
    expect(refused.error.data).toMatchObject({ policy: 'worker-pool', code: 'MCP_POOL_QUEUE_FULL' });
    expect(refused.error.data.retryAfterMs).toBeGreaterThanOrEqual(1);
    g.release();
    expect(text(await client.reply(held))).toBe('released');
    expect(await Promise.all(waiting.map(async (id) => text(await client.reply(id))))).toEqual(['1', '2']);
    expect(p.stats().failed.overloaded).toBe(1);
  });

  it("serves one session's single call within the first slots behind another session's 200", async () => {
    const p = pool({ maxThreads: 1, maxQueue: 1000 });
    const server = serverWith(p);
    const a = new MemoryClient(server);
    const b = new MemoryClient(server);
    await a.initialize();
    await b.initialize();
    const g = gate();
    const held = a.call('hold', { path: g.path });
    await vi.waitFor(() => expect(p.stats().running).toBe(1), WAIT);
    const flood = Array.from({ length: 200 }, (_, i) => a.call('tag', { tag: i }));
    await vi.waitFor(() => expect(p.stats().queued).toBe(200), WAIT);
    const single = b.call('tag', { tag: 'b' });
    await vi.waitFor(() => expect(p.stats().queued).toBe(201), WAIT);
    g.release();
    expect(text(await a.reply(held))).toBe('released');
    // The one thread numbers the calls it starts: 1 was the held call. Round-robin serves A's
    // oldest waiting call and then B's, never B's behind A's 200.
    const bSeq = (await b.reply(single)).result.structuredContent.seq;
    expect(bSeq).toBeLessThanOrEqual(3);
    const aSeqs: number[] = [];
    for (const id of flood) aSeqs.push((await a.reply(id)).result.structuredContent.seq);
    expect(aSeqs).toEqual([...aSeqs].sort((x, y) => x - y)); // A's own calls stay in order
    expect(new Set([...aSeqs, bSeq]).size).toBe(201);
  });
});

describe('worker pool handler context (progress, logs, signal, caller)', () => {
  /** Every progress and log notification of the client, with where it came in. */
  const notes = (client: MemoryClient): { progress: { index: number; params: any }[]; logs: { index: number; params: any }[] } => ({
    progress: client.notifications('notifications/progress'),
    logs: client.notifications('notifications/message'),
  });

  it('sends progress in order and logs at the requested level only, all before the result', async () => {
    const p = pool();
    const { client } = await connected(p);
    expect((await client.reply(client.request('logging/setLevel', { level: 'warning' }))).result).toEqual({});
    const id = client.call('report', {}, { progressToken: 'tok-1' });
    const reply = await client.reply(id);
    expect(text(reply)).toBe('reported');
    const { progress, logs } = notes(client);
    // The repeated 1 does not grow and is dropped.
    expect(progress.map((n) => n.params)).toEqual([
      { progressToken: 'tok-1', progress: 1, total: 3, message: 'one' },
      { progressToken: 'tok-1', progress: 2, total: 3 },
      { progressToken: 'tok-1', progress: 3, total: 3, message: 'three' },
    ]);
    expect(logs.map((n) => n.params)).toEqual([
      { level: 'warning', data: { step: 'warning' }, logger: 'pool-test' },
      { level: 'error', data: { step: 'error' } },
    ]);
    // The handler's own order (progress 2, warning, progress 3, error), and the reply after all of them.
    expect([...progress, ...logs].sort((a, b) => a.index - b.index).map((n) => n.params.progress ?? n.params.level)).toEqual([1, 2, 'warning', 3, 'error']);
    const replyAt = client.replyIndex(id);
    expect(Math.max(...progress.map((n) => n.index), ...logs.map((n) => n.index))).toBeLessThan(replyAt);
  });

  it('delivers every note of a burst before the result, on both threads at once', async () => {
    // The notes and the answer travel on different ports: without the count in the answer, most
    // answers of this burst overtake some of their notes.
    const p = pool({ maxThreads: 2 });
    const { client } = await connected(p);
    const ids = Array.from({ length: 6 }, (_, i) => client.call('burst', { count: 100 }, { progressToken: `b${i}` }));
    for (const id of ids) expect(text(await client.reply(id))).toBe('100');
    ids.forEach((id, i) => {
      const mine = notes(client).progress.filter((n) => n.params.progressToken === `b${i}`);
      expect(mine.map((n) => n.params.progress)).toEqual(Array.from({ length: 100 }, (_, k) => k + 1));
      expect(mine[mine.length - 1]!.index).toBeLessThan(client.replyIndex(id));
    });
  });

  it('delivers the notes of a handler that then throws before its isError result', async () => {
    const p = pool();
    const { client } = await connected(p);
    const id = client.call('reportThenThrow', {}, { progressToken: 7 });
    const reply = await client.reply(id);
    expect(reply.result.isError).toBe(true);
    expect(text(reply)).toBe('failed after reporting');
    const { progress, logs } = notes(client);
    expect(progress.map((n) => n.params)).toEqual([{ progressToken: 7, progress: 1 }]);
    expect(logs.map((n) => n.params)).toEqual([{ level: 'error', data: 'about to fail' }]);
    expect(Math.max(progress[0]!.index, logs[0]!.index)).toBeLessThan(client.replyIndex(id));
  });

  it('sends no progress without a progressToken, and its thread posts no note a call did not ask for', async () => {
    const p = pool();
    const { client } = await connected(p);
    let posted = 0;
    (p as any).piscina.on('message', () => void posted++);
    // Legacy era, no logging/setLevel: the client gets every level.
    const first = client.call('report', {});
    expect(text(await client.reply(first))).toBe('reported');
    expect(notes(client).progress).toEqual([]);
    expect(notes(client).logs.map((n) => n.params.level)).toEqual(['debug', 'info', 'warning', 'error']);
    expect(posted).toBe(4);
    // Only emergencies wanted: the handler's logs are dropped in its thread, not on the main one.
    await client.reply(client.request('logging/setLevel', { level: 'emergency' }));
    posted = 0;
    const second = client.call('report', {});
    expect(text(await client.reply(second))).toBe('reported');
    expect(posted).toBe(0);
    expect(notes(client).logs).toHaveLength(4);
    expect(notes(client).progress).toEqual([]);
  });

  it('2026-07-28: logs only at the _meta logLevel, and none without one', async () => {
    const p = pool();
    const client = new MemoryClient(serverWith(p));
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    const withLevel = client.call('report', {}, { ...meta, 'io.modelcontextprotocol/logLevel': 'error', progressToken: 'p' });
    expect(text(await client.reply(withLevel))).toBe('reported');
    expect(notes(client).logs.map((n) => n.params.level)).toEqual(['error']);
    expect(notes(client).progress.map((n) => n.params.progress)).toEqual([1, 2, 3]);
    const without = client.call('report', {}, meta);
    expect(text(await client.reply(without))).toBe('reported');
    expect(notes(client).logs).toHaveLength(1);
  });

  it("gives the handler the caller's request id", async () => {
    const p = pool();
    const { client } = await connected(p);
    const id = client.call('whoami', {});
    const who = (await client.reply(id)).result.structuredContent;
    expect(who).toMatchObject({ requestId: id, auth: null });
  });

  it("cancellation aborts the handler's ctx.signal; a handler that stops keeps its thread", async () => {
    const p = pool({ maxThreads: 1 });
    const { client } = await connected(p);
    const before = threadOf(await client.reply(client.call('thread', {})));
    const dir = gate();
    const id = client.call('awaitAbort', { path: dir.path });
    // Cancelled before the handler reads ctx.signal, the thread would be terminated at once.
    await vi.waitFor(() => expect(existsSync(`${dir.path}.watching`)).toBe(true), WAIT);
    client.send({ method: 'notifications/cancelled', params: { requestId: id, reason: 'changed my mind' } });
    await vi.waitFor(() => expect(existsSync(dir.path)).toBe(true), WAIT);
    expect(JSON.parse(readFileSync(dir.path, 'utf8'))).toEqual({ name: 'AbortError', message: 'The call was cancelled', threadId: before });
    await vi.waitFor(() => expect(p.stats().failed.cancelled).toBe(1), WAIT);
    // Same thread afterwards: it was not terminated. The cancelled request gets no reply.
    expect(threadOf(await client.reply(client.call('thread', {})))).toBe(before);
    expect(client.replyIndex(id)).toBe(-1);
  });

  it('a timeout aborts ctx.signal; a loop that never yields sees it through ctx.signal.aborted', async () => {
    const p = pool({ maxThreads: 1, taskTimeoutMs: 300, abortGraceMs: 10_000 });
    const { client } = await connected(p);
    const before = await warmThread(client);
    const marker = gate();
    const reply = await client.reply(client.call('spinUntilAborted', { path: marker.path }));
    expect(reply.result.isError).toBe(true);
    expect(text(reply)).toMatch(/ran longer than taskTimeoutMs \(300 ms\); it stopped when its ctx.signal aborted/);
    expect(poolMeta(reply)).toEqual({ code: 'MCP_POOL_TIMEOUT', failure: 'timeout' });
    expect(JSON.parse(readFileSync(marker.path, 'utf8'))).toEqual({ name: 'TimeoutError', threadId: before });
    expect(threadOf(await client.reply(client.call('thread', {})))).toBe(before);
  });

  it('terminates a handler that watches ctx.signal but ignores it, after abortGraceMs', async () => {
    const p = pool({ maxThreads: 1, taskTimeoutMs: 300, abortGraceMs: 50 });
    const { client } = await connected(p);
    const before = await warmThread(client);
    const reply = await client.reply(client.call('ignoreAbort', {}));
    expect(text(reply)).toMatch(/ran longer than taskTimeoutMs \(300 ms\); its worker thread was terminated/);
    expect(threadOf(await client.reply(client.call('thread', {})))).not.toBe(before);
  });
});

describe('worker pool, run() directly', () => {
  it('drops a waiting call whose signal aborts, without touching the running one', async () => {
    const p = pool({ maxThreads: 1 });
    const g = gate();
    const held = p.run(TOOLS, 'holdUntil', { path: g.path });
    await vi.waitFor(() => expect(p.stats().running).toBe(1), WAIT);
    const controller = new AbortController();
    const waiting = p.run(TOOLS, 'tag', { tag: 'w' }, { signal: controller.signal });
    expect(p.stats().queued).toBe(1);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'MCP_POOL_CANCELLED', failure: 'cancelled' });
    expect(p.stats().queued).toBe(0);
    g.release();
    await expect(held).resolves.toBe('released');
    // A signal already aborted never queues.
    await expect(p.run(TOOLS, 'tag', { tag: 'x' }, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(PoolError);
  });

  it('bounds one caller with maxQueuePerCaller while others still queue', async () => {
    const p = pool({ maxThreads: 1, maxQueue: 10, maxQueuePerCaller: 2 });
    const g = gate();
    const held = p.run(TOOLS, 'holdUntil', { path: g.path }, { caller: 'a' });
    await vi.waitFor(() => expect(p.stats().running).toBe(1), WAIT);
    const a = [p.run(TOOLS, 'tag', { tag: 'a1' }, { caller: 'a' }), p.run(TOOLS, 'tag', { tag: 'a2' }, { caller: 'a' })];
    await expect(p.run(TOOLS, 'tag', { tag: 'a3' }, { caller: 'a' })).rejects.toMatchObject({
      code: 'MCP_POOL_QUEUE_FULL',
      message: expect.stringMatching(/this caller already has 2 calls waiting \(maxQueuePerCaller 2\)/),
    });
    const b = p.run(TOOLS, 'tag', { tag: 'b1' }, { caller: 'b' });
    g.release();
    await held;
    const texts = (await Promise.all([...a, b])).map((r: any) => r.content[0].text);
    expect(texts).toEqual(['a1', 'a2', 'b1']);
  });

  it('serves a caller behind 200 calls of another within the first slots (fair queue on real threads)', async () => {
    const p = pool({ maxThreads: 1, maxQueue: 500 });
    const g = gate();
    const done: string[] = [];
    const track = (caller: string, tag: string): Promise<unknown> => p.run(TOOLS, 'tag', { tag }, { caller }).then(() => void done.push(tag));
    const held = p.run(TOOLS, 'holdUntil', { path: g.path }, { caller: 'a' });
    await vi.waitFor(() => expect(p.stats().running).toBe(1), WAIT);
    const all = Array.from({ length: 200 }, (_, i) => track('a', `a${i}`));
    all.push(track('b', 'b'));
    expect(p.stats().queued).toBe(201);
    g.release();
    await held;
    await Promise.all(all);
    expect(done.indexOf('b')).toBe(1);
  });

  it('recovers after a burst of crashes and serves a burst of calls on both threads', async () => {
    const p = pool({ maxThreads: 2, resourceLimits: { maxOldGenerationSizeMb: 32 } });
    const crashes = await Promise.allSettled([
      p.run(fixture('exit.mjs'), 'default', { code: 1 }),
      p.run(fixture('exit.mjs'), 'default', { code: 2 }),
      p.run(fixture('oom.mjs'), 'default', {}),
      p.run(fixture('uncaught.mjs'), 'default', {}),
    ]);
    expect(crashes.map((r) => (r.status === 'rejected' ? (r.reason as PoolError).failure : 'fulfilled'))).toEqual(['crashed', 'crashed', 'oom', 'crashed']);
    const results = await Promise.all(Array.from({ length: 20 }, (_, n) => p.run(TOOLS, 'sumSquares', { n })));
    expect(results.map((r: any) => r.structuredContent.total)).toEqual(Array.from({ length: 20 }, (_, n) => ((n - 1) * n * (2 * n - 1)) / 6));
    const threadIds = new Set(results.map((r: any) => r.structuredContent.threadId));
    expect(threadIds.size).toBeGreaterThanOrEqual(1);
    expect(p.stats()).toMatchObject({ running: 0, queued: 0, completed: 20 });
  });

  it('close(): waiting calls fail MCP_POOL_CLOSED, running ones finish, later calls fail at once', async () => {
    const p = pool({ maxThreads: 1 });
    const g = gate();
    const held = p.run(TOOLS, 'holdUntil', { path: g.path });
    await vi.waitFor(() => expect(p.stats().running).toBe(1), WAIT);
    const waiting = p.run(TOOLS, 'tag', { tag: 'late' });
    const closing = p.close();
    await expect(waiting).rejects.toMatchObject({ code: 'MCP_POOL_CLOSED' });
    await expect(p.run(TOOLS, 'tag', { tag: 'after' })).rejects.toMatchObject({ code: 'MCP_POOL_CLOSED' });
    g.release();
    await expect(held).resolves.toBe('released');
    await closing;
    // A tool of a closed pool answers isError, not a protocol error.
    const handler = p.tool(TOOLS, 'tag');
    const ctx = { signal: new AbortController().signal, auth: undefined, sessionId: undefined, meta: {}, minLogRank: Infinity };
    const result: any = await handler({ tag: 'x' }, ctx as any, undefined);
    expect(result).toMatchObject({ isError: true, _meta: { [POOL_META_KEY]: { code: 'MCP_POOL_CLOSED', failure: 'closed' } } });
  });

  it('close({ force: true }) terminates running calls', async () => {
    const p = pool({ maxThreads: 1 });
    const running = p.run(fixture('spin.mjs'), 'default', {});
    await vi.waitFor(() => expect(p.stats().running).toBe(1), WAIT);
    const outcome = expect(running).rejects.toMatchObject({ code: 'MCP_POOL_CLOSED' });
    await p.close({ force: true });
    await outcome;
  });

  it('passes notes to onProgress/onLog at logLevel and above; refuses an unknown logLevel', async () => {
    const p = pool({ maxThreads: 1 });
    const seen: unknown[] = [];
    const result = await p.run(CONTEXT, 'report', {}, {
      onProgress: (progress, total, message) => seen.push(['progress', progress, total, message]),
      onLog: (level, data, logger) => seen.push([level, data, logger]),
      logLevel: 'info',
    });
    seen.push(result);
    expect(seen).toEqual([
      ['progress', 1, 3, 'one'],
      ['info', { step: 'info' }, undefined],
      ['progress', 2, 3, undefined],
      ['warning', { step: 'warning' }, 'pool-test'],
      ['progress', 3, 3, 'three'],
      ['error', { step: 'error' }, undefined],
      'reported',
    ]);
    expect(() => p.run(CONTEXT, 'report', {}, { onLog: () => {}, logLevel: 'loud' as any })).toThrow(/Unknown logLevel "loud"/);
    // Log data JSON cannot carry fails in the handler, as its own error.
    await expect(p.run(CONTEXT, 'badLog', {}, { onLog: () => {} })).rejects.toMatchObject({
      code: 'MCP_POOL_HANDLER_ERROR',
      message: expect.stringMatching(/log data is not JSON-serializable.*BigInt/),
    });
    // A call without sinks gets a context whose progress and log do nothing.
    await expect(p.run(CONTEXT, 'report', {})).resolves.toBe('reported');
  });

  it('refuses a relative or missing handler module at registration', () => {
    const p = pool();
    expect(() => p.tool('test/fixtures/pool/tools.mjs')).toThrow(/absolute path or a file: URL/);
    expect(() => p.tool(fixture('nope.mjs'))).toThrow(/does not exist/);
    expect(() => p.tool('https://example.com/x.mjs')).toThrow(/absolute path or a file: URL/);
    expect(() => p.tool(TOOLS, '')).toThrow(/non-empty string/);
    expect(typeof p.tool(new URL(`file://${TOOLS}`), 'tag')).toBe('function');
  });

  it('fills in documented defaults', () => {
    const p = pool({ maxThreads: 2, taskTimeoutMs: undefined as unknown as number });
    expect(p.options).toMatchObject({ minThreads: 1, maxThreads: 2, maxQueue: 1024, maxQueuePerCaller: 1024, idleTimeoutMs: 30_000, taskTimeoutMs: 60_000, transfer: 'json', abortGraceMs: 100 });
    expect(p.options.resourceLimits).toEqual({ maxOldGenerationSizeMb: 512 });
  });
});

describe('why the pool keeps its own queue (a Piscina behaviour it relies on)', () => {
  // If this starts failing, Piscina sends tasks with a signal through a custom taskQueue now
  // (piscinajs/piscina#899): the FairQueue could then become Piscina's taskQueue (docs/worker-pool.md section 3).
  it('Piscina 5 routes tasks that carry an AbortSignal around a custom taskQueue and its maxQueue', async () => {
    let pushes = 0;
    const tasks: unknown[] = [];
    const taskQueue = {
      get size() {
        return tasks.length;
      },
      push: (t: unknown) => void (pushes++, tasks.push(t)),
      shift: () => tasks.shift() ?? null,
      remove: (t: unknown) => void tasks.splice(tasks.indexOf(t), 1),
    };
    const piscina = new Piscina({ filename: TOOLS, minThreads: 1, maxThreads: 1, maxQueue: 2, taskQueue: taskQueue as never });
    try {
      const signal = new AbortController().signal;
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => piscina.run({ i }, { name: 'asyncEcho', signal })));
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true); // maxQueue 2 did not refuse any
      expect(pushes).toBe(0); // and none went through the custom queue
    } finally {
      await piscina.destroy();
    }
  });
});

describe('worker pool from the built package (dist/)', () => {
  it('runs its threads on dist/pool/worker.js, without tsx', async () => {
    const built = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    expect(existsSync(built), 'dist/ is missing: run npm run build:ts').toBe(true);
    expect(existsSync(fileURLToPath(new URL('../../dist/pool/worker.js', import.meta.url)))).toBe(true);
    const dist = (await import(built)) as typeof import('../../src/index.js');
    const p = dist.createWorkerPool({ maxThreads: 1 });
    pools.push(p);
    await expect(p.run(TOOLS, 'default', { from: 'dist' })).resolves.toBe('{"from":"dist"}');
    const threads = (p as any).piscina.threads as { execArgv?: string[] }[];
    expect(threads.length).toBe(1);
    await expect(p.run(fixture('throws.mjs'), 'throws', { message: 'from dist' })).rejects.toMatchObject({ code: 'MCP_POOL_HANDLER_ERROR', message: 'from dist' });
    // The built worker gives handlers their context too.
    const progress: number[] = [];
    await expect(p.run(CONTEXT, 'burst', { count: 3 }, { onProgress: (n) => void progress.push(n) })).resolves.toEqual({ content: [{ type: 'text', text: '3' }] });
    expect(progress).toEqual([1, 2, 3]);
  });
});
