// Tasks: tool calls that outlive their request. This file holds the in-memory TaskStore (states,
// timestamps, cancellation, expiry, scoping), where a legacy task's messages go (TaskRoute), and the
// wire shapes of the two task dialects; dispatch.ts decides when a call becomes a task and runs it.
//
// Two dialects share one store:
//   2025-11-25  experimental tasks. The client asks with `params.task: { ttl }`; the result is
//               `{ task: {...} }` with `ttl`/`pollInterval`; tasks/get, tasks/result (waits for the end
//               and returns the tool result), tasks/list, tasks/cancel; `notifications/tasks/status`.
//               A tool result with isError ends the task as `failed` (that revision's rule).
//   2026-07-28  the extension io.modelcontextprotocol/tasks (SEP-2663). The client declares the
//               extension in each request's `_meta` client capabilities and the server decides: a
//               task-supporting tool returns a flat `{ resultType: 'task', taskId, ... ttlMs,
//               pollIntervalMs }`. tasks/get inlines the result, error or pending inputRequests;
//               tasks/update delivers inputResponses; tasks/cancel acks even a finished task.
//               A tool result with isError ends the task as `completed` (`failed` is for protocol
//               errors only).
//
// Lifetime: a task lives while it runs, then for its ttl after it ends (the spec only allows deletion
// once the ttl since creation has passed, so this keeps it at least that long). A task waiting for
// input that gets none for a whole ttl is cancelled. Expiry is checked lazily on every store call, so
// there are no timers and a test can drive time with the `now` option. The store holds at most
// `maxTasks` tasks; creating one more fails rather than evicting a task before its ttl.
//
// Scoping: every task has an owner key and is invisible to any other owner (lookups answer "not
// found"). Legacy era: the session (and the auth principal, when there is one). 2026-07-28: the
// auth principal when the transport authenticates; without one there is no session and no
// principal, so every anonymous client shares one scope and a task id is the only secret. Task ids
// are random UUIDs (122 random bits), which is what the spec asks for when binding is impossible.
import { randomUUID } from 'node:crypto';
import { McpError } from './errors.js';
import { ErrorCode } from './protocol.js';
import type { Channel } from './session.js';
import type { InputRequest, JsonObject } from './types.js';

/** The 2026-07-28 extension id, in capabilities.extensions of both sides. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** 2025-11-25: the `_meta` key tying a message to its task. */
export const RELATED_TASK_META = 'io.modelcontextprotocol/related-task';

/** The one legacy revision with tasks. */
export const TASKS_LEGACY_VERSION = '2025-11-25';

export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

export interface TaskError {
  code: number;
  message: string;
  data?: unknown;
}

export interface TaskStoreOptions {
  /** Most tasks kept at once, running or ended (default 1000). */
  maxTasks?: number;
  /** ttl of a task whose client asked for none (default 5 minutes). */
  defaultTtlMs?: number;
  /** Longest ttl granted; longer requests are cut to it (default 1 hour). */
  maxTtlMs?: number;
  /** Suggested polling interval sent to clients (default 500 ms). */
  pollIntervalMs?: number;
  /** The clock, in milliseconds since the epoch (default Date.now); for tests. */
  now?: () => number;
}

export interface CreateTaskOptions {
  /** Requested ttl (clamped to 1..maxTtlMs); the default when absent. */
  ttlMs?: number;
  /** True once nobody can reach the task any more (its session closed): it is then cancelled and dropped. */
  ownerGone?: () => boolean;
}

const TERMINAL: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL.has(status);
}

