// The request path, read top to bottom: a transport hands over one request (raw id text, method,
// parsed params) with its environment; this file picks the era, checks the lifecycle, runs the
// method and returns the reply text. Transports own bytes; this file owns protocol.
//
// Era per request: a legacy session that went through initialize stays legacy; a request whose
// `_meta` names a protocol version (or that arrives without a session over HTTP) is 2026-07-28 and
// carries its version and client capabilities itself.
//
// A tools/call may become a task (tasks.ts): taskMode() decides, startLegacyTask() and
// startStatelessTask() create it and answer at once, and the handler goes on running in the
// background, where run*Task() record how it ends. The tasks/* methods are at the end of the list.
import { writeError, writeResult } from '../jsonrpc/response.js';
import { RequestCall } from './request-call.js';
import type { Call } from './request-call.js';
import { InputRequired, RequestContext } from './context.js';
import type { ContextInit, Era } from './context.js';
import { InsufficientScope, McpError, invalidParams, methodNotFound } from './errors.js';
import { TextReply, resultReply, singleText } from './result-json.js';
import {
  ErrorCode,
  INPUT_REQUIRED_METHODS,
  LATEST_LEGACY_VERSION,
  META,
  STATELESS_METHODS,
  STATELESS_VERSION,
  SUPPORTED_VERSIONS,
  isLegacyVersion,
  logLevelRank,
} from './protocol.js';
import type { McpServer, ToolEntry, ToolResultLike, ResourceResultLike } from './server.js';
import type { Entry, Registry } from './registry.js';
import type { Channel, Session } from './session.js';
import {
  RELATED_TASK_META,
  TASKS_LEGACY_VERSION,
  TaskRoute,
  createTaskResult,
  declaresTasks,
  detailedTask,
  legacyTask,
  tasksExtensionRequired,
} from './tasks.js';
import type { Task, TaskError, TaskStore } from './tasks.js';
import { outcomeOf } from './observe.js';
import { clientDeclarations } from './shared-json.js';
import type { RequestInfo, RequestObserver, RequestWatch } from './observe.js';
import type { AuthPrincipal, CallToolResult, JsonObject } from './types.js';

/** What a transport knows about a request beyond its JSON. */
export interface RequestEnv {
  /** The legacy session (the stdio connection, or the HTTP session named by Mcp-Session-Id). */
  session: Session | undefined;
  /** Where notifications and client requests related to this request go. */
  channel: Channel;
  auth: AuthPrincipal | undefined;
  /** Aborted by the transport when the client went away (HTTP request closed). */
  signal: AbortSignal | undefined;
  /** HTTP, 2026-07-28: checks Mcp-Method / Mcp-Name / Mcp-Param-* against the body (throws -32020). */
  checkHeaders?: (method: string, params: JsonObject) => void;
  /** Legacy HTTP: closes the response stream; the rest stays resumable (SEP-1699). */
  disconnect?: () => void;
  /** HTTP: a request header (lower-case name), for observers (tracing reads traceparent). */
  header?: (name: string) => string | undefined;
}

/** A reply: JSON text (null when nothing is to be sent) and the HTTP status it maps to. */
export interface Reply {
  json: string | null;
  status: number;
  /** Set for a 403 insufficient_scope: the scope parameter of its WWW-Authenticate challenge. */
  challengeScopes?: readonly string[];
  /** The JSON-RPC error code, when the reply is an error (for observers: src/server/observe.ts). */
  code?: number;
  /** Set when the reply is a tools/call result with isError: true (for observers). */
  isError?: true;
}

const NO_REPLY: Reply = { json: null, status: 202 };

/** Where messages go once nobody listens (a 2026-07-28 task after its tools/call was answered). */
const CLOSED: Channel = { send: () => {}, open: false };

/** Which results carry 2026-07-28 caching hints. */
const CACHEABLE = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read']);

type Handler = (call: Call) => Promise<JsonObject> | JsonObject;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorReply(idRaw: string | null, e: McpError, fallbackStatus = 200): Reply {
  const data = e.data === undefined ? undefined : JSON.stringify(e.data);
  const reply: Reply = { json: writeError(idRaw, e.code, e.message, data), status: e.httpStatus ?? fallbackStatus, code: e.code };
  if (e instanceof InsufficientScope) reply.challengeScopes = e.challengeScopes;
  return reply;
}

/**
 * Handles one request; never throws (every failure becomes a JSON-RPC error reply). The reply is
 * returned directly when every step was synchronous (the common tools/call), else as a promise:
 * transports write a direct reply at once, without a promise per request.
 */
export function handleRequest(
  server: McpServer,
  env: RequestEnv,
  idRaw: string,
  method: string,
  rawParams: unknown,
): Reply | Promise<Reply> {
  const observers = server.observers;
  if (observers.length !== 0) return observed(observers, server, env, idRaw, method, rawParams);
  return dispatch(server, env, idRaw, method, rawParams);
}

/** What observers are told a request is: a class, so every request's info has one shape. */
class ObservedRequest implements RequestInfo {
  constructor(
    readonly method: string,
    readonly params: JsonObject | undefined,
    readonly idRaw: string,
    readonly env: RequestEnv,
  ) {}
}

/**
 * handleRequest with observers watching (metrics, tracing, logs, audit): src/server/observe.ts. No
 * closure or array unless needed: most requests have one or two watches and none that wraps.
 */
function observed(
  observers: readonly RequestObserver[],
  server: McpServer,
  env: RequestEnv,
  idRaw: string,
  method: string,
  rawParams: unknown,
): Reply | Promise<Reply> {
  const info = new ObservedRequest(method, isObject(rawParams) ? rawParams : undefined, idRaw, env);
  let first: RequestWatch | undefined;
  let more: RequestWatch[] | undefined;
  let wraps = false;
  for (let i = 0; i < observers.length; i++) {
    let watch: RequestWatch | undefined;
    try {
      watch = observers[i]!.begin(info);
    } catch {
      continue; // an observer's failure is its own: the request goes on
    }
    if (watch === undefined) continue;
    if (watch.run !== undefined) wraps = true;
    if (first === undefined) first = watch;
    else (more ??= []).push(watch);
  }
  if (first === undefined) return dispatch(server, env, idRaw, method, rawParams);
  let reply: Reply | Promise<Reply>;
  try {
    reply = wraps ? wrapped(first, more, () => dispatch(server, env, idRaw, method, rawParams)) : dispatch(server, env, idRaw, method, rawParams);
  } catch (e) {
    reply = failedReply(idRaw, e);
  }
  if (reply instanceof Promise) return reply.then((r) => ended(first, more, r));
  return ended(first, more, reply);
}

