// fastermcp's public API. Explicit named exports only (no `export *`): adding a name here is a
// decision about the public surface.

// The JSON-RPC engine (docs/jsonrpc-engine.md): routers, engines, the record layout, reasons and
// the response writers.
export {
  DEFAULT_LIMITS,
  createEngine,
  createRouter,
  engineLimits,
  implementation,
  NAME_TABLE_PROMPTS,
  NAME_TABLE_RESOURCES,
  NAME_TABLE_TOOLS,
  ARGS_END,
  ARGS_START,
  BODY_END,
  BODY_START,
  CODE,
  END,
  FLAGS,
  FLAG_BODY_IS_REPLY,
  FLAG_IN_BATCH,
  FLAG_METHOD_ESCAPED,
  FLAG_NAME_ESCAPED,
  FLAG_PARAMS_SPANNED,
  FLAG_META_REPEATED,
  FLAG_LIMITED,
  LIMITED_RESET,
  LIMITED_REMAINING,
  LIMITED_RETRY_AFTER,
  LIMITED_RULE,
  FLAG_SRC_CARRY,
  ID_END,
  ID_KIND_MASK,
  ID_KIND_NAMES,
  ID_KIND_SHIFT,
  ID_NONE,
  ID_NULL,
  ID_NUMBER,
  ID_START,
  ID_STRING,
  KIND,
  KIND_BATCH,
  KIND_ERROR_RESPONSE,
  KIND_INVALID,
  KIND_NAMES,
  KIND_NOTIFICATION,
  KIND_REQUEST,
  KIND_RESPONSE,
  META_END,
  META_START,
  METHOD_END,
  METHOD_START,
  NAME_END,
  NAME_SLOT,
  NAME_START,
  REASON,
  RECORD_STRIDE,
  SLOT,
  START,
  describeRecord,
  idKindOf,
  INVALID_REQUEST,
  PARSE_ERROR,
  REASON_MESSAGES,
  REASON_NAMES,
  REASON_WIRE_CODES,
  Reason,
  formatReasonMessage,
  writeError,
  writeResult,
  MAX_READ_ARGUMENTS_BYTES,
  buildArguments,
} from './jsonrpc/index.js';
export type {
  ArgumentsRead,
  DescribedRecord,
  Engine,
  EngineLimits,
  EngineOptions,
  IdKindName,
  KindName,
  NameTable,
  RawId,
  ReasonLimits,
  ReasonName,
  RecordSources,
  Router,
} from './jsonrpc/index.js';

// The MCP server: registration API, protocol constants and errors (src/server/).
export { McpServer } from './server/server.js';
export type {
  CacheHint,
  Completer,
  Listener,
  McpServerOptions,
  PromptArgument,
  PromptDefinition,
  PromptHandler,
  Registered,
  ResourceDefinition,
  ResourceHandler,
  ResourceResultLike,
  TemplateDefinition,
  TemplateHandler,
  ToolDefinition,
  ToolHandler,
  ToolResultLike,
} from './server/server.js';
export { RequestContext } from './server/context.js';
export type { FailureListener, Outcome, RequestEnd, RequestInfo, RequestObserver, RequestWatch } from './server/observe.js';
export { tracingObserver, parseTraceparent } from './ops/tracing.js';
export type { TracingOptions } from './ops/tracing.js';
export { createLogger, failureLogger, loggingObserver, REDACT_PATHS } from './ops/log.js';
export type { Logger, LoggerLevel, LoggerOptions } from './ops/log.js';
export { AuditWriter } from './ops/audit.js';
export type { AuditWriterOptions } from './ops/audit.js';
export { auditObserver } from './ops/audit-observer.js';
export type { AuditSink } from './ops/audit-observer.js';
export { argumentsDigest, canonicalJson, readAuditKey, recordMac } from './ops/audit-chain.js';
export type { AuditEntry, AuditRecord } from './ops/audit-chain.js';
export { verifyAuditLog } from './ops/audit-verify.js';
export type { AuditVerdict } from './ops/audit-verify.js';
export type { ElicitResult, Era } from './server/context.js';
export { McpError, urlElicitationRequired } from './server/errors.js';
export {
  ErrorCode,
  LEGACY_VERSIONS,
  LOG_LEVELS,
  META,
  STATELESS_VERSION,
  SUPPORTED_VERSIONS,
} from './server/protocol.js';
export type { LogLevel } from './server/protocol.js';
export { UriTemplate } from './server/uri-template.js';
export { TASKS_EXTENSION, TaskStore } from './server/tasks.js';
export type { TaskStatus, TaskStoreOptions } from './server/tasks.js';
export { StateSigner, randomStateKey } from './server/request-state.js';
export type {
  AudioContent,
  AuthPrincipal,
  BlobResourceContents,
  CallToolResult,
  ContentBlock,
  EmbeddedResource,
  GetPromptResult,
  Icon,
  ImageContent,
  Implementation,
  InputRequest,
  PromptMessage,
  ReadResourceResult,
  ResourceContents,
  ResourceLink,
  TextContent,
  TextResourceContents,
  ToolAnnotations,
} from './server/types.js';