/** One task. Fields change only through the store, which stamps lastUpdatedAt and wakes waiters. */
export class Task {
  status: TaskStatus = 'working';
  statusMessage: string | undefined;
  lastUpdatedAt: number;
  /** The tool's result (completed; or failed with isError in the legacy era). */
  result: JsonObject | undefined;
  /** The protocol error the call ended with (failed). */
  error: TaskError | undefined;
  /** 2026-07-28: the input requests still unanswered (input_required). */
  pending: Record<string, InputRequest> = {};
  /** 2026-07-28: every answer tasks/update delivered so far, by key. */
  readonly answers: Record<string, JsonObject> = {};
  /** When the task reached a terminal status. */
  endedAt: number | undefined;
  /** Called after every status change (the legacy era sends notifications/tasks/status from it). */
  onStatus: ((task: Task) => void) | undefined;
  /** Legacy era: where the task's messages to the client go. */
  route: TaskRoute | undefined;
  /** Legacy era: server->client requests of the task still waiting for an answer. */
  outstanding = 0;
  /** Sequence number, for tasks/list cursors. */
  readonly seq: number;
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];

  constructor(
    readonly taskId: string,
    readonly owner: string,
    readonly createdAt: number,
    readonly ttlMs: number,
    readonly pollIntervalMs: number,
    seq: number,
    readonly ownerGone: (() => boolean) | undefined,
  ) {
    this.lastUpdatedAt = createdAt;
    this.seq = seq;
  }

  /** Aborted when the task is cancelled: the handler's ctx.signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get terminal(): boolean {
    return isTerminal(this.status);
  }

  /** Resolves at the next change of this task (or at once if `signal` is aborted). */
  changed(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }

  /** @internal The store's hook: wakes every waiter. */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** @internal The store's hook: cancels the handler. */
  abort(reason: string): void {
    this.controller.abort(new Error(reason));
  }
}

/** Errors the store raises, as the wire sees them. */
export const TaskErrors = {
  notFound: (taskId: unknown): McpError => invalidTask(`Task not found: ${String(taskId)}`),
  full: (max: number): McpError =>
    new McpError(ErrorCode.InternalError, `Too many tasks: this server keeps at most ${max}; try again when some have ended`, { maxTasks: max }),
};

function invalidTask(message: string): McpError {
  return new McpError(ErrorCode.InvalidParams, message, undefined, 400);
}

/** In-memory tasks, bounded and scoped by owner. One per McpServer. */
export class TaskStore {
  readonly maxTasks: number;
  readonly defaultTtlMs: number;
  readonly maxTtlMs: number;
  readonly pollIntervalMs: number;
  private readonly now: () => number;
  private readonly tasks = new Map<string, Task>();
  private nextSeq = 0;

  constructor(options: TaskStoreOptions = {}) {
    this.maxTasks = positiveInt(options.maxTasks ?? 1000, 'maxTasks');
    this.defaultTtlMs = positiveInt(options.defaultTtlMs ?? 300_000, 'defaultTtlMs');
    this.maxTtlMs = positiveInt(options.maxTtlMs ?? 3_600_000, 'maxTtlMs');
    this.pollIntervalMs = positiveInt(options.pollIntervalMs ?? 500, 'pollIntervalMs');
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('tasks.now must be a function');
    this.now = options.now ?? Date.now;
  }

  /** Tasks kept right now (after expiry). */
  get size(): number {
    this.sweep();
    return this.tasks.size;
  }

  /** Creates a working task for `owner`; throws when the store is full. */
  create(owner: string, options: CreateTaskOptions = {}): Task {
    this.sweep();
    if (this.tasks.size >= this.maxTasks) throw TaskErrors.full(this.maxTasks);
    const asked = options.ttlMs;
    const ttl = typeof asked === 'number' && Number.isFinite(asked) && asked >= 1 ? Math.min(Math.floor(asked), this.maxTtlMs) : this.defaultTtlMs;
    let taskId = randomUUID();
    while (this.tasks.has(taskId)) taskId = randomUUID();
    const task = new Task(taskId, owner, this.now(), ttl, this.pollIntervalMs, this.nextSeq++, options.ownerGone);
    this.tasks.set(taskId, task);
    return task;
  }

  /** The task if it exists and belongs to `owner`; another owner's task is "not found" too. */
  get(taskId: unknown, owner: string): Task | undefined {
    this.sweep();
    if (typeof taskId !== 'string') return undefined;
    const task = this.tasks.get(taskId);
    return task !== undefined && task.owner === owner ? task : undefined;
  }

  /** Like get(), but throws the spec's -32602 for an unknown task. */
  require(taskId: unknown, owner: string): Task {
    if (typeof taskId !== 'string') throw invalidTask('params.taskId must be a string');
    const task = this.get(taskId, owner);
    if (task === undefined) throw TaskErrors.notFound(taskId);
    return task;
  }

