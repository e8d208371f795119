// Thin wrappers over the addon's RateLimiter and RuleSet (native/binding/ratelimit_binding.cc). check() is one
// crossing; the numbers of the decision stay in a Float64Array the addon writes, and `decision` is one object
// whose getters read it, so a check allocates nothing. Specs are validated (src/ratelimit/js.ts) before they
// cross.
import type { NativeBinding, NativeRateLimiter as RawRateLimiter, NativeRuleSet as RawRuleSet } from '../native.js';
import { DEFAULT_MAX_KEYS, validateRules, validateSpec, type RuleDecision, type RuleInit } from './js.js';
import type { Decision, LimitSpec } from './types.js';

/** A Decision (plus ruleIndex) read from out = [allowed, remaining, retryAfterMs, resetMs, ruleIndex]. */
class OutDecision implements RuleDecision {
  constructor(private readonly out: Float64Array) {}
  get allowed(): boolean {
    return this.out[0] === 1;
  }
  get remaining(): number {
    return this.out[1]!;
  }
  get retryAfterMs(): number {
    return this.out[2]!;
  }
  get resetMs(): number {
    return this.out[3]!;
  }
  get ruleIndex(): number {
    return this.out.length > 4 ? this.out[4]! : -1;
  }
}

export class NativeRateLimiter {
  readonly implementation = 'native' as const;
  readonly out = new Float64Array(4);
  readonly decision: Decision = new OutDecision(this.out);
  readonly spec: LimitSpec;
  readonly maxKeys: number;
  /** The addon object itself: `raw.check(key, cost, now)` is the whole hot path. */
  readonly raw: RawRateLimiter;

  constructor(binding: NativeBinding, spec: LimitSpec, maxKeys: number = DEFAULT_MAX_KEYS) {
    const algorithm = validateSpec(spec, maxKeys);
    this.raw = new binding.RateLimiter({ algorithm, limit: spec.limit, windowMs: spec.windowMs }, maxKeys, this.out);
    this.spec = { algorithm: spec.algorithm, limit: spec.limit, windowMs: spec.windowMs };
    this.maxKeys = maxKeys;
  }

  check(key: string, cost: number, now: number): boolean {
    return this.raw.check(key, cost, now);
  }
  peek(key: string, cost: number, now: number): boolean {
    return this.raw.peek(key, cost, now);
  }
  size(): number {
    return this.raw.size();
  }
  /** Bytes the native table holds (slots, index, sliding-log rings). */
  bytes(): number {
    return this.raw.bytes();
  }
  clear(): void {
    this.raw.clear();
  }
}

export class NativeRuleSet {
  readonly implementation = 'native' as const;
  readonly out = new Float64Array(5);
  readonly decision: RuleDecision = new OutDecision(this.out);
  readonly ruleCount: number;
  readonly raw: RawRuleSet;

  constructor(binding: NativeBinding, rules: readonly RuleInit[]) {
    const scopes = validateRules(rules);
    const init = rules.map((r, i) => ({
      algorithm: validateSpec(r.spec, r.maxKeys ?? DEFAULT_MAX_KEYS),
      limit: r.spec.limit,
      windowMs: r.spec.windowMs,
      scope: scopes[i]!,
      maxKeys: r.maxKeys ?? DEFAULT_MAX_KEYS,
    }));
    this.raw = new binding.RuleSet(init, this.out);
    this.ruleCount = rules.length;
  }

  setMatch(rule: number, methodIds: readonly number[] | null, toolIds: readonly number[] | null): void {
    this.raw.setMatch(rule, methodIds === null ? null : [...methodIds], toolIds === null ? null : [...toolIds]);
  }
  setMethodCost(methodId: number, cost: number): void {
    this.raw.setMethodCost(methodId, cost);
  }
  setToolCost(toolId: number, cost: number): void {
    this.raw.setToolCost(toolId, cost);
  }
  costOf(methodId: number, toolId: number): number {
    return this.raw.costOf(methodId, toolId);
  }
  check(methodId: number, toolId: number, client: string, cost: number, now: number): number {
    return this.raw.check(methodId, toolId, client, cost, now);
  }
  peek(methodId: number, toolId: number, client: string, cost: number, now: number): number {
    return this.raw.peek(methodId, toolId, client, cost, now);
  }
  size(rule: number): number {
    return this.raw.size(rule);
  }
  bytes(): number {
    return this.raw.bytes();
  }
  clear(): void {
    this.raw.clear();
  }
}
