// The pure-JS twin of native/core/ratelimit.{h,cc} (docs/ratelimit.md): the readable reference, the fallback
// when no binary loads, and the oracle of the differential tests. Every formula is the same sequence of
// double operations as the C++ core, so both give bit-identical decisions; keep them in step line by line.
//
// Tables: a Map from the key string to its state, and the states on a doubly linked list from least to most
// recently admitted: every admitted check moves its key to the end, and the list's first key is the one
// evicted when a new key meets a full table (the native table's order exactly). Peeks and denied checks touch
// nothing. (Map insertion order with "delete + set" gives the same order, but finding the first live key
// scans the holes V8 leaves at the front of the Map after deletes: measured ~3.6 us per eviction at 5,000 keys
// and ~46 us at 100,000, against well under 1 us with the list; docs/ratelimit.md section 2.)
import { ALGORITHMS, SCOPES, type Algorithm, type Decision, type LimitSpec, type Scope } from './types.js';

export const MAX_LIMIT = 1e9;
export const MAX_LOG_LIMIT = 100000;
export const MAX_WINDOW_MS = 1e12;
export const MAX_KEYS = 1e8;
export const DEFAULT_MAX_KEYS = 100000;
/** Method and tool ids of a rule set are integers in [0, MAX_ID] (tool id -1: no routed name). */
export const MAX_ID = 65535;
/** How many retries around the closed-form retry-after are tried (docs/ratelimit.md section 1). */
const RETRY_STEPS = 4;

export type RateLimitError = RangeError & { code: string };

/** A RangeError with code MCP_RATELIMIT_INVALID_SPEC (same sentences as the core's spec_error_message). */
export function specError(message: string): RateLimitError {
  const err = new RangeError(message) as RateLimitError;
  err.code = 'MCP_RATELIMIT_INVALID_SPEC';
  return err;
}

const isInt = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** Throws unless `spec` and `maxKeys` are valid; returns the algorithm's index in ALGORITHMS. */
export function validateSpec(spec: LimitSpec, maxKeys: number): number {
  if (spec === null || typeof spec !== 'object') throw specError('Expected a rate-limit spec object');
  const algorithm = ALGORITHMS.indexOf(spec.algorithm);
  if (algorithm < 0) {
    throw specError('Expected algorithm to be one of token-bucket, sliding-window-log, sliding-window-counter, fixed-window');
  }
  if (!isInt(spec.limit, 1, MAX_LIMIT)) throw specError('Expected limit to be an integer in [1, 1000000000]');
  if (spec.algorithm === 'sliding-window-log' && spec.limit > MAX_LOG_LIMIT) {
    throw specError('Expected limit to be an integer in [1, 100000] for the sliding-window-log algorithm');
  }
  if (typeof spec.windowMs !== 'number' || !(spec.windowMs > 0 && spec.windowMs <= MAX_WINDOW_MS)) {
    throw specError('Expected windowMs to be a finite number in (0, 1000000000000]');
  }
  if (!isInt(maxKeys, 1, MAX_KEYS)) throw specError('Expected maxKeys to be an integer in [1, 100000000]');
  return algorithm;
}

/** Throws unless cost is an integer >= 1 and now is a finite number (the per-call checks of both implementations). */
export function checkArgs(cost: number, now: number): void {
  if (!(typeof cost === 'number' && cost >= 1 && cost <= Number.MAX_SAFE_INTEGER + 1 && Math.floor(cost) === cost)) {
    throw new RangeError('Expected cost to be an integer >= 1');
  }
  if (!(typeof now === 'number' && Number.isFinite(now))) throw new RangeError('Expected now to be a finite number (ms)');
}

/** Per-key state. bucket: a = tokens, b = last; fixed: a = start, b = count; counter: a = window index, b = curr, c = prev;
 * log: times/costs from `head` (a ring that is compacted when half empty), used = the sum of their costs. */
interface KeyState {
  key: string;
  older: KeyState | null;
  newer: KeyState | null;
  a: number;
  b: number;
  c: number;
  times: number[];
  costs: number[];
  head: number;
  used: number;
}

const ALG_BUCKET = 0;
const ALG_LOG = 1;
const ALG_COUNTER = 2;
const ALG_FIXED = 3;

/** One algorithm over a table of at most maxKeys keys (the twin of mcp::ratelimit::KeyedLimiter). */
/** A sliding-window counter's view of `now`: one reused object (read its fields before the next call). */
const view = { index: 0, curr: 0, prev: 0, start: 0, weight: 0 };

