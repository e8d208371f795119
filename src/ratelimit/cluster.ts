// Cluster mode (docs/ratelimit-cluster.md): the same budgets enforced across server processes through
// Redis, with a local fast path.
//
// One call's check, top to bottom:
//   check(items, nowMs) -> every item's lease covers its cost? -> debit the leases, return a Decision
//                                                                 (synchronous: no promise, no network)
//                       -> else, a recent claim said "not before T"? -> deny (synchronous)
//                       -> else, Redis known down?             -> policy: fallback ('open') or deny ('closed')
//                       -> else claim the missing permits      -> one script per short (rule, key), in parallel,
//                          (redis-store.ts)                       one shared in-flight claim per lease
//                       -> all covered now? admit : deny (nothing debited; claimed permits stay leased)
//
// A lease is a local stock of permits already taken from the Redis budget of one (rule, key). It is
// valid for leaseTtlMs after its last claim (on the caller's clock); then its unused permits are dropped,
// which can only under-admit. The over-admission bound is in docs/ratelimit-cluster.md.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Redis as RedisClient, RedisOptions } from 'ioredis';

// ioredis takes ~55 ms to load: only a server that uses cluster mode pays for it (a synchronous require,
// so the limiter is still built in one step).
const requireLazily = createRequire(import.meta.url);
const loadRedis = (): typeof RedisClient => (requireLazily('ioredis') as { Redis: typeof RedisClient }).Redis;
import { type ClaimResult, RedisStore, type ScriptClient, keyFor } from './redis-store.js';
import type { Decision, RuleSpec } from './types.js';

/** One (rule, key) pair that applies to a call, resolved by the server. */
export interface ClusterItem {
  /** Index into the limiter's `rules`. */
  readonly rule: number;
  readonly key: string;
  /** Permits the call takes from this budget (an integer >= 0). */
  readonly cost: number;
}

export type RedisDownPolicy = 'open' | 'closed';

export interface ClusterDecision extends Decision {
  /** The rule that denied the call (index into `rules`); -1 when allowed or when no rule decided. */
  rule: number;
  /** Set when Redis could not be asked: the call was decided by `fallback` ('open') or denied ('closed'). */
  reason?: 'redis_unavailable';
}

export interface ClusterHealth {
  state: 'up' | 'down';
  /** Date.now() when the state last changed (or when the limiter was built). */
  since: number;
  lastError?: string;
}

/** The part of an ioredis client (Redis or Cluster) the limiter uses. */
export type ClusterRedisClient = ScriptClient &
  Pick<EventEmitter, 'on' | 'off'> & { readonly status: string; disconnect(): void };

export interface ClusterLimiterOptions {
  /**
   * A redis:// or rediss:// URL (the limiter then owns the connection and configures it to fail fast),
   * or an ioredis Redis/Cluster instance (yours to configure and close; give it enableOfflineQueue: false
   * and maxRetriesPerRequest: 0 or 1 so that a down server answers at once rather than at the timeout).
   */
  readonly redis: string | ClusterRedisClient;
  /** The rules; an item's `rule` is an index into this array. Rule names must be unique. */
  readonly rules: readonly RuleSpec[];
  /** Permits claimed beyond a call's need, per claim (default max(1, floor(limit * 0.05)), at most limit). */
  readonly leaseSize?: number | ((rule: RuleSpec) => number);
  /** How long claimed permits stay usable locally (default min(windowMs, 1000) of the shortest rule). */
  readonly leaseTtlMs?: number;
  /** What happens to a call that needs Redis while Redis is unavailable. */
  readonly onRedisDown: RedisDownPolicy;
  /** The local limiter that decides calls when Redis is down and onRedisDown is 'open' (else: all admitted). */
  readonly fallback?: (items: readonly ClusterItem[], nowMs: number) => Decision & { rule?: number };
  /** A claim that takes longer fails as "unavailable" (default 50). */
  readonly commandTimeoutMs?: number;
  /** Key name prefix (default 'fmcp:rl:'). */
  readonly prefix?: string;
  /** Most leases kept at once (default 100000); beyond it the least recently used is dropped. */
  readonly maxLeases?: number;
  /** Extra ioredis options when `redis` is a URL (TLS, credentials); the fail-fast settings win. */
  readonly redisOptions?: RedisOptions;
}

