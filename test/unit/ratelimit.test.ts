// The rate limiter (docs/ratelimit.md): every shared vector (test/vectors/ratelimit/) against the native
// classes and the JS twin, spec validation in TS and in the binding, the public factories, and the memory
// bound under a flood of distinct keys.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native.js';
import {
  ALGORITHMS,
  JsRateLimiter,
  JsRuleSet,
  NativeRateLimiter,
  NativeRuleSet,
  createRateLimiter,
  createRuleSet,
  type LimitSpec,
  type RateLimiter,
  type RuleInit,
  type RuleSet,
  type Scope,
} from '../../src/ratelimit/index.js';

const dir = fileURLToPath(new URL('../vectors/ratelimit/', import.meta.url));
const native = loadNative();
const IMPLS = ['native', 'js'] as const;
type Impl = (typeof IMPLS)[number];

interface Step {
  op: 'check' | 'peek';
  key: string;
  cost: number;
  now: number;
  expect: [number, number, number, number];
}
interface LimiterCase {
  name: string;
  spec: LimitSpec;
  maxKeys?: number;
  steps: Step[];
  size?: number;
  lru?: string[];
}
interface RuleStep {
  op: 'check' | 'peek';
  method: number;
  tool: number;
  client: string;
  cost: number | 'costOf';
  now: number;
  result: number;
  expect: [number, number, number, number, number];
}
interface RuleCase {
  name: string;
  rules: (LimitSpec & { scope: Scope; maxKeys?: number })[];
  matches?: { rule: number; methods: number[] | null; tools: number[] | null }[];
  methodCosts?: [number, number][];
  toolCosts?: [number, number][];
  costOf?: [number, number, number][];
  steps: RuleStep[];
  sizes: number[];
}

const load = <T>(file: string): T => JSON.parse(readFileSync(join(dir, file), 'utf8')) as T;
const limiterFiles = ALGORITHMS.map((a) => `${a}.json`);
const ruleCases = load<{ cases: RuleCase[] }>('rulesets.json').cases;

function limiter(impl: Impl, spec: LimitSpec, maxKeys?: number): RateLimiter {
  return createRateLimiter({ ...spec, maxKeys }, { implementation: impl });
}

function ruleSet(impl: Impl, c: RuleCase): RuleSet {
  const rules: RuleInit[] = c.rules.map((r) => ({
    spec: { algorithm: r.algorithm, limit: r.limit, windowMs: r.windowMs },
    scope: r.scope,
    maxKeys: r.maxKeys,
  }));
  const set = createRuleSet(rules, { implementation: impl });
  for (const m of c.matches ?? []) set.setMatch(m.rule, m.methods, m.tools);
  for (const [id, cost] of c.methodCosts ?? []) set.setMethodCost(id, cost);
  for (const [id, cost] of c.toolCosts ?? []) set.setToolCost(id, cost);
  return set;
}

describe('ratelimit: the native addon', () => {
  it('loads with the RateLimiter and RuleSet classes', () => {
    expect(native).not.toBeNull();
    expect(typeof native!.RateLimiter).toBe('function');
    expect(typeof native!.RuleSet).toBe('function');
    expect(createRateLimiter({ algorithm: 'token-bucket', limit: 1, windowMs: 1 }, { implementation: 'auto' }).implementation).toBe('native');
    // Called from JS the twin is the default: a crossing costs more than a check (docs/ratelimit.md section 9).
    expect(createRateLimiter({ algorithm: 'token-bucket', limit: 1, windowMs: 1 }).implementation).toBe('js');
  });
});

