// The context every handler receives: cancellation, progress, logging, the caller, and requests to
// the client (sampling, elicitation, roots).
//
// Requests to the client look the same in both eras: `await ctx.elicit(...)`. In the legacy era the
// server sends a real server->client request and waits for its answer. In the 2026-07-28 era there
// is no channel back, so the call either returns an answer the client already sent (`inputResponses`,
// plus the answers of earlier rounds carried inside the signed `requestState`) or throws
// InputRequired; the dispatcher turns that into an `input_required` result and the client calls
// again with the answers. The handler then runs again from the top, so everything before its
// requests to the client must be safe to repeat.
import { McpError, invalidParams, missingCapability } from './errors.js';
import { logLevelRank } from './protocol.js';
import type { LogLevel } from './protocol.js';
import type { AuthPrincipal, InputRequest, JsonObject } from './types.js';

export type Era = 'legacy' | 'stateless';

export interface ElicitResult {
  action: 'accept' | 'decline' | 'cancel';
  content?: JsonObject;
  _meta?: JsonObject;
}

/** Thrown by requests to the client in the 2026-07-28 era when the answer is not there yet. */
export class InputRequired extends Error {
  constructor(
    readonly requests: Record<string, InputRequest>,
    readonly state: unknown,
  ) {
    super('input required');
    this.name = 'InputRequired';
  }
}

/** What the dispatcher tells a context about the request and its channel. */
export interface ContextInit {
  era: Era;
  protocolVersion: string;
  requestId: string | number | null;
  signal: AbortSignal;
  meta: JsonObject;
  clientCapabilities: JsonObject;
  clientInfo: JsonObject | undefined;
  sessionId: string | undefined;
  auth: AuthPrincipal | undefined;
  /** Lowest log level the client wants (rank in LOG_LEVELS), or Infinity for none. */
  minLogRank: number;
  /** Sends a notification related to this request. */
  notify(method: string, params: JsonObject): void;
  /** Legacy era: sends a request to the client and resolves with its result. */
  request(method: string, params: JsonObject, signal: AbortSignal): Promise<JsonObject>;
  /** 2026-07-28 era: answers the client sent for this request, incl. earlier rounds. */
  inputResponses: Record<string, unknown> | undefined;
  /** 2026-07-28 era: the handler's own state from the previous round. */
  state: unknown;
  /** Legacy HTTP: closes the response stream early (the client resumes with Last-Event-ID). */
  disconnect(): void;
}

const CAPABILITY_OF: Record<InputRequest['method'], string> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

export class RequestContext {
  // Declared, not defined as class fields, and set in the constructor: with field definitions the
  // optimizing compiler did not inline the construction (a generic construct stub on every request).
  private declare readonly init: ContextInit;
  private declare lastProgress: number;
  private declare autoKey: number;

  // Everything is read from `init` on use: most handlers look at little of it, and a context is
  // made for every request.
  constructor(init: ContextInit) {
    this.init = init;
    this.lastProgress = -Infinity;
    this.autoKey = 0;
  }

  get era(): Era {
    return this.init.era;
  }
  get protocolVersion(): string {
    return this.init.protocolVersion;
  }
  /** The request's id (parsed on first use). */
  get requestId(): string | number | null {
    return this.init.requestId;
  }
  /** Aborted when the client cancels the request (or goes away); made on first use. */
  get signal(): AbortSignal {
    return this.init.signal;
  }
  /** The request's `_meta`, as sent. */
  get meta(): JsonObject {
    return this.init.meta;
  }
  /**
   * What the client declared: in a legacy session, in initialize, frozen and shared with the sessions of clients
   * that declared the same (src/server/shared-json.ts); in 2026-07-28, in the request's `_meta`.
   */
  get clientCapabilities(): JsonObject {
    return this.init.clientCapabilities;
  }
  /** The client's name and version, kept as clientCapabilities is. */
  get clientInfo(): JsonObject | undefined {
    return this.init.clientInfo;
  }
  get sessionId(): string | undefined {
    return this.init.sessionId;
  }
  /** The authenticated caller, when the transport has an authenticator. */
  get auth(): AuthPrincipal | undefined {
    return this.init.auth;
  }
  /** 2026-07-28: state this handler passed to `input()` in the previous round (verified). */
  get state(): unknown {
    return this.init.state;
  }

  /** 2026-07-28: the raw answers the client sent with this request (undefined in round one). */
  get inputResponses(): Readonly<Record<string, unknown>> | undefined {
    return this.init.inputResponses;
  }

  /**
   * Reports progress when the client asked for it (a progressToken in `_meta`). Progress must grow;
   * a value that does not is dropped rather than sent, as the spec requires.
   */
  progress(progress: number, total?: number, message?: string): void {
    const token = this.meta['progressToken'];
    if (token === undefined || !(progress > this.lastProgress)) return;
    this.lastProgress = progress;
    const params: JsonObject = { progressToken: token, progress };
    if (total !== undefined) params['total'] = total;
    if (message !== undefined) params['message'] = message;
    this.init.notify('notifications/progress', params);
  }

