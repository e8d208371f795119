// What crosses between the pool (src/pool/index.ts) and its worker entry (src/pool/worker.ts).
//
//   'json'   the arguments go as their JSON text (a flat string: one copy, no object graph to walk),
//            and the answer comes back the same way
//   'bytes'  the UTF-8 bytes of that JSON in a Uint8Array whose ArrayBuffer is transferred (moved, not
//            copied), both ways
//   'clone'  the arguments and the answer themselves, structured-cloned as object graphs
// docs/worker-pool.md section 7 gives the measurements that chose the default.

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

export type PoolAnswer = string | Uint8Array | ClonedAnswer | HandlerFailure;
