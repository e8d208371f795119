// Long-horizon quotas in Redis (docs/ratelimit-cluster.md, "Quotas"): a per-principal budget per UTC
// calendar day or month, shared by every server process. One hash per (quota, key) holds the current
// period and what was used in it; the period comes from the Redis server's clock, so processes agree on
// when a month ends. A consume is all or nothing (a call fits in what is left or is refused), and
// `usage(key)` reads without changing anything, for operators.
import { keyComponent, type ScriptClient } from './redis-store.js';

export type QuotaPeriod = 'day' | 'month';

export interface QuotaUsage {
  /** The period: YYYYMMDD for days, YYYYMM for months (UTC). */
  period: number;
  used: number;
  remaining: number;
  /** ms until the period ends (and the quota is full again). */
  resetMs: number;
}

export interface QuotaResult extends QuotaUsage {
  allowed: boolean;
}

export interface ClusterQuotaOptions {
  /** An ioredis Redis or Cluster instance (the quota does not own it). */
  readonly redis: ScriptClient;
  /** Unique per quota; part of key names. */
  readonly name: string;
  /** Permits per period, an integer >= 1. */
  readonly limit: number;
  readonly period: QuotaPeriod;
  /** Key name prefix (default 'fmcp:quota:'). */
  readonly prefix?: string;
}

/**
 * UTC calendar arithmetic in Lua: civil(z) gives y, m, d of day number z (days since 1970-01-01) and
 * days(y, m, d) the day number of a date, in the proleptic Gregorian calendar (eras of 400 years, months
 * counted from March so that leap days come last), with floored integer arithmetic.
 */
export const CALENDAR_LUA = `
local function civil(z)
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end
local function days(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + math.floor((153 * mp + 2) / 5) + d - 1
  return era * 146097 + doe - 719468
end
`;

// KEYS[1]: hash {p = period id, n = used}. ARGV: limit, cost, 'day' | 'month'. cost 0 reads only.
export const QUOTA_LUA = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local limit = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local DAY = 86400000
${CALENDAR_LUA}local today = math.floor(now / DAY)
local y, m, d = civil(today)
local id, finish
if ARGV[3] == 'day' then
  id = y * 10000 + m * 100 + d
  finish = (today + 1) * DAY
else
  id = y * 100 + m
  if m == 12 then finish = days(y + 1, 1, 1) * DAY else finish = days(y, m + 1, 1) * DAY end
end
local state = redis.call('HMGET', KEYS[1], 'p', 'n')
local used = 0
if tonumber(state[1]) == id then used = tonumber(state[2]) or 0 end
local allowed = 0
if cost > 0 and used + cost <= limit then
  allowed = 1
  used = used + cost
  redis.call('HSET', KEYS[1], 'p', id, 'n', used)
  redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(finish - now)))
end
return {allowed, id, used, math.max(0, limit - used), math.max(1, math.ceil(finish - now))}
`;

const COMMAND = 'fastermcpQuota';

type QuotaFn = (key: string, limit: number, cost: number, period: QuotaPeriod) => Promise<number[]>;

export class ClusterQuota {
  readonly name: string;
  readonly limit: number;
  readonly period: QuotaPeriod;
  private readonly prefix: string;
  private readonly fn: QuotaFn;

  constructor(options: ClusterQuotaOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new TypeError(`Expected an integer quota limit >= 1 but received ${options.limit}.`);
    }
    if (options.period !== 'day' && options.period !== 'month') {
      throw new TypeError(`Expected a quota period 'day' or 'month' but received ${String(options.period)}.`);
    }
    this.name = options.name;
    this.limit = options.limit;
    this.period = options.period;
    this.prefix = options.prefix ?? 'fmcp:quota:';
    options.redis.defineCommand(COMMAND, { lua: QUOTA_LUA, numberOfKeys: 1 });
    this.fn = (options.redis as unknown as Record<string, QuotaFn>)[COMMAND].bind(options.redis);
  }

  /** The Redis key of `key`'s quota: `<prefix>{<name>:<key>}` (a Redis Cluster hash tag). */
  keyOf(key: string): string {
    return `${this.prefix}{${keyComponent(this.name)}:${keyComponent(key)}}`;
  }

  /** Takes `cost` permits from this period's quota if they all fit; else takes nothing. */
  async consume(key: string, cost = 1): Promise<QuotaResult> {
    if (!Number.isInteger(cost) || cost < 1) throw new RangeError(`Expected an integer cost >= 1 but received ${cost}.`);
    const r = await this.fn(this.keyOf(key), this.limit, cost, this.period);
    return { allowed: Number(r[0]) === 1, period: Number(r[1]), used: Number(r[2]), remaining: Number(r[3]), resetMs: Number(r[4]) };
  }

  /** What `key` used in the current period (reads only). */
  async usage(key: string): Promise<QuotaUsage> {
    const r = await this.fn(this.keyOf(key), this.limit, 0, this.period);
    return { period: Number(r[1]), used: Number(r[2]), remaining: Number(r[3]), resetMs: Number(r[4]) };
  }
}