// Transports: stdio and Streamable HTTP (mountable in an existing node:http server).
export { StdioTransport, serveStdio } from './transport/stdio.js';
export type { StdioOptions } from './transport/stdio.js';
export { HttpTransport, serveHttp } from './transport/http.js';
export type { HttpCounters, HttpOptions, RefusalCause, RunningHttpServer, ServeHttpOptions } from './transport/http.js';

// Operations (docs/metrics.md): Prometheus metrics, health checks and their HTTP endpoints.
export { createMetrics } from './ops/metrics.js';
export type { Metrics, MetricsOptions, WatchedTransport } from './ops/metrics.js';
export { createHealth } from './ops/health.js';
export type { CheckResult, Health, HealthCheck, HealthOptions, Readiness } from './ops/health.js';
export { opsHandler, serveOps } from './ops/endpoints.js';
export type { OpsHandler, OpsHandlerOptions, OpsOptions, OpsPaths, RunningOps, ServeOpsOptions } from './ops/endpoints.js';

// The built-in demo set (`fastermcp serve` without a module).
export { registerDemo } from './demo/everything.js';

// The JWT verifier (docs/jwt.md): native per-token verify with a pure-JS twin, local keys or a JWKS URL.
export {
  JWT_ALGORITHMS,
  JWT_ERROR_CODES,
  JWT_REASONS,
  JWT_REASON_MESSAGES,
  createJwtVerifier,
} from './jwt/index.js';
export type {
  JwksUrlOptions,
  JwtAlgorithm,
  JwtKeyInput,
  JwtKeyMaterial,
  JwtPrincipal,
  JwtReason,
  JwtResult,
  JwtVerifier,
  JwtVerifierOptions,
} from './jwt/index.js';

// OAuth resource server and authenticators for the HTTP transport (docs/auth.md).
export {
  WELL_KNOWN as PROTECTED_RESOURCE_METADATA_PATH,
  ResourceServer,
  canonicalResource,
} from './auth/resource-server.js';
export type { ResourceServerOptions } from './auth/resource-server.js';
export {
  apiKeyAuthenticator,
  bearerToken,
  chainAuthenticators,
  jwtAuthenticator,
  readApiKeysFile,
} from './auth/authenticate.js';
export type { ApiKey, AuthDecision, AuthRefusal, Authenticator, Credentials } from './auth/authenticate.js';

// Rate limits (docs/ratelimit.md): the algorithms (native with a pure-JS twin), rule sets, the server's
// admission step and quotas, and cluster mode over Redis (docs/ratelimit-cluster.md).
export { ALGORITHMS, SCOPES, createRateLimiter, createRuleSet } from './ratelimit/index.js';
export type { Algorithm, Decision, ImplementationOptions, LimitSpec, RateLimiter, RuleDecision, RuleInit, RuleSet, RuleSpec, Scope } from './ratelimit/index.js';
export type { Admission, Denial, LimitsOptions, RedisLimitsOptions } from './ratelimit/admission.js';
export type { QuotaPeriod, QuotaSpec, QuotaUsage } from './ratelimit/quota.js';
export { ClusterLimiter } from './ratelimit/cluster.js';
export type { ClusterDecision, ClusterHealth, ClusterItem, ClusterLimiterOptions, RedisDownPolicy } from './ratelimit/cluster.js';
export { ClusterQuota } from './ratelimit/cluster-quota.js';

// Scale-out (docs/scale-out.md): legacy sessions, SSE events and server->client messages shared by
// every process using one Redis; HttpOptions.sharedState takes what connectSharedState returns.
export { SharedState, connectSharedState } from './cluster/redis-state.js';
export type { SharedStateOptions } from './cluster/redis-state.js';

// The sandbox for untrusted tools (docs/sandbox.md): a warm pool of limited processes per tool.
export { DEFAULT_SANDBOX_LIMITS, SANDBOX_ERROR_CODES, Sandbox, createSandbox } from './sandbox/index.js';
export type {
  CallRecord as SandboxCallRecord,
  Cause as SandboxCause,
  PoolStats as SandboxPoolStats,
  ProcessEvent as SandboxProcessEvent,
  SandboxAllow,
  SandboxLimits,
  SandboxOptions,
  SandboxReport,
  SandboxToolOptions,
  SandboxedTool,
  ToolMetrics as SandboxToolMetrics,
} from './sandbox/index.js';

// Which implementation is running, and why.
export { runtimeInfo } from './runtime.js';
export type { RuntimeInfo } from './runtime.js';

// The trusted worker pool (docs/worker-pool.md): CPU-heavy tool handlers on Piscina worker threads.
export { POOL_ERROR_CODES, POOL_FAILURES, POOL_META_KEY, PoolError, createWorkerPool } from './pool/index.js';
export type { PoolErrorCode, PoolFailure, PoolHandlerContext, RunOptions as WorkerPoolRunOptions, Transfer as WorkerPoolTransfer, WorkerPool, WorkerPoolOptions, WorkerPoolStats } from './pool/index.js';
