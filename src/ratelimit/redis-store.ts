// The Redis side of cluster mode (docs/ratelimit-cluster.md): one atomic Lua script per algorithm that
// *claims* up to `want` permits of one (rule, key) budget and reports what is left.
//
// Inputs: a Redis key (keyFor), the rule's LimitSpec, `want` (the most to take: the call's missing cost
// plus a lease) and `need` (the least that would admit the call). Output: ClaimResult. Every script reads
// the Redis server's clock (TIME), so processes on different machines with skewed clocks agree, and
// sets a PEXPIRE of at least the time until the key would be back to full, so idle keys vanish and a
// vanished key means "full budget".
//
// Scripts are loaded once per connection and run by EVALSHA; ioredis `defineCommand` falls back to
// EVAL on NOSCRIPT (after a restart or SCRIPT FLUSH) by itself.
import { createHash } from 'node:crypto';
import type { Algorithm, LimitSpec } from './types.js';

/** What a claim answered. All integers; times in ms on the Redis clock, relative to the claim. */
export interface ClaimResult {
  /** Permits taken from the shared budget: min(want, available), never more. */
  granted: number;
  /** Permits left in the shared budget after the claim (floor). */
  remaining: number;
  /** 0 when granted >= need; else ms until the other `need - granted` could be claimed; -1 when never. */
  retryAfterMs: number;
  /** ms until the budget is full again with no further claims (also the key's PEXPIRE). */
  resetMs: number;
}

/** The three stored shapes. `sliding-window-counter` rules are stored as the exact log (see storedAlgorithm). */
export type StoredAlgorithm = 'token-bucket' | 'sliding-window-log' | 'fixed-window';

/**
 * The script a rule's algorithm runs in Redis. The local `sliding-window-counter` approximates a sliding
 * log with two fixed windows to save memory per key; in Redis the log is cheap (leases make one entry
 * per *claim*, not per permit) and exact, and it never admits more than the counter would allow in
 * any window of `windowMs`, so cluster mode keeps the log for both.
 */
export function storedAlgorithm(algorithm: Algorithm): StoredAlgorithm {
  return algorithm === 'sliding-window-counter' ? 'sliding-window-log' : algorithm;
}

const SUFFIX: Record<StoredAlgorithm, string> = { 'token-bucket': 'tb', 'sliding-window-log': 'sw', 'fixed-window': 'fw' };

/** Names that go into key names unchanged: short, and nothing that could open or close a hash tag. */
const PLAIN = /^[A-Za-z0-9._@/=+-]{1,64}$/;

/**
 * One component of a key name: `s` itself when it is short and plain, else `~` and 22 base64url
 * characters of its SHA-256 (132 bits). Braces, colons, spaces and client ids of any length thus never
 * reach the key name, and the two forms cannot collide (`~` and `:` are not PLAIN).
 */
export function keyComponent(s: string): string {
  return PLAIN.test(s) ? s : `~${createHash('sha256').update(s).digest('base64url').slice(0, 22)}`;
}

/**
 * The Redis key of one (rule, key) budget: `<prefix>{<rule>:<key>}:<tb|sw|fw>`. The braces are a
 * Redis Cluster hash tag, so everything about one budget lives in one slot; the suffix keeps a rule
 * whose algorithm changed from meeting a value of the other type (WRONGTYPE).
 */
export function keyFor(prefix: string, ruleName: string, key: string, algorithm: Algorithm): string {
  return `${prefix}{${keyComponent(ruleName)}:${keyComponent(key)}}:${SUFFIX[storedAlgorithm(algorithm)]}`;
}

// Shared head of every script: ARGV = limit, windowMs, want, need; `now` in ms (with microseconds) from
// the server clock. redis.replicate_commands lets a script write after TIME on Redis 3.2-4.x (effects
// replication is the only mode from 5.0 on, where the call is a no-op). Numbers written back are
// formatted explicitly: Lua's default %.14g would cut a millisecond timestamp to 0.1 ms.
const HEAD = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local need = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
`;

/**
 * Token bucket. KEYS[1] is a hash {t = tokens (float), l = last refill (ms)}; a missing key is a full
 * bucket. The refill is the local limiter's formula: tokens = min(limit, tokens + (now - last) * limit / windowMs).
 * A server clock that went backwards refills nothing.
 */
export const TOKEN_BUCKET_LUA = `${HEAD}
local state = redis.call('HMGET', KEYS[1], 't', 'l')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = limit
  last = now
elseif now > last then
  tokens = math.min(limit, tokens + ((now - last) * limit) / window)
  last = now
end
local granted = math.max(0, math.min(want, math.floor(tokens + 1e-9)))
tokens = tokens - granted
local retry = 0
if granted < need then
  if need > limit then retry = -1 else retry = math.ceil((need - granted - tokens) * window / limit) end