for (const impl of IMPLS) {
  describe(`ratelimit vectors (${impl})`, () => {
    for (const file of limiterFiles) {
      const { cases } = load<{ cases: LimiterCase[] }>(file);
      it(`${file} has cases with eviction, peeks and denials`, () => {
        expect(cases.some((c) => c.lru !== undefined)).toBe(true);
        expect(cases.flatMap((c) => c.steps).some((s) => s.op === 'peek')).toBe(true);
        expect(cases.flatMap((c) => c.steps).some((s) => s.expect[2] === -1)).toBe(true);
      });
      for (const c of cases) {
        it(`${file}: ${c.name}`, () => {
          const l = limiter(impl, c.spec, c.maxKeys);
          c.steps.forEach((s, i) => {
            const allowed = s.op === 'check' ? l.check(s.key, s.cost, s.now) : l.peek(s.key, s.cost, s.now);
            const d = l.decision;
            expect([`step ${i + 1}`, allowed ? 1 : 0, d.remaining, d.retryAfterMs, d.resetMs]).toEqual([`step ${i + 1}`, ...s.expect]);
            expect(d.allowed).toBe(allowed);
          });
          if (c.size !== undefined) expect(l.size()).toBe(c.size);
          if (c.lru !== undefined && l instanceof JsRateLimiter) expect(l.keys()).toEqual(c.lru);
        });
      }
    }
    for (const c of ruleCases) {
      it(`rulesets.json: ${c.name}`, () => {
        const set = ruleSet(impl, c);
        for (const [m, t, cost] of c.costOf ?? []) expect(set.costOf(m, t)).toBe(cost);
        c.steps.forEach((s, i) => {
          const cost = s.cost === 'costOf' ? set.costOf(s.method, s.tool) : s.cost;
          const result = s.op === 'check' ? set.check(s.method, s.tool, s.client, cost, s.now) : set.peek(s.method, s.tool, s.client, cost, s.now);
          const d = set.decision;
          expect([`step ${i + 1}`, result, d.allowed ? 1 : 0, d.remaining, d.retryAfterMs, d.resetMs, d.ruleIndex]).toEqual([
            `step ${i + 1}`,
            s.result,
            ...s.expect,
          ]);
        });
        expect(c.sizes.map((_, r) => set.size(r))).toEqual(c.sizes);
      });
    }
  });

  describe(`ratelimit API (${impl})`, () => {
    const bad: [Partial<LimitSpec> & { maxKeys?: number }, RegExp][] = [
      [{ algorithm: 'leaky-bucket' as never, limit: 1, windowMs: 1 }, /algorithm/],
      [{ algorithm: 'token-bucket', limit: 0, windowMs: 1 }, /limit/],
      [{ algorithm: 'token-bucket', limit: 1.5, windowMs: 1 }, /limit/],
      [{ algorithm: 'token-bucket', limit: 1e9 + 1, windowMs: 1 }, /limit/],
      [{ algorithm: 'sliding-window-log', limit: 100001, windowMs: 1 }, /100000/],
      [{ algorithm: 'fixed-window', limit: 1, windowMs: 0 }, /windowMs/],
      [{ algorithm: 'fixed-window', limit: 1, windowMs: Infinity }, /windowMs/],
      [{ algorithm: 'fixed-window', limit: 1, windowMs: NaN }, /windowMs/],
      [{ algorithm: 'fixed-window', limit: 1, windowMs: 1e12 + 1 }, /windowMs/],
      [{ algorithm: 'fixed-window', limit: 1, windowMs: 1, maxKeys: 0 }, /maxKeys/],
      [{ algorithm: 'fixed-window', limit: 1, windowMs: 1, maxKeys: 1e8 + 1 }, /maxKeys/],
    ];
    it('refuses bad specs with a RangeError naming the field', () => {
      for (const [spec, re] of bad) {
        expect(() => limiter(impl, spec as LimitSpec, spec.maxKeys)).toThrow(re);
        expect(() => createRuleSet([{ spec: spec as LimitSpec, scope: 'global', maxKeys: spec.maxKeys }], { implementation: impl })).toThrow(re);
      }
      expect(() => createRuleSet([{ spec: { algorithm: 'fixed-window', limit: 1, windowMs: 1 }, scope: 'planet' as Scope }], { implementation: impl })).toThrow(/scope/);
    });
    it('refuses bad costs, times and ids per call', () => {
      const l = limiter(impl, { algorithm: 'token-bucket', limit: 5, windowMs: 1000 });
      for (const cost of [0, -1, 1.5, NaN, Infinity]) expect(() => l.check('k', cost, 0)).toThrow(/cost/);
      for (const now of [NaN, Infinity]) expect(() => l.check('k', 1, now)).toThrow(/now/);
      expect(() => l.check(42 as unknown as string, 1, 0)).toThrow(TypeError);
      expect(l.size()).toBe(0);
      const set = createRuleSet([{ spec: { algorithm: 'token-bucket', limit: 5, windowMs: 1000 }, scope: 'client' }], { implementation: impl });
      expect(() => set.check(1.5, 0, 'c', 1, 0)).toThrow(/ids/);
      expect(() => set.check(0, 70000, 'c', 1, 0)).toThrow(/ids/);
      expect(() => set.check(0, 0, null as unknown as string, 1, 0)).toThrow(TypeError);
      expect(() => set.setMatch(1, null, null)).toThrow(/rule/);
      expect(() => set.setMatch(0, [-1], null)).toThrow();
      expect(() => set.setToolCost(0, 0)).toThrow(/cost/);
    });
    it('peek changes nothing; clear() empties the table', () => {
      const l = limiter(impl, { algorithm: 'sliding-window-log', limit: 2, windowMs: 1000 });
      for (let i = 0; i < 5; i++) expect(l.peek('k', 2, 0)).toBe(true);
      expect(l.size()).toBe(0);
      expect(l.check('k', 2, 0)).toBe(true);
      expect(l.check('k', 1, 1)).toBe(false);
      expect(l.decision.retryAfterMs).toBe(999);
      l.clear();
      expect(l.size()).toBe(0);
      expect(l.check('k', 2, 1)).toBe(true);
    });
    it('keeps distinct keys apart, including long and non-ASCII ones', () => {
      const l = limiter(impl, { algorithm: 'fixed-window', limit: 1, windowMs: 1000 });
      const keys = ['', 'a', 'b', 'é', 'e\u0301', 'x'.repeat(300), 'x'.repeat(301), '🔑', 'a\u0000b', 'a\u0000c'];
      for (const k of keys) expect(l.check(k, 1, 0)).toBe(true);
      for (const k of keys) expect(l.check(k, 1, 0)).toBe(false);
      expect(l.size()).toBe(keys.length);
    });
    it('a flood of 1,000,000 distinct keys leaves the table at maxKeys', () => {
      for (const algorithm of ALGORITHMS) {
        const l = limiter(impl, { algorithm, limit: 3, windowMs: 1000 }, 5000);
        let bytesAtFull = 0;
        for (let i = 0; i < 1_000_000; i++) {
          l.check(`k${i}`, 1, i);
          if (i === 5000 && l instanceof NativeRateLimiter) bytesAtFull = l.bytes();
        }
        expect(l.size()).toBe(5000);
        if (l instanceof NativeRateLimiter) {
          expect(l.bytes()).toBe(bytesAtFull);
          expect(l.bytes()).toBeLessThan(5000 * 300);
        }
        expect(l.peek('k999999', 3, 999999)).toBe(false); // newest held
        expect(l.peek('k0', 3, 999999)).toBe(true); // oldest evicted
      }
    });
  });
}