/**
 * The counter's current and previous window at `now`, and the weight of the previous one still in view.
 * Windows are numbered (index = floor(now / windowMs)) so that "the next window" is an exact test even
 * when index * windowMs rounds; a clock behind the stored window counts in the stored window.
 */
function counterView(s: KeyState | undefined, now: number, window: number): typeof view {
  let index = Math.floor(now / window);
  let curr = 0;
  let prev = 0;
  if (s !== undefined) {
    if (index <= s.a) {
      index = s.a;
      curr = s.b;
      prev = s.c;
    } else if (index === s.a + 1) {
      prev = s.b;
    }
  }
  view.index = index;
  view.curr = curr;
  view.prev = prev;
  view.start = index * window;
  view.weight = (window - (now - view.start)) / window;
  return view;
}

export class KeyedTable {
  readonly limit: number;
  readonly windowMs: number;
  readonly maxKeys: number;
  private readonly alg: number;
  private readonly map = new Map<string, KeyState>();
  private oldest: KeyState | null = null; // the next eviction
  private newest: KeyState | null = null;

  constructor(spec: LimitSpec, maxKeys: number) {
    this.alg = validateSpec(spec, maxKeys);
    this.limit = spec.limit;
    this.windowMs = spec.windowMs;
    this.maxKeys = maxKeys;
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
    this.oldest = this.newest = null;
  }

  /** Keys from least to most recently admitted. */
  keys(): string[] {
    const out: string[] = [];
    for (let s = this.oldest; s !== null; s = s.newer) out.push(s.key);
    return out;
  }

  check(key: string, cost: number, now: number, out: Decision): boolean {
    const s = this.map.get(key);
    if (!this.decide(s, cost, now, out)) return false;
    let state: KeyState;
    if (s === undefined) {
      state = this.insert(key);
    } else {
      if (s !== this.newest) {
        this.unlink(s);
        this.append(s);
      }
      state = s;
    }
    this.commit(state, s === undefined, cost, now);
    return true;
  }

  private unlink(s: KeyState): void {
    if (s.older !== null) s.older.newer = s.newer;
    else this.oldest = s.newer;
    if (s.newer !== null) s.newer.older = s.older;
    else this.newest = s.older;
    s.older = s.newer = null;
  }

  private append(s: KeyState): void {
    s.older = this.newest;
    s.newer = null;
    if (this.newest !== null) this.newest.newer = s;
    else this.oldest = s;
    this.newest = s;
  }

  peek(key: string, cost: number, now: number, out: Decision): boolean {
    return this.decide(this.map.get(key), cost, now, out);
  }

  private insert(key: string): KeyState {
    let state: KeyState | undefined;
    if (this.map.size >= this.maxKeys) {
      // Full: the least recently admitted key makes room; its state object is reused.
      state = this.oldest!;
      this.unlink(state);
      this.map.delete(state.key);
      state.key = key;
      state.a = 0;
      state.b = 0;
      state.c = 0;
      state.times.length = 0;
      state.costs.length = 0;
      state.head = 0;
      state.used = 0;
    } else {
      state = { key, older: null, newer: null, a: 0, b: 0, c: 0, times: [], costs: [], head: 0, used: 0 };
    }
    this.map.set(key, state);
    this.append(state);
    return state;
  }