/** Runs `run` inside every watch's run(), the first watch outermost. */
function wrapped(first: RequestWatch, more: RequestWatch[] | undefined, run: () => Reply | Promise<Reply>): Reply | Promise<Reply> {
  const watches = more === undefined ? [first] : [first, ...more];
  for (let i = watches.length - 1; i >= 0; i--) {
    const watch = watches[i]!;
    if (watch.run === undefined) continue;
    const inner = run;
    run = () => watch.run!(inner);
  }
  return run();
}

/** Tells every watch how the request ended. */
function ended(first: RequestWatch, more: RequestWatch[] | undefined, reply: Reply): Reply {
  const end = outcomeOf(reply);
  try {
    first.end(end);
  } catch {
    // as in observed()
  }
  if (more !== undefined) {
    for (const watch of more) {
      try {
        watch.end(end);
      } catch {
        // as above
      }
    }
  }
  return reply;
}

function dispatch(server: McpServer, env: RequestEnv, idRaw: string, method: string, rawParams: unknown): Reply | Promise<Reply> {
  if (rawParams !== undefined && !isObject(rawParams)) {
    return errorReply(idRaw, invalidParams('params must be an object'));
  }
  const params = rawParams ?? {};
  const session = env.session;
  let reply: Reply | Promise<Reply>;
  try {
    const meta = isObject(params['_meta']) ? params['_meta'] : undefined;
    const declaresVersion = meta !== undefined && META.protocolVersion in meta;
    if (session !== undefined && (session.protocolVersion !== undefined || (!declaresVersion && (method === 'initialize' || method === 'ping')))) {
      reply = legacy(server, env, session, idRaw, method, params, meta);
    } else if (session !== undefined && !declaresVersion) {
      throw new McpError(
        ErrorCode.InvalidRequest,
        `Not initialized: send initialize first, or (${STATELESS_VERSION}) put ${META.protocolVersion} and ${META.clientCapabilities} in params._meta`,
        undefined,
        400,
      );
    } else {
      reply = stateless(server, env, idRaw, method, params, meta);
    }
  } catch (e) {
    return failure(server, env, idRaw, method, rawParams, e);
  }
  return isThenable(reply) ? Promise.resolve(reply).catch((e: unknown) => failure(server, env, idRaw, method, rawParams, e)) : reply;
}

/** The reply to a request that threw; the server's failure listeners hear of internal errors and 5xx. */
function failure(server: McpServer, env: RequestEnv, idRaw: string, method: string, rawParams: unknown, e: unknown): Reply {
  const reply = failedReply(idRaw, e);
  const listeners = server.failureListeners;
  if (listeners.length === 0 || (reply.code !== ErrorCode.InternalError && reply.status < 500)) return reply;
  const info = new ObservedRequest(method, isObject(rawParams) ? rawParams : undefined, idRaw, env);
  const end = outcomeOf(reply);
  for (const listener of listeners) {
    try {
      listener(info, end, e);
    } catch {
      // a listener's failure is its own
    }
  }
  return reply;
}

/** The error reply for a failure: its own code for an McpError, else an internal error. */
function failedReply(idRaw: string, e: unknown): Reply {
  return e instanceof McpError ? errorReply(idRaw, e) : errorReply(idRaw, new McpError(ErrorCode.InternalError, 'Internal error', undefined, 500));
}

/**
 * Runs the call's handler and settles the request: a cancelled request gets no reply, a result
 * becomes its reply (stateless results get their era's fields). Synchronous when the handler is.
 * Only a handler that returns a promise leaves the request in flight, so only then is it entered in
 * the session's in-flight map (nothing can cancel a request whose handler has already returned) and
 * closures made.
 */
function settle(handler: Handler, call: RequestCall): Reply | Promise<Reply> {
  let out: JsonObject | Promise<JsonObject>;
  try {
    out = handler(call);
  } catch (e) {
    return settleError(call, e);
  }
  if (!isThenable(out)) return settleResult(call, out);
  const session = call.env.session;
  session?.trackRequest(call.idRaw, call);
  return Promise.resolve(out).then(
    (result) => {
      session?.untrackRequest(call.idRaw);
      return settleResult(call, result);
    },
    (e: unknown) => {
      session?.untrackRequest(call.idRaw);
      return settleError(call, e);
    },
  );
}

function settleResult(call: RequestCall, result: JsonObject): Reply {
  // A cancelled request gets no response, not even an error: the client has forgotten it.
  if (call.aborted) return NO_REPLY;
  const members = call.era === 'legacy' ? '' : statelessMembers(call.server, call.env, call.method, result);
  const text = singleText(result);
  if (text !== undefined) return new TextReply(call.idRaw, text, members);
  const json = resultReply(call.idRaw, result, members);
  if (result['isError'] === true) return { json, status: 200, isError: true };
  return { json, status: 200 };
}

function settleError(call: RequestCall, e: unknown): Reply {
  if (call.aborted) return NO_REPLY;
  throw e;
}

/** Whether a request with this raw id is in flight (mostly none is: synchronous handlers never enter the map). */
function inFlight(session: Session, idRaw: string): boolean {
  return session.inflight.size !== 0 && session.inflight.has(idRaw);
}

function legacy(
  server: McpServer,
  env: RequestEnv,
  session: Session,
  idRaw: string,
  method: string,
  params: JsonObject,
  meta: JsonObject | undefined,
): Reply | Promise<Reply> {
  if (method === 'initialize') return { json: writeResult(idRaw, JSON.stringify(initialize(server, session, params))), status: 200 };
  if (method === 'ping') return { json: writeResult(idRaw, '{}'), status: 200 };
  if (inFlight(session, idRaw)) {
    throw new McpError(ErrorCode.InvalidRequest, `Request id ${idRaw} is already in use by a request in flight`);
  }
  const handler = LEGACY_HANDLERS.get(method);
  if (handler === undefined) throw methodNotFound(method);
  return settle(handler, new RequestCall(server, env, 'legacy', session.protocolVersion!, method, params, meta, session.clientCapabilities, session.clientInfo, idRaw));
}

function initialize(server: McpServer, session: Session, params: JsonObject): JsonObject {
  if (session.protocolVersion !== undefined) throw new McpError(ErrorCode.InvalidRequest, 'Already initialized');
  const requested = params['protocolVersion'];
  if (typeof requested !== 'string') throw invalidParams('initialize needs params.protocolVersion (a string)');
  if (params['capabilities'] !== undefined && !isObject(params['capabilities'])) throw invalidParams('params.capabilities must be an object');
  if (params['clientInfo'] !== undefined && !isObject(params['clientInfo'])) throw invalidParams('params.clientInfo must be an object');
  // Negotiation: the client's version if we speak it, else our newest legacy one.
  session.protocolVersion = isLegacyVersion(requested) ? requested : LATEST_LEGACY_VERSION;
  // Kept shared and frozen: sessions of one kind of client declare the same (src/server/shared-json.ts).
  session.clientCapabilities = clientDeclarations.share((params['capabilities'] as JsonObject | undefined) ?? {});
  session.clientInfo = clientDeclarations.share(params['clientInfo'] as JsonObject | undefined);
  const result: JsonObject = {
    protocolVersion: session.protocolVersion,
    capabilities: server.capabilities(session.protocolVersion),
    serverInfo: server.info,
  };
  if (server.instructions !== undefined) result['instructions'] = server.instructions;
  return result;
}

