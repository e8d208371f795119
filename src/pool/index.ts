// The trusted worker pool (docs/worker-pool.md): CPU-heavy tool handlers that the server operator
// trusts run on Piscina worker threads, off the event loop.
//
//   const pool = createWorkerPool({ maxThreads: 2, maxQueue: 256, taskTimeoutMs: 10_000 });
//   server.tool('resize', { inputSchema }, pool.tool('/abs/path/resize.mjs', 'resize'));
//
// A call goes: pool.tool handler -> run() -> the fair queue (one FIFO per caller, served round-robin)
// -> Piscina.run on a free thread -> src/pool/worker.ts -> the handler module `(args, ctx)`. Arguments
// and results cross as their JSON text by default (protocol.ts; the measurements in docs/worker-pool.md).
// The handler's ctx.progress/ctx.log come back as notes on Piscina's 'message' event and go to the
// request's RequestContext, all of them before the result; ctx.signal is driven through a shared slot
// (handler-context.ts).
//
// Why the queue is ours and not Piscina's `taskQueue` option: Piscina 5 puts every task that has an
// AbortSignal into an internal "skip queue" that bypasses both the custom taskQueue and maxQueue
// (piscinajs/piscina#899; checked on 5.3.2: zero pushes into the custom queue, no limit). Every pool
// call needs a signal (cancellation, timeouts), so a taskQueue could neither order nor bound them.
// Instead the pool hands Piscina at most maxThreads calls at once, each of which gets a thread at
// once (or as soon as a replacement thread is up), and everything else waits in the FairQueue here.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { basename, isAbsolute } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { McpError } from '../server/errors.js';
import { ErrorCode } from '../server/protocol.js';
import type { RequestContext } from '../server/context.js';
import type { LogLevel } from '../server/protocol.js';
import { logLevelRank } from '../server/protocol.js';
import type { ToolHandler, ToolResultLike } from '../server/server.js';
import type { CallToolResult } from '../server/types.js';
import { POOL_FAILURES, PoolError, PoolErrors } from './errors.js';
import type { PoolFailure } from './errors.js';
import { FairQueue } from './fair-queue.js';
import type { QueueNode } from './fair-queue.js';
import { NOTE_KEY, SLOT_GENERATION_MASK, SLOT_GENERATION_SHIFT, SLOT_WATCHED } from './protocol.js';
import type { AbortReasonCode, NotedAnswer, PoolAnswer, PoolNote, PoolTask, Transfer } from './protocol.js';

export { POOL_ERROR_CODES, POOL_FAILURES, PoolError } from './errors.js';
export type { PoolErrorCode, PoolFailure } from './errors.js';
export type { Transfer } from './protocol.js';
export type { PoolHandlerContext } from './handler-context.js';

export interface WorkerPoolOptions {
  /** Threads kept alive even when idle (default 1). */
  minThreads?: number;
  /** Most threads, and so most calls running at once (default: os.availableParallelism()). */
  maxThreads?: number;
  /** Most calls waiting for a thread, over all callers; beyond it calls fail at once (default 1024). */
  maxQueue?: number;
  /** Most calls waiting for one caller (default: maxQueue). */
  maxQueuePerCaller?: number;
  /** A thread above minThreads idle this long exits (default 30 000 ms). */
  idleTimeoutMs?: number;
  /** V8 limits of each thread (default { maxOldGenerationSizeMb: 512 }). */
  resourceLimits?: ResourceLimits;
  /** Longest a call may run on its thread before the thread is terminated (default 60 000 ms; Infinity: none). */
  taskTimeoutMs?: number;
  /** How arguments and results cross: 'json', 'bytes' or 'clone' (default 'json'; docs/worker-pool.md section 7). */
  transfer?: Transfer;
  /**
   * After a cancellation or timeout, how long a handler that reads ctx.signal may take to return
   * before its thread is terminated (default 100 ms; 0: at once). Handlers that never read it are
   * terminated at once.
   */
  abortGraceMs?: number;
}

