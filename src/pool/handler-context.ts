// The context a worker-pool handler gets as its second argument, inside the worker thread
// (docs/worker-pool.md section 6): `(args, ctx) => result`.
//
//   ctx.progress(progress, total?, message?)   -> the request's RequestContext.progress
//   ctx.log(level, data, logger?)              -> the request's RequestContext.log
//   ctx.signal                                 aborts when the call is cancelled, times out or the pool closes
//   ctx.requestId, ctx.sessionId, ctx.auth     the caller, as plain data
//
// A note (progress or log) is posted on the thread's parentPort only when the call asked for it
// (the client sent a progressToken / wants that log level), so a call that wants none posts nothing.
//
// ctx.signal is made on first read. Reading it marks the call's slot as watched, which buys the
// handler a grace period (abortGraceMs) between the abort and the thread's termination. The abort
// reaches the signal two ways: Atomics.waitAsync wakes it when the thread's event loop turns (async
// handlers), and every read of `ctx.signal` checks the slot at once, so a loop that never yields
// still sees `ctx.signal.aborted` turn true.
import { parentPort } from 'node:worker_threads';
import { LOG_LEVELS } from '../server/protocol.js';
import type { LogLevel } from '../server/protocol.js';
import { NOTE_KEY, SLOT_GENERATION_MASK, SLOT_WATCHED, slotGeneration, slotReason } from './protocol.js';
import type { PoolNote, PoolTask } from './protocol.js';

/** What a worker-pool handler receives beside its arguments. */
export interface PoolHandlerContext {
  /** Aborts when the call is cancelled, runs past taskTimeoutMs or the pool closes; read it through ctx in loops. */
  readonly signal: AbortSignal;
  /** Reports progress (sent only when the client gave a progressToken; values that do not grow are dropped). */
  progress(progress: number, total?: number, message?: string): void;
  /** Sends a log message (only at or above the level the client asked for); `data` must be JSON-serializable. */
  log(level: LogLevel, data: unknown, logger?: string): void;
  /** The request's JSON-RPC id (undefined through pool.run()). */
  readonly requestId: string | number | null | undefined;
  /** The legacy-era session, when there is one. */
  readonly sessionId: string | undefined;
  /** The authenticated caller, when the transport has an authenticator. */
  readonly auth: { readonly subject: string; readonly scopes: readonly string[] } | undefined;
}

type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
// Node 20 has it; the ES2023 lib this project compiles against does not declare it.
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

function abortReason(code: number): DOMException {
  if (code === 2) return new DOMException('The call ran longer than taskTimeoutMs', 'TimeoutError');
  if (code === 3) return new DOMException('The worker pool is closing', 'AbortError');
  return new DOMException('The call was cancelled', 'AbortError');
}

export class CallContext implements PoolHandlerContext {
  /** Notes posted so far; the answer carries the count. */
  notes = 0;
  private done = false;
  private lastProgress = -Infinity;
  private controller: AbortController | undefined;

  constructor(
    private readonly task: PoolTask,
    private readonly flags: Int32Array | undefined,
  ) {}

  get requestId(): string | number | null | undefined {
    return this.task.r;
  }
  get sessionId(): string | undefined {
    return this.task.u;
  }
  get auth(): { readonly subject: string; readonly scopes: readonly string[] } | undefined {
    return this.task.h;
  }

  get signal(): AbortSignal {
    let controller = this.controller;
    if (controller === undefined) {
      controller = this.controller = new AbortController();
      this.watch(controller);
    } else if (!controller.signal.aborted) {
      this.check(controller, false);
    }
    return controller.signal;
  }

  progress(progress: number, total?: number, message?: string): void {
    if (typeof progress !== 'number' || !Number.isFinite(progress)) {
      throw new TypeError(`Expected progress to be a finite number but received ${String(progress)} of type ${typeof progress}`);
    }
    if (total !== undefined && (typeof total !== 'number' || !Number.isFinite(total))) {
      throw new TypeError(`Expected total to be a finite number or undefined but received ${String(total)} of type ${typeof total}`);
    }
    if (message !== undefined && typeof message !== 'string') {
      throw new TypeError(`Expected message to be a string or undefined but received ${String(message)} of type ${typeof message}`);
    }
    // RequestContext would drop a value that does not grow; dropping it here saves the post.
    if (this.task.p === undefined || this.done || !(progress > this.lastProgress)) return;
    this.lastProgress = progress;
    const note: PoolNote = { [NOTE_KEY]: this.task.i!, k: 'p', p: progress };
    if (total !== undefined) note.t = total;
    if (message !== undefined) note.m = message;
    this.post(note);
  }

  log(level: LogLevel, data: unknown, logger?: string): void {
    const rank = (LOG_LEVELS as readonly unknown[]).indexOf(level);
    if (rank < 0) throw new RangeError(`Unknown log level ${JSON.stringify(level)}; expected one of ${LOG_LEVELS.join(', ')}`);
    if (logger !== undefined && typeof logger !== 'string') {
      throw new TypeError(`Expected logger to be a string or undefined but received ${String(logger)} of type ${typeof logger}`);
    }
    if (this.task.l === undefined || rank < this.task.l || this.done) return;
    let json: string | undefined;
    try {
      json = JSON.stringify(data);
    } catch (e) {
      throw new TypeError(`The log data is not JSON-serializable: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (json === undefined) throw new TypeError(`The log data is not JSON-serializable (received ${typeof data})`);
    const note: PoolNote = { [NOTE_KEY]: this.task.i!, k: 'l', v: level, d: json };
    if (logger !== undefined) note.g = logger;
    this.post(note);
  }

  /** The handler returned or threw: later notes are not posted, and the slot's waiter is released. */
  finish(): void {
    this.done = true;
    if (this.controller !== undefined && this.flags !== undefined && this.task.k !== undefined) Atomics.notify(this.flags, this.task.k);
  }

  private post(note: PoolNote): void {
    parentPort!.postMessage(note);
    this.notes++;
  }

  private get generation(): number {
    return this.task.i! & SLOT_GENERATION_MASK;
  }

  /** Marks the slot watched (unless it already carries an abort) and waits for the main thread's notify. */
  private watch(controller: AbortController): void {
    const flags = this.flags;
    const k = this.task.k;
    if (flags === undefined || k === undefined || this.done) return;
    for (;;) {
      const value = Atomics.load(flags, k);
      // The slot belongs to a later call: this one has ended on the main thread.
      if (slotGeneration(value) !== this.generation) return;
      if (slotReason(value) !== 0) return controller.abort(abortReason(slotReason(value)));
      if (Atomics.compareExchange(flags, k, value, value | SLOT_WATCHED) === value) return this.wait(controller, value | SLOT_WATCHED);
    }
  }

  private wait(controller: AbortController, expected: number): void {
    const result = waitAsync(this.flags!, this.task.k!, expected);
    if (result.async) void result.value.then(() => this.check(controller, true));
    else this.check(controller, true);
  }

  /** Aborts the signal if the slot says so; `rewait` after a wake-up that carried no abort. */
  private check(controller: AbortController, rewait: boolean): void {
    const flags = this.flags;
    const k = this.task.k;
    if (flags === undefined || k === undefined || this.done || controller.signal.aborted) return;
    const value = Atomics.load(flags, k);
    if (slotGeneration(value) !== this.generation) return;
    const reason = slotReason(value);
    if (reason !== 0) controller.abort(abortReason(reason));
    else if (rewait) this.wait(controller, value);
  }
}