  /** The decision for `cost` at `now` from the stored state (undefined: a key not in the table). */
  decide(s: KeyState | undefined, cost: number, now: number, out: Decision): boolean {
    const limit = this.limit;
    const window = this.windowMs;
    let x = 0;
    let allowed: boolean;
    switch (this.alg) {
      case ALG_BUCKET: {
        let tokens = s !== undefined ? s.a : limit;
        const last = s !== undefined ? s.b : now;
        if (now > last) tokens = Math.min(limit, tokens + ((now - last) * limit) / window);
        // Refill runs from max(now, last): a clock that went back waits for `last` first (from - now is 0 else).
        const from = now > last ? now : last;
        allowed = cost <= tokens;
        const after = allowed ? tokens - cost : tokens;
        out.remaining = Math.floor(after);
        out.resetMs = Math.ceil((from - now) + ((limit - after) * window) / limit);
        x = (from - now) + ((cost - tokens) * window) / limit;
        break;
      }
      case ALG_FIXED: {
        let start = Math.floor(now / window) * window;
        let count = 0;
        if (s !== undefined && start <= s.a) {
          // same window, or the clock went back: stay in the stored window
          start = s.a;
          count = s.b;
        }
        allowed = count + cost <= limit;
        const after = allowed ? count + cost : count;
        out.remaining = limit - after;
        out.resetMs = after === 0 ? 0 : Math.ceil(start + window - now);
        x = start + window - now;
        break;
      }
      case ALG_COUNTER: {
        const { curr, prev, start, weight } = counterView(s, now, window);
        const estimate = prev * weight + curr;
        allowed = estimate + cost <= limit;
        const after = allowed ? curr + cost : curr;
        out.remaining = Math.max(0, Math.floor(limit - (prev * weight + after)));
        out.resetMs = after > 0 ? Math.ceil(start + 2 * window - now) : prev > 0 ? Math.ceil(start + window - now) : 0;
        if (!allowed) {
          if (curr + cost <= limit) {
            x = (window - (now - start)) - ((limit - curr - cost) * window) / prev;
          } else {
            x = (start + window - now) + Math.max(0, window - ((limit - cost) * window) / curr);
          }
        }
        break;
      }
      default: {
        // sliding-window log
        const cutoff = now - window;
        let used = 0;
        let newest = -Infinity;
        let any = false;
        if (s !== undefined) {
          const end = s.times.length;
          let first = s.head;
          used = s.used;
          while (first < end && s.times[first]! <= cutoff) {
            used -= s.costs[first]!;
            first++;
          }
          if (first < end) {
            any = true;
            newest = s.times[end - 1]!;
          }
          allowed = used + cost <= limit;
          if (!allowed && cost <= limit) {
            let freed = 0;
            for (let i = first; i < end; i++) {
              freed += s.costs[i]!;
              if (used - freed + cost <= limit) {
                x = (s.times[i]! + window) - now;
                break;
              }
            }
          }
        } else {
          allowed = cost <= limit;
        }
        if (allowed && cost > 0) {
          used += cost;
          newest = any ? Math.max(newest, now) : now;
          any = true;
        }
        out.remaining = limit - used;
        out.resetMs = any ? Math.ceil(newest + window - now) : 0;
        break;
      }
    }
    out.allowed = allowed;
    if (allowed) out.retryAfterMs = 0;
    else if (cost > limit) out.retryAfterMs = -1;
    else out.retryAfterMs = this.retryAfter(s, cost, now, x);
    return allowed;
  }

  /** The admission test of decide() alone. */
  private admits(s: KeyState | undefined, cost: number, now: number): boolean {
    const limit = this.limit;
    const window = this.windowMs;
    switch (this.alg) {
      case ALG_BUCKET: {
        let tokens = s !== undefined ? s.a : limit;
        const last = s !== undefined ? s.b : now;
        if (now > last) tokens = Math.min(limit, tokens + ((now - last) * limit) / window);
        return cost <= tokens;
      }
      case ALG_FIXED: {
        const start = Math.floor(now / window) * window;
        const count = s !== undefined && start <= s.a ? s.b : 0;
        return count + cost <= limit;
      }
      case ALG_COUNTER: {
        const v = counterView(s, now, window);
        return v.prev * v.weight + v.curr + cost <= limit;
      }
      default: {
        if (s === undefined) return cost <= limit;
        const cutoff = now - window;
        let used = s.used;
        for (let i = s.head; i < s.times.length && s.times[i]! <= cutoff; i++) used -= s.costs[i]!;
        return used + cost <= limit;
      }
    }
  }

  /** max(1, ceil(x)), then corrected against the admission test (docs/ratelimit.md section 1). */
  private retryAfter(s: KeyState | undefined, cost: number, now: number, x: number): number {
    let r = Math.max(1, Math.ceil(x));
    for (let i = 0; i < RETRY_STEPS && !this.admits(s, cost, now + r); i++) r += 1;
    for (let i = 0; i < RETRY_STEPS && r > 1 && this.admits(s, cost, now + (r - 1)); i++) r -= 1;
    return r;
  }

  private commit(s: KeyState, fresh: boolean, cost: number, now: number): void {
    const limit = this.limit;
    const window = this.windowMs;
    switch (this.alg) {
      case ALG_BUCKET: {
        let tokens = fresh ? limit : s.a;
        const last = fresh ? now : s.b;
        if (now > last) tokens = Math.min(limit, tokens + ((now - last) * limit) / window);
        s.a = tokens - cost;
        s.b = now > last ? now : last;
        break;
      }
      case ALG_FIXED: {
        const start = Math.floor(now / window) * window;
        if (fresh || start > s.a) {
          s.a = start;
          s.b = 0;
        }
        s.b += cost;
        break;
      }
      case ALG_COUNTER: {
        const index = Math.floor(now / window);
        if (fresh) {
          s.a = index;
          s.b = 0;
          s.c = 0;
        } else if (index > s.a) {
          s.c = index === s.a + 1 ? s.b : 0;
          s.b = 0;
          s.a = index;
        }
        s.b += cost;
        break;
      }
      default: {
        const cutoff = now - window;
        let newest = now;
        const times = s.times;
        while (s.head < times.length && times[s.head]! <= cutoff) {
          s.used -= s.costs[s.head]!;
          s.head++;
        }
        if (s.head < times.length) newest = Math.max(newest, times[times.length - 1]!);
        if (s.head > 32 && s.head * 2 > times.length) {
          times.splice(0, s.head);
          s.costs.splice(0, s.head);
          s.head = 0;
        }
        times.push(newest);
        s.costs.push(cost);
        s.used += cost;
        break;
      }
    }
  }
}