function stateless(
  server: McpServer,
  env: RequestEnv,
  idRaw: string,
  method: string,
  params: JsonObject,
  meta: JsonObject | undefined,
): Reply | Promise<Reply> {
  if (meta === undefined) {
    throw invalidParams(
      `Missing params._meta: ${STATELESS_VERSION} requests carry ${META.protocolVersion} and ${META.clientCapabilities} (legacy clients: initialize first)`,
    );
  }
  const version = meta[META.protocolVersion];
  if (typeof version !== 'string') throw invalidParams(`Missing _meta ${META.protocolVersion}`);
  // The version decides how the rest of the envelope reads, so an unknown one is reported first.
  if (version !== STATELESS_VERSION) throw unsupportedVersion(version);
  const capabilities = meta[META.clientCapabilities];
  if (!isObject(capabilities)) throw invalidParams(`Missing _meta ${META.clientCapabilities} (an object)`);
  const clientInfo = meta[META.clientInfo];
  if (clientInfo !== undefined && !isObject(clientInfo)) throw invalidParams(`_meta ${META.clientInfo} must be an object`);
  const logLevel = meta[META.logLevel];
  if (logLevel !== undefined && logLevelRank(logLevel) < 0) throw invalidParams(`Unknown _meta ${META.logLevel} ${JSON.stringify(logLevel)}`);
  const handler = STATELESS_HANDLERS.get(method);
  if (handler === undefined) throw methodNotFound(method);
  env.checkHeaders?.(method, params);
  // Over stdio the connection still scopes ids, so notifications/cancelled can reach the request.
  if (env.session !== undefined && inFlight(env.session, idRaw)) {
    throw new McpError(ErrorCode.InvalidRequest, `Request id ${idRaw} is already in use by a request in flight`);
  }
  // Cancelled by notifications/cancelled (stdio): no response. An HTTP client that went away gets
  // none either; subscriptions/listen ends with its result on shutdown (env.signal).
  return settle(handler, new RequestCall(server, env, 'stateless', version, method, params, meta, capabilities, clientInfo, idRaw));
}

/**
 * The 2026-07-28 members a result lacks (caching hints on cacheable results, `resultType`), as JSON
 * text that resultReply writes inside it: the handler's object may be shared, so it is neither
 * changed nor copied.
 */
function statelessMembers(server: McpServer, env: RequestEnv, method: string, result: JsonObject): string {
  let extra = '';
  if (result['resultType'] === undefined) {
    if (cacheable(method)) {
      if (result['ttlMs'] === undefined) extra += ',"ttlMs":' + JSON.stringify(server.listCache.ttlMs);
      if (result['cacheScope'] === undefined) extra += ',"cacheScope":' + (env.auth === undefined ? JSON.stringify(server.listCache.scope) : '"private"');
    }
    extra += ',"resultType":"complete"';
  }
  return extra;
}

/** The last method statelessMembers asked about, and whether it is CACHEABLE: a read is mostly of one method. */
let lastMethod = '';
let lastCacheable = false;

function cacheable(method: string): boolean {
  if (method !== lastMethod) {
    lastMethod = method;
    lastCacheable = CACHEABLE.has(method);
  }
  return lastCacheable;
}

export function unsupportedVersion(requested: string): McpError {
  return new McpError(
    ErrorCode.UnsupportedProtocolVersion,
    `Unsupported protocol version ${JSON.stringify(requested)}`,
    { supported: SUPPORTED_VERSIONS, requested },
    400,
  );
}

// ---- methods -----------------------------------------------------------------------------------

/** A 2026-07-28 request's inputResponses when it sent none and had no earlier rounds: {} (CallInit). */
const NO_ANSWERS: Record<string, unknown> = Object.freeze({});

/**
 * What a RequestContext knows about its call, as one object whose methods live on the prototype:
 * a context per request then costs two allocations, not an object and a closure per capability.
 */
class CallInit implements ContextInit {
  // Declared and set in the constructor, not class fields: see RequestContext.
  private declare readonly call: Call;
  private declare answers: Record<string, unknown> | undefined;
  declare readonly state: unknown;

  constructor(call: Call, inputResponses: Record<string, unknown> | undefined, state: unknown) {
    this.call = call;
    this.answers = inputResponses;
    this.state = state;
  }

  get inputResponses(): Record<string, unknown> | undefined {
    // A fresh {} per request, made only if the handler looks.
    if (this.answers === NO_ANSWERS) this.answers = {};
    return this.answers;
  }

  get minLogRank(): number {
    const { era, env, meta } = this.call;
    if (era === 'legacy') return env.session?.minLogRank ?? 0;
    return meta[META.logLevel] === undefined ? Infinity : Math.max(0, logLevelRank(meta[META.logLevel]));
  }

  get era(): Era {
    return this.call.era;
  }
  get protocolVersion(): string {
    return this.call.version;
  }
  get requestId(): string | number | null {
    return parseId(this.call.idRaw);
  }
  get signal(): AbortSignal {
    return this.call.signal;
  }
  get meta(): JsonObject {
    return this.call.meta;
  }
  get clientCapabilities(): JsonObject {
    return this.call.clientCapabilities;
  }
  get clientInfo(): JsonObject | undefined {
    return this.call.clientInfo;
  }
  get sessionId(): string | undefined {
    return this.call.era === 'legacy' ? this.call.env.session?.id : undefined;
  }
  get auth(): AuthPrincipal | undefined {
    return this.call.env.auth;
  }

