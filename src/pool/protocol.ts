// What crosses between the pool (src/pool/index.ts) and its worker entry (src/pool/worker.ts).
//
//   'json'   the arguments go as their JSON text (a flat string: one copy, no object graph to walk),
//            and the answer comes back the same way
//   'bytes'  the UTF-8 bytes of that JSON in a Uint8Array whose ArrayBuffer is transferred (moved, not
//            copied), both ways
//   'clone'  the arguments and the answer themselves, structured-cloned as object graphs
// docs/worker-pool.md section 7 gives the measurements that chose the default.
//
// Besides the task and its answer (Piscina's own port), two more things cross (docs/worker-pool.md
// section 6):
//   notes     progress and log messages of a call, worker -> main, posted on the thread's parentPort
//             (Piscina re-emits them as its 'message' event) and only when the call asked for them
//   the slot  one Int32 per running call in a SharedArrayBuffer (workerData), written by both sides
//             with atomics: the call's generation, whether the handler watches ctx.signal, and why
//             the call was aborted. The main thread never posts to a thread: Piscina's worker takes
//             every parentPort message for its start-up message.

export type Transfer = 'json' | 'bytes' | 'clone';

/** One call: the handler module (a file: URL), its export, and the arguments. */
export interface PoolTask {
  /** file: URL of the handler module. */
  m: string;
  /** Export name ('default' for the default export). */
  x: string;
  /** 'json': JSON of the arguments ('' for undefined). */
  s?: string;
  /** 'bytes': JSON of the arguments, UTF-8 (empty for undefined). */
  a?: Uint8Array;
  /** 'clone': the arguments themselves. */
  v?: unknown;
  /** The call's id: its notes carry it, and its slot holds it as the generation. */
  i?: number;
  /** The call's slot in the shared flags (absent: no signal reaches the thread). */
  k?: number;
  /** 1 when the caller wants progress notes. */
  p?: 1;
  /** Lowest log level rank the caller wants (LOG_LEVELS); absent: no log notes. */
  l?: number;
  /** The request's id, session and authenticated caller (absent when the caller has none). */
  r?: string | number | null;
  u?: string;
  h?: { subject: string; scopes: readonly string[] };
}

/** A handler's failure, as the worker reports it (a thrown error never crosses as such). */
export interface HandlerFailure {
  error: string;
  name: string;
}

/** 'clone' answer; 'json' answers are a bare string and 'bytes' ones a bare Uint8Array (empty for undefined). */
export interface ClonedAnswer {
  v: unknown;
}

type PlainAnswer = string | Uint8Array | ClonedAnswer | HandlerFailure;

/**
 * The answer of a call that posted notes: how many, so the main thread delivers every one of them
 * before the result (the notes and the answer travel on different ports, which keep no order
 * between them).
 */
export interface NotedAnswer {
  n: number;
  r: PlainAnswer;
}

export type PoolAnswer = PlainAnswer | NotedAnswer;

/** The key that marks a parentPort message as a note of the pool; its value is the call id. */
export const NOTE_KEY = 'fastermcp/pool-note';

/** A progress note (ctx.progress) or a log note (ctx.log, the data as JSON text). */
export type PoolNote =
  | { [NOTE_KEY]: number; k: 'p'; p: number; t?: number; m?: string }
  | { [NOTE_KEY]: number; k: 'l'; v: string; d: string; g?: string };

// The slot of a running call, one Int32: generation << 3 | reason << 1 | watched.
//   generation  the call id (28 bits), so a thread still running a finished call cannot touch the
//               slot's next call
//   reason      why the call is being aborted (0: it is not)
//   watched     the handler has read ctx.signal (the main thread then grants the grace period)
export const SLOT_WATCHED = 1;
export const SLOT_GENERATION_SHIFT = 3;
export const SLOT_GENERATION_MASK = 0x0fffffff;
export const ABORT_REASONS = [undefined, 'cancelled', 'timeout', 'closing'] as const;
export type AbortReasonCode = 1 | 2 | 3;

export function slotReason(value: number): number {
  return (value >> 1) & 3;
}

export function slotGeneration(value: number): number {
  return value >>> SLOT_GENERATION_SHIFT;
}