export interface RunOptions {
  /** Aborting it drops a waiting call, or terminates the thread running it. */
  signal?: AbortSignal;
  /** Whose call this is, for round-robin serving (default: one shared caller). */
  caller?: string;
  /** Receives the handler's ctx.progress() calls; without it the thread posts none. */
  onProgress?: (progress: number, total?: number, message?: string) => void;
  /** Receives the handler's ctx.log() calls at `logLevel` or above; without it the thread posts none. */
  onLog?: (level: LogLevel, data: unknown, logger?: string) => void;
  /** Lowest level onLog receives (default 'debug'). */
  logLevel?: LogLevel;
}

export interface WorkerPoolStats {
  /** Live worker threads. */
  threads: number;
  /** Calls waiting for a thread. */
  queued: number;
  /** Calls on a thread now. */
  running: number;
  /** Calls that returned a value. */
  completed: number;
  /** Calls that failed, by cause. */
  failed: Record<PoolFailure, number>;
  /** Median ms from hand-off to a thread to the answer, over the last 1024 calls that got one; null before the first. */
  runTimeP50Ms: number | null;
}

export interface WorkerPool {
  /** The options in effect, defaults filled in. */
  readonly options: Readonly<Required<Omit<WorkerPoolOptions, 'resourceLimits'>>> & { readonly resourceLimits: ResourceLimits };
  /**
   * A tool handler for server.tool() that runs export `exportName` of `module` (an absolute path or
   * a file: URL) on the pool. The export is `(args, ctx) => result | Promise<result>` (ctx: a
   * PoolHandlerContext); the result is what an in-process tool handler returns (a string, content
   * blocks or a CallToolResult).
   */
  tool(module: string | URL, exportName?: string): ToolHandler;
  /** Runs the export on the pool and resolves with its result; rejects with a PoolError. */
  run(module: string | URL, exportName: string, args: unknown, options?: RunOptions): Promise<unknown>;
  stats(): WorkerPoolStats;
  /**
   * Closes the pool: waiting calls fail with MCP_POOL_CLOSED, running ones finish (or, with
   * force, are terminated and fail with MCP_POOL_CLOSED), later calls fail at once.
   */
  close(options?: { force?: boolean }): Promise<void>;
}

/** The `_meta` key under which a failed pool tool result carries its code and cause. */
export const POOL_META_KEY = 'fastermcp/pool';

const RUN_TIME_SAMPLES = 1024;

/** Reasons given to a call's AbortController, to tell a timeout from a cancellation afterwards. */
const CANCELLED = Symbol('cancelled');
const TIMED_OUT = Symbol('timeout');
const CLOSING = Symbol('closing');

/**
 * The taskTimeoutMs clock of one call. It runs from when a thread is free for the call: a thread
 * still starting (a replacement after a crash, or one above minThreads) is not the call's time.
 * While waiting for a thread it starts anyway after taskTimeoutMs, so a thread that never comes up
 * cannot hold a call forever.
 */
class TaskClock {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly ms: number,
    private readonly onTimeout: () => void,
  ) {}

  readonly start = (): void => {
    if (this.running) return;
    this.running = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(this.onTimeout, this.ms);
    this.timer.unref();
  };

  waitForThread(): void {
    this.timer = setTimeout(this.start, this.ms);
    this.timer.unref();
  }

  stop(): void {
    this.running = true;
    clearTimeout(this.timer);
  }
}

/** Where a call's notes go: the request's RequestContext, or pool.run()'s callbacks. */
interface NoteSink {
  progress?(progress: number, total?: number, message?: string): void;
  log?(level: LogLevel, data: unknown, logger?: string): void;
}