/** The reused decision object of the twin classes. */
function newDecision(): Decision {
  return { allowed: false, remaining: 0, retryAfterMs: 0, resetMs: 0 };
}

/** One LimitSpec over a keyed table: check/peek write into `decision` (one reused object). */
export class JsRateLimiter {
  readonly implementation = 'js' as const;
  readonly decision: Decision = newDecision();
  readonly spec: LimitSpec;
  private readonly table: KeyedTable;

  constructor(spec: LimitSpec, maxKeys: number = DEFAULT_MAX_KEYS) {
    this.table = new KeyedTable(spec, maxKeys);
    this.spec = { algorithm: spec.algorithm, limit: spec.limit, windowMs: spec.windowMs };
  }

  get maxKeys(): number {
    return this.table.maxKeys;
  }

  check(key: string, cost: number, now: number): boolean {
    checkArgs(cost, now);
    if (typeof key !== 'string') throw new TypeError('Expected key to be a string');
    return this.table.check(key, cost, now, this.decision);
  }

  peek(key: string, cost: number, now: number): boolean {
    checkArgs(cost, now);
    if (typeof key !== 'string') throw new TypeError('Expected key to be a string');
    return this.table.peek(key, cost, now, this.decision);
  }

  size(): number {
    return this.table.size;
  }

  clear(): void {
    this.table.clear();
  }

  /** Keys from least to most recently admitted (tests). */
  keys(): string[] {
    return this.table.keys();
  }
}

/** One rule of a rule set, as the twin and the native binding take it (validated). */
export interface RuleInit {
  readonly spec: LimitSpec;
  readonly scope: Scope;
  readonly maxKeys?: number;
}

/** The decision of a rule set: a Decision plus the rule it names (-1: none). */
export interface RuleDecision extends Decision {
  ruleIndex: number;
}

interface Match {
  methods: Set<number> | null;
  tools: Set<number> | null;
}

/** Throws unless `id` is an integer in [lo, MAX_ID]. */
export function checkId(id: number, name: string, lo = 0): void {
  if (!isInt(id, lo, MAX_ID)) throw new RangeError(`Expected ${name} to be an integer in [${lo}, ${MAX_ID}]`);
}

/** Validates a rule list; returns each rule's scope index. */
export function validateRules(rules: readonly RuleInit[]): number[] {
  if (!Array.isArray(rules)) throw specError('Expected an array of rules');
  return rules.map((r, i) => {
    if (r === null || typeof r !== 'object') throw specError(`Expected rule ${i} to be an object`);
    const scope = SCOPES.indexOf(r.scope);
    if (scope < 0) throw specError(`Expected rule ${i} scope to be one of ${SCOPES.join(', ')}`);
    validateSpec(r.spec, r.maxKeys ?? DEFAULT_MAX_KEYS);
    return scope;
  });
}

/**
 * Several rules checked together (the twin of mcp::ratelimit::RuleSet): every applying rule is peeked;
 * if any denies nothing is consumed and the first denying rule is named; else every applying rule commits.
 */
export class JsRuleSet {
  readonly implementation = 'js' as const;
  readonly decision: RuleDecision = { ...newDecision(), ruleIndex: -1 };
  readonly ruleCount: number;
  private readonly tables: KeyedTable[];
  private readonly scopes: Scope[];
  private readonly matches: Match[];
  private readonly methodCosts = new Map<number, number>();
  private readonly toolCosts = new Map<number, number>();
  private readonly scratch: Decision = newDecision();

  constructor(rules: readonly RuleInit[]) {
    validateRules(rules);
    this.tables = rules.map((r) => new KeyedTable(r.spec, r.maxKeys ?? DEFAULT_MAX_KEYS));
    this.scopes = rules.map((r) => r.scope);
    this.matches = rules.map(() => ({ methods: null, tools: null }));
    this.ruleCount = rules.length;
  }

