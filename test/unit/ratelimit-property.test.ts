// Property tests of the rate limiter (docs/ratelimit.md). Seeded random arrival sequences (random costs,
// gaps of zero, small, large and negative, several keys, peeks, small tables that evict) are checked step by
// step against reference models written here in the most direct way:
//   token bucket   tokens recomputed from the spec at each call (refill = elapsed / windowMs * limit)
//   fixed window   every admitted call kept with the window it counted in; a window's use is their sum
//   counter        every admitted call kept by window; estimate = previous window * weight + current
//   sliding log    every admitted (time, cost) kept; use = the sum of those newer than now - windowMs
// and retryAfterMs is found by brute force: the least integer r >= 1 at which the same call is admitted.
// The specs use windowMs = limit * 2^k (bucket) or 2^k (counter) and integer times, so that every double
// operation is exact and the models cannot differ from the implementations by rounding. Then: native and the
// twin give identical decisions on long sequences with arbitrary (inexact) numbers, the retry-after
// properties hold there too, and rule sets agree and consume nothing when they deny.
import { describe, expect, it } from 'vitest';
import { ALGORITHMS, createRateLimiter, createRuleSet, type Algorithm, type LimitSpec, type RateLimiter, type RuleInit, type Scope } from '../../src/ratelimit/index.js';

const IMPLS = ['native', 'js'] as const;

/** xorshift32 with a splitmix-style seed scramble: deterministic, no dependency. */
function rng(seed: number): () => number {
  let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0) || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}
const int = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

interface Model {
  /** Would a call of `cost` at `now` for `key` be admitted (no change)? */
  admits(key: string, cost: number, now: number): boolean;
  /** [remaining, resetMs] after admitting (admitted) or as things stand (denied). */
  numbers(key: string, cost: number, now: number, admitted: boolean): [number, number];
  /** Records an admitted call. */
  commit(key: string, cost: number, now: number): void;
  forget(key: string): void;
}

function bucketModel(limit: number, windowMs: number): Model {
  const st = new Map<string, { tokens: number; last: number }>();
  const at = (key: string, now: number) => {
    const s = st.get(key);
    if (s === undefined) return { tokens: limit, from: now };
    const elapsed = Math.max(0, now - s.last);
    return { tokens: Math.min(limit, s.tokens + elapsed / (windowMs / limit)), from: Math.max(now, s.last) };
  };
  return {
    admits: (key, cost, now) => at(key, now).tokens >= cost,
    numbers(key, cost, now, admitted) {
      const { tokens, from } = at(key, now);
      const left = admitted ? tokens - cost : tokens;
      return [Math.floor(left), Math.ceil(from - now + (limit - left) * (windowMs / limit))];
    },
    commit(key, cost, now) {
      const { tokens, from } = at(key, now);
      st.set(key, { tokens: tokens - cost, last: from });
    },
    forget: (key) => st.delete(key),
  };
}

/** Fixed window and sliding-window counter: admitted calls by the window they counted in. A call counts in the
 * window of its time, or in the key's latest window when the clock has gone back before it. */
function windowModel(limit: number, windowMs: number, sliding: boolean): Model {
  const st = new Map<string, { latest: number; counts: Map<number, number> }>();
  const view = (key: string, now: number) => {
    const s = st.get(key);
    const aligned = Math.floor(now / windowMs) * windowMs;
    const start = s === undefined ? aligned : Math.max(aligned, s.latest);
    const curr = s?.counts.get(start) ?? 0;
    const prev = sliding ? (s?.counts.get(start - windowMs) ?? 0) : 0;
    const weight = (windowMs - (now - start)) / windowMs;
    return { start, curr, prev, weight };
  };
  return {
    admits(key, cost, now) {
      const v = view(key, now);
      return v.prev * v.weight + v.curr + cost <= limit;
    },
    numbers(key, cost, now, admitted) {
      const v = view(key, now);
      const curr = admitted ? v.curr + cost : v.curr;
      if (!sliding) return [limit - curr, curr === 0 ? 0 : Math.ceil(v.start + windowMs - now)];
      const reset = curr > 0 ? Math.ceil(v.start + 2 * windowMs - now) : v.prev > 0 ? Math.ceil(v.start + windowMs - now) : 0;
      return [Math.max(0, Math.floor(limit - (v.prev * v.weight + curr))), reset];
    },
    commit(key, cost, now) {
      const v = view(key, now);
      const s = st.get(key) ?? { latest: v.start, counts: new Map<number, number>() };
      s.latest = v.start;
      s.counts.set(v.start, (s.counts.get(v.start) ?? 0) + cost);
      st.set(key, s);
    },
    forget: (key) => st.delete(key),
  };
}

/** Sliding log: every admitted call; a call made while the clock is behind the newest entry is logged at the
 * newest entry's time (the log stays in order); an admitted call forgets the entries expired at its time. */