  /** Rank in LOG_LEVELS of the lowest level log() sends now; Infinity when it sends none. */
  get minLogRank(): number {
    return this.init.minLogRank;
  }

  /** Sends a log message to the client if it asked for this level or a lower one. */
  log(level: LogLevel, data: unknown, logger?: string): void {
    const rank = logLevelRank(level);
    if (rank < 0) throw new RangeError(`Unknown log level ${JSON.stringify(level)}`);
    if (rank < this.init.minLogRank) return;
    const params: JsonObject = { level, data };
    if (logger !== undefined) params['logger'] = logger;
    this.init.notify('notifications/message', params);
  }

  /**
   * Legacy Streamable HTTP: closes this request's SSE stream now; what the handler sends afterwards
   * (its result included) waits in the session's event log until the client reconnects with
   * Last-Event-ID (SEP-1699 polling). Elsewhere it does nothing.
   */
  closeSseStream(): void {
    this.init.disconnect();
  }

  /** True when the client declared `capability` (e.g. 'sampling', 'elicitation', 'roots'). */
  hasCapability(capability: string): boolean {
    const value = this.clientCapabilities[capability];
    return typeof value === 'object' && value !== null;
  }

  /** Asks the client's model for a completion (sampling/createMessage). */
  async sample(params: JsonObject, key?: string): Promise<JsonObject> {
    const answers = await this.input({ [key ?? this.nextKey('sampling')]: { method: 'sampling/createMessage', params } });
    return Object.values(answers)[0] as JsonObject;
  }

  /** Asks the user for input: form mode (`requestedSchema`) or URL mode (`mode: 'url'`, `url`). */
  async elicit(params: JsonObject, key?: string): Promise<ElicitResult> {
    if (params['mode'] === 'url') {
      const elicitation = this.clientCapabilities['elicitation'] as JsonObject | undefined;
      if (typeof elicitation?.['url'] !== 'object' || elicitation['url'] === null) throw missingCapability('elicitation');
    }
    const answers = await this.input({ [key ?? this.nextKey('elicitation')]: { method: 'elicitation/create', params } });
    return Object.values(answers)[0] as unknown as ElicitResult;
  }

  /**
   * URL mode: tells the client that the out-of-band interaction of `elicitationId` is complete
   * (notifications/elicitation/complete), while this request is still open.
   */
  elicitationComplete(elicitationId: string): void {
    this.init.notify('notifications/elicitation/complete', { elicitationId });
  }

  /** Asks the client for its roots. */
  async listRoots(key?: string): Promise<{ roots: { uri: string; name?: string }[] }> {
    const answers = await this.input({ [key ?? this.nextKey('roots')]: { method: 'roots/list', params: {} } });
    return Object.values(answers)[0] as unknown as { roots: { uri: string; name?: string }[] };
  }

  /**
   * Asks the client for several inputs at once and resolves with the answers by key. In the
   * 2026-07-28 era `state` travels to the next round (signed) and comes back as `ctx.state`.
   */
  async input(requests: Record<string, InputRequest>, state?: unknown): Promise<Record<string, JsonObject>> {
    for (const request of Object.values(requests)) {
      // Own keys only: a method named like an Object.prototype member ('toString') is not a capability.
      const capability = Object.hasOwn(CAPABILITY_OF, request?.method) ? CAPABILITY_OF[request.method] : undefined;
      if (capability === undefined) throw invalidParams(`Unsupported input request method ${String(request?.method)}`);
      if (!this.hasCapability(capability)) throw missingCapability(capability);
    }
    if (this.era === 'legacy') {
      const keys = Object.keys(requests);
      const results = await Promise.all(
        keys.map((k) => this.init.request(requests[k]!.method, requests[k]!.params, this.signal)),
      );
      const out: Record<string, JsonObject> = {};
      keys.forEach((k, i) => (out[k] = results[i]!));
      return out;
    }
    const have = this.init.inputResponses ?? {};
    const missing: Record<string, InputRequest> = {};
    const out: Record<string, JsonObject> = {};
    for (const [k, request] of Object.entries(requests)) {
      const answer = have[k];
      if (typeof answer === 'object' && answer !== null && !Array.isArray(answer)) out[k] = unwrapAnswer(answer as JsonObject);
      else missing[k] = request;
    }
    if (Object.keys(missing).length > 0) throw new InputRequired(missing, state === undefined ? this.state : state);
    return out;
  }

  private nextKey(prefix: string): string {
    return `${prefix}_${this.autoKey++}`;
  }
}

/** An input response is the client's result object (some clients wrap it as `{ result }`). */
function unwrapAnswer(answer: JsonObject): JsonObject {
  const keys = Object.keys(answer);
  if (keys.length === 1 && keys[0] === 'result' && typeof answer['result'] === 'object' && answer['result'] !== null) {
    return answer['result'] as JsonObject;
  }
  return answer;
}

export function isMcpError(e: unknown): e is McpError {
  return e instanceof McpError;
}