end
local reset = math.ceil((limit - tokens) * window / limit)
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'l', string.format('%.3f', last))
redis.call('PEXPIRE', KEYS[1], math.max(1, reset))
return {granted, math.floor(tokens + 1e-9), retry, reset}
`;

/**
 * Sliding window log. KEYS[1] is a sorted set of claims: score = claim time (ms), member =
 * "<permits>:<time>:<seq>". An entry counts while score > now - windowMs. One entry per claim (not per
 * permit), so the set holds at most `limit` entries and usually about limit / leaseSize.
 */
export const SLIDING_LOG_LUA = `${HEAD}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.3f', now - window))
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local counts = {}
local scores = {}
local used = 0
for i = 1, #entries, 2 do
  local n = tonumber(string.match(entries[i], '^(%d+):'))
  counts[#counts + 1] = n
  scores[#scores + 1] = tonumber(entries[i + 1])
  used = used + n
end
local granted = math.max(0, math.min(want, limit - used))
if granted > 0 then
  local stamp = string.format('%.3f', now)
  redis.call('ZADD', KEYS[1], stamp, granted .. ':' .. stamp .. ':' .. #counts)
  counts[#counts + 1] = granted
  scores[#scores + 1] = now
  used = used + granted
end
local retry = 0
if granted < need then
  if need > limit then
    retry = -1
  else
    -- oldest first: wait until enough permits have slid out for the other need - granted
    local excess = used - (limit - (need - granted))
    local freed = 0
    for i = 1, #counts do
      freed = freed + counts[i]
      if freed >= excess then
        retry = math.max(1, math.ceil(scores[i] + window - now))
        break
      end
    end
  end
end
local reset = 0
if #scores > 0 then
  reset = math.max(1, math.ceil(scores[#scores] + window - now))
  redis.call('PEXPIRE', KEYS[1], reset)
end
return {granted, math.max(0, limit - used), retry, reset}
`;

/**
 * Fixed window. KEYS[1] is a hash {w = window index, n = permits taken in it}; windows are
 * [k * windowMs, (k + 1) * windowMs) on the server clock, so a windowMs of 86400000 is a UTC day.
 */
export const FIXED_WINDOW_LUA = `${HEAD}
local w = math.floor(now / window)
local state = redis.call('HMGET', KEYS[1], 'w', 'n')
local n = 0
if tonumber(state[1]) == w then n = tonumber(state[2]) or 0 end
local granted = math.max(0, math.min(want, limit - n))
n = n + granted
local reset = math.max(1, math.ceil((w + 1) * window - now))
local retry = 0
if granted < need then
  if need > limit then retry = -1 else retry = reset end
end
redis.call('HSET', KEYS[1], 'w', string.format('%d', w), 'n', n)
redis.call('PEXPIRE', KEYS[1], reset)
return {granted, math.max(0, limit - n), retry, reset}
`;

const COMMAND: Record<StoredAlgorithm, string> = {
  'token-bucket': 'fastermcpRlTokenBucket',
  'sliding-window-log': 'fastermcpRlSlidingLog',
  'fixed-window': 'fastermcpRlFixedWindow',
};

/** The part of an ioredis client (Redis or Cluster) the store uses. */
export interface ScriptClient {
  defineCommand(name: string, definition: { lua: string; numberOfKeys: number }): void;
}

type ScriptFn = (key: string, limit: number, windowMs: number, want: number, need: number) => Promise<unknown>;

/** Runs the claim scripts on one ioredis client. */
export class RedisStore {
  private readonly fns: Record<StoredAlgorithm, ScriptFn>;

  constructor(client: ScriptClient) {
    client.defineCommand(COMMAND['token-bucket'], { lua: TOKEN_BUCKET_LUA, numberOfKeys: 1 });
    client.defineCommand(COMMAND['sliding-window-log'], { lua: SLIDING_LOG_LUA, numberOfKeys: 1 });
    client.defineCommand(COMMAND['fixed-window'], { lua: FIXED_WINDOW_LUA, numberOfKeys: 1 });
    const fn = (a: StoredAlgorithm): ScriptFn => {
      const f = (client as unknown as Record<string, ScriptFn>)[COMMAND[a]];
      return f.bind(client);
    };
    this.fns = { 'token-bucket': fn('token-bucket'), 'sliding-window-log': fn('sliding-window-log'), 'fixed-window': fn('fixed-window') };
  }

  /** Claims min(want, available) permits of `spec`'s budget stored at `redisKey` (need <= want). */
  async claim(redisKey: string, spec: LimitSpec, want: number, need: number): Promise<ClaimResult> {
    const r = (await this.fns[storedAlgorithm(spec.algorithm)](redisKey, spec.limit, spec.windowMs, want, need)) as number[];
    return { granted: Number(r[0]), remaining: Number(r[1]), retryAfterMs: Number(r[2]), resetMs: Number(r[3]) };
  }
}
