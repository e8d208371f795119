// The one seam through which operators watch requests: metrics, traces, logs and the audit log
// (src/ops/) each register a RequestObserver with server.observe(). Dispatch calls begin() as a
// request enters, runs the request inside every watch's run() (tracing makes its span current
// there, so a handler's own spans nest under it), and calls end() with the reply once it is known.
//
// With no observer registered, dispatch takes its plain path: nothing here costs a request anything.
// An observer that throws is ignored for that request; it never changes a reply.
import { TextReply } from './result-json.js';
import type { Reply, RequestEnv } from './dispatch.js';
import type { JsonObject } from './types.js';

/** How a request ended, as operators count it. */
export type Outcome =
  /** A result that is not a tool error. */
  | 'ok'
  /** A JSON-RPC error reply. */
  | 'error'
  /** A tools/call result with isError: true (bad arguments, a handler that threw, a sandbox fault). */
  | 'tool_error'
  /** No reply: the client cancelled the request or went away. */
  | 'cancelled';

export interface RequestInfo {
  readonly method: string;
  /** The request's params when they are an object (a non-object is refused with -32602). */
  readonly params: JsonObject | undefined;
  /** The request's id as it appeared in the message (JSON text). */
  readonly idRaw: string;
  readonly env: RequestEnv;
}

export interface RequestEnd {
  readonly outcome: Outcome;
  /** The JSON-RPC error code, for outcome 'error'. */
  readonly code: number | undefined;
  readonly reply: Reply;
}

export interface RequestWatch {
  /** Runs the request's dispatch; optional (tracing uses it to make its span current). */
  run?<T>(fn: () => T): T;
  /** The request is answered (or, for 'cancelled', will never be). Called once. */
  end(end: RequestEnd): void;
}

export interface RequestObserver {
  /** A request enters dispatch; undefined: this observer does not watch it. */
  begin(info: RequestInfo): RequestWatch | undefined;
}

/**
 * Told of every request the server failed (an internal error, an HTTP 5xx reply), with what was thrown:
 * server.onFailure(). Unlike an observer it costs the requests that succeed nothing, so request logs at
 * info (which write failures only) need no observer. `error` is what the handler or dispatch threw.
 */
export type FailureListener = (info: RequestInfo, end: RequestEnd, error: unknown) => void;

/** A class, so every request's end has one shape. */
class Ended implements RequestEnd {
  constructor(
    readonly outcome: Outcome,
    readonly code: number | undefined,
    readonly reply: Reply,
  ) {}
}

/** The outcome a reply stands for. */
export function outcomeOf(reply: Reply): RequestEnd {
  // A TextReply is never empty: asking it for json would build the text stdio writes from its parts.
  if (!(reply instanceof TextReply) && reply.json === null) return new Ended('cancelled', undefined, reply);
  if (reply.code !== undefined) return new Ended('error', reply.code, reply);
  return new Ended(reply.isError === true ? 'tool_error' : 'ok', undefined, reply);
}
