// The shapes shared by every rate limiter (docs/ratelimit.md): the native core (native/core/ratelimit.h),
// its pure-JS twin (src/ratelimit/js.ts), the Redis-backed cluster limiter (src/limits/cluster.ts) and the
// server's admission step. Times are milliseconds on a clock the caller passes in (injectable for tests).

/** The four algorithms. Each answers allowed/denied, remaining permits, and the time to the next permit. */
export type Algorithm = 'token-bucket' | 'sliding-window-log' | 'sliding-window-counter' | 'fixed-window';
export const ALGORITHMS: readonly Algorithm[] = ['token-bucket', 'sliding-window-log', 'sliding-window-counter', 'fixed-window'];

/** One algorithm and its parameters. */
export interface LimitSpec {
  readonly algorithm: Algorithm;
  /** Token bucket: the burst (bucket capacity). Windows: permits per window. An integer >= 1. */
  readonly limit: number;
  /** Token bucket: the time in which an empty bucket refills to `limit`. Windows: the window length. ms, > 0. */
  readonly windowMs: number;
}

/**
 * What a check answered. Limiters hand out one reused object (or write into a reused Float64Array);
 * copy the fields before the next check if they must outlive it.
 */
export interface Decision {
  allowed: boolean;
  /** Permits left after this check (floor), never negative. */
  remaining: number;
  /** 0 when allowed; else ms until a call of the same cost could be admitted; -1 when never (cost > limit). */
  retryAfterMs: number;
  /** ms until the key is back to its full `limit` with no further calls (the RateLimit header's `t`). */
  resetMs: number;
}

/** Which key a rule counts under. */
export type Scope =
  | 'global' // one key for the whole server
  | 'client' // per client: principal subject, API key id, or remote address when anonymous
  | 'tool' // per tool (tools/call) or per routed name (prompts/get, resources/read)
  | 'client-tool' // per client x tool
  | 'method'; // per method (e.g. every list method counted apart from tools/call)

export const SCOPES: readonly Scope[] = ['global', 'client', 'tool', 'client-tool', 'method'];

/** One rate-limit rule, as users write it (server.limits(...), --limits FILE). */
export interface RuleSpec extends LimitSpec {
  /** The policy name in the RateLimit-Policy / RateLimit headers and in errors; unique per server. */
  readonly name: string;
  readonly scope: Scope;
  /** Methods the rule counts (default ['tools/call']); '*' for every request method. */
  readonly methods?: readonly string[];
  /** Only these tools / routed names (default: all). */
  readonly tools?: readonly string[];
  /** Most keys tracked at once (default 100000); beyond it the least recently used key is forgotten. */
  readonly maxKeys?: number;
}
