// `fastermcp serve` flags for rate limits (docs/ratelimit.md section 7): --limits FILE (JSON), and the
// shorthand --rate-limit-per-client N/SECONDS (a token bucket per client on tools/call: a burst of N,
// refilled to N every SECONDS).
import { readFileSync } from 'node:fs';
import type { LimitsOptions } from './admission.js';
import type { QuotaSpec } from './quota.js';
import { ALGORITHMS, SCOPES, type RuleSpec } from './types.js';

export interface LimitFlags {
  limitsFile?: string;
  rateLimitPerClient?: string;
  /** Cluster mode: the rules' budgets shared through this Redis. */
  redisUrl?: string;
  /** 'open' (default) or 'closed': what a call that needs Redis gets while it is down. */
  redisDown?: string;
}

/** The limits file: `{ "rules": [...], "quotas": [...], "costs": { "tools/list": 1 } }`. */
interface LimitsFile {
  rules?: unknown;
  quotas?: unknown;
  costs?: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, what: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new TypeError(`${what} must be an array of strings`);
  return v as string[];
}

function rule(v: unknown, i: number, file: string): RuleSpec {
  const what = `${file}: rules[${i}]`;
  if (!isObject(v)) throw new TypeError(`${what} must be an object`);
  const known = new Set(['name', 'scope', 'algorithm', 'limit', 'windowMs', 'methods', 'tools', 'maxKeys']);
  for (const k of Object.keys(v)) if (!known.has(k)) throw new TypeError(`${what}: unknown field ${JSON.stringify(k)}`);
  if (!ALGORITHMS.includes(v.algorithm as never)) throw new TypeError(`${what}: algorithm must be one of ${ALGORITHMS.join(', ')}`);
  if (!SCOPES.includes(v.scope as never)) throw new TypeError(`${what}: scope must be one of ${SCOPES.join(', ')}`);
  return {
    name: v.name as string,
    scope: v.scope as RuleSpec['scope'],
    algorithm: v.algorithm as RuleSpec['algorithm'],
    limit: v.limit as number,
    windowMs: v.windowMs as number,
    ...(v.methods === undefined ? {} : { methods: stringList(v.methods, `${what}.methods`)! }),
    ...(v.tools === undefined ? {} : { tools: stringList(v.tools, `${what}.tools`)! }),
    ...(v.maxKeys === undefined ? {} : { maxKeys: v.maxKeys as number }),
  };
}

function quota(v: unknown, i: number, file: string): QuotaSpec {
  const what = `${file}: quotas[${i}]`;
  if (!isObject(v)) throw new TypeError(`${what} must be an object`);
  const known = new Set(['name', 'period', 'limit', 'methods', 'tools', 'maxKeys']);
  for (const k of Object.keys(v)) if (!known.has(k)) throw new TypeError(`${what}: unknown field ${JSON.stringify(k)}`);
  return {
    name: v.name as string,
    period: v.period as QuotaSpec['period'],
    limit: v.limit as number,
    ...(v.methods === undefined ? {} : { methods: stringList(v.methods, `${what}.methods`)! }),
    ...(v.tools === undefined ? {} : { tools: stringList(v.tools, `${what}.tools`)! }),
    ...(v.maxKeys === undefined ? {} : { maxKeys: v.maxKeys as number }),
  };
}

/** `N/SECONDS` -> a per-client token bucket on tools/call. */
export function perClientRule(text: string): RuleSpec {
  const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(text.trim());
  const n = m === null ? NaN : Number(m[1]);
  const seconds = m === null ? NaN : Number(m[2]);
  if (!Number.isSafeInteger(n) || n < 1 || !(seconds > 0)) {
    throw new TypeError(`--rate-limit-per-client takes N/SECONDS (e.g. 10/1: bursts of 10, refilled to 10 every second), got ${JSON.stringify(text)}`);
  }
  return { name: 'per-client', scope: 'client', algorithm: 'token-bucket', limit: n, windowMs: seconds * 1000, methods: ['tools/call'] };
}

/** The limits the flags ask for, or undefined when none is set. Values are checked again by server.limits(). */
export function limitsFromFlags(flags: LimitFlags): LimitsOptions | undefined {
  const rules: RuleSpec[] = [];
  let quotas: QuotaSpec[] = [];
  let costs: Record<string, number> | undefined;
  if (flags.limitsFile !== undefined) {
    const file = flags.limitsFile;
    let parsed: LimitsFile;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as LimitsFile;
    } catch (e) {
      throw new TypeError(`--limits ${file}: ${(e as Error).message}`);
    }
    if (!isObject(parsed)) throw new TypeError(`--limits ${file}: expected a JSON object { "rules": [...], "quotas": [...], "costs": {...} }`);
    for (const k of Object.keys(parsed)) if (!['rules', 'quotas', 'costs'].includes(k)) throw new TypeError(`--limits ${file}: unknown field ${JSON.stringify(k)}`);
    if (parsed.rules !== undefined && !Array.isArray(parsed.rules)) throw new TypeError(`--limits ${file}: rules must be an array`);
    if (parsed.quotas !== undefined && !Array.isArray(parsed.quotas)) throw new TypeError(`--limits ${file}: quotas must be an array`);
    if (parsed.costs !== undefined && !isObject(parsed.costs)) throw new TypeError(`--limits ${file}: costs must be an object of method -> cost`);
    rules.push(...((parsed.rules as unknown[] | undefined) ?? []).map((r, i) => rule(r, i, file)));
    quotas = ((parsed.quotas as unknown[] | undefined) ?? []).map((q, i) => quota(q, i, file));
    costs = parsed.costs as Record<string, number> | undefined;
  }
  if (flags.rateLimitPerClient !== undefined) rules.push(perClientRule(flags.rateLimitPerClient));
  if (flags.redisDown !== undefined && flags.redisUrl === undefined) throw new TypeError('--redis-down applies with --redis-url');
  if (flags.redisDown !== undefined && flags.redisDown !== 'open' && flags.redisDown !== 'closed') {
    throw new TypeError(`--redis-down takes open or closed, got ${JSON.stringify(flags.redisDown)}`);
  }
  if (flags.redisUrl !== undefined) {
    if (!/^rediss?:\/\//.test(flags.redisUrl)) throw new TypeError(`--redis-url takes a redis:// or rediss:// URL, got ${JSON.stringify(flags.redisUrl)}`);
    // Without rules or quotas the URL is for shared sessions only (docs/scale-out.md).
    if (rules.length === 0 && quotas.length > 0) throw new TypeError('--redis-url shares rate-limit rules across processes: give rules with --limits or --rate-limit-per-client');
  }
  if (rules.length === 0 && quotas.length === 0) return undefined;
  return {
    rules,
    quotas,
    ...(costs === undefined ? {} : { costs }),
    ...(flags.redisUrl === undefined ? {} : { redis: { url: flags.redisUrl, onRedisDown: (flags.redisDown ?? 'open') as 'open' | 'closed' } }),
  };
}
