// How a worker-pool call can fail, one code per way (docs/worker-pool.md, "Failure mapping"). These
// are local errors: pool.run() rejects with them; pool.tool() turns them into what the client sees.

/** Why a call failed. */
export type PoolFailure = 'error' | 'cancelled' | 'timeout' | 'oom' | 'crashed' | 'overloaded' | 'closed';

export const POOL_FAILURES: readonly PoolFailure[] = ['error', 'cancelled', 'timeout', 'oom', 'crashed', 'overloaded', 'closed'];

export const POOL_ERROR_CODES = {
  error: 'MCP_POOL_HANDLER_ERROR', // The handler threw or rejected; the message is the handler's
  cancelled: 'MCP_POOL_CANCELLED', // The caller's signal aborted (queued: dropped; running: ctx.signal aborted, thread terminated unless it stopped in its grace period)
  timeout: 'MCP_POOL_TIMEOUT', // Ran longer than taskTimeoutMs; the thread was terminated (or the handler stopped in its grace period)
  oom: 'MCP_POOL_OOM', // The thread hit resourceLimits (ERR_WORKER_OUT_OF_MEMORY)
  crashed: 'MCP_POOL_CRASHED', // The thread exited (process.exit) or died of an uncaught error
  overloaded: 'MCP_POOL_QUEUE_FULL', // maxQueue (or maxQueuePerCaller) calls already wait
  closed: 'MCP_POOL_CLOSED', // The pool was closed before the call ran
} as const satisfies Record<PoolFailure, string>;

export type PoolErrorCode = (typeof POOL_ERROR_CODES)[PoolFailure];

export class PoolError extends Error {
  readonly code: PoolErrorCode;

  constructor(
    readonly failure: PoolFailure,
    message: string,
  ) {
    super(message);
    this.name = 'PoolError';
    this.code = POOL_ERROR_CODES[failure];
  }
}

/** One factory per failure, so every message is written in one place. `what` names the handler. */
export const PoolErrors = {
  handler: (message: string) => new PoolError('error', message),
  cancelled: () => new PoolError('cancelled', 'Cancelled'),
  timeout: (what: string, ms: number, terminated = true) =>
    new PoolError(
      'timeout',
      `Tool handler ${what} ran longer than taskTimeoutMs (${ms} ms); ${terminated ? 'its worker thread was terminated' : 'it stopped when its ctx.signal aborted'}`,
    ),
  oom: (what: string, limitMb: number | undefined) =>
    new PoolError(
      'oom',
      `Tool handler ${what} ran out of memory (worker heap limit ${limitMb === undefined ? "is Node's default" : `resourceLimits.maxOldGenerationSizeMb = ${limitMb}`}); its worker thread was terminated`,
    ),
  exited: (what: string, detail: string) => new PoolError('crashed', `The worker thread running tool handler ${what} ${detail} before answering`),
  overloaded: (queued: number, limit: number, perCaller: boolean) =>
    new PoolError(
      'overloaded',
      perCaller
        ? `Worker pool is overloaded: this caller already has ${queued} calls waiting (maxQueuePerCaller ${limit}); retry later`
        : `Worker pool is overloaded: ${queued} calls are waiting (maxQueue ${limit}); retry later`,
    ),
  closed: () => new PoolError('closed', 'Worker pool is closed'),
};
