// What crosses between the pool (src/pool/index.ts) and its worker entry (src/pool/worker.ts).
//
// transfer 'bytes' (the default): the arguments go as the UTF-8 bytes of their JSON, their
// ArrayBuffer transferred (moved, not copied), and an answer comes back the same way. transfer
// 'clone': the arguments and the answer are structured-cloned object graphs. docs/worker-pool.md
// gives the measurements that chose the default.

export type Transfer = 'bytes' | 'clone';

/** One call: the handler module (a file: URL), its export, and the arguments. */
export interface PoolTask {
  /** file: URL of the handler module. */
  m: string;
  /** Export name ('default' for the default export). */
  x: string;
  /** 'bytes': JSON of the arguments, UTF-8. */
  a?: Uint8Array;
  /** 'clone': the arguments themselves. */
  v?: unknown;
}

/** A handler's failure, as the worker reports it (a thrown error never crosses as such). */
export interface HandlerFailure {
  error: string;
  name: string;
}

/** 'clone' answer; 'bytes' answers are a bare Uint8Array (empty for undefined). */
export interface ClonedAnswer {
  v: unknown;
}

export type PoolAnswer = Uint8Array | ClonedAnswer | HandlerFailure;