/** What a call brings besides its target and arguments. */
interface CallInput {
  signal: AbortSignal | undefined;
  caller: string;
  /** undefined: the call wants no notes. */
  sink: NoteSink | undefined;
  wantsProgress: boolean;
  /** Lowest log level rank wanted; Infinity: none. */
  minLogRank: number;
  /** Set by pool.tool() from the request. */
  context: RequestContext | undefined;
}

interface Job {
  readonly target: string;
  readonly exportName: string;
  readonly args: unknown;
  readonly call: CallInput;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: PoolError) => void;
  /** While waiting: the queue handle and the abort listener that removes it. */
  node: QueueNode<Job> | undefined;
  onQueuedAbort: (() => void) | undefined;
  /** While running: the call id, its slot, why it is being aborted, and the grace timer. */
  id: number;
  slot: number;
  abort: symbol | undefined;
  grace: NodeJS.Timeout | undefined;
  /** Notes delivered, and an answer that waits for the rest of them. */
  notesSeen: number;
  parked: NotedAnswer | undefined;
}

export function createWorkerPool(options: WorkerPoolOptions = {}): WorkerPool {
  return new PiscinaWorkerPool(checkOptions(options));
}

type FilledOptions = WorkerPool['options'];

function positiveInteger(value: unknown, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`Expected ${name} to be an integer >= ${min} but received ${String(value)} of type ${typeof value}`);
  }
  return value;
}

/** Checks the options once, before any thread starts. */
function checkOptions(options: WorkerPoolOptions): FilledOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('createWorkerPool expects an options object');
  const maxThreads = positiveInteger(options.maxThreads, 'maxThreads', availableParallelism());
  const minThreads = positiveInteger(options.minThreads, 'minThreads', Math.min(1, maxThreads), 0);
  if (minThreads > maxThreads) throw new RangeError(`Expected minThreads (${minThreads}) to be at most maxThreads (${maxThreads})`);
  const maxQueue = positiveInteger(options.maxQueue, 'maxQueue', 1024, 0);
  const maxQueuePerCaller = positiveInteger(options.maxQueuePerCaller, 'maxQueuePerCaller', maxQueue, 0);
  const idleTimeoutMs = positiveInteger(options.idleTimeoutMs, 'idleTimeoutMs', 30_000, 0);
  let taskTimeoutMs = 60_000;
  if (options.taskTimeoutMs !== undefined) {
    taskTimeoutMs = options.taskTimeoutMs === Infinity ? Infinity : positiveInteger(options.taskTimeoutMs, 'taskTimeoutMs (or Infinity)', 0);
  }
  const resourceLimits = options.resourceLimits === undefined ? { maxOldGenerationSizeMb: 512 } : options.resourceLimits;
  if (typeof resourceLimits !== 'object' || resourceLimits === null) {
    throw new TypeError(`Expected resourceLimits to be an object but received ${String(resourceLimits)}`);
  }
  const transfer = options.transfer ?? 'json';
  if (transfer !== 'json' && transfer !== 'bytes' && transfer !== 'clone') {
    throw new TypeError(`Expected transfer to be 'json', 'bytes' or 'clone' but received ${JSON.stringify(transfer)}`);
  }
  const abortGraceMs = positiveInteger(options.abortGraceMs, 'abortGraceMs', 100, 0);
  return Object.freeze({ minThreads, maxThreads, maxQueue, maxQueuePerCaller, idleTimeoutMs, taskTimeoutMs, resourceLimits, transfer, abortGraceMs });
}

/**
 * Where the worker entry is. Built (dist/pool/index.js): dist/pool/worker.js next to it. From the
 * TypeScript sources (vitest, `node --import tsx`): src/pool/worker.ts, which the threads load
 * through tsx's loader (a devDependency; a package install always runs from dist).
 */
