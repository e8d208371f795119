// The trusted worker pool (src/pool) on real Piscina threads: tools served through an McpServer over
// an in-process stdio pair (PassThrough streams into a StdioTransport), and pool.run() directly.
// Covers the happy path (every transfer mode), each crash kind (throw, process.exit, heap limit,
// uncaught error, hang -> timeout), cancellation (running: the thread is terminated and the others
// are untouched; waiting: dropped; a 2025-11-25 task cancelled by tasks/cancel), overload (maxQueue, maxQueuePerCaller; a -32029 error through
// the server), fairness (one caller's single call behind 200 of another's), recovery, close, and the
// built package (dist/, whose threads load dist/pool/worker.js without tsx).
//
// No timing thresholds: tests wait for states (pool.stats(), files, replies) with bounded waits, and
// a thread is held busy by a handler that blocks until a file appears.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { McpServer } from '../../src/server/server.js';
import { StdioTransport } from '../../src/transport/stdio.js';
import { POOL_META_KEY, PoolError, createWorkerPool } from '../../src/pool/index.js';
import type { WorkerPool, WorkerPoolOptions } from '../../src/pool/index.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/pool/${name}`, import.meta.url));
const TOOLS = fixture('tools.mjs');
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

/** A client on an in-process stdio pair: JSON lines in, replies parsed; `order` numbers every reply. */
class MemoryClient {
  private readonly input = new PassThrough();
  private readonly output = new PassThrough();
  private readonly transport: StdioTransport;
  readonly messages: any[] = [];
  private carry = '';
  private waiters: (() => void)[] = [];
  private nextId = 1;

  constructor(
    server: McpServer,
    private readonly onReply: (m: any) => void = () => {},
  ) {
    this.transport = new StdioTransport(server, { input: this.input, output: this.output });
    void this.transport.start();
    this.output.setEncoding('utf8').on('data', (s: string) => {
      const lines = (this.carry + s).split('\n');
      this.carry = lines.pop()!;
      for (const line of lines) {
        if (line === '') continue;
        const m = JSON.parse(line);
        this.messages.push(m);
        if (m.id !== undefined) this.onReply(m);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    clients.push(this);
  }

  send(message: object): void {
    this.input.write(JSON.stringify({ jsonrpc: '2.0', ...message }) + '\n');
  }

  /** Sends a request and returns its id. */
  request(method: string, params: object): number {
    const id = this.nextId++;
    this.send({ id, method, params });
    return id;
  }

  /** The reply to `id`, waiting for it (bounded). */
  async reply(id: number, timeoutMs = 15_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m.id === id && m.method === undefined);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no reply to request ${id} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async initialize(protocolVersion = '2025-06-18'): Promise<void> {
    const id = this.request('initialize', { protocolVersion, capabilities: {}, clientInfo: { name: 't', version: '1' } });
    await this.reply(id);
    this.send({ method: 'notifications/initialized' });
  }

  call(name: string, args: object): number {
    return this.request('tools/call', { name, arguments: args });
  }

  close(): void {
    this.transport.close();
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
    const result: any = await handler({ tag: 'x' }, { signal: new AbortController().signal, auth: undefined, sessionId: undefined } as any, undefined);
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
    expect(p.options).toMatchObject({ minThreads: 1, maxThreads: 2, maxQueue: 1024, maxQueuePerCaller: 1024, idleTimeoutMs: 30_000, taskTimeoutMs: 60_000, transfer: 'json' });
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
  });
});