function logModel(limit: number, windowMs: number): Model {
  const st = new Map<string, { t: number; cost: number }[]>();
  const live = (key: string, now: number) => (st.get(key) ?? []).filter((e) => e.t > now - windowMs);
  return {
    admits: (key, cost, now) => live(key, now).reduce((a, e) => a + e.cost, 0) + cost <= limit,
    numbers(key, cost, now, admitted) {
      const entries = live(key, now);
      let used = entries.reduce((a, e) => a + e.cost, 0);
      let newest = entries.length > 0 ? entries[entries.length - 1]!.t : null;
      if (admitted) {
        used += cost;
        newest = newest === null ? now : Math.max(newest, now);
      }
      return [limit - used, newest === null ? 0 : Math.ceil(newest + windowMs - now)];
    },
    commit(key, cost, now) {
      // Entries already expired at an admitted call are forgotten (they do not return if the clock goes back).
      const all = live(key, now);
      const newest = all.length > 0 ? all[all.length - 1]!.t : now;
      all.push({ t: Math.max(now, newest), cost });
      st.set(key, all);
    },
    forget: (key) => st.delete(key),
  };
}

function modelFor(spec: LimitSpec): Model {
  switch (spec.algorithm) {
    case 'token-bucket':
      return bucketModel(spec.limit, spec.windowMs);
    case 'fixed-window':
      return windowModel(spec.limit, spec.windowMs, false);
    case 'sliding-window-counter':
      return windowModel(spec.limit, spec.windowMs, true);
    default:
      return logModel(spec.limit, spec.windowMs);
  }
}

/** An exact spec for `algorithm`: every double operation on integer times stays exact. */
function exactSpec(r: () => number, algorithm: Algorithm): LimitSpec {
  const limit = int(r, 1, 8);
  const k = int(r, 4, 10);
  const windowMs = algorithm === 'token-bucket' ? limit * 2 ** k : 2 ** k;
  return { algorithm, limit, windowMs };
}

/** The next gap: zero, small, large, or (sometimes) backwards. */
function gap(r: () => number, windowMs: number, backwards: boolean): number {
  const p = r();
  if (p < 0.25) return 0;
  if (p < 0.7) return int(r, 1, Math.max(1, Math.floor(windowMs / 4)));
  if (p < 0.9 || !backwards) return int(r, 1, 3 * windowMs);
  return -int(r, 1, Math.max(1, Math.floor(windowMs / 2)));
}

function bruteRetry(model: Model, key: string, cost: number, now: number, bound: number): number {
  for (let r = 1; r <= bound; r++) if (model.admits(key, cost, now + r)) return r;
  return Infinity;
}

describe('ratelimit properties against reference models', () => {
  for (const impl of IMPLS) {
    for (const algorithm of ALGORITHMS) {
      it(`${algorithm} (${impl}): 60 random sequences, step by step`, () => {
        let denials = 0;
        let admitted = 0;
        let evictions = 0;
        for (let seed = 1; seed <= 60; seed++) {
          const r = rng(seed * 7919 + ALGORITHMS.indexOf(algorithm));
          const spec = exactSpec(r, algorithm);
          const keyCount = int(r, 1, 4);
          const maxKeys = r() < 0.3 ? int(r, 1, keyCount) : 100;
          const backwards = r() < 0.5;
          const l = createRateLimiter({ ...spec, maxKeys }, { implementation: impl });
          const model = modelFor(spec);
          const lru: string[] = []; // least recently admitted first
          let now = int(r, 0, 5000);
          for (let step = 0; step < 250; step++) {
            now = Math.max(0, now + gap(r, spec.windowMs, backwards));
            const key = `k${int(r, 0, keyCount - 1)}`;
            const cost = r() < 0.08 ? spec.limit + int(r, 1, 3) : int(r, 1, spec.limit);
            const peek = r() < 0.1;
            const want = cost <= spec.limit && model.admits(key, cost, now);
            const got = peek ? l.peek(key, cost, now) : l.check(key, cost, now);
            const d = l.decision;
            const where = `seed ${seed} step ${step} ${JSON.stringify(spec)} key ${key} cost ${cost} now ${now}`;
            expect(got, where).toBe(want);
            const [remaining, reset] = model.numbers(key, cost, now, want);
            let retry = 0;
            if (!want) retry = cost > spec.limit ? -1 : bruteRetry(model, key, cost, now, 8 * spec.windowMs + 10);
            expect([d.allowed, d.remaining, d.retryAfterMs, d.resetMs], where).toEqual([want, remaining, retry, reset]);
            if (!want) denials++;
            if (want && !peek) {
              admitted++;
              const i = lru.indexOf(key);
              if (i >= 0) lru.splice(i, 1);
              else if (lru.length >= maxKeys) {
                model.forget(lru.shift()!);
                evictions++;
              }
              lru.push(key);
              model.commit(key, cost, now);
            }
            expect(l.size(), where).toBe(lru.length);
          }
        }
        // The sequences exercise every branch they are meant to.
        expect(denials).toBeGreaterThan(500);
        expect(admitted).toBeGreaterThan(500);
        expect(evictions).toBeGreaterThan(20);
      });
    }
  }
});

