// The request being handled, one object per request: what the dispatcher and the method handlers read
// (dispatch.ts), and the request's cancellation handle.
//
// Cancellation is made lazily: an AbortController (and its AbortSignal, an EventTarget) costs more
// than a whole small tool call, and most requests are never cancelled and never look at their signal.
// The controller is created the first time a handler reads `ctx.signal`; a cancellation before that
// is remembered and applied to it. This used to be a base class of its own; a derived class's
// construction cost about 5% of a small tools/call (in-process stdio harness, Node 20).
import type { Era } from './context.js';
import type { RequestEnv } from './dispatch.js';
import type { McpServer } from './server.js';
import type { JsonObject } from './types.js';

export interface Call {
  server: McpServer;
  env: RequestEnv;
  era: Era;
  version: string;
  method: string;
  params: JsonObject;
  meta: JsonObject;
  clientCapabilities: JsonObject;
  clientInfo: JsonObject | undefined;
  idRaw: string;
  signal: AbortSignal;
}

/**
 * A request being handled. While its handler runs asynchronously it is what `session.inflight` holds
 * for notifications/cancelled and close(). Its fields are set once, in the constructor (declared, not
 * defined as class fields: one store each); its signal is made only if something reads it.
 */
export class RequestCall implements Call {
  declare readonly server: McpServer;
  declare readonly env: RequestEnv;
  declare readonly era: Era;
  declare readonly version: string;
  declare readonly method: string;
  declare readonly params: JsonObject;
  /** `_meta` as sent; a legacy request mostly has none, and its `{}` is made only if read (meta). */
  private declare sentMeta: JsonObject | undefined;
  declare readonly clientCapabilities: JsonObject;
  declare readonly clientInfo: JsonObject | undefined;
  declare readonly idRaw: string;
  /** True once abort() ran; what the dispatcher checks to drop the reply of a cancelled request. */
  declare aborted: boolean;
  private declare reason: unknown;
  private declare controller: AbortController | undefined;
  private declare combined: AbortSignal | undefined;

  /**
   * `env.signal` (the transport's, e.g. the HTTP client went away) aborts the signal too; it is read
   * only when the signal is made, so a transport may make its own lazily as well.
   */
  constructor(
    server: McpServer,
    env: RequestEnv,
    era: Era,
    version: string,
    method: string,
    params: JsonObject,
    meta: JsonObject | undefined,
    clientCapabilities: JsonObject,
    clientInfo: JsonObject | undefined,
    idRaw: string,
  ) {
    this.server = server;
    this.env = env;
    this.era = era;
    this.version = version;
    this.method = method;
    this.params = params;
    this.sentMeta = meta;
    this.clientCapabilities = clientCapabilities;
    this.clientInfo = clientInfo;
    this.idRaw = idRaw;
    this.aborted = false;
    this.reason = undefined;
    this.controller = undefined;
    this.combined = undefined;
  }

  /** The request's `_meta`: `{}` when it sent none. */
  get meta(): JsonObject {
    return (this.sentMeta ??= {});
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  get signal(): AbortSignal {
    if (this.combined !== undefined) return this.combined;
    this.controller = new AbortController();
    if (this.aborted) this.controller.abort(this.reason);
    const outer = this.env.signal;
    this.combined = outer === undefined ? this.controller.signal : AbortSignal.any([this.controller.signal, outer]);
    return this.combined;
  }
}