  notify(method: string, params: JsonObject): void {
    const env = this.call.env;
    if (!env.channel.open || this.call.signal.aborted) return;
    env.channel.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  request(method: string, params: JsonObject, signal: AbortSignal): Promise<JsonObject> {
    const { session, channel } = this.call.env;
    if (session === undefined) return Promise.reject(new McpError(ErrorCode.InternalError, 'No session'));
    return session.request(channel, method, params, signal);
  }

  disconnect(): void {
    this.call.env.disconnect?.();
  }
}

/** The context of one handler run; `extra` replaces parts of it (tasks route their messages). */
function context(call: Call, inputResponses?: Record<string, unknown>, state?: unknown, extra?: Partial<ContextInit>): RequestContext {
  const init = new CallInit(call, inputResponses, state);
  if (extra === undefined) return new RequestContext(init);
  // Rare (tasks): own properties over the call's (defined, not assigned: the call's are getters).
  const overridden = Object.create(init) as ContextInit;
  for (const [key, value] of Object.entries(extra)) {
    Object.defineProperty(overridden, key, { value, enumerable: true, configurable: true, writable: true });
  }
  return new RequestContext(overridden);
}

interface RoundState {
  /** Method and target the state belongs to. */
  m: string;
  t: string;
  /** Answers of earlier rounds. */
  r: Record<string, unknown>;
  /** The handler's own state. */
  s?: unknown;
  /** Subject of the caller it was issued to, when authenticated: another caller cannot replay it. */
  u?: string;
}

/**
 * Runs `body` with the 2026-07-28 multi-round-trip machinery around it: verifies an echoed
 * `requestState`, merges earlier answers with `inputResponses`, and turns InputRequired into an
 * `input_required` result with a freshly signed state. In the legacy era it just runs `body`.
 */
async function withInput(call: Call, target: string, body: (ctx: RequestContext) => Promise<JsonObject>): Promise<JsonObject> {
  if (call.era === 'legacy') return body(context(call));
  const { params, server } = call;
  const responses = params['inputResponses'];
  if (responses !== undefined && !isObject(responses)) throw invalidParams('inputResponses must be an object keyed by input request name');
  let answers: Record<string, unknown> = {};
  let state: unknown;
  const token = params['requestState'];
  if (token !== undefined) {
    const checked = server.signer.verify(token, { purpose: 'requestState' });
    if (!checked.ok) throw invalidParams(`Invalid requestState (${checked.reason})`, { reason: checked.reason });
    const round = checked.payload as RoundState;
    if (round.m !== call.method || round.t !== target) throw invalidParams('requestState belongs to a different request');
    if (round.u !== call.env.auth?.subject) throw invalidParams('requestState belongs to a different caller');
    answers = { ...round.r };
    state = round.s;
  }
  if (responses !== undefined) {
    for (const [k, v] of Object.entries(responses)) if (isObject(v)) answers[k] = v;
  }
  try {
    return await body(context(call, answers, state));
  } catch (e) {
    if (!(e instanceof InputRequired)) throw e;
    return inputRequiredResult(call, target, answers, e);
  }
}

/** The `input_required` result for what the handler asked, with the signed state of this round. */
function inputRequiredResult(call: Call, target: string, answers: Record<string, unknown>, e: InputRequired): JsonObject {
  const round: RoundState = { m: call.method, t: target, r: answers };
  if (e.state !== undefined) round.s = e.state;
  if (call.env.auth !== undefined) round.u = call.env.auth.subject;
  return {
    resultType: 'input_required',
    inputRequests: e.requests,
    requestState: call.server.signer.sign(round, { ttlMs: call.server.requestStateTtlMs, purpose: 'requestState' }),
  };
}

function listResult<T extends { listed: JsonObject }>(
  key: string,
  page: { items: T[]; nextCursor?: string },
): JsonObject {
  const result: JsonObject = { [key]: page.items.map((e) => e.listed) };
  if (page.nextCursor !== undefined) result['nextCursor'] = page.nextCursor;
  return result;
}

const toolsList: Handler = ({ server, params, env }) =>
  listResult('tools', server.tools.page(params['cursor'], server.pageSize, server.signer, visibleTo(env.auth)));

/**
 * Scopes (docs/auth.md): an authenticated caller sees only the entries its scopes cover, and using
 * one it lacks scopes for is 403 insufficient_scope, which tells the client what to ask for. A
 * transport without an authenticator (stdio, HTTP without auth) trusts its caller: nothing is checked.
 */
function covers(auth: AuthPrincipal, entry: Entry): boolean {
  for (const scope of entry.scopes) if (!auth.scopes.includes(scope)) return false;
  return true;
}

function visibleTo(auth: AuthPrincipal | undefined): ((entry: Entry) => boolean) | undefined {
  return auth === undefined ? undefined : (entry) => covers(auth, entry);
}

/** `kind` and `name` name the entry in the error (joined only then: a string per call otherwise). */
function checkScopes(entry: Entry, auth: AuthPrincipal | undefined, kind: string, name: string): void {
  if (auth !== undefined && entry.scopes.length > 0 && !covers(auth, entry)) throw new InsufficientScope(`${kind} ${name}`, entry.scopes, auth.scopes);
}

/**
 * The enabled entry `params.name` names (its `key` is that name); -32602 when the name is missing or unknown. The
 * entry alone: an object of name and entry was an allocation per tools/call.
 */
function named<T extends Entry>(registry: Registry<T>, params: JsonObject, method: string, kind: string): T {
  const name = params['name'];
  if (typeof name !== 'string') throw invalidParams(`${method} needs params.name (a string)`);
  const entry = registry.get(name);
  if (entry === undefined) throw invalidParams(`Unknown ${kind}: ${name}`, { name });
  return entry;
}

const toolsCall: Handler = (call) => {
  const { server, params } = call;
  const tool = named(server.tools, params, 'tools/call', 'tool');
  const name = tool.key;
  checkScopes(tool, call.env.auth, 'tool', name);
  // A plain tool asked for no task runs as the request: taskMode would say so after reading its definition.
  const asTask = tool.plain && params['task'] === undefined ? false : taskMode(call, tool);
  const args = params['arguments'] ?? {};
  let checked;
  try {
    checked = tool.input.check(args);
  } catch (e) {
    // A zod schema's own refinements may throw (e.g. an async refine); that is still bad input.
    return toolError(`Invalid arguments for tool ${JSON.stringify(name)}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!checked.ok) return toolError(checked.message);
  if (asTask && call.era === 'legacy') return startLegacyTask(call, tool, checked.value);
  if (!asTask && tool.definition.prepare === undefined && (call.era === 'legacy' || (params['inputResponses'] === undefined && params['requestState'] === undefined))) {
    // The common call: no earlier rounds to merge and nothing to prepare. A handler that answers
    // synchronously then finishes without a promise; only an input request needs the round machinery.
    return callTool(call, tool, checked.value, context(call, call.era === 'legacy' ? undefined : NO_ANSWERS));
  }
  return callToolInRounds(call, tool, name, checked.value, asTask);
};

/**
 * A tools/call with a prepare step, earlier rounds or as a 2026-07-28 task. A function of its own: a closure in
 * toolsCall made V8 allocate the variables it captures on every call, the common one included.
 */
function callToolInRounds(call: Call, tool: ToolEntry, name: string, args: unknown, asTask: boolean): Promise<JsonObject> {
  return withInput(call, name, async (ctx) => {
    const prepared = await prepareTool(tool, args, ctx);
    if (!prepared.ok) return prepared.result;
    if (asTask) return startStatelessTask(call, tool, args, prepared.value);
    return runTool(tool, args, ctx, prepared.value);
  });
}

function toolError(text: string): JsonObject {
  return { content: [{ type: 'text', text }], isError: true };
}

/** Runs the definition's `prepare`; a failure it throws is the tool's, as in runTool. */
async function prepareTool(tool: ToolEntry, args: unknown, ctx: RequestContext): Promise<{ ok: true; value: unknown } | { ok: false; result: JsonObject }> {
  const prepare = tool.definition.prepare;
  if (prepare === undefined) return { ok: true, value: undefined };
  try {
    return { ok: true, value: await prepare(args, ctx) };
  } catch (e) {
    if (e instanceof McpError || e instanceof InputRequired) throw e;
    if (ctx.signal.aborted) return { ok: false, result: toolError('Cancelled') };
    return { ok: false, result: toolError(e instanceof Error ? e.message : String(e)) };
  }
}

async function runTool(tool: ToolEntry, args: unknown, ctx: RequestContext, prepared: unknown): Promise<JsonObject> {
  let value: ToolResultLike;
  try {
    value = await tool.handler(args, ctx, prepared);
  } catch (e) {
    return toolFailure(tool, e, ctx);
  }
  return finishTool(tool, value, ctx);
}

/** runTool without a promise when the handler answers synchronously; input requests become a round. */
function callTool(call: Call, tool: ToolEntry, args: unknown, ctx: RequestContext): JsonObject | Promise<JsonObject> {
  let value: ToolResultLike | Promise<ToolResultLike>;
  try {
    value = tool.handler(args, ctx, undefined);
  } catch (e) {
    return callFailure(call, tool, ctx, e);
  }
  // The closures are made only for a handler that returned a promise.
  if (isThenable(value)) return Promise.resolve(value).then((v) => finishTool(tool, v, ctx), (e: unknown) => callFailure(call, tool, ctx, e));
  return finishTool(tool, value, ctx);
}

/** callTool's failure: a 2026-07-28 input request becomes a round; the rest as in toolFailure. */
function callFailure(call: Call, tool: ToolEntry, ctx: RequestContext, e: unknown): JsonObject {
  if (e instanceof InputRequired && call.era === 'stateless') return inputRequiredResult(call, tool.key, {}, e);
  return toolFailure(tool, e, ctx);
}

/** What a handler's failure becomes: protocol errors and input requests go up, the rest is isError. */
function toolFailure(tool: ToolEntry, e: unknown, ctx: RequestContext): JsonObject {
  if (e instanceof McpError || e instanceof InputRequired) throw e;
  if (ctx.signal.aborted) return toolError('Cancelled');
  return toolError(e instanceof Error ? e.message : String(e));
}

/** The handler's value as a CallToolResult, its structuredContent checked against outputSchema. */
function finishTool(tool: ToolEntry, value: ToolResultLike, ctx: RequestContext): JsonObject {
  let result: CallToolResult;
  try {
    result = normalizeToolResult(value);
  } catch (e) {
    return toolFailure(tool, e, ctx);
  }
  if (tool.output !== undefined && result.isError !== true) {
    if (result.structuredContent === undefined) {
      return toolError(`Tool ${tool.key} has an outputSchema but returned no structuredContent`);
    }
    let checked;
    try {
      checked = tool.output.check(result.structuredContent);
    } catch (e) {
      checked = { ok: false as const, message: e instanceof Error ? e.message : String(e) };
    }
    if (!checked.ok) return toolError(`Tool ${tool.key} returned structuredContent that does not match its outputSchema: ${checked.message}`);
    // The client gets the validated value (a zod schema may fill defaults), as outputSchema shows it.
    return { ...result, structuredContent: checked.value } as unknown as JsonObject;
  }
  return result as unknown as JsonObject;
}

function normalizeToolResult(value: ToolResultLike): CallToolResult {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
  if (Array.isArray(value)) return { content: value };
  if (isObject(value)) {
    if (Array.isArray(value['content'])) return value as CallToolResult;
    if (isObject(value['structuredContent'])) {
      // Older clients read content only: mirror the structured result as text.
      return { ...(value as CallToolResult), content: [{ type: 'text', text: JSON.stringify(value['structuredContent']) }] };
    }
  }
  throw new TypeError('A tool handler must return a string, an array of content blocks or a CallToolResult');
}

// ---- tasks --------------------------------------------------------------------------------------

/**
 * Whether this tools/call runs as a task, or why it cannot run at all.
 *   2026-07-28  a tool supporting tasks, called with the extension declared in `_meta`; a 'required'
 *               tool called without it is -32021 naming the extension (SEP-2663). The server decides:
 *               an old-style `params.task` is ignored.
 *   2025-11-25  the client asked (`params.task`) for a tool supporting tasks. Asking for a tool that
 *               does not, or not asking for a 'required' one, is -32601 (spec: tool-level negotiation).
 *   otherwise   never (older revisions know no tasks; `tasks: false` turns them off).
 */
function taskMode(call: Call, tool: ToolEntry): boolean {
  if (call.server.tasks === undefined) return false;
  const support = tool.definition.execution?.taskSupport ?? 'forbidden';
  if (call.era === 'stateless') {
    if (support === 'forbidden') return false;
    if (declaresTasks(call.clientCapabilities)) return true;
    if (support === 'required') throw tasksExtensionRequired(`tool ${tool.key} runs only as a task`);
    return false;
  }
  if (call.version !== TASKS_LEGACY_VERSION) return false;
  const asked = call.params['task'];
  if (asked !== undefined && !isObject(asked)) throw invalidParams('params.task must be an object ({ ttl? })');
  if (asked === undefined) {
    if (support === 'required') throw new McpError(ErrorCode.MethodNotFound, `Tool ${tool.key} must be called as a task (params.task)`);
    return false;
  }
  if (support === 'forbidden') throw new McpError(ErrorCode.MethodNotFound, `Tool ${tool.key} does not support tasks`);
  return true;
}

/**
 * Who may see a task: legacy era, the session (and the principal, if any); 2026-07-28, the auth
 * principal, or one shared anonymous scope when the transport does not authenticate (tasks.ts).
 */
function taskOwner(call: Call): string {
  const auth = call.env.auth;
  const principal = auth === undefined ? '-' : JSON.stringify([auth.subject, auth.clientId ?? null]);
  return call.era === 'legacy' ? `session ${call.env.session?.id ?? '-'} ${principal}` : `principal ${principal}`;
}

function protocolError(e: unknown): TaskError {
  return e instanceof McpError ? e.toJSON() : { code: ErrorCode.InternalError, message: 'Internal error' };
}

function withRelatedTask(params: JsonObject, taskId: string): JsonObject {
  const meta = isObject(params['_meta']) ? params['_meta'] : {};
  return { ...params, _meta: { ...meta, [RELATED_TASK_META]: { taskId } } };
}

/**
 * 2025-11-25: creates the task, answers `{ task }` and runs `prepare` and the handler in the
 * background. Messages of the handler carry the related-task `_meta` and go to the task's route
 * (a waiting tasks/result stream, else the session's stream); while a request to the client is
 * unanswered the task is input_required. Status changes go out as notifications/tasks/status.
 */
function startLegacyTask(call: Call, tool: ToolEntry, args: unknown): JsonObject {
  const store = call.server.tasks!;
  const session = call.env.session!;
  const ttl = (call.params['task'] as JsonObject)['ttl'];
  const task = store.create(taskOwner(call), { ttlMs: typeof ttl === 'number' ? ttl : undefined, ownerGone: () => session.closed });
  const route = new TaskRoute(() => session.standalone);
  task.route = route;
  task.onStatus = (t) => route.notify(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tasks/status', params: legacyTask(t) }));
  const created = { task: legacyTask(task) };
  void runLegacyTask(call, tool, args, task, store, session, route);
  return created;
}

async function runLegacyTask(call: Call, tool: ToolEntry, args: unknown, task: Task, store: TaskStore, session: Session, route: TaskRoute): Promise<void> {
  // meta and signal are getters of the request's class: a spread copies own fields only.
  const taskCall: Call = { ...call, meta: call.meta, signal: task.signal };
  const ctx = context(taskCall, undefined, undefined, {
    notify: (method, params) => {
      if (!task.terminal) route.notify(JSON.stringify({ jsonrpc: '2.0', method, params: withRelatedTask(params, task.taskId) }));
    },
    request: async (method, params, signal) => {
      store.clientRequest(task, 1);
      try {
        return await session.request(route.requests, method, withRelatedTask(params, task.taskId), signal);
      } finally {
        store.clientRequest(task, -1);
      }
    },
  });
  try {
    const prepared = await prepareTool(tool, args, ctx);
    const result = prepared.ok ? await runTool(tool, args, ctx, prepared.value) : prepared.result;
    // 2025-11-25: a tool result with isError ends the task as failed; tasks/result still returns it.
    if (result['isError'] === true) store.complete(task, result, 'failed', 'The tool reported an error');
    else store.complete(task, result);
  } catch (e) {
    store.fail(task, protocolError(e));
  }
}

/** 2026-07-28: creates the task (`prepare` already ran in the request) and answers CreateTaskResult. */
function startStatelessTask(call: Call, tool: ToolEntry, args: unknown, prepared: unknown): JsonObject {
  const store = call.server.tasks!;
  const task = store.create(taskOwner(call));
  void runStatelessTask(call, tool, args, prepared, task, store);
  return createTaskResult(task);
}

/**
 * 2026-07-28: runs the handler as the task. The request is over, so the handler gets the task's
 * signal and no stream. When it asks the client for input the task waits in input_required with the
 * requests; once tasks/update has answered all of them the handler runs again from the top with
 * every answer so far (the same contract as multi-round-trip requests).
 */
async function runStatelessTask(call: Call, tool: ToolEntry, args: unknown, prepared: unknown, task: Task, store: TaskStore): Promise<void> {
  const taskCall: Call = { ...call, meta: call.meta, signal: task.signal, env: { session: call.env.session, channel: CLOSED, auth: call.env.auth, signal: undefined } };
  let state: unknown;
  try {
    for (;;) {
      try {
        const answers = Object.keys(task.answers).length === 0 ? undefined : { ...task.answers };
        store.complete(task, await runTool(tool, args, context(taskCall, answers, state), prepared));
        return;
      } catch (e) {
        if (!(e instanceof InputRequired)) throw e;
        if (e.state !== undefined) state = e.state;
        store.requireInput(task, e.requests);
        while (task.status === 'input_required') await task.changed();
        if (task.terminal) return;
      }
    }
  } catch (e) {
    store.fail(task, protocolError(e));
  }
}

const resourcesList: Handler = ({ server, params, env }) =>
  listResult('resources', server.resources.page(params['cursor'], server.pageSize, server.signer, visibleTo(env.auth)));

const templatesList: Handler = ({ server, params, env }) =>
  listResult('resourceTemplates', server.templates.page(params['cursor'], server.pageSize, server.signer, visibleTo(env.auth)));

const resourcesRead: Handler = async (call) => {
  const { server, params, era } = call;
  const uri = params['uri'];
  if (typeof uri !== 'string') throw invalidParams('resources/read needs params.uri (a string)');
  const direct = server.resources.get(uri);
  let run: (ctx: RequestContext) => Promise<ResourceResultLike>;
  let cache = server.listCache;
  let mimeType: string | undefined;
  if (direct !== undefined) {
    checkScopes(direct, call.env.auth, 'resource', uri);
    run = async (ctx) => direct.handler(uri, ctx);
    cache = direct.definition.cache ?? cache;
    mimeType = direct.definition.mimeType;
  } else {
    const match = server.matchTemplate(uri);
    if (match === undefined) {
      // Legacy revisions define -32002; 2026-07-28 (SEP-2164) asks for -32602. Both carry the uri.
      throw era === 'legacy'
        ? new McpError(ErrorCode.ResourceNotFound, `Resource not found: ${uri}`, { uri })
        : new McpError(ErrorCode.InvalidParams, `Resource not found: ${uri}`, { uri }, 400);
    }
    checkScopes(match.entry, call.env.auth, 'resource', uri);
    run = async (ctx) => match.entry.handler(uri, match.variables, ctx);
    cache = match.entry.definition.cache ?? cache;
    mimeType = match.entry.definition.mimeType;
  }
  const result = { ...(await withInput(call, uri, async (ctx) => normalizeResource(uri, mimeType, await run(ctx)))) };
  if (era === 'stateless' && result['resultType'] === undefined) {
    result['ttlMs'] = cache.ttlMs;
    result['cacheScope'] = call.env.auth === undefined ? cache.scope : 'private';
  }
  return result;
};

function normalizeResource(uri: string, mimeType: string | undefined, value: ResourceResultLike): JsonObject {
  if (typeof value === 'string') return { contents: [mimeType === undefined ? { uri, text: value } : { uri, mimeType, text: value }] };
  if (Array.isArray(value)) return { contents: value };
  if (isObject(value) && Array.isArray(value['contents'])) return value as unknown as JsonObject;
  throw new TypeError('A resource handler must return a string, an array of contents or a ReadResourceResult');
}

const subscribe: Handler = ({ server, env, params }) => {
  const uri = params['uri'];
  if (typeof uri !== 'string') throw invalidParams('resources/subscribe needs params.uri (a string)');
  const entry = server.resources.get(uri) ?? server.matchTemplate(uri)?.entry;
  if (entry !== undefined) checkScopes(entry, env.auth, 'resource', uri);
  env.session!.subscribe(uri);
  return {};
};

const unsubscribe: Handler = ({ env, params }) => {
  const uri = params['uri'];
  if (typeof uri !== 'string') throw invalidParams('resources/unsubscribe needs params.uri (a string)');
  env.session!.unsubscribe(uri);
  return {};
};

const promptsList: Handler = ({ server, params, env }) =>
  listResult('prompts', server.prompts.page(params['cursor'], server.pageSize, server.signer, visibleTo(env.auth)));

const promptsGet: Handler = async (call) => {
  const { server, params } = call;
  const prompt = named(server.prompts, params, 'prompts/get', 'prompt');
  const name = prompt.key;
  checkScopes(prompt, call.env.auth, 'prompt', name);
  const args = params['arguments'] ?? {};
  if (!isObject(args)) throw invalidParams('prompts/get params.arguments must be an object of strings');
  for (const [k, v] of Object.entries(args)) {
    if (typeof v !== 'string') throw invalidParams(`Prompt argument ${JSON.stringify(k)} must be a string`);
  }
  for (const arg of prompt.definition.arguments ?? []) {
    if (arg.required === true && args[arg.name] === undefined) {
      throw invalidParams(`Missing required argument ${JSON.stringify(arg.name)} for prompt ${JSON.stringify(name)}`);
    }
  }
  return withInput(call, name, async (ctx) => {
    const result = await prompt.handler(args as Record<string, string>, ctx);
    if (!isObject(result) || !Array.isArray(result['messages'])) throw new TypeError('A prompt handler must return { messages: [...] }');
    return result as unknown as JsonObject;
  });
};

const MAX_COMPLETIONS = 100;

const complete: Handler = async ({ server, params, env }) => {
  const ref = params['ref'];
  const argument = params['argument'];
  if (!isObject(ref) || typeof ref['type'] !== 'string') throw invalidParams('completion/complete needs params.ref');
  if (!isObject(argument) || typeof argument['name'] !== 'string' || typeof argument['value'] !== 'string') {
    throw invalidParams('completion/complete needs params.argument { name, value }');
  }
  const given = isObject(params['context']) ? params['context']['arguments'] : undefined;
  if (given !== undefined && (!isObject(given) || Object.values(given).some((v) => typeof v !== 'string'))) {
    throw invalidParams('completion/complete params.context.arguments must be an object of strings');
  }
  const context = (given ?? {}) as Record<string, string>;
  let completer;
  if (ref['type'] === 'ref/prompt') {
    const prompt = typeof ref['name'] === 'string' ? server.prompts.get(ref['name']) : undefined;
    if (prompt === undefined) throw invalidParams(`Unknown prompt: ${String(ref['name'])}`);
    checkScopes(prompt, env.auth, 'prompt', prompt.key);
    completer = prompt.definition.complete?.[argument['name']];
  } else if (ref['type'] === 'ref/resource') {
    const uri = ref['uri'];
    const template = typeof uri === 'string' ? server.templates.get(uri) : undefined;
    if (template === undefined) {
      if (typeof uri === 'string' && server.resources.get(uri) !== undefined) return { completion: { values: [], hasMore: false } };
      throw invalidParams(`Unknown resource template: ${String(uri)}`);
    }
    checkScopes(template, env.auth, 'resource template', template.key);
    completer = template.definition.complete?.[argument['name']];
  } else {
    throw invalidParams(`Unknown completion ref type ${JSON.stringify(ref['type'])}`);
  }
  if (completer === undefined) return { completion: { values: [], hasMore: false } };
  const answer = await completer(argument['value'], { arguments: context });
  const values = Array.isArray(answer) ? answer : answer.values;
  const total = Array.isArray(answer) ? values.length : (answer.total ?? values.length);
  const completion: JsonObject = {
    values: values.slice(0, MAX_COMPLETIONS),
    total,
    hasMore: values.length > MAX_COMPLETIONS || (!Array.isArray(answer) && answer.hasMore === true),
  };
  return { completion };
};

const setLevel: Handler = ({ env, params }) => {
  const level = params['level'];
  if (typeof level !== 'string' || !env.session!.setLogLevel(level)) throw invalidParams(`Unknown log level ${JSON.stringify(level)}`);
  return {};
};

const discover: Handler = ({ server, env, version }) => {
  // serverInfo travels in _meta (spec PR #3002), not in the body; discover results are cacheable.
  const result: JsonObject = {
    supportedVersions: SUPPORTED_VERSIONS,
    capabilities: server.capabilities(version),
    ttlMs: server.listCache.ttlMs,
    cacheScope: env.auth === undefined ? server.listCache.scope : 'private',
    _meta: { [META.serverInfo]: server.info },
  };
  if (server.instructions !== undefined) result['instructions'] = server.instructions;
  return result;
};

/**
 * subscriptions/listen (2026-07-28): acknowledges the subset of the filter this server honours, then
 * forwards matching notifications, tagged with the subscription id (the request id), until the
 * client goes away or the server shuts down; then the stream ends with a result.
 */
const listen: Handler = async ({ server, env, params, idRaw, signal }) => {
  const filter = params['notifications'];
  if (!isObject(filter)) throw invalidParams("Invalid params: 'notifications' is required (an object of the notification kinds to receive)");
  const honoured: JsonObject = {};
  for (const key of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const) {
    if (filter[key] === true) honoured[key] = true;
  }
  const uris = filter['resourceSubscriptions'];
  if (Array.isArray(uris)) honoured['resourceSubscriptions'] = uris.filter((u): u is string => typeof u === 'string');
  const subscriptionId = JSON.parse(idRaw) as unknown;
  const tag = { [META.subscriptionId]: subscriptionId };
  const send = (method: string, extra: JsonObject = {}): void => {
    // A cancelled subscription sends nothing more, even before its listener is removed.
    if (env.channel.open && !signal.aborted) env.channel.send(JSON.stringify({ jsonrpc: '2.0', method, params: { ...extra, _meta: tag } }));
  };
  send('notifications/subscriptions/acknowledged', { notifications: honoured });
  const watched = new Set(honoured['resourceSubscriptions'] as string[] | undefined);
  const unlisten = server.addListener({
    listChanged: (kind) => {
      if (honoured[`${kind}ListChanged`] === true) send(`notifications/${kind}/list_changed`);
    },
    resourceUpdated: (uri) => {
      if (watched.has(uri)) send('notifications/resources/updated', { uri });
    },
  });
  try {
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    unlisten();
  }
  return { _meta: tag };
};

/**
 * The store for a tasks/* request, or the error for a client that cannot use it: legacy era, -32601
 * unless the session speaks 2025-11-25; 2026-07-28, -32021 unless the request declares the extension.
 */
function taskStore(call: Call): TaskStore {
  const store = call.server.tasks;
  if (store === undefined || (call.era === 'legacy' && call.version !== TASKS_LEGACY_VERSION)) throw methodNotFound(call.method);
  if (call.era === 'stateless' && !declaresTasks(call.clientCapabilities)) throw tasksExtensionRequired(call.method);
  return store;
}

/** tasks/get: 2025-11-25 the Task; 2026-07-28 the DetailedTask (result, error or inputRequests inline). */
const tasksGet: Handler = (call) => {
  const task = taskStore(call).require(call.params['taskId'], taskOwner(call));
  return call.era === 'legacy' ? legacyTask(task) : detailedTask(task);
};

/** tasks/cancel: 2025-11-25 the cancelled Task (-32602 for an ended one); 2026-07-28 an empty ack, always. */
const tasksCancel: Handler = (call) => {
  const store = taskStore(call);
  const task = store.require(call.params['taskId'], taskOwner(call));
  if (call.era === 'stateless') {
    store.cancel(task);
    return {};
  }
  if (task.terminal) throw invalidParams(`Cannot cancel task ${task.taskId}: it already ended with status '${task.status}'`);
  store.cancel(task);
  return legacyTask(task);
};

/** tasks/update (2026-07-28): answers for an input_required task; keys it did not ask for are ignored. */
const tasksUpdate: Handler = (call) => {
  const store = taskStore(call);
  const task = store.require(call.params['taskId'], taskOwner(call));
  const responses = call.params['inputResponses'];
  if (!isObject(responses)) throw invalidParams('tasks/update needs params.inputResponses (an object keyed by input request name)');
  store.answer(task, responses);
  return {};
};

/**
 * tasks/result (2025-11-25): waits for the task to end, then answers what the tools/call would have
 * answered, tagged with the related-task `_meta`. While it waits, the task's requests to the client
 * travel on this request's stream.
 */
const tasksResult: Handler = async (call) => {
  const store = taskStore(call);
  const task = store.require(call.params['taskId'], taskOwner(call));
  const detach = task.route?.attach(call.env.channel);
  try {
    await store.ended(task, call.signal);
  } finally {
    detach?.();
  }
  const related = { [RELATED_TASK_META]: { taskId: task.taskId } };
  if (task.error !== undefined) throw new McpError(task.error.code, task.error.message, task.error.data);
  if (task.result === undefined) throw new McpError(ErrorCode.InternalError, `Task ${task.taskId} was cancelled`, { [RELATED_TASK_META]: { taskId: task.taskId } });
  const meta = isObject(task.result['_meta']) ? task.result['_meta'] : {};
  return { ...task.result, _meta: { ...meta, ...related } };
};

const TASK_CURSOR = 'cursor:task';

/** tasks/list (2025-11-25): this session's tasks, oldest first, in pages. */
const tasksList: Handler = (call) => {
  const { server, params } = call;
  const store = taskStore(call);
  let after = -1;
  if (params['cursor'] !== undefined) {
    const checked = server.signer.verify(params['cursor'], { purpose: TASK_CURSOR });
    const n = checked.ok && isObject(checked.payload) ? checked.payload['n'] : undefined;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw invalidParams('Invalid cursor');
    after = n;
  }
  const page = store.list(taskOwner(call), after, server.pageSize);
  const result: JsonObject = { tasks: page.tasks.map(legacyTask) };
  if (page.last !== undefined) result['nextCursor'] = server.signer.sign({ n: page.last }, { purpose: TASK_CURSOR });
  return result;
};

const SHARED: [string, Handler][] = [
  ['tools/list', toolsList],
  ['tools/call', toolsCall],
  ['resources/list', resourcesList],
  ['resources/templates/list', templatesList],
  ['resources/read', resourcesRead],
  ['prompts/list', promptsList],
  ['prompts/get', promptsGet],
  ['completion/complete', complete],
];

/**
 * Handlers by method. It remembers the last method it found: a client mostly repeats one method, and
 * the transports pass the same string constant for every known method, so one comparison usually
 * replaces hashing the name for the Map (about 1% of a tools/call over stdio).
 */
class Handlers {
  private lastMethod = '';
  private lastHandler: Handler | undefined;

  constructor(private readonly byMethod: ReadonlyMap<string, Handler>) {}

  get(method: string): Handler | undefined {
    if (method === this.lastMethod) return this.lastHandler;
    const handler = this.byMethod.get(method);
    if (handler !== undefined) {
      this.lastMethod = method;
      this.lastHandler = handler;
    }
    return handler;
  }

  methods(): IterableIterator<string> {
    return this.byMethod.keys();
  }
}

const LEGACY_HANDLERS = new Handlers(new Map<string, Handler>([
  ...SHARED,
  ['resources/subscribe', subscribe],
  ['resources/unsubscribe', unsubscribe],
  ['logging/setLevel', setLevel],
  ['tasks/get', tasksGet],
  ['tasks/result', tasksResult],
  ['tasks/list', tasksList],
  ['tasks/cancel', tasksCancel],
]));

const STATELESS_HANDLERS = new Handlers(new Map<string, Handler>([
  ...SHARED,
  ['server/discover', discover],
  ['subscriptions/listen', listen],
  ['tasks/get', tasksGet],
  ['tasks/update', tasksUpdate],
  ['tasks/cancel', tasksCancel],
]));

for (const method of STATELESS_HANDLERS.methods()) {
  if (!STATELESS_METHODS.has(method)) throw new Error(`internal: ${method} is not a 2026-07-28 method`);
}
void INPUT_REQUIRED_METHODS;

// ---- notifications and responses from the client -----------------------------------------------

/** Handles a notification from the client. Unknown notifications are ignored, as the spec asks. */
export function handleNotification(env: RequestEnv, method: string, params: unknown): void {
  const session = env.session;
  if (session === undefined) return;
  switch (method) {
    case 'notifications/initialized':
      if (session.protocolVersion !== undefined) session.initialized = true;
      return;
    case 'notifications/cancelled': {
      if (!isObject(params)) return;
      const id = params['requestId'];
      if (typeof id !== 'string' && typeof id !== 'number') return;
      const reason = new Error(typeof params['reason'] === 'string' ? params['reason'] : 'Cancelled by the client');
      // In-flight requests are keyed by their id as written; the usual spelling is the JSON text.
      // A request written with escapes or another number spelling is found by value (rare, so a scan).
      const direct = session.inflight.get(JSON.stringify(id));
      if (direct !== undefined) return void direct.abort(reason);
      for (const [raw, controller] of session.inflight) {
        if (sameId(raw, id)) return void controller.abort(reason);
      }
      return;
    }
    default:
      return;
  }
}

function sameId(raw: string, id: string | number): boolean {
  try {
    return JSON.parse(raw) === id;
  } catch {
    return false;
  }
}

/** A request id as the handler sees it (the raw token parsed; null if it is not valid JSON). */
function parseId(raw: string): string | number | null {
  try {
    return JSON.parse(raw) as string | number | null;
  } catch {
    return null;
  }
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