  /** One page of `owner`'s tasks, oldest first, after sequence number `after` (-1 for the first page). */
  list(owner: string, after: number, limit: number): { tasks: Task[]; last: number | undefined } {
    this.sweep();
    const out: Task[] = [];
    let more = false;
    for (const task of this.tasks.values()) {
      if (task.owner !== owner || task.seq <= after) continue;
      if (out.length === limit) {
        more = true;
        break;
      }
      out.push(task);
    }
    return { tasks: out, last: more ? out[out.length - 1]!.seq : undefined };
  }

  /** Ends a task with the tool's result. A task that already ended keeps its first end. */
  complete(task: Task, result: JsonObject, status: 'completed' | 'failed' = 'completed', message?: string): void {
    if (task.terminal) return;
    task.result = result;
    this.end(task, status, message);
  }

  /** Ends a task with a protocol error. */
  fail(task: Task, error: TaskError): void {
    if (task.terminal) return;
    task.error = error;
    this.end(task, 'failed', error.message);
  }

  /** Cancels a running task (and its handler). False when it had already ended. */
  cancel(task: Task, message = 'Cancelled by the client'): boolean {
    if (task.terminal) return false;
    task.pending = {};
    this.end(task, 'cancelled', message);
    task.abort(message);
    return true;
  }

  /** Cancels every running task (for a server shutting down); returns how many. */
  cancelAll(message = 'The server is shutting down'): number {
    let n = 0;
    for (const task of this.tasks.values()) if (this.cancel(task, message)) n++;
    return n;
  }

  /** 2026-07-28: the handler needs these inputs; the task waits in input_required. */
  requireInput(task: Task, requests: Record<string, InputRequest>): void {
    if (task.terminal) return;
    task.pending = { ...requests };
    this.set(task, 'input_required', `Waiting for input: ${Object.keys(requests).join(', ')}`);
  }

  /**
   * 2026-07-28 tasks/update: records answers to pending requests (other keys, and answers that are
   * not objects, are ignored). When nothing is pending any more the task is working again.
   */
  answer(task: Task, responses: Record<string, unknown>): void {
    if (task.status !== 'input_required') return;
    let took = false;
    for (const [key, value] of Object.entries(responses)) {
      if (!Object.hasOwn(task.pending, key) || typeof value !== 'object' || value === null || Array.isArray(value)) continue;
      task.answers[key] = value as JsonObject;
      delete task.pending[key];
      took = true;
    }
    if (!took) return;
    const left = Object.keys(task.pending);
    if (left.length === 0) this.set(task, 'working', undefined);
    else this.set(task, 'input_required', `Waiting for input: ${left.join(', ')}`);
  }

  /** Legacy era: a server->client request of the task went out (+1) or came back (-1). */
  clientRequest(task: Task, delta: 1 | -1): void {
    task.outstanding = Math.max(0, task.outstanding + delta);
    if (task.terminal) return;
    if (task.outstanding > 0 && task.status === 'working') this.set(task, 'input_required', 'Waiting for the client');
    else if (task.outstanding === 0 && task.status === 'input_required') this.set(task, 'working', undefined);
  }