interface Lease {
  readonly id: string;
  readonly rule: number;
  readonly redisKey: string;
  /** Permits held locally; valid while nowMs < expiresAt. */
  permits: number;
  expiresAt: number;
  /** The Redis budget left at the last claim, and when it would be full again (caller's clock). */
  remote: number;
  resetAt: number;
  /** The claim under way, shared by every check that needs one (never rejects). */
  inflight: Promise<ClaimResult | Error> | undefined;
  /**
   * The last claim fell `blockedShort` permits short, and Redis said they cannot be there before
   * blockedUntil (caller's clock): until then a call lacking at least as many is denied without asking.
   */
  blockedUntil: number;
  blockedShort: number;
  /** What the checks now waiting on this lease need in all: a claim asks for at least that. */
  demand: number;
}

const DEFAULT_PREFIX = 'fmcp:rl:';
/** Claim rounds per call at most (see slow()): past them a call drained every time is refused (retry 1 ms). */
const MAX_ROUNDS = 4;
const DEFAULT_MAX_LEASES = 100_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 50;
/** Reconnect backoff: 50 ms doubling to 2 s. */
const reconnectDelay = (times: number): number => Math.min(50 * 2 ** Math.min(Math.max(times - 1, 0), 6), 2000);

function fail(message: string): never {
  throw new TypeError(message);
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export class ClusterLimiter extends EventEmitter {
  readonly rules: readonly RuleSpec[];
  readonly leaseTtlMs: number;
  readonly onRedisDown: RedisDownPolicy;
  private readonly leaseSizes: number[];
  private readonly fallback: ClusterLimiterOptions['fallback'];
  private readonly commandTimeoutMs: number;
  private readonly prefix: string;
  private readonly maxLeases: number;
  private readonly client: ClusterRedisClient;
  private readonly ownsClient: boolean;
  private readonly store: RedisStore;
  private readonly leases = new Map<string, Lease>();
  private readonly clientListeners: [string, (...args: any[]) => void][] = [];
  private state: ClusterHealth;
  private backoffMs = reconnectDelay(1);
  private closed = false;

  constructor(options: ClusterLimiterOptions) {
    super();
    const { rules } = options;
    if (!Array.isArray(rules) || rules.length === 0) fail('Expected a non-empty array of rules for ClusterLimiter.');
    const names = new Set<string>();
    for (const r of rules) {
      if (!Number.isInteger(r.limit) || r.limit < 1) fail(`Expected an integer limit >= 1 for rule ${r.name} but received ${r.limit}.`);
      if (!(r.windowMs > 0) || !Number.isFinite(r.windowMs)) fail(`Expected windowMs > 0 for rule ${r.name} but received ${r.windowMs}.`);
      if (names.has(r.name)) fail(`Expected unique rule names but ${r.name} appears twice.`);
      names.add(r.name);
    }
    if (options.onRedisDown !== 'open' && options.onRedisDown !== 'closed') {
      fail(`Expected onRedisDown 'open' or 'closed' but received ${String(options.onRedisDown)}.`);
    }
    this.rules = rules;
    this.leaseSizes = rules.map((r) => {
      const ls = options.leaseSize;
      const n = typeof ls === 'function' ? ls(r) : ls ?? Math.max(1, Math.floor(r.limit * 0.05));
      if (!Number.isInteger(n) || n < 1) fail(`Expected an integer leaseSize >= 1 for rule ${r.name} but received ${n}.`);
      return Math.min(n, r.limit);
    });
    this.leaseTtlMs = options.leaseTtlMs ?? Math.min(1000, ...rules.map((r) => r.windowMs));
    if (!(this.leaseTtlMs >= 0) || !Number.isFinite(this.leaseTtlMs)) fail(`Expected leaseTtlMs >= 0 but received ${this.leaseTtlMs}.`);
    this.onRedisDown = options.onRedisDown;
    this.fallback = options.fallback;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    if (!(this.commandTimeoutMs > 0)) fail(`Expected commandTimeoutMs > 0 but received ${this.commandTimeoutMs}.`);
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.maxLeases = options.maxLeases ?? DEFAULT_MAX_LEASES;
    if (!Number.isInteger(this.maxLeases) || this.maxLeases < 1) fail(`Expected an integer maxLeases >= 1 but received ${this.maxLeases}.`);

    if (typeof options.redis === 'string') {
      // Fail fast: no offline queue (a command while disconnected rejects at once), no retry of a command
      // whose connection dropped, a per-command timeout; reconnecting goes on in the background.
      this.client = new (loadRedis())(options.redis, {
        ...options.redisOptions,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: this.commandTimeoutMs,
        connectTimeout: Math.max(1000, this.commandTimeoutMs),
        retryStrategy: reconnectDelay,
      }) as unknown as ClusterRedisClient;
      this.ownsClient = true;
    } else if (options.redis && typeof options.redis.defineCommand === 'function') {
      this.client = options.redis;
      this.ownsClient = false;
    } else {
      fail('Expected a redis:// URL or an ioredis instance for ClusterLimiter redis.');
    }
    this.store = new RedisStore(this.client);
    const ready = this.client.status === 'ready';
    this.state = ready ? { state: 'up', since: Date.now() } : { state: 'down', since: Date.now(), lastError: 'not connected yet' };
    this.listen('ready', () => this.markUp());
    this.listen('error', (err: unknown) => this.markDown(errorText(err)));
    this.listen('close', () => this.markDown('connection closed'));
    this.listen('reconnecting', (delay: unknown) => {
      if (typeof delay === 'number' && delay > 0) this.backoffMs = delay;
    });
  }

  /** Resolves when the connection is ready; rejects after timeoutMs (default 5000). */
  ready(timeoutMs = 5000): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        reject(new Error(`Redis was not ready within ${timeoutMs} ms (${this.state.lastError ?? 'no error'}).`));
      }, timeoutMs);
      this.client.on('ready', onReady);
    });
  }

  health(): ClusterHealth {
    return { ...this.state };
  }

  /** Number of leases held (for tests and metrics). */
  get leaseCount(): number {
    return this.leases.size;
  }

  /**
   * Decides one call. Synchronous (a ClusterDecision, no promise) when every item's lease covers its
   * cost, or when Redis is known to be down; otherwise a promise that settles within about
   * commandTimeoutMs (twice that at most, when a concurrent call drained a fresh claim) and never rejects
   * on Redis errors. A denied call debits nothing.
   */
  check(items: readonly ClusterItem[], nowMs: number): ClusterDecision | Promise<ClusterDecision> {
    if (this.closed) throw new Error('ClusterLimiter.check() was called after close().');
    const n = items.length;
    const leases: Lease[] = new Array(n);
    let short = false;
    for (let i = 0; i < n; i++) {
      const item = items[i];
      const rule = this.rules[item.rule];
      if (rule === undefined) throw new RangeError(`Expected a rule index below ${this.rules.length} but received ${item.rule}.`);
      if (!(item.cost >= 0) || !Number.isInteger(item.cost)) throw new RangeError(`Expected an integer cost >= 0 but received ${item.cost}.`);
      if (item.cost > rule.limit) return { allowed: false, remaining: 0, retryAfterMs: -1, resetMs: 0, rule: item.rule };
      const lease = this.lease(item, nowMs);
      leases[i] = lease;
      if (lease.expiresAt < nowMs) lease.permits = 0;
      const need = needOf(items, leases, i);
      if (lease.permits >= need) continue;
      short = true;
      // Redis already said these permits cannot be there yet: deny now (nothing debited).
      if (nowMs < lease.blockedUntil && need - lease.permits >= lease.blockedShort) {
        return { allowed: false, remaining: 0, retryAfterMs: Math.ceil(lease.blockedUntil - nowMs), resetMs: Math.max(0, Math.ceil(lease.resetAt - nowMs)), rule: item.rule };
      }
    }
    // Fast path: everything is covered locally.
    if (!short) return this.admit(items, leases, nowMs);
    // Redis is down and the connection is not back: decide now, without a command.
    if (this.state.state === 'down' && this.client.status !== 'ready') return this.unavailable(items, nowMs);
    return this.slow(items, leases, nowMs);
  }

  /** Stops using Redis: drops the leases and the listeners; disconnects a client built from a URL. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [event, fn] of this.clientListeners) this.client.off(event, fn);
    this.clientListeners.length = 0;
    this.leases.clear();
    if (this.ownsClient) this.client.disconnect();
    this.removeAllListeners();
  }

  // ---- internals ----

  private listen(event: string, fn: (...args: any[]) => void): void {
    this.client.on(event, fn);
    this.clientListeners.push([event, fn]);
  }

  private markUp(): void {
    if (this.state.state === 'up') return;
    this.state = { state: 'up', since: Date.now() };
    this.emit('health', this.health());
  }

  private markDown(error: string): void {
    if (this.state.state === 'down') {
      this.state.lastError = error;
      return;
    }
    this.state = { state: 'down', since: Date.now(), lastError: error };
    this.emit('health', this.health());
  }

  /** The lease of (rule, key), created empty if new; marks it most recently used. */
  private lease(item: ClusterItem, nowMs: number): Lease {
    const id = `${item.rule}\u0000${item.key}`;
    let lease = this.leases.get(id);
    if (lease !== undefined) {
      this.leases.delete(id);
      this.leases.set(id, lease);
      return lease;
    }
    const rule = this.rules[item.rule];
    lease = { id, rule: item.rule, redisKey: keyFor(this.prefix, rule.name, item.key, rule.algorithm), permits: 0, expiresAt: nowMs, remote: rule.limit, resetAt: nowMs, inflight: undefined, blockedUntil: -Infinity, blockedShort: 0, demand: 0 };
    this.leases.set(id, lease);
    // Past the cap, drop the least recently used (its unused permits are lost: under-admission only).
    if (this.leases.size > this.maxLeases) this.leases.delete(this.leases.keys().next().value!);
    return lease;
  }

  /** Debits every item from its lease (the caller checked that they cover). */
  private admit(items: readonly ClusterItem[], leases: Lease[], nowMs: number): ClusterDecision {
    let remaining = Infinity;
    let resetMs = 0;
    for (let i = 0; i < items.length; i++) leases[i].permits -= items[i].cost;
    for (const lease of leases) {
      remaining = Math.min(remaining, lease.permits + lease.remote);
      resetMs = Math.max(resetMs, lease.resetAt - nowMs);
    }
    return { allowed: true, remaining: remaining === Infinity ? 0 : remaining, retryAfterMs: 0, resetMs: Math.ceil(resetMs), rule: -1 };
  }

  /** The policy decision for a call that needs Redis while it is unavailable. */
  private unavailable(items: readonly ClusterItem[], nowMs: number): ClusterDecision {
    if (this.onRedisDown === 'closed') {
      return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, this.backoffMs), resetMs: 0, rule: -1, reason: 'redis_unavailable' };
    }
    if (this.fallback === undefined) return { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 0, rule: -1, reason: 'redis_unavailable' };
    const d = this.fallback(items, nowMs);
    return { allowed: d.allowed, remaining: d.remaining, retryAfterMs: d.retryAfterMs, resetMs: d.resetMs, rule: d.allowed ? -1 : d.rule ?? -1, reason: 'redis_unavailable' };
  }

  private async slow(items: readonly ClusterItem[], leases: Lease[], nowMs: number): Promise<ClusterDecision> {
    const n = items.length;
    // A round again only when a claim that Redis fully granted was drained by concurrent calls (or was a
    // shared claim sized before this call joined). Every waiting check adds its need to the lease's
    // demand, so the next claim covers all of them: a burst of concurrent calls settles in two or three
    // rounds, and a call is refused only when Redis itself is short.
    const waits: [Lease, number][] = [];
    for (let i = 0; i < n; i++) {
      const need = needOf(items, leases, i);
      if (waits.some(([l]) => l === leases[i])) continue;
      leases[i].demand += need;
      waits.push([leases[i], need]);
    }
    try {
      return await this.rounds(items, leases, nowMs);
    } finally {
      for (const [lease, need] of waits) lease.demand -= need;
    }
  }

  private async rounds(items: readonly ClusterItem[], leases: Lease[], nowMs: number): Promise<ClusterDecision> {
    const n = items.length;
    const outcomes = new Map<Lease, ClaimResult | Error>();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      outcomes.clear();
      const pending: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const lease = leases[i];
        if (outcomes.has(lease)) continue;
        if (lease.expiresAt < nowMs) lease.permits = 0;
        const need = needOf(items, leases, i);
        if (lease.permits >= need) continue;
        outcomes.set(lease, new Error('pending'));
        pending.push(this.claim(lease, need - lease.permits, nowMs).then((r) => void outcomes.set(lease, r)));
      }
      await Promise.all(pending);
      if (this.closed) return this.unavailable(items, nowMs); // close() ran meanwhile: the leases are gone
      for (const r of outcomes.values()) if (r instanceof Error) return this.unavailable(items, nowMs);
      // Decide on what the leases hold now (synchronously, so no other check interleaves).
      let denied = -1;
      let retryAfterMs = 0;
      let drained = false;
      for (let i = 0; i < n; i++) {
        const lease = leases[i];
        if (lease.expiresAt < nowMs) lease.permits = 0;
        if (lease.permits >= needOf(items, leases, i)) continue;
        const r = outcomes.get(lease) as ClaimResult | undefined;
        if (r === undefined || r.retryAfterMs === 0) {
          drained = true;
          retryAfterMs = Math.max(retryAfterMs, 1);
        } else if (r.retryAfterMs < 0) {
          retryAfterMs = -1;
        } else if (retryAfterMs >= 0) {
          retryAfterMs = Math.max(retryAfterMs, r.retryAfterMs);
        }
        if (denied < 0) denied = items[i].rule;
      }
      if (denied < 0) return this.admit(items, leases, nowMs);
      if (drained && round < MAX_ROUNDS - 1) continue;
      let remaining = Infinity;
      let resetMs = 0;
      for (const lease of leases) {
        remaining = Math.min(remaining, lease.permits + lease.remote);
        resetMs = Math.max(resetMs, lease.resetAt - nowMs);
      }
      return { allowed: false, remaining: remaining === Infinity ? 0 : remaining, retryAfterMs, resetMs: Math.ceil(resetMs), rule: denied };
    }
    /* c8 ignore next */
    throw new Error('unreachable');
  }

  /**
   * Claims permits for one lease: `missing` is what the calling check lacks; the claim asks for
   * max(missing, leaseSize) (at most the limit). Concurrent callers share the claim under way.
   */
  private claim(lease: Lease, missing: number, nowMs: number): Promise<ClaimResult | Error> {
    if (lease.inflight !== undefined) return lease.inflight;
    const rule = this.rules[lease.rule];
    const want = Math.min(rule.limit, Math.max(missing, lease.demand - lease.permits, this.leaseSizes[lease.rule]));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis claim timed out after ${this.commandTimeoutMs} ms`)), this.commandTimeoutMs);
    });
    const p = Promise.race([this.store.claim(lease.redisKey, rule, want, Math.min(missing, rule.limit)), timeout]).then(
      (r) => {
        clearTimeout(timer);
        lease.inflight = undefined;
        this.markUp();
        if (lease.expiresAt < nowMs) lease.permits = 0;
        lease.permits += r.granted;
        lease.expiresAt = nowMs + this.leaseTtlMs;
        lease.remote = r.remaining;
        lease.resetAt = nowMs + r.resetMs;
        if (r.retryAfterMs > 0) {
          lease.blockedUntil = nowMs + r.retryAfterMs;
          lease.blockedShort = Math.min(missing, rule.limit) - r.granted;
        }
        return r;
      },
      (err: unknown) => {
        // A claim that timed out may still run in Redis later; its permits are then never used
        // (under-admission only).
        clearTimeout(timer);
        lease.inflight = undefined;
        this.markDown(errorText(err));
        return err instanceof Error ? err : new Error(String(err));
      },
    );
    lease.inflight = p;
    return p;
  }
}

/** What item i's lease must hold for this call: the costs of every item of the call on that lease. */
function needOf(items: readonly ClusterItem[], leases: Lease[], i: number): number {
  let need = items[i].cost;
  for (let j = 0; j < items.length; j++) if (j !== i && leases[j] === leases[i]) need += items[j].cost;
  return need;
}