describe('ratelimit: implementation choice', () => {
  it('uses the classes asked for', () => {
    const spec = { algorithm: 'token-bucket', limit: 1, windowMs: 1 } as const;
    expect(createRateLimiter(spec, { implementation: 'js' })).toBeInstanceOf(JsRateLimiter);
    expect(createRateLimiter(spec, { implementation: 'native' })).toBeInstanceOf(NativeRateLimiter);
    expect(createRuleSet([{ spec, scope: 'global' }], { implementation: 'js' })).toBeInstanceOf(JsRuleSet);
    expect(createRuleSet([{ spec, scope: 'global' }], { implementation: 'auto' })).toBeInstanceOf(NativeRuleSet);
    expect(createRuleSet([{ spec, scope: 'global' }])).toBeInstanceOf(JsRuleSet);
  });
  it('the binding validates specs again (no TS in front)', () => {
    const out = new Float64Array(4);
    expect(() => new native!.RateLimiter({ algorithm: 0, limit: 0, windowMs: 1 }, 10, out)).toThrow(/limit/);
    expect(() => new native!.RateLimiter({ algorithm: 9, limit: 1, windowMs: 1 }, 10, out)).toThrow(/algorithm/);
    expect(() => new native!.RateLimiter({ algorithm: 1, limit: 200000, windowMs: 1 }, 10, out)).toThrow(/100000/);
    expect(() => new native!.RateLimiter({ algorithm: 0, limit: 1, windowMs: -1 }, 10, out)).toThrow(/windowMs/);
    expect(() => new native!.RateLimiter({ algorithm: 0, limit: 1, windowMs: 1 }, 0, out)).toThrow(/maxKeys/);
    expect(() => new native!.RateLimiter({ algorithm: 0, limit: 1, windowMs: 1 }, 1, new Float64Array(2))).toThrow(/out/);
    expect(() => new native!.RuleSet([{ algorithm: 0, limit: 1, windowMs: 1, scope: 7, maxKeys: 1 }], new Float64Array(5))).toThrow(/scope/);
    const raw = new native!.RateLimiter({ algorithm: 0, limit: 1, windowMs: 1 }, 1, out);
    expect(() => raw.check(42 as unknown as string, 1, 0)).toThrow(/key/);
  });
});