/** An arbitrary (inexact) spec and a sequence of calls with fractional times. */
function roughSpec(r: () => number, algorithm: Algorithm): LimitSpec {
  const limit = r() < 0.2 ? int(r, 1, 3) : int(r, 1, algorithm === 'sliding-window-log' ? 50 : 1000);
  const windowMs = r() < 0.5 ? int(r, 1, 100000) : 1 + r() * 9999.7;
  return { algorithm, limit, windowMs };
}

describe('ratelimit: native and twin agree, and retry-after is exact', () => {
  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: 40 long random sequences with inexact numbers`, () => {
      let retries = 0;
      for (let seed = 1; seed <= 40; seed++) {
        const r = rng(seed * 104729 + ALGORITHMS.indexOf(algorithm));
        const spec = roughSpec(r, algorithm);
        const maxKeys = int(r, 1, 6);
        const a = createRateLimiter({ ...spec, maxKeys }, { implementation: 'native' });
        const b = createRateLimiter({ ...spec, maxKeys }, { implementation: 'js' });
        let now = r() * 1e12;
        for (let step = 0; step < 1500; step++) {
          const g = r();
          now += g < 0.3 ? 0 : g < 0.9 ? r() * spec.windowMs * 0.3 : g < 0.95 ? r() * spec.windowMs * 3 : -r() * spec.windowMs * 0.2;
          const key = `key-${int(r, 0, 7)}`;
          const cost = r() < 0.05 ? spec.limit + 1 : int(r, 1, Math.max(1, Math.ceil(spec.limit / (r() < 0.5 ? 1 : 4))));
          const peek = r() < 0.1;
          const x = peek ? a.peek(key, cost, now) : a.check(key, cost, now);
          const y = peek ? b.peek(key, cost, now) : b.check(key, cost, now);
          const where = `seed ${seed} step ${step}`;
          expect([x, a.decision.remaining, a.decision.retryAfterMs, a.decision.resetMs], where).toEqual([
            y,
            b.decision.remaining,
            b.decision.retryAfterMs,
            b.decision.resetMs,
          ]);
          if (!x && a.decision.retryAfterMs > 0) {
            retries++;
            const ra = a.decision.retryAfterMs;
            for (const l of [a, b] as RateLimiter[]) {
              expect(l.peek(key, cost, now + ra), `${where}: admitted after retryAfterMs`).toBe(true);
              if (ra > 1) expect(l.peek(key, cost, now + (ra - 1)), `${where}: denied 1 ms earlier`).toBe(false);
            }
          }
        }
        expect(a.size()).toBe(b.size());
      }
      expect(retries).toBeGreaterThan(1000);
    });
  }
});

describe('ratelimit: rule sets', () => {
  it('native and twin agree on random rule sets, and a denied call consumes nothing', () => {
    const scopes: Scope[] = ['global', 'client', 'tool', 'client-tool', 'method'];
    let denied = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const r = rng(seed * 31337);
      const rules: RuleInit[] = Array.from({ length: int(r, 1, 4) }, () => ({
        spec: roughSpec(r, ALGORITHMS[int(r, 0, 3)]!),
        scope: scopes[int(r, 0, 4)]!,
        maxKeys: int(r, 1, 20),
      }));
      const sets = (['native', 'js'] as const).map((impl) => createRuleSet(rules, { implementation: impl }));
      const matches = rules.map(() => [r() < 0.5 ? null : [0, 2], r() < 0.5 ? null : [1, 3]] as const);
      const methodCost = int(r, 1, 3);
      for (const set of sets) {
        matches.forEach(([m, t], i) => set.setMatch(i, m, t));
        set.setMethodCost(2, methodCost);
        set.setToolCost(3, 2);
      }
      let now = 1e6;
      for (let step = 0; step < 800; step++) {
        now += r() < 0.3 ? 0 : r() * 50;
        const method = int(r, 0, 3);
        const tool = int(r, -1, 4);
        const client = `c${int(r, 0, 5)}`;
        const cost = sets[0]!.costOf(method, tool);
        expect(sets[1]!.costOf(method, tool)).toBe(cost);
        const before = sets.map((s) => rules.map((_, i) => s.size(i)));
        const peekBefore = sets[0]!.peek(method, tool, client, cost, now);
        const results = sets.map((s) => s.check(method, tool, client, cost, now));
        const [da, db] = sets.map(({ decision: d }) => [d.allowed, d.remaining, d.retryAfterMs, d.resetMs, d.ruleIndex]);
        expect([results[0], da], `seed ${seed} step ${step}`).toEqual([results[1], db]);
        expect(peekBefore).toBe(results[0]);
        if (results[0]! >= 0) {
          denied++;
          // Nothing consumed: the same call peeked again answers the same, and no table grew.
          for (const [i, s] of sets.entries()) {
            expect(s.peek(method, tool, client, cost, now)).toBe(results[0]);
            expect(rules.map((_, k) => s.size(k))).toEqual(before[i]);
          }
        }
      }
    }
    expect(denied).toBeGreaterThan(500);
  });
});