  /** Resolves once the task has ended; rejects if `signal` aborts first. */
  async ended(task: Task, signal?: AbortSignal): Promise<void> {
    while (!task.terminal) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('Cancelled');
      await task.changed(signal);
    }
  }

  /** Drops expired tasks and cancels abandoned ones; runs on every other call. */
  sweep(): void {
    const now = this.now();
    for (const [id, task] of this.tasks) {
      if (task.terminal) {
        if (now >= task.endedAt! + task.ttlMs) this.tasks.delete(id);
      } else if (task.ownerGone?.() === true) {
        this.cancel(task, 'The session ended');
        this.tasks.delete(id);
      } else if (task.status === 'input_required' && task.outstanding === 0 && now >= task.lastUpdatedAt + task.ttlMs) {
        this.cancel(task, 'No input arrived within the task ttl');
      }
    }
  }

  private end(task: Task, status: TaskStatus, message: string | undefined): void {
    task.endedAt = this.now();
    this.set(task, status, message);
  }

  private set(task: Task, status: TaskStatus, message: string | undefined): void {
    const changed = task.status !== status || task.statusMessage !== message;
    task.status = status;
    task.statusMessage = message;
    task.lastUpdatedAt = this.now();
    task.wake();
    if (changed) task.onStatus?.(task);
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`tasks.${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * Legacy era: where a task's messages to the client go once its tools/call has been answered. A
 * tasks/result request waiting on the task is the preferred stream (the spec's pattern: the client
 * calls tasks/result when it sees input_required); otherwise the session's own stream (the GET stream,
 * or the stdio connection). Requests with nowhere to go wait in a small outbox until a tasks/result
 * stream attaches; notifications with nowhere to go are dropped.
 */
export class TaskRoute {
  private readonly attached: Channel[] = [];
  private readonly outbox: string[] = [];
  /** The channel server->client requests of the task use. */
  readonly requests: Channel;

  constructor(
    private readonly fallback: () => Channel | null,
    private readonly maxQueued = 64,
  ) {
    this.requests = {
      open: true,
      send: (message) => {
        const target = this.target();
        if (target !== null) target.send(message);
        else if (this.outbox.length < this.maxQueued) this.outbox.push(message);
      },
    };
  }

  /** Sends a notification if some stream is open. */
  notify(message: string): void {
    this.target()?.send(message);
  }

  /** A tasks/result stream waits on the task: it gets the queued requests; call the result to detach. */
  attach(channel: Channel): () => void {
    this.attached.push(channel);
    while (this.outbox.length > 0 && channel.open) channel.send(this.outbox.shift()!);
    return () => {
      const i = this.attached.indexOf(channel);
      if (i >= 0) this.attached.splice(i, 1);
    };
  }

  private target(): Channel | null {
    for (let i = this.attached.length - 1; i >= 0; i--) if (this.attached[i]!.open) return this.attached[i]!;
    const fallback = this.fallback();
    return fallback !== null && fallback.open ? fallback : null;
  }
}

// ---- wire shapes ------------------------------------------------------------------------------

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The fields of a task; the two eras differ only in the names of the ttl and poll interval. */
function taskFields(task: Task, ttl: string, pollInterval: string): JsonObject {
  const out: JsonObject = { taskId: task.taskId, status: task.status };
  if (task.statusMessage !== undefined) out['statusMessage'] = task.statusMessage;
  out['createdAt'] = iso(task.createdAt);
  out['lastUpdatedAt'] = iso(task.lastUpdatedAt);
  out[ttl] = task.ttlMs;
  out[pollInterval] = task.pollIntervalMs;
  return out;
}

/** 2025-11-25 `Task`: the body of CreateTaskResult.task, tasks/get, tasks/list items, tasks/cancel. */
export function legacyTask(task: Task): JsonObject {
  return taskFields(task, 'ttl', 'pollInterval');
}

/** 2026-07-28 `Task`: the flat fields of CreateTaskResult and tasks/get. */
export function statelessTask(task: Task): JsonObject {
  return taskFields(task, 'ttlMs', 'pollIntervalMs');
}

/** 2026-07-28 CreateTaskResult: flat, nothing but the task's fields. */
export function createTaskResult(task: Task): JsonObject {
  return { resultType: 'task', ...statelessTask(task) };
}

/** 2026-07-28 tasks/get (DetailedTask): the task plus its result, error or pending input requests. */
export function detailedTask(task: Task): JsonObject {
  const out = statelessTask(task);
  if (task.status === 'completed' && task.result !== undefined) out['result'] = task.result;
  else if (task.status === 'failed') {
    if (task.error !== undefined) out['error'] = task.error;
    else if (task.result !== undefined) out['result'] = task.result;
  } else if (task.status === 'input_required') out['inputRequests'] = task.pending;
  return out;
}

/** 2026-07-28: the -32021 error for a client that did not declare the extension. */
export function tasksExtensionRequired(what: string): McpError {
  return new McpError(
    ErrorCode.MissingRequiredClientCapability,
    `Missing required client capability: extension ${TASKS_EXTENSION} (${what})`,
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
    400,
  );
}

/** 2026-07-28: true when the request's client capabilities declare the tasks extension. */
export function declaresTasks(clientCapabilities: JsonObject): boolean {
  const extensions = clientCapabilities['extensions'];
  if (typeof extensions !== 'object' || extensions === null || Array.isArray(extensions)) return false;
  const value = (extensions as JsonObject)[TASKS_EXTENSION];
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