function workerEntry(): { filename: string; execArgv: string[] | undefined } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { filename: fileURLToPath(new URL('./worker.js', here)), execArgv: undefined };
  let tsx: string;
  try {
    tsx = createRequire(here).resolve('tsx');
  } catch {
    throw new Error('The worker pool runs from its TypeScript sources, which its threads load with tsx; install the tsx devDependency or use the built package (dist/)');
  }
  return { filename: fileURLToPath(new URL('./worker.ts', here)), execArgv: ['--import', pathToFileURL(tsx).href] };
}

/** moduleUrl() answers by path, so pool.run() does not stat the file on every call. */
const resolvedModules = new Map<string, string>();
const RESOLVED_MODULES_MAX = 1024;

/** An absolute path or file: URL, as the file: URL string the worker imports; checked to exist. */
function moduleUrl(module: string | URL): string {
  const key = typeof module === 'string' ? module : undefined;
  const known = key === undefined ? undefined : resolvedModules.get(key);
  if (known !== undefined) return known;
  const href = checkModule(module);
  if (key !== undefined) {
    if (resolvedModules.size >= RESOLVED_MODULES_MAX) resolvedModules.clear();
    resolvedModules.set(key, href);
  }
  return href;
}

function checkModule(module: string | URL): string {
  let url: URL;
  if (module instanceof URL) url = module;
  else if (typeof module === 'string' && module.startsWith('file:')) url = new URL(module);
  else if (typeof module === 'string' && isAbsolute(module)) url = pathToFileURL(module);
  else throw new TypeError(`Expected the handler module to be an absolute path or a file: URL but received ${JSON.stringify(String(module))}`);
  if (url.protocol !== 'file:') throw new TypeError(`Expected a file: URL for the handler module but received ${url.href}`);
  if (!existsSync(fileURLToPath(url))) throw new Error(`Handler module ${fileURLToPath(url)} does not exist`);
  return url.href;
}

function checkExportName(exportName: unknown): string {
  if (typeof exportName !== 'string' || exportName === '') {
    throw new TypeError(`Expected the export name to be a non-empty string but received ${String(exportName)}`);
  }
  return exportName;
}

