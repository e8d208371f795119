// Protocol constants shared by the server and the transports: revisions, eras, error codes and the
// `_meta` keys of the 2026-07-28 revision. Nothing here does work.

/** Revisions with initialize, sessions and server->client requests, newest first. */
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;

/** The stateless revision: no initialize, every request carries its version and capabilities in `_meta`. */
export const STATELESS_VERSION = '2026-07-28';

/** Every revision this server speaks, newest first (server/discover lists these). */
export const SUPPORTED_VERSIONS: readonly string[] = [STATELESS_VERSION, ...LEGACY_VERSIONS];

/** The revision an initialize gets when the client asks for one we do not know. */
export const LATEST_LEGACY_VERSION = LEGACY_VERSIONS[0];

/** The only legacy revision whose JSON-RPC batches are allowed (added in 2025-03-26, removed in 2025-06-18). */
export const BATCH_VERSIONS: ReadonlySet<string> = new Set(['2025-03-26']);

export function isLegacyVersion(v: unknown): v is (typeof LEGACY_VERSIONS)[number] {
  return typeof v === 'string' && (LEGACY_VERSIONS as readonly string[]).includes(v);
}

/** JSON-RPC and MCP error codes. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Legacy revisions: resources/read of an unknown URI. */
  ResourceNotFound: -32002,
  /** 2026-07-28: the MCP-Protocol-Version / Mcp-Method / Mcp-Name headers disagree with the body. */
  HeaderMismatch: -32020,
  /** 2026-07-28: the request needs a client capability that `_meta` did not declare. */
  MissingRequiredClientCapability: -32021,
  /** 2026-07-28: the requested protocol version is not one this server speaks. */
  UnsupportedProtocolVersion: -32022,
  /** 2025-11-25: the request needs the user to complete a URL-mode elicitation first (data.elicitations). */
  UrlElicitationRequired: -32042,
  /** Legacy HTTP: the request names a session this server does not have. */
  SessionNotFound: -32001,
  /** HTTP with an authenticator: no credential, or a refused one (401; docs/auth.md). */
  Unauthorized: -32011,
  /** HTTP with an authenticator: the caller lacks a required scope (403 insufficient_scope; docs/auth.md). */
  InsufficientScope: -32013,
  /** A rate-limit rule or quota refused the request (data.policy, data.retryAfterMs; docs/ratelimit.md). */
  RateLimited: -32029,
} as const;

/** `_meta` keys of the 2026-07-28 revision. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** Log levels in increasing severity (RFC 5424 names, as MCP uses them). */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function logLevelRank(level: unknown): number {
  return typeof level === 'string' ? (LOG_LEVELS as readonly string[]).indexOf(level) : -1;
}

/** Methods a client may send in the legacy era (tasks/* only in a 2025-11-25 session; -32601 before). */
export const LEGACY_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
]);

/**
 * Methods a client may send in the 2026-07-28 era (initialize, ping, logging/setLevel,
 * resources/(un)subscribe are gone). The tasks extension (SEP-2663) adds tasks/get, tasks/update and
 * tasks/cancel, and drops the 2025-11-25 tasks/result and tasks/list (-32601 here).
 */
export const STATELESS_METHODS: ReadonlySet<string> = new Set([
  'server/discover',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'subscriptions/listen',
  'tasks/get',
  'tasks/update',
  'tasks/cancel',
]);

/**
 * Every method of either era, each at a fixed index: the JSON-RPC engine's route slot (transports set
 * their routers from it) and the method id rate-limit rules match on (src/ratelimit/admission.ts).
 */
export const METHOD_SLOTS: readonly string[] = [...new Set([...LEGACY_METHODS, ...STATELESS_METHODS])];

/** Methods whose results may be `input_required` in the 2026-07-28 era. */
export const INPUT_REQUIRED_METHODS: ReadonlySet<string> = new Set([
  'tools/call',
  'prompts/get',
  'resources/read',
]);
