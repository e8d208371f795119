// Rate limiting (docs/ratelimit.md). Specs are validated once, here, before anything crosses. Called from JS
// the pure-JS twins (src/ratelimit/js.ts) are the default, being faster than a crossing; the native classes
// are chosen with implementation 'native', or 'auto' when the addon loads (FASTERMCP_FORCE_JS=1 keeps it
// from loading). Both implement the interfaces below and give bit-identical decisions.
import { loadNative } from '../native.js';
import { DEFAULT_MAX_KEYS, JsRateLimiter, JsRuleSet, validateRules, validateSpec, type RuleDecision, type RuleInit } from './js.js';
import { NativeRateLimiter, NativeRuleSet } from './native.js';
import type { Decision, LimitSpec } from './types.js';

export { ALGORITHMS, SCOPES } from './types.js';
export type { Algorithm, Decision, LimitSpec, RuleSpec, Scope } from './types.js';
export { DEFAULT_MAX_KEYS, JsRateLimiter, JsRuleSet, MAX_ID, MAX_KEYS, MAX_LIMIT, MAX_LOG_LIMIT, MAX_WINDOW_MS } from './js.js';
export type { RuleDecision, RuleInit } from './js.js';
export { NativeRateLimiter, NativeRuleSet } from './native.js';

/** One LimitSpec over a keyed table (native class RateLimiter, or JsRateLimiter). */
export interface RateLimiter {
  readonly implementation: 'native' | 'js';
  readonly spec: LimitSpec;
  readonly maxKeys: number;
  /** The answer of the last check/peek (one reused object: copy fields that must outlive the next call). */
  readonly decision: Decision;
  /** true = admitted (and counted); a denied check stores nothing. cost: integer >= 1; now: ms. */
  check(key: string, cost: number, now: number): boolean;
  /** The answer check() would give, storing nothing. */
  peek(key: string, cost: number, now: number): boolean;
  size(): number;
  clear(): void;
}

/** Several rules composed (native class RuleSet, or JsRuleSet). */
export interface RuleSet {
  readonly implementation: 'native' | 'js';
  readonly ruleCount: number;
  readonly decision: RuleDecision;
  /** Which method ids and tool ids a rule counts (null: all; tool id -1 = no routed name matches only null). */
  setMatch(rule: number, methodIds: readonly number[] | null, toolIds: readonly number[] | null): void;
  setMethodCost(methodId: number, cost: number): void;
  setToolCost(toolId: number, cost: number): void;
  /** The tool's cost if set, else the method's if set, else 1. */
  costOf(methodId: number, toolId: number): number;
  /** -1 when admitted, else the index of the first denying rule (nothing consumed anywhere). */
  check(methodId: number, toolId: number, client: string, cost: number, now: number): number;
  peek(methodId: number, toolId: number, client: string, cost: number, now: number): number;
  /** Keys held by one rule's table. */
  size(rule: number): number;
  clear(): void;
}

export interface ImplementationOptions {
  /**
   * 'js' (the default): the pure-JS twin. Called from JS, a check through the addon costs more than the
   * check itself (docs/ratelimit.md section 9: ~150 ns crossing vs ~40 ns core check at 10k keys), so the
   * twin is faster unless the key set misses the caches (1M keys). 'native': the addon (throws when it does
   * not load). 'auto': native when the addon loads, else js — what the server's fused admission uses,
   * where the engine calls the rule set without a crossing.
   */
  implementation?: 'native' | 'js' | 'auto';
}

function unavailable(): Error {
  const err = new Error('the native rate limiter is not available') as Error & { code: string };
  err.code = 'MCP_NATIVE_UNAVAILABLE';
  return err;
}

export function createRateLimiter(spec: LimitSpec & { maxKeys?: number }, options: ImplementationOptions = {}): RateLimiter {
  const maxKeys = spec?.maxKeys ?? DEFAULT_MAX_KEYS;
  validateSpec(spec, maxKeys);
  if (options.implementation === 'native' || options.implementation === 'auto') {
    const binding = loadNative();
    if (binding !== null && typeof binding.RateLimiter === 'function') return new NativeRateLimiter(binding, spec, maxKeys);
    if (options.implementation === 'native') throw unavailable();
  }
  return new JsRateLimiter(spec, maxKeys);
}

export function createRuleSet(rules: readonly RuleInit[], options: ImplementationOptions = {}): RuleSet {
  validateRules(rules);
  if (options.implementation === 'native' || options.implementation === 'auto') {
    const binding = loadNative();
    if (binding !== null && typeof binding.RuleSet === 'function') return new NativeRuleSet(binding, rules);
    if (options.implementation === 'native') throw unavailable();
  }
  return new JsRuleSet(rules);
}