/** The round-robin key of a call: the authenticated subject, else the session, else one shared key. */
export function callerKey(ctx: Pick<RequestContext, 'auth' | 'sessionId'>): string {
  const subject = ctx.auth?.subject;
  if (subject !== undefined) return 'a:' + subject;
  const session = ctx.sessionId;
  return session === undefined ? '' : 's:' + session;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function isFailure(answer: PoolAnswer): answer is { error: string; name: string } {
  return typeof answer === 'object' && typeof (answer as { error?: unknown }).error === 'string';
}

class PiscinaWorkerPool implements WorkerPool {
  private readonly piscina: Piscina;
  private readonly queue = new FairQueue<Job>();
  private running = 0;
  private completed = 0;
  private readonly failed = Object.fromEntries(POOL_FAILURES.map((f) => [f, 0])) as Record<PoolFailure, number>;
  private readonly runTimes = new Float64Array(RUN_TIME_SAMPLES);
  private runTimeCount = 0;
  private closed = false;
  /** AbortControllers of running calls, so close({ force }) can terminate them. */
  private readonly live = new Set<AbortController>();
  /** Clocks of calls handed to Piscina while no thread was idle, started as threads come up. */
  private readonly awaitingThread: TaskClock[] = [];
  /** One Int32 slot per running call (protocol.ts), shared with every thread. */
  private readonly slots: Int32Array;
  private readonly freeSlots: number[];
  private nextId = 0;
  /** Running calls that want notes, by call id. */
  private readonly listening = new Map<number, Job>();

  constructor(readonly options: FilledOptions) {
    const entry = workerEntry();
    const poolSlots = new SharedArrayBuffer(4 * options.maxThreads);
    this.slots = new Int32Array(poolSlots);
    this.freeSlots = Array.from({ length: options.maxThreads }, (_, i) => i);
    this.piscina = new Piscina({
      workerData: { poolSlots },
      filename: entry.filename,
      ...(entry.execArgv === undefined ? {} : { execArgv: entry.execArgv }),
      minThreads: options.minThreads,
      maxThreads: options.maxThreads,
      idleTimeout: options.idleTimeoutMs,
      resourceLimits: options.resourceLimits,
      // Abortable tasks each need a thread of their own; the pool never hands Piscina more.
      concurrentTasksPerWorker: 1,
    });
    // A thread that fails with no call on it (an error thrown after its handler returned) is
    // replaced by Piscina; without a listener the 'error' event would crash the process.
    this.piscina.on('error', (e: unknown) => {
      process.emitWarning(`fastermcp: a worker-pool thread failed between calls and was replaced: ${e instanceof Error ? e.message : String(e)}`, {
        code: 'FASTERMCP_POOL_THREAD_ERROR',
      });
    });
    this.piscina.on('message', (message: unknown) => this.onNote(message));
    // A thread that comes up takes the oldest call waiting for one (Piscina serves its waiting
    // tasks in order). Attached after the start-up threads announced themselves: those were idle
    // from the first call on.
    queueMicrotask(() => this.piscina.on('workerCreate', () => this.awaitingThread.shift()?.start()));
  }

  tool(module: string | URL, exportName = 'default'): ToolHandler {
    const target = moduleUrl(module);
    const name = checkExportName(exportName);
    return async (args: unknown, ctx: RequestContext): Promise<ToolResultLike> => {
      const wantsProgress = ctx.meta['progressToken'] !== undefined;
      const minLogRank = ctx.minLogRank;
      const call: CallInput = {
        signal: ctx.signal,
        caller: callerKey(ctx),
        sink: wantsProgress || minLogRank !== Infinity ? ctx : undefined,
        wantsProgress,
        minLogRank,
        context: ctx,
      };
      try {
        return (await this.start(target, name, args, call)) as ToolResultLike;
      } catch (e) {
        if (!(e instanceof PoolError)) throw e;
        // The dispatcher's own rule: a cancelled call gets no reply at all.
        if (e.failure === 'cancelled') throw e;
        if (e.failure === 'overloaded') throw this.overloadedError(e);
        const result: CallToolResult = {
          content: [{ type: 'text', text: e.message }],
          isError: true,
          _meta: { [POOL_META_KEY]: { code: e.code, failure: e.failure } },
        };
        return result;
      }
    };
  }

  run(module: string | URL, exportName: string, args: unknown, options: RunOptions = {}): Promise<unknown> {
    const { onProgress, onLog } = options;
    let minLogRank = Infinity;
    if (onLog !== undefined) {
      minLogRank = options.logLevel === undefined ? 0 : logLevelRank(options.logLevel);
      if (minLogRank < 0) throw new RangeError(`Unknown logLevel ${JSON.stringify(options.logLevel)}`);
    }
    const wantsNotes = onProgress !== undefined || onLog !== undefined;
    const call: CallInput = {
      signal: options.signal,
      caller: options.caller ?? '',
      sink: wantsNotes ? { progress: onProgress, log: onLog } : undefined,
      wantsProgress: onProgress !== undefined,
      minLogRank,
      context: undefined,
    };
    return this.start(moduleUrl(module), checkExportName(exportName), args, call);
  }

  stats(): WorkerPoolStats {
    const n = Math.min(this.runTimeCount, RUN_TIME_SAMPLES);
    let p50: number | null = null;
    if (n > 0) {
      const sorted = this.runTimes.slice(0, n).sort();
      p50 = sorted[(n - 1) >> 1]!;
    }
    return {
      threads: this.piscina.threads.length,
      queued: this.queue.size,
      running: this.running,
      completed: this.completed,
      failed: { ...this.failed },
      runTimeP50Ms: p50,
    };
  }

  async close(options: { force?: boolean } = {}): Promise<void> {
    this.closed = true;
    for (const job of this.queue.drain()) this.fail(job, PoolErrors.closed());
    if (options.force === true) for (const controller of this.live) controller.abort(CLOSING);
    await this.piscina.close({ force: options.force === true });
  }

  /** Rate-limiter rejections are JSON-RPC errors (-32029, HTTP 429); an overloaded pool answers the same way. */
  private overloadedError(e: PoolError): McpError {
    const p50 = this.stats().runTimeP50Ms;
    // A guess at when a thread frees up: the median run time times the waiting rounds ahead.
    const retryAfterMs = Math.max(1, Math.ceil((p50 ?? 1) * Math.ceil((this.queue.size + 1) / this.options.maxThreads)));
    return new McpError(ErrorCode.RateLimited, e.message, { policy: 'worker-pool', code: e.code, retryAfterMs }, 429);
  }

  private start(target: string, exportName: string, args: unknown, call: CallInput): Promise<unknown> {
    const { signal, caller } = call;
    if (this.closed) return this.rejectNow('closed', PoolErrors.closed());
    if (signal?.aborted === true) return this.rejectNow('cancelled', PoolErrors.cancelled());
    const queued = this.running >= this.options.maxThreads;
    if (queued) {
      // Fail fast rather than grow: the queue is the only place calls wait.
      if (this.queue.size >= this.options.maxQueue) return this.rejectNow('overloaded', PoolErrors.overloaded(this.queue.size, this.options.maxQueue, false));
      const mine = this.queue.sizeOf(caller);
      if (mine >= this.options.maxQueuePerCaller) return this.rejectNow('overloaded', PoolErrors.overloaded(mine, this.options.maxQueuePerCaller, true));
    }
    return new Promise<unknown>((resolve, reject) => {
      const job: Job = {
        target,
        exportName,
        args,
        call,
        resolve,
        reject,
        node: undefined,
        onQueuedAbort: undefined,
        id: 0,
        slot: -1,
        abort: undefined,
        grace: undefined,
        notesSeen: 0,
        parked: undefined,
      };
      if (!queued) return this.dispatch(job);
      job.node = this.queue.push(caller, job);
      if (signal !== undefined) {
        job.onQueuedAbort = () => {
          if (job.node !== undefined && this.queue.remove(job.node)) this.fail(job, PoolErrors.cancelled());
        };
        signal.addEventListener('abort', job.onQueuedAbort, { once: true });
      }
    });
  }

  private rejectNow(failure: PoolFailure, error: PoolError): Promise<never> {
    this.failed[failure]++;
    return Promise.reject(error);
  }

  private fail(job: Job, error: PoolError): void {
    this.failed[error.failure]++;
    job.reject(error);
  }

  /** Hands a job to Piscina; Piscina has a thread for it (or is starting one), never a queue. */
  private dispatch(job: Job): void {
    const signal = job.call.signal;
    if (job.onQueuedAbort !== undefined) signal!.removeEventListener('abort', job.onQueuedAbort);
    job.node = undefined;
    let task: PoolTask;
    try {
      task = this.encode(job);
    } catch (e) {
      this.fail(job, PoolErrors.handler(`The tool arguments are not JSON-serializable: ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    this.running++;
    // The slot starts as this call's generation: not watched, not aborted.
    job.slot = task.k = this.freeSlots.pop()!;
    Atomics.store(this.slots, job.slot, (job.id & SLOT_GENERATION_MASK) << SLOT_GENERATION_SHIFT);
    if (job.call.sink !== undefined) this.listening.set(job.id, job);
    const controller = new AbortController();
    this.live.add(controller);
    const onCancel = (): void => this.abortRunning(job, controller, CANCELLED);
    signal?.addEventListener('abort', onCancel, { once: true });
    let clock: TaskClock | undefined;
    if (this.options.taskTimeoutMs !== Infinity) {
      clock = new TaskClock(this.options.taskTimeoutMs, () => this.abortRunning(job, controller, TIMED_OUT));
      if (this.piscina.idleThreads > 0) clock.start();
      else {
        clock.waitForThread();
        this.awaitingThread.push(clock);
      }
    }
    const startedAt = performance.now();
    const transferList = task.a === undefined ? undefined : [task.a.buffer as ArrayBuffer];
    this.piscina.run(task, { signal: controller.signal, ...(transferList === undefined ? {} : { transferList }) }).then(
      (answer: PoolAnswer) => this.settle(job, controller, clock, onCancel, performance.now() - startedAt, answer),
      (e: unknown) => this.settle(job, controller, clock, onCancel, performance.now() - startedAt, this.threadFailure(job, controller, e)),
    );
  }

  /**
   * The task message: the arguments as JSON text, as transferable JSON bytes, or as themselves
   * ('clone'), the call id, which notes the call wants, and the caller's identity.
   */
  private encode(job: Job): PoolTask {
    const transfer = this.options.transfer;
    const task: PoolTask = { m: job.target, x: job.exportName };
    if (transfer === 'clone') task.v = job.args;
    else {
      const json = JSON.stringify(job.args) ?? '';
      if (transfer === 'json') task.s = json;
      else task.a = encoder.encode(json);
    }
    job.id = task.i = this.nextId = (this.nextId + 1) & SLOT_GENERATION_MASK;
    const { wantsProgress, minLogRank, context } = job.call;
    if (wantsProgress) task.p = 1;
    if (minLogRank !== Infinity) task.l = minLogRank;
    if (context !== undefined) {
      const requestId = context.requestId;
      if (requestId !== undefined) task.r = requestId;
      const session = context.sessionId;
      if (session !== undefined) task.u = session;
      const auth = context.auth;
      if (auth !== undefined) task.h = { subject: auth.subject, scopes: [...auth.scopes] };
    }
    return task;
  }

  /**
   * Cancellation or timeout of a running call: the slot says why (the handler's ctx.signal aborts),
   * and the thread is terminated at once, or after abortGraceMs when the handler watches ctx.signal.
   */
  private abortRunning(job: Job, controller: AbortController, reason: symbol): void {
    if (job.abort !== undefined) return;
    job.abort = reason;
    const code: AbortReasonCode = reason === TIMED_OUT ? 2 : reason === CLOSING ? 3 : 1;
    const slots = this.slots;
    let value: number;
    do value = Atomics.load(slots, job.slot);
    while (Atomics.compareExchange(slots, job.slot, value, value | (code << 1)) !== value);
    Atomics.notify(slots, job.slot);
    const grace = this.options.abortGraceMs;
    if ((value & SLOT_WATCHED) === 0 || grace === 0) return controller.abort(reason);
    job.grace = setTimeout(() => controller.abort(reason), grace);
    job.grace.unref();
  }

  /** A note from a thread: to its call's sink; an answer waiting for it goes out after the last one. */
  private onNote(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const id = (message as Record<string, unknown>)[NOTE_KEY];
    if (typeof id !== 'number') return;
    // Unknown: the call already failed or was cancelled, and nothing more of it goes out.
    const job = this.listening.get(id);
    if (job === undefined) return;
    job.notesSeen++;
    const note = message as PoolNote;
    try {
      if (note.k === 'p') job.call.sink!.progress?.(note.p, note.t, note.m);
      else job.call.sink!.log?.(note.v as LogLevel, JSON.parse(note.d), note.g);
    } catch (e) {
      process.emitWarning(`fastermcp: a worker-pool ${note.k === 'p' ? 'progress' : 'log'} note could not be delivered: ${e instanceof Error ? e.message : String(e)}`, {
        code: 'FASTERMCP_POOL_NOTE_ERROR',
      });
    }
    if (job.parked !== undefined && job.notesSeen >= job.parked.n) {
      const answer = job.parked.r;
      job.parked = undefined;
      this.deliver(job, answer);
    }
  }

  /** The error of a call aborted for `reason`; `terminated`: its thread was, rather than the handler stopping. */
  private abortError(job: Job, reason: unknown, terminated: boolean): PoolError {
    if (reason === TIMED_OUT) return PoolErrors.timeout(`${basename(fileURLToPath(job.target))}#${job.exportName}`, this.options.taskTimeoutMs, terminated);
    if (reason === CLOSING) return PoolErrors.closed();
    return PoolErrors.cancelled();
  }

  /** What a rejected Piscina task means: the thread failed, or we aborted it. */
  private threadFailure(job: Job, controller: AbortController, e: unknown): PoolError {
    if (controller.signal.aborted) return this.abortError(job, controller.signal.reason, true);
    const label = `${basename(fileURLToPath(job.target))}#${job.exportName}`;
    const err = e as { code?: unknown; message?: unknown } | undefined;
    if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') return PoolErrors.oom(label, this.options.resourceLimits.maxOldGenerationSizeMb);
    const message = typeof err?.message === 'string' ? err.message : String(e);
    const exited = /^worker exited with code: (-?\d+)/.exec(message);
    if (exited !== null) return PoolErrors.exited(label, `exited with code ${exited[1]}`);
    if (this.closed && message === 'Terminating worker thread') return PoolErrors.closed();
    return PoolErrors.exited(label, `died of an uncaught error (${message})`);
  }

  private settle(
    job: Job,
    controller: AbortController,
    clock: TaskClock | undefined,
    onCancel: () => void,
    ms: number,
    outcome: PoolAnswer | PoolError,
  ): void {
    if (clock !== undefined) {
      clock.stop();
      const waiting = this.awaitingThread.indexOf(clock);
      if (waiting >= 0) this.awaitingThread.splice(waiting, 1);
    }
    job.call.signal?.removeEventListener('abort', onCancel);
    clearTimeout(job.grace);
    this.live.delete(controller);
    this.freeSlots.push(job.slot);
    this.running--;
    this.runTimes[this.runTimeCount++ % RUN_TIME_SAMPLES] = ms;
    // The freed slot goes to the next caller in line before this result is delivered.
    this.pump();
    // A handler that returned within its grace period still fails as cancelled or timed out.
    if (!(outcome instanceof PoolError) && job.abort !== undefined) outcome = this.abortError(job, job.abort, false);
    if (outcome instanceof PoolError) {
      this.listening.delete(job.id);
      return this.fail(job, outcome);
    }
    // Notes still on their way hold the answer back, so the client sees none after the result.
    if (typeof outcome === 'object' && 'n' in outcome) {
      if (job.notesSeen < outcome.n) {
        job.parked = outcome;
        return;
      }
      outcome = outcome.r;
    }
    this.deliver(job, outcome);
  }

  /** Decodes the answer and settles the call (its notes are all delivered). */
  private deliver(job: Job, outcome: Exclude<PoolAnswer, NotedAnswer>): void {
    this.listening.delete(job.id);
    if (isFailure(outcome)) return this.fail(job, PoolErrors.handler(outcome.error));
    let value: unknown;
    try {
      if (typeof outcome === 'string') value = outcome === '' ? undefined : JSON.parse(outcome);
      else if (outcome instanceof Uint8Array) value = outcome.length === 0 ? undefined : JSON.parse(decoder.decode(outcome));
      else value = outcome.v;
    } catch (e) {
      return this.fail(job, PoolErrors.handler(`The worker answered bytes that are not JSON: ${e instanceof Error ? e.message : String(e)}`));
    }
    this.completed++;
    job.resolve(value);
  }

  private pump(): void {
    while (this.running < this.options.maxThreads && !this.closed) {
      const job = this.queue.shift();
      if (job === undefined) return;
      this.dispatch(job);
    }
  }
}