  setMatch(rule: number, methodIds: readonly number[] | null, toolIds: readonly number[] | null): void {
    checkId(rule, 'rule', 0);
    if (rule >= this.ruleCount) throw new RangeError(`Expected rule to be an integer in [0, ${this.ruleCount - 1}]`);
    for (const id of methodIds ?? []) checkId(id, 'a method id');
    for (const id of toolIds ?? []) checkId(id, 'a tool id');
    this.matches[rule] = { methods: methodIds === null ? null : new Set(methodIds), tools: toolIds === null ? null : new Set(toolIds) };
  }

  setMethodCost(methodId: number, cost: number): void {
    checkId(methodId, 'methodId');
    checkArgs(cost, 0);
    this.methodCosts.set(methodId, cost);
  }

  setToolCost(toolId: number, cost: number): void {
    checkId(toolId, 'toolId');
    checkArgs(cost, 0);
    this.toolCosts.set(toolId, cost);
  }

  costOf(methodId: number, toolId: number): number {
    return this.toolCosts.get(toolId) ?? this.methodCosts.get(methodId) ?? 1;
  }

  /** Keys held by rule `rule`'s table. */
  size(rule: number): number {
    return this.tables[rule]?.size ?? 0;
  }

  clear(): void {
    for (const t of this.tables) t.clear();
  }

  check(methodId: number, toolId: number, client: string, cost: number, now: number): number {
    return this.run(methodId, toolId, client, cost, now, true);
  }

  peek(methodId: number, toolId: number, client: string, cost: number, now: number): number {
    return this.run(methodId, toolId, client, cost, now, false);
  }

  private applies(rule: number, methodId: number, toolId: number): boolean {
    const m = this.matches[rule]!;
    return (m.methods === null || m.methods.has(methodId)) && (m.tools === null || m.tools.has(toolId));
  }

  private keyOf(rule: number, methodId: number, toolId: number, client: string): string {
    switch (this.scopes[rule]) {
      case 'global':
        return '';
      case 'client':
        return client;
      case 'tool':
        return String(toolId);
      case 'client-tool':
        return `${toolId}:${client}`;
      default:
        return String(methodId);
    }
  }

  private run(methodId: number, toolId: number, client: string, cost: number, now: number, commit: boolean): number {
    checkArgs(cost, now);
    if (!(Number.isInteger(methodId) && methodId >= -1 && methodId <= MAX_ID && Number.isInteger(toolId) && toolId >= -1 && toolId <= MAX_ID)) {
      throw new RangeError('Expected integer method and tool ids');
    }
    if (typeof client !== 'string') throw new TypeError('Expected key to be a string');
    const d = this.scratch;
    const out = this.decision;
    let firstDenied = -1;
    let any = false;
    let never = false;
    let retry = 0;
    for (let r = 0; r < this.ruleCount; r++) {
      if (!this.applies(r, methodId, toolId)) continue;
      any = true;
      if (!this.tables[r]!.peek(this.keyOf(r, methodId, toolId, client), cost, now, d)) {
        if (firstDenied < 0) firstDenied = r;
        if (d.retryAfterMs < 0) never = true;
        else retry = Math.max(retry, d.retryAfterMs);
      }
    }
    out.retryAfterMs = 0;
    out.remaining = -1;
    out.resetMs = 0;
    out.ruleIndex = -1;
    out.allowed = true;
    if (!any) return -1;
    let remaining = Infinity;
    let reset = 0;
    let least = -1;
    // Denied: nothing is consumed; remaining and reset are each applying rule's numbers without this call
    // (cost 0). Admitted: every applying rule commits; its numbers after the call.
    const denied = firstDenied >= 0;
    for (let r = 0; r < this.ruleCount; r++) {
      if (!this.applies(r, methodId, toolId)) continue;
      const key = this.keyOf(r, methodId, toolId, client);
      const table = this.tables[r]!;
      if (denied) table.peek(key, 0, now, d);
      else if (commit) table.check(key, cost, now, d);
      else table.peek(key, cost, now, d);
      if (d.remaining < remaining) {
        remaining = d.remaining;
        least = r;
      }
      reset = Math.max(reset, d.resetMs);
    }
    out.remaining = remaining;
    out.resetMs = reset;
    if (denied) {
      out.allowed = false;
      out.retryAfterMs = never ? -1 : retry;
      out.ruleIndex = firstDenied;
      return firstDenied;
    }
    out.ruleIndex = least;
    return -1;
  }
}

export type { Algorithm };
