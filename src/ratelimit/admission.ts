// Admission (docs/ratelimit.md section 5): the server's rules and quotas applied to each request the
// transports read, keyed from what the JSON-RPC engine already found — the method's route slot and the
// routed name's slot (tools, prompts and resources get ids from one counter, set in every attached
// router's name tables) — plus the client the transport knows (the principal's subject, else the remote
// address; one constant client on stdio). A denied request is answered without reaching dispatch: a
// JSON-RPC error (-32029, data.retryAfterMs) and, on HTTP, 429 with Retry-After and the IETF
// RateLimit-Policy / RateLimit fields (draft-ietf-httpapi-ratelimit-headers).
import type { NameTable, Router } from '../jsonrpc/index.js';
import { NAME_TABLE_PROMPTS, NAME_TABLE_RESOURCES, NAME_TABLE_TOOLS } from '../jsonrpc/index.js';
import { ErrorCode } from '../server/protocol.js';
import type { McpServer } from '../server/server.js';
import { ClusterLimiter, type ClusterDecision, type ClusterItem, type RedisDownPolicy } from './cluster.js';
import { createRateLimiter, createRuleSet, type RateLimiter, type RuleSet } from './index.js';
import { QuotaCounter, type QuotaSpec, type QuotaUsage } from './quota.js';
import { SCOPES, type RuleSpec } from './types.js';

/** What server.limits() takes. */
export interface LimitsOptions {
  /** Rate-limit rules; a call is admitted only if every rule that applies to it admits it. */
  readonly rules?: readonly RuleSpec[];
  /** Long-horizon budgets per client (UTC day or month), checked with the rules. */
  readonly quotas?: readonly QuotaSpec[];
  /** What one call of a method costs (default 1); a tool's own `cost` wins for tools/call. */
  readonly costs?: Readonly<Record<string, number>>;
  /**
   * The rule set's implementation. Default: native when the addon loads and the engine can admit by
   * itself (no quotas, no cluster mode: section 8 of docs/ratelimit.md), else the pure-JS twin (a check
   * from JS costs less there than a crossing into the addon).
   */
  readonly implementation?: 'native' | 'js';
  /**
   * Cluster mode (docs/ratelimit-cluster.md): the rules' budgets shared by every process using this
   * Redis, through local leases. Quotas stay per process.
   */
  readonly redis?: RedisLimitsOptions;
}

export interface RedisLimitsOptions {
  /** redis:// or rediss:// URL. */
  readonly url: string;
  /** A call that needs Redis while it is down: 'open' (default) decides it with per-process limits, 'closed' refuses it (503). */
  readonly onRedisDown?: RedisDownPolicy;
  readonly leaseSize?: number;
  readonly leaseTtlMs?: number;
  readonly commandTimeoutMs?: number;
  readonly prefix?: string;
}

