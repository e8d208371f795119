// Cluster mode against a real redis-server (test/helpers/redis-server.ts): the claim scripts of
// src/ratelimit/redis-store.ts checked against expected numbers, key names and TTLs; then the leases of
// src/ratelimit/cluster.ts (fast path without Redis, composition, shared in-flight claims, LRU cap).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClusterLimiter, type ClusterDecision } from '../../src/ratelimit/cluster.js';
import { CALENDAR_LUA, ClusterQuota } from '../../src/ratelimit/cluster-quota.js';
import { RedisStore, keyComponent, keyFor } from '../../src/ratelimit/redis-store.js';
import type { LimitSpec, RuleSpec } from '../../src/ratelimit/types.js';
import { useRedisServer } from '../helpers/redis-server.js';

const server = useRedisServer();
let redis: Redis;
let store: RedisStore;

beforeAll(async () => {
  redis = new Redis(server().url, { maxRetriesPerRequest: 1 });
  store = new RedisStore(redis);
});
afterAll(() => redis?.disconnect());
beforeEach(async () => {
  await redis.flushall();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isPromise = (x: unknown): x is Promise<unknown> => typeof (x as { then?: unknown })?.then === 'function';

/** Calls of one command since the last CONFIG RESETSTAT (INFO commandstats). */
async function calls(command: string): Promise<number> {
  const info = await redis.info('commandstats');
  const m = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

describe('key names', () => {
  it('carry one hash tag per (rule, key), plain names kept and anything else hashed', () => {
    expect(keyFor('fmcp:rl:', 'per-client', 'alice@example.com', 'token-bucket')).toBe('fmcp:rl:{per-client:alice@example.com}:tb');
    expect(keyFor('p:', 'r', 'k', 'sliding-window-log')).toBe('p:{r:k}:sw');
    expect(keyFor('p:', 'r', 'k', 'sliding-window-counter')).toBe('p:{r:k}:sw');
    expect(keyFor('p:', 'r', 'k', 'fixed-window')).toBe('p:{r:k}:fw');
    for (const hostile of ['a}b{c', '{x}', 'a:b', 'x'.repeat(100_000), 'spaces and ünïcode', '~abc', '']) {
      const name = keyFor('fmcp:rl:', 'rule {1}', hostile, 'token-bucket');
      // Exactly one tag, opened once and closed once, and a bounded length.
      expect(name.split('{').length).toBe(2);
      expect(name.split('}').length).toBe(2);
      expect(name.indexOf('{')).toBeLessThan(name.indexOf('}'));
      expect(name.length).toBeLessThan(80);
      expect(keyComponent(hostile)).toMatch(/^~[A-Za-z0-9_-]{22}$/);
    }
    expect(keyComponent('a}b')).not.toBe(keyComponent('a{b'));
  });
});

describe('claim scripts', () => {
  const tb: LimitSpec = { algorithm: 'token-bucket', limit: 10, windowMs: 400 };

  it('token bucket: full at first, refills by min(limit, tokens + elapsed * limit / windowMs)', async () => {
    const key = keyFor('t:', 'tb', 'k', 'token-bucket');
    expect(await store.claim(key, tb, 4, 4)).toEqual({ granted: 4, remaining: 6, retryAfterMs: 0, resetMs: expect.any(Number) });
    const all = await store.claim(key, tb, 10, 10);
    expect(all.granted).toBeGreaterThanOrEqual(6); // 6 left plus what refilled meanwhile
    expect(all.granted).toBeLessThanOrEqual(10);
    expect(all.retryAfterMs).toBeGreaterThan(0); // fewer than `need` were there
    // TTL: the time to refill fully, never more than windowMs.
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(400);
    // The refill formula, checked against the state the script stored (no timing assumption).
    await sleep(150);
    for (let round = 0; round < 3; round++) {
      const before = await redis.hgetall(key);
      const r = await store.claim(key, tb, 10, 1);
      const after = await redis.hgetall(key);
      const elapsed = Number(after.l) - Number(before.l);
      const tokens = Math.min(10, Number(before.t) + (elapsed * 10) / 400);
      expect(elapsed).toBeGreaterThan(0);
      expect(r.granted).toBe(Math.min(10, Math.floor(tokens + 1e-9)));
      expect(Number(after.t)).toBeCloseTo(tokens - r.granted, 6);
      expect(r.remaining).toBe(Math.floor(Number(after.t) + 1e-9));
      expect(r.resetMs).toBe(Math.ceil(((10 - Number(after.t)) * 400) / 10));
      if (r.granted < 1) expect(r.retryAfterMs).toBe(Math.ceil(((1 - Number(after.t)) * 400) / 10));
      await sleep(60);
    }
  });

  it('token bucket: a cost above the limit is never admissible (-1)', async () => {
    const r = await store.claim(keyFor('t:', 'tb', 'big', 'token-bucket'), tb, 10, 11);
    expect(r.granted).toBe(10);
    expect(r.retryAfterMs).toBe(-1);
  });

  it('sliding window log: one entry per claim, permits slide out after windowMs', async () => {
    const spec: LimitSpec = { algorithm: 'sliding-window-log', limit: 5, windowMs: 300 };
    const key = keyFor('t:', 'sw', 'k', 'sliding-window-log');
    expect(await store.claim(key, spec, 3, 3)).toMatchObject({ granted: 3, remaining: 2, retryAfterMs: 0 });
    const second = await store.claim(key, spec, 4, 4);
    expect(second).toMatchObject({ granted: 2, remaining: 0 });
    // The other 2 permits come back when the first entry (3 permits) slides out: within windowMs.
    expect(second.retryAfterMs).toBeGreaterThan(0);
    expect(second.retryAfterMs).toBeLessThanOrEqual(300);
    expect(second.resetMs).toBeGreaterThanOrEqual(second.retryAfterMs);
    expect(second.resetMs).toBeLessThanOrEqual(300);
    const entries = await redis.zrange(key, 0, -1);
    expect(entries.map((m) => m.split(':')[0])).toEqual(['3', '2']);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    expect(await store.claim(key, spec, 1, 1)).toMatchObject({ granted: 0, remaining: 0 });
    expect(await redis.zcard(key)).toBe(2); // a zero grant adds no entry
    await sleep(320); // > windowMs: everything slid out
    expect(await store.claim(key, spec, 5, 5)).toMatchObject({ granted: 5, remaining: 0, retryAfterMs: 0 });
    expect(await redis.zcard(key)).toBe(1);
  });

  it('fixed window: windows aligned to multiples of windowMs on the Redis clock', async () => {
    const spec: LimitSpec = { algorithm: 'fixed-window', limit: 5, windowMs: 86_400_000 };
    const key = keyFor('t:', 'fw', 'k', 'fixed-window');
    const [s, us] = await redis.time();
    const msToMidnight = 86_400_000 - ((Number(s) * 1000 + Math.floor(Number(us) / 1000)) % 86_400_000);
    const r = await store.claim(key, spec, 3, 3);
    expect(r).toMatchObject({ granted: 3, remaining: 2, retryAfterMs: 0 });
    expect(r.resetMs).toBeLessThanOrEqual(msToMidnight + 1);
    expect(r.resetMs).toBeGreaterThan(msToMidnight - 60_000);
    const denied = await store.claim(key, spec, 4, 4);
    expect(denied).toMatchObject({ granted: 2, remaining: 0 });
    expect(denied.retryAfterMs).toBe(denied.resetMs);
    expect(await redis.pttl(key)).toBeGreaterThan(0);
  });

  it('runs by EVALSHA and survives SCRIPT FLUSH (NOSCRIPT falls back to EVAL)', async () => {
    const key = keyFor('t:', 'tb', 'flush', 'token-bucket');
    await store.claim(key, tb, 1, 1);
    await redis.config('RESETSTAT');
    await store.claim(key, tb, 1, 1);
    expect(await calls('evalsha')).toBe(1);
    expect(await calls('eval')).toBe(0);
    await redis.script('FLUSH');
    expect((await store.claim(key, tb, 1, 1)).granted).toBe(1);
  });
});

describe('ClusterLimiter leases', () => {
  const rules: RuleSpec[] = [
    { name: 'wide', scope: 'global', algorithm: 'sliding-window-log', limit: 100, windowMs: 60_000 },
    { name: 'narrow', scope: 'client', algorithm: 'sliding-window-log', limit: 2, windowMs: 60_000 },
    { name: 'bucket', scope: 'client', algorithm: 'token-bucket', limit: 20, windowMs: 60_000 },
  ];
  const limiters: ClusterLimiter[] = [];
  const make = async (extra: Partial<ConstructorParameters<typeof ClusterLimiter>[0]> = {}) => {
    const l = new ClusterLimiter({ redis: server().url, rules, leaseSize: (r) => (r.limit >= 20 ? 5 : 1), leaseTtlMs: 60_000, onRedisDown: 'closed', commandTimeoutMs: 1000, ...extra });
    limiters.push(l);
    await l.ready();
    return l;
  };
  afterAll(async () => {
    for (const l of limiters) await l.close();
  });

  it('admits from the lease synchronously, with no Redis command', async () => {
    const l = await make();
    const first = l.check([{ rule: 0, key: 'a', cost: 1 }], 0);
    expect(isPromise(first)).toBe(true); // empty lease: a claim of max(1, leaseSize 5)
    expect(await first).toMatchObject({ allowed: true, retryAfterMs: 0, rule: -1 });
    await redis.config('RESETSTAT');
    for (let i = 0; i < 4; i++) {
      const d = l.check([{ rule: 0, key: 'a', cost: 1 }], 1 + i);
      expect(isPromise(d)).toBe(false);
      expect((d as ClusterDecision).allowed).toBe(true);
    }
    expect((await calls('evalsha')) + (await calls('eval'))).toBe(0);
    expect(isPromise(l.check([{ rule: 0, key: 'a', cost: 1 }], 10))).toBe(true); // the lease is used up
  });

  it('a denied call consumes nothing; permits claimed for it stay leased', async () => {
    const l = await make();
    const call = [{ rule: 0, key: 'c', cost: 1 }, { rule: 1, key: 'c', cost: 1 }];
    expect(await l.check(call, 0)).toMatchObject({ allowed: true });
    expect(await l.check(call, 0)).toMatchObject({ allowed: true });
    const denied = await l.check(call, 0);
    expect(denied).toMatchObject({ allowed: false, rule: 1 });
    expect(denied.retryAfterMs).toBeGreaterThan(0);
    // Redis said when the permit can be back: until then the same call is denied without a claim.
    const again = l.check(call, 1);
    expect(isPromise(again)).toBe(false);
    expect(again).toMatchObject({ allowed: false, rule: 1, retryAfterMs: denied.retryAfterMs - 1 });
    const past = l.check(call, denied.retryAfterMs); // from then on: ask Redis again
    expect(isPromise(past)).toBe(true);
    expect(await past).toMatchObject({ allowed: false, rule: 1 });
    // 'wide' claimed 5 once; two calls took 2; the denied call took none: 3 sync admits remain.
    for (let i = 0; i < 3; i++) expect(l.check([{ rule: 0, key: 'c', cost: 1 }], 0)).toMatchObject({ allowed: true });
    expect(isPromise(l.check([{ rule: 0, key: 'c', cost: 1 }], 0))).toBe(true);

    // Exhaust 'narrow' for key d first: the call's 'wide' claim (5) succeeds, the call is denied, and
    // the 5 permits are there for the next calls.
    expect(await l.check([{ rule: 1, key: 'd', cost: 2 }], 0)).toMatchObject({ allowed: true });
    expect(await l.check([{ rule: 0, key: 'd', cost: 1 }, { rule: 1, key: 'd', cost: 1 }], 0)).toMatchObject({ allowed: false, rule: 1 });
    for (let i = 0; i < 5; i++) expect(l.check([{ rule: 0, key: 'd', cost: 1 }], 0)).toMatchObject({ allowed: true });
    expect(await redis.zcard(keyFor('fmcp:rl:', 'wide', 'd', 'sliding-window-log'))).toBe(1);
  });

  it('leased permits expire after leaseTtlMs (the caller clock)', async () => {
    const l = await make({ leaseTtlMs: 100 });
    expect(await l.check([{ rule: 2, key: 'e', cost: 1 }], 1000)).toMatchObject({ allowed: true });
    expect(isPromise(l.check([{ rule: 2, key: 'e', cost: 1 }], 1100))).toBe(false); // still valid at +ttl
    const later = l.check([{ rule: 2, key: 'e', cost: 1 }], 1101);
    expect(isPromise(later)).toBe(true); // expired: 3 unused permits dropped, a new claim
    expect(await later).toMatchObject({ allowed: true });
  });

  it('concurrent checks share one in-flight claim', async () => {
    const l = await make();
    const all = Array.from({ length: 5 }, () => l.check([{ rule: 0, key: 'f', cost: 1 }], 0));
    expect(all.every(isPromise)).toBe(true);
    const ds = await Promise.all(all);
    expect(ds.every((d) => d.allowed)).toBe(true);
    expect(await redis.zcard(keyFor('fmcp:rl:', 'wide', 'f', 'sliding-window-log'))).toBe(1); // one claim of 5
  });

  it('a burst of concurrent checks larger than the lease is refused only when Redis is short', async () => {
    const l = await make();
    // Leases of 5 on a bucket of 20: 30 calls at once, the first claim sized before the others joined.
    const ds = await Promise.all(Array.from({ length: 30 }, () => l.check([{ rule: 2, key: 'burst', cost: 1 }], 0)));
    expect(ds.filter((d) => d.allowed)).toHaveLength(20);
    for (const d of ds.filter((x) => !x.allowed)) {
      expect(d.rule).toBe(2);
      expect(d.retryAfterMs).toBeGreaterThan(1); // Redis's answer (about 3 s per token), not a contention retry
    }
  });

  it('a cost above the limit is denied at once, forever (-1)', async () => {
    const l = await make();
    expect(l.check([{ rule: 1, key: 'g', cost: 3 }], 0)).toEqual({ allowed: false, remaining: 0, retryAfterMs: -1, resetMs: 0, rule: 1 });
  });

  it('keeps at most maxLeases leases (least recently used dropped)', async () => {
    const l = await make({ maxLeases: 3 });
    for (const k of ['h1', 'h2', 'h3', 'h4', 'h5']) await l.check([{ rule: 0, key: k, cost: 1 }], 0);
    expect(l.leaseCount).toBe(3);
  });

  it('uses an ioredis instance it was given, and leaves it open on close()', async () => {
    const own = new Redis(server().url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    try {
      await new Promise((r) => own.once('ready', r));
      const l = new ClusterLimiter({ redis: own, rules, onRedisDown: 'closed' });
      expect(l.health().state).toBe('up');
      expect(await l.check([{ rule: 2, key: 'i', cost: 1 }], 0)).toMatchObject({ allowed: true });
      const listening = own.listenerCount('error');
      await l.close();
      expect(own.listenerCount('error')).toBe(listening - 1);
      expect(() => l.check([{ rule: 2, key: 'i', cost: 1 }], 0)).toThrow(/after close/);
      expect(await own.ping()).toBe('PONG');
    } finally {
      own.disconnect();
    }
  });

  it('rejects bad options up front', () => {
    expect(() => new ClusterLimiter({ redis: server().url, rules: [], onRedisDown: 'open' })).toThrow(/non-empty array of rules/);
    expect(() => new ClusterLimiter({ redis: server().url, rules: [rules[0], rules[0]], onRedisDown: 'open' })).toThrow(/unique rule names/);
    expect(() => new ClusterLimiter({ redis: server().url, rules, onRedisDown: 'maybe' as 'open' })).toThrow(/onRedisDown/);
    expect(() => new ClusterLimiter({ redis: server().url, rules, onRedisDown: 'open', leaseSize: 0 })).toThrow(/leaseSize/);
  });
});

describe('ClusterQuota (calendar periods on the Redis clock)', () => {
  const redisNow = async () => {
    const [sec, us] = await redis.time();
    return Number(sec) * 1000 + Math.floor(Number(us) / 1000);
  };

  it('the Lua calendar agrees with Date.UTC from 1900 to 2200', async () => {
    // Every 13th day plus every month's first and last day, checked in one EVAL.
    const sample: number[] = [];
    for (let z = Date.UTC(1900, 0, 1) / 864e5; z < Date.UTC(2200, 0, 1) / 864e5; z += 13) sample.push(z);
    for (let y = 1900; y < 2200; y++) for (let m = 0; m < 12; m++) sample.push(Date.UTC(y, m, 1) / 864e5, Date.UTC(y, m + 1, 0) / 864e5);
    const lua = `${CALENDAR_LUA}
local out = {}
for i = 1, #ARGV do
  local y, m, d = civil(tonumber(ARGV[i]))
  out[#out + 1] = y * 10000 + m * 100 + d
  out[#out + 1] = days(y, m, d)
end
return out`;
    const out = (await redis.eval(lua, 0, ...sample.map(String))) as number[];
    for (let i = 0; i < sample.length; i++) {
      const dt = new Date(sample[i] * 864e5);
      expect(out[2 * i]).toBe(dt.getUTCFullYear() * 10000 + (dt.getUTCMonth() + 1) * 100 + dt.getUTCDate());
      expect(out[2 * i + 1]).toBe(sample[i]);
    }
  });

  it('per day: all-or-nothing consumes, usage(), reset at UTC midnight, TTL set', async () => {
    const q = new ClusterQuota({ redis, name: 'daily', limit: 5, period: 'day' });
    const now = await redisNow();
    const dt = new Date(now);
    const period = dt.getUTCFullYear() * 10000 + (dt.getUTCMonth() + 1) * 100 + dt.getUTCDate();
    const toMidnight = Date.UTC(dt.getUTCFullYear(), dt.getUTCMonth(), dt.getUTCDate() + 1) - now;
    expect(await q.usage('alice')).toMatchObject({ period, used: 0, remaining: 5 });
    expect(await redis.exists(q.keyOf('alice'))).toBe(0); // reading creates nothing
    expect(await q.consume('alice', 3)).toMatchObject({ allowed: true, period, used: 3, remaining: 2 });
    expect(await q.consume('alice', 3)).toMatchObject({ allowed: false, used: 3, remaining: 2 });
    const last = await q.consume('alice', 2);
    expect(last).toMatchObject({ allowed: true, used: 5, remaining: 0 });
    expect(last.resetMs).toBeLessThanOrEqual(toMidnight + 1);
    expect(last.resetMs).toBeGreaterThan(toMidnight - 60_000);
    expect(await q.usage('alice')).toMatchObject({ used: 5, remaining: 0 });
    expect(await q.usage('bob')).toMatchObject({ used: 0 });
    const ttl = await redis.pttl(q.keyOf('alice'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(toMidnight + 1);
    expect(q.keyOf('a{b}')).toMatch(/^fmcp:quota:\{daily:~[A-Za-z0-9_-]{22}\}$/);
  });

  it('per month: the period is YYYYMM and resets on the first of the next month (UTC)', async () => {
    const q = new ClusterQuota({ redis, name: 'monthly', limit: 1000, period: 'month' });
    const now = await redisNow();
    const dt = new Date(now);
    const toNextMonth = Date.UTC(dt.getUTCFullYear(), dt.getUTCMonth() + 1, 1) - now;
    const r = await q.consume('alice', 10);
    expect(r).toMatchObject({ allowed: true, period: dt.getUTCFullYear() * 100 + dt.getUTCMonth() + 1, used: 10, remaining: 990 });
    expect(r.resetMs).toBeLessThanOrEqual(toNextMonth + 1);
    expect(r.resetMs).toBeGreaterThan(toNextMonth - 60_000);
  });
});