/** What a denied request is answered with. */
export interface Denial {
  /** The whole JSON-RPC error response. */
  readonly reply: string;
  /** HTTP status (429) and header fields for an HTTP transport. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** The `denied` key of calls refused while Redis is down under onRedisDown 'closed' (no rule refused them). */
export const REDIS_UNAVAILABLE = '(redis unavailable)';

/** The JSON-RPC error code of a rate-limited or over-quota request (docs/ratelimit.md). */
export const RATE_LIMITED = ErrorCode.RateLimited;

const TABLES: readonly NameTable[] = [NAME_TABLE_TOOLS, NAME_TABLE_PROMPTS, NAME_TABLE_RESOURCES];

function checkedCost(value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 1e9) {
    throw new RangeError(`${what} must be an integer from 1 to 1e9, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

/** Structured-field string (RFC 9651 sf-string): printable ASCII, with " and \ escaped. */
function sfString(s: string): string {
  return `"${s.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&')}"`;
}

/**
 * The -32029 reply of a policy around the id and the retry-after number: `{"jsonrpc":"2.0","id":` ID head MS
 * middle MS tail, or ID never when the call costs more than the policy can ever admit.
 */
function replyParts(policy: string, what: string): [string, string, string, string] {
  const prefix = `,"error":{"code":${RATE_LIMITED},"message":`;
  const message = JSON.stringify(`Rate limit ${JSON.stringify(policy)} (${what}) exceeded; retry after `);
  const data = `"data":{"policy":${JSON.stringify(policy)},"retryAfterMs":`;
  const never = JSON.stringify(`Rate limit ${JSON.stringify(policy)} (${what}) can never admit this call: it costs more than the limit`);
  return [prefix + message.slice(0, -1), ` ms",${data}`, '}}}', `${prefix}${never},${data}null}}}`];
}

function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

export class Admission {
  readonly rules: readonly RuleSpec[];
  readonly quotas: readonly QuotaCounter[];
  private readonly set: RuleSet;
  private readonly methodSlots: ReadonlyMap<string, number>;
  private readonly routers = new Set<Router>();
  /** Name ids per table, from one counter (an id is never reused, so a key never changes meaning). */
  private readonly ids: Map<string, number>[] = [new Map(), new Map(), new Map()];
  private nextId = 0;
  /** Which quotas apply, per "methodSlot:nameId" (computed on first use). */
  private readonly quotaMatch = new Map<string, readonly QuotaCounter[]>();
  /** RateLimit-Policy per "methodSlot:nameId". */
  private readonly policyText = new Map<string, string>();
  /** Applying rule indexes per "methodSlot:nameId" (cluster mode builds its items from them). */
  private readonly applying = new Map<string, readonly number[]>();
  private readonly unlisten: () => void;
  /** Cluster mode: the shared budgets, and the per-process limiters that decide while Redis is down. */
  readonly cluster: ClusterLimiter | undefined;
  private readonly local: readonly RateLimiter[];
  /** Requests admitted, for operators (src/ops/metrics.ts reads it when scraped). */
  admitted = 0;
  /** Requests refused, by the rule or quota that refused them (REDIS_UNAVAILABLE: Redis down under 'closed'). */
  readonly denied = new Map<string, number>();

  constructor(
    private readonly server: McpServer,
    options: LimitsOptions,
    methods: readonly string[],
  ) {
    this.methodSlots = new Map(methods.map((m, i) => [m, i]));
    this.rules = (options.rules ?? []).map((r) => Object.freeze({ ...r }));
    const names = new Set<string>();
    for (const r of this.rules) {
      if (typeof r.name !== 'string' || r.name === '') throw new TypeError('Every rate-limit rule needs a non-empty name');
      if (names.has(r.name)) throw new TypeError(`Two rate-limit rules or quotas are named ${JSON.stringify(r.name)}`);
      names.add(r.name);
      if (!SCOPES.includes(r.scope)) throw new TypeError(`Rule ${JSON.stringify(r.name)}: scope must be one of ${SCOPES.join(', ')}, got ${JSON.stringify(r.scope)}`);
    }
    this.quotas = (options.quotas ?? []).map((q) => {
      if (names.has(q.name)) throw new TypeError(`Two rate-limit rules or quotas are named ${JSON.stringify(q.name)}`);
      names.add(q.name);
      return new QuotaCounter(Object.freeze({ ...q }));
    });
    for (const q of this.quotas) this.methodIds(q.spec.methods, `Quota ${JSON.stringify(q.spec.name)}`);
    this.set = createRuleSet(
      this.rules.map((r) => ({ spec: { algorithm: r.algorithm, limit: r.limit, windowMs: r.windowMs }, scope: r.scope, ...(r.maxKeys === undefined ? {} : { maxKeys: r.maxKeys }) })),
      { implementation: options.implementation ?? ((options.quotas ?? []).length === 0 && options.redis === undefined ? 'auto' : 'js') },
    );
    for (const [method, value] of Object.entries(options.costs ?? {})) {
      const slot = this.methodSlots.get(method);
      if (slot === undefined) throw new TypeError(`costs: ${JSON.stringify(method)} is not an MCP request method`);
      this.set.setMethodCost(slot, checkedCost(value, `costs[${JSON.stringify(method)}]`));
    }
    this.sync();
    this.unlisten = server.addListener({ listChanged: () => this.sync(), resourceUpdated: () => {} });
    const redis = options.redis;
    if (redis !== undefined && this.rules.length > 0) {
      this.local = this.rules.map((r) => createRateLimiter({ algorithm: r.algorithm, limit: r.limit, windowMs: r.windowMs, ...(r.maxKeys === undefined ? {} : { maxKeys: r.maxKeys }) }, { implementation: options.implementation }));
      this.cluster = new ClusterLimiter({
        redis: redis.url,
        rules: this.rules,
        onRedisDown: redis.onRedisDown ?? 'open',
        fallback: (items, now) => this.fallback(items, now),
        ...(redis.leaseSize === undefined ? {} : { leaseSize: redis.leaseSize }),
        ...(redis.leaseTtlMs === undefined ? {} : { leaseTtlMs: redis.leaseTtlMs }),
        ...(redis.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: redis.commandTimeoutMs }),
        ...(redis.prefix === undefined ? {} : { prefix: redis.prefix }),
      });
    } else {
      this.local = [];
      this.cluster = undefined;
    }
  }

  /** Redis down, 'open': every item decided by this process's own limiter for its rule (all or nothing). */
  private fallback(items: readonly ClusterItem[], now: number): ClusterDecision {
    for (const item of items) {
      const limiter = this.local[item.rule]!;
      if (!limiter.peek(item.key, Math.max(1, item.cost), now)) {
        // Copied field by field: a native limiter's decision reads its fields from a shared array.
        const d = limiter.decision;
        return { allowed: false, remaining: d.remaining, retryAfterMs: d.retryAfterMs, resetMs: d.resetMs, rule: item.rule };
      }
    }
    let remaining = Infinity;
    for (const item of items) {
      const limiter = this.local[item.rule]!;
      limiter.check(item.key, Math.max(1, item.cost), now);
      remaining = Math.min(remaining, limiter.decision.remaining);
    }
    return { allowed: true, remaining: remaining === Infinity ? -1 : remaining, retryAfterMs: 0, resetMs: 0, rule: -1 };
  }

  /** The method slots a rule's `methods` names (null: every method). */
  private methodIds(methods: readonly string[] | undefined, what: string): number[] | null {
    const list = methods ?? ['tools/call'];
    if (list.includes('*')) return null;
    return list.map((m) => {
      const slot = this.methodSlots.get(m);
      if (slot === undefined) throw new TypeError(`${what}: ${JSON.stringify(m)} is not an MCP request method`);
      return slot;
    });
  }

  /** Registered names, their ids in every attached router, the rules' match tables and tool costs. */
  private sync(): void {
    const current: Map<string, number>[] = [new Map(), new Map(), new Map()];
    const costs = new Map<number, number>();
    const take = (t: number, name: string): number => {
      const id = this.ids[t]!.get(name) ?? this.nextId++;
      current[t]!.set(name, id);
      return id;
    };
    for (const tool of this.server.tools.enabled()) {
      const id = take(0, tool.key);
      const c = (tool.definition as { cost?: number }).cost;
      if (c !== undefined) costs.set(id, c);
    }
    for (const prompt of this.server.prompts.enabled()) take(1, prompt.key);
    for (const resource of this.server.resources.enabled()) take(2, resource.key);
    for (let t = 0; t < 3; t++) {
      for (const [name] of this.ids[t]!) {
        if (!current[t]!.has(name)) for (const router of this.routers) router.deleteName(TABLES[t]!, name);
      }
      for (const [name, id] of current[t]!) for (const router of this.routers) router.setName(TABLES[t]!, name, id);
      this.ids[t] = current[t]!;
    }
    for (const [id, c] of costs) this.set.setToolCost(id, c);
    this.rules.forEach((r, i) => {
      const tools = r.tools === undefined ? null : r.tools.flatMap((name) => TABLES.map((_, t) => this.ids[t]!.get(name)).filter((x): x is number => x !== undefined));
      this.set.setMatch(i, this.methodIds(r.methods, `Rule ${JSON.stringify(r.name)}`), tools);
    });
    this.quotaMatch.clear();
    this.policyText.clear();
    this.applying.clear();
  }

  /** Fills `router`'s name tables with the ids of every registered name, now and after each change. */
  attach(router: Router): void {
    if (this.routers.has(router)) return;
    this.routers.add(router);
    for (let t = 0; t < 3; t++) for (const [name, id] of this.ids[t]!) router.setName(TABLES[t]!, name, id);
  }

  /** The name a routed id stands for (tools first). */
  private nameOf(id: number): string | undefined {
    for (const table of this.ids) for (const [name, x] of table) if (x === id) return name;
    return undefined;
  }

  private quotasFor(methodSlot: number, nameId: number): readonly QuotaCounter[] {
    const key = `${methodSlot}:${nameId}`;
    let list = this.quotaMatch.get(key);
    if (list === undefined) {
      const name = nameId >= 0 ? this.nameOf(nameId) : undefined;
      list = this.quotas.filter((q) => {
        const methods = q.spec.methods ?? ['tools/call'];
        if (!methods.includes('*') && !methods.some((m) => this.methodSlots.get(m) === methodSlot)) return false;
        return q.spec.tools === undefined || (name !== undefined && q.spec.tools.includes(name));
      });
      this.quotaMatch.set(key, list);
    }
    return list;
  }

  /** The rules that apply to a method and routed name (by index), as the rule set's match tables say. */
  private rulesFor(methodSlot: number, nameId: number): readonly number[] {
    const key = `${methodSlot}:${nameId}`;
    let list = this.applying.get(key);
    if (list === undefined) {
      const name = nameId >= 0 ? this.nameOf(nameId) : undefined;
      list = this.rules.flatMap((r, i) => {
        const methods = r.methods ?? ['tools/call'];
        if (!methods.includes('*') && !methods.some((m) => this.methodSlots.get(m) === methodSlot)) return [];
        return r.tools === undefined || (name !== undefined && r.tools.includes(name)) ? [i] : [];
      });
      this.applying.set(key, list);
    }
    return list;
  }

  /** The key a rule counts a call under, in cluster mode (the local rule set keys by ids instead). */
  private clusterKey(rule: RuleSpec, methodSlot: number, nameId: number, client: string): string {
    switch (rule.scope) {
      case 'global':
        return '*';
      case 'client':
        return client;
      case 'tool':
        return this.nameOf(nameId) ?? '';
      case 'client-tool':
        return `${client}\n${this.nameOf(nameId) ?? ''}`;
      case 'method':
        return String(methodSlot);
    }
  }

  /**
   * Whether a request may run: every applying rule and quota admits it (and then all are charged), or
   * none is charged. undefined: admitted; a Denial: refused, with its answer. In cluster mode the answer
   * may be a promise (a lease had to be claimed from Redis); it never rejects.
   */
  admit(methodSlot: number, nameId: number, client: string, idRaw: string, now = Date.now()): Denial | undefined | Promise<Denial | undefined> {
    const cost = this.set.costOf(methodSlot, nameId);
    const quotas = this.quotas.length === 0 ? undefined : this.quotasFor(methodSlot, nameId);
    if (quotas !== undefined) {
      const refused = this.quotaDenial(quotas, client, cost, now, idRaw, methodSlot, nameId);
      if (refused !== undefined) return refused;
    }
    if (this.cluster !== undefined) {
      const applying = this.rulesFor(methodSlot, nameId);
      if (applying.length > 0) {
        const items = applying.map((i) => ({ rule: i, key: this.clusterKey(this.rules[i]!, methodSlot, nameId, client), cost }));
        const decided = this.cluster.check(items, now);
        if (decided instanceof Promise) {
          return decided.then((d) => {
            if (!d.allowed) return this.clusterDenial(d, idRaw, methodSlot, nameId);
            // Another call may have used the quota while this one waited for Redis.
            const late = quotas === undefined ? undefined : this.quotaDenial(quotas, client, cost, Date.now(), idRaw, methodSlot, nameId);
            if (late === undefined && quotas !== undefined) for (const q of quotas) q.add(client, cost, now);
            if (late === undefined) this.admitted++;
            return late;
          });
        }
        if (!decided.allowed) return this.clusterDenial(decided, idRaw, methodSlot, nameId);
      }
    } else {
      const rule = this.set.check(methodSlot, nameId, client, cost, now);
      if (rule >= 0) {
        const d = this.set.decision;
        const r = this.rules[rule]!;
        return this.render(idRaw, r.name, d.retryAfterMs, d.remaining, `${r.limit} per ${r.windowMs} ms`, methodSlot, nameId, seconds(d.resetMs));
      }
    }
    if (quotas !== undefined) for (const q of quotas) q.add(client, cost, now);
    this.admitted++;
    return undefined;
  }

  private deny(policy: string): void {
    this.denied.set(policy, (this.denied.get(policy) ?? 0) + 1);
  }

  private quotaDenial(quotas: readonly QuotaCounter[], client: string, cost: number, now: number, idRaw: string, methodSlot: number, nameId: number): Denial | undefined {
    for (const q of quotas) {
      if (!q.fits(client, cost, now)) {
        const what = `${q.spec.period === 'day' ? 'daily' : 'monthly'} quota of ${q.spec.limit}`;
        return this.render(idRaw, q.spec.name, cost > q.spec.limit ? -1 : q.retryAfterMs(now), 0, what, methodSlot, nameId, undefined);
      }
    }
    return undefined;
  }

  private clusterDenial(d: ClusterDecision, idRaw: string, methodSlot: number, nameId: number): Denial {
    if (d.rule < 0) {
      // Redis is down and the policy is 'closed': no rule refused the call; the limits could not be checked.
      this.deny(REDIS_UNAVAILABLE);
      const retry = Math.max(1, Math.ceil(d.retryAfterMs));
      const message = `Rate limits cannot be checked (Redis is unavailable) and this server refuses calls then; retry after ${retry} ms`;
      return {
        reply: `{"jsonrpc":"2.0","id":${idRaw},"error":{"code":${RATE_LIMITED},"message":${JSON.stringify(message)},"data":{"policy":null,"reason":"redis_unavailable","retryAfterMs":${retry}}}}`,
        status: 503,
        headers: { 'Retry-After': String(Math.max(1, seconds(retry))) },
      };
    }
    const r = this.rules[d.rule]!;
    return this.render(idRaw, r.name, d.retryAfterMs, d.remaining, `${r.limit} per ${r.windowMs} ms`, methodSlot, nameId, seconds(d.resetMs));
  }

  private render(
    idRaw: string,
    policy: string,
    retryAfterMs: number,
    remaining: number,
    what: string,
    methodSlot: number,
    nameId: number,
    resetSeconds: number | undefined,
  ): Denial {
    this.deny(policy);
    const [head, middle, tail, never] = replyParts(policy, what);
    const reply = retryAfterMs < 0 ? `{"jsonrpc":"2.0","id":${idRaw}${never}` : `{"jsonrpc":"2.0","id":${idRaw}${head}${retryAfterMs}${middle}${retryAfterMs}${tail}`;
    return { reply, status: 429, headers: this.headers(policy, retryAfterMs, remaining, methodSlot, nameId, resetSeconds) };
  }

  private headers(policy: string, retryAfterMs: number, remaining: number, methodSlot: number, nameId: number, resetSeconds: number | undefined): Record<string, string> {
    const never = retryAfterMs < 0;
    const headers: Record<string, string> = {};
    if (!never) headers['Retry-After'] = String(Math.max(1, seconds(retryAfterMs)));
    const policies = this.policies(methodSlot, nameId);
    if (policies !== '') headers['RateLimit-Policy'] = policies;
    headers['RateLimit'] = `${sfString(policy)};r=${Math.max(0, Math.floor(remaining))};t=${resetSeconds ?? seconds(never ? 0 : retryAfterMs)}`;
    return headers;
  }

  /**
   * Whether the native engine can admit requests itself, in the same crossing as framing and scanning
   * (docs/ratelimit.md section 8): the rule set is native, and there are no quotas and no cluster mode
   * (both are decided here in TS).
   */
  get fusable(): boolean {
    return this.quotas.length === 0 && this.cluster === undefined && this.set.implementation === 'native';
  }

  /** The native rule set's handle, for Engine.setAdmission(). */
  get nativeRuleSet(): object {
    return (this.set as unknown as { raw: object }).raw;
  }

  /** Per rule, the -32029 reply around the id and the retry-after number: the same bytes as render(). */
  replyParts(): string[][] {
    return this.rules.map((r) => replyParts(r.name, `${r.limit} per ${r.windowMs} ms`));
  }

  /** The denial of a request the engine refused (a FLAG_LIMITED record at `r`, its reply already written). */
  denialOf(rec: Int32Array, r: number, reply: string, fields: { rule: number; retryAfter: number; remaining: number; reset: number; slot: number; nameSlot: number }): Denial {
    const rule = this.rules[rec[r + fields.rule]!]!;
    const retryAfterMs = rec[r + fields.retryAfter]!;
    this.deny(rule.name);
    return { reply, status: 429, headers: this.headers(rule.name, retryAfterMs, rec[r + fields.remaining]!, rec[r + fields.slot]!, rec[r + fields.nameSlot]!, seconds(rec[r + fields.reset]!)) };
  }

  /** RateLimit-Policy: every rule and quota that applies to this method and name. */
  private policies(methodSlot: number, nameId: number): string {
    const key = `${methodSlot}:${nameId}`;
    let text = this.policyText.get(key);
    if (text === undefined) {
      const items: string[] = [];
      for (const i of this.rulesFor(methodSlot, nameId)) {
        const r = this.rules[i]!;
        items.push(`${sfString(r.name)};q=${r.limit};w=${Math.max(1, seconds(r.windowMs))}`);
      }
      for (const q of this.quotasFor(methodSlot, nameId)) {
        items.push(`${sfString(q.spec.name)};q=${q.spec.limit};w=${q.spec.period === 'day' ? 86_400 : 2_592_000}`);
      }
      text = items.join(', ');
      this.policyText.set(key, text);
    }
    return text;
  }

  /** The operator's view of one client's quotas in the current periods. */
  usage(client: string, now = Date.now()): QuotaUsage[] {
    return this.quotas.map((q) => q.usage(client, now));
  }

  /** Every client with quota usage in the current periods. */
  quotaClients(now = Date.now()): string[] {
    return [...new Set(this.quotas.flatMap((q) => q.clients(now)))];
  }

  close(): void {
    this.unlisten();
    this.routers.clear();
    this.cluster?.close();
  }
}
