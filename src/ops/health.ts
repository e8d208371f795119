// Liveness and readiness of one server (docs/metrics.md, "Health"): /healthz says the process answers;
// /readyz says it should get traffic, with every check and why. Built-in checks:
//   engine    the JSON-RPC engine in use: the native addon, or the pure-JS fallback (both are ready;
//             the detail says which and why)
//   redis     cluster-mode rate limits: the shared Redis is reachable (only when the server uses one)
//   sandbox   every sandboxed tool has started its processes and none is unavailable (only with a sandbox)
//   shutdown  the server is not draining (503 from the moment close() begins)
// Others add their own with addCheck() (a Redis session store, a database a tool needs, ...).
import { runtimeInfo } from '../runtime.js';
import type { Sandbox } from '../sandbox/parent.js';
import type { McpServer } from '../server/server.js';

export interface CheckResult {
  readonly ok: boolean;
  /** Why, in a few words an operator can act on. */
  readonly detail: string;
}

export type HealthCheck = () => CheckResult | Promise<CheckResult>;

export interface Readiness {
  readonly ready: boolean;
  /** Every check that applies now, by name. */
  readonly checks: Readonly<Record<string, CheckResult>>;
}

export interface HealthOptions {
  /** A check that has not answered after this long fails (default 2000 ms). */
  checkTimeoutMs?: number;
  /** Sandboxes to check besides server.sandbox. */
  sandboxes?: readonly Sandbox[];
}

export interface Health {
  /** Adds a readiness check; a check that throws or rejects fails with its message. Returns the removal. */
  addCheck(name: string, check: HealthCheck): () => void;
  /** The server is going away: readiness fails from now on (liveness does not). */
  drain(): void;
  readonly draining: boolean;
  /** Liveness: the process answers. */
  live(): { status: 'ok' };
  /** Readiness: every check, run now (in parallel, each bounded by checkTimeoutMs). */
  ready(): Promise<Readiness>;
}

const NAME = /^[a-z][a-z0-9_.-]*$/;

function engineCheck(): CheckResult {
  const info = runtimeInfo();
  if (info.implementation === 'native') return { ok: true, detail: `native addon loaded${info.binaryPath === undefined ? '' : ` from ${info.binaryPath}`}` };
  if (process.env['FASTERMCP_FORCE_JS'] === '1') return { ok: true, detail: 'pure-JS fallback, chosen by FASTERMCP_FORCE_JS=1' };
  const why = info.loadErrors.length === 0 ? 'the addon is not available' : info.loadErrors[0]!;
  return { ok: true, detail: `pure-JS fallback (${why})` };
}

function sandboxCheck(sandboxes: readonly Sandbox[]): CheckResult {
  let ok = true;
  const parts: string[] = [];
  for (const sandbox of sandboxes) {
    if (sandbox.warming > 0) {
      ok = false;
      parts.push(`${sandbox.warming} tool(s) still starting`);
    }
    for (const [tool, m] of Object.entries(sandbox.metrics())) {
      if (m.unavailable !== null) {
        ok = false;
        parts.push(`${tool}: unavailable (${m.unavailable})`);
      } else {
        parts.push(`${tool}: ${m.live} process(es), ${m.idle} idle`);
      }
    }
  }
  return { ok, detail: parts.length === 0 ? 'no sandboxed tool' : parts.join('; ') };
}

function timeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`check ${name} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Health of `server` (its Redis and sandbox checks come and go with them). Without a server (the primary
 * process of a multi-process server, say) only engine, shutdown and added checks run.
 */
export function createHealth(server: McpServer | undefined, options: HealthOptions = {}): Health {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`checkTimeoutMs must be a positive number, got ${JSON.stringify(options.checkTimeoutMs)}`);
  const extra = new Map<string, HealthCheck>();
  let draining = false;

  /** The built-in checks that apply now (Redis and the sandbox may appear after the health was made). */
  const builtIn = (): [string, HealthCheck][] => {
    const checks: [string, HealthCheck][] = [['engine', engineCheck]];
    const cluster = server?.admission?.cluster;
    if (cluster !== undefined) {
      checks.push([
        'redis',
        () => {
          const h = cluster.health();
          return h.state === 'up'
            ? { ok: true, detail: 'rate-limit Redis reachable' }
            : { ok: false, detail: `rate-limit Redis unreachable since ${new Date(h.since).toISOString()}${h.lastError === undefined ? '' : ` (${h.lastError})`}` };
        },
      ]);
    }
    const own = server?.sandbox;
    const sandboxes = [...new Set([...(options.sandboxes ?? []), ...(own === undefined ? [] : [own])])];
    if (sandboxes.length > 0) checks.push(['sandbox', () => sandboxCheck(sandboxes)]);
    checks.push(['shutdown', () => (draining ? { ok: false, detail: 'draining: the server is shutting down' } : { ok: true, detail: 'serving' })]);
    return checks;
  };

  const run = async (name: string, check: HealthCheck): Promise<CheckResult> => {
    try {
      const result = await timeout(Promise.resolve().then(check), timeoutMs, name);
      if (typeof result?.ok !== 'boolean') return { ok: false, detail: `check ${name} returned ${JSON.stringify(result)}, not { ok, detail }` };
      return { ok: result.ok, detail: String(result.detail ?? '') };
    } catch (e) {
      return { ok: false, detail: e instanceof Error ? e.message : String(e) };
    }
  };

  return {
    addCheck(name, check) {
      if (typeof name !== 'string' || !NAME.test(name)) throw new TypeError(`A check name must be lower case letters, digits, _ . or - (starting with a letter), got ${JSON.stringify(name)}`);
      if (typeof check !== 'function') throw new TypeError(`Check ${name} must be a function returning { ok, detail }`);
      if (extra.has(name) || ['engine', 'redis', 'sandbox', 'shutdown'].includes(name)) throw new Error(`A check named ${JSON.stringify(name)} already exists`);
      extra.set(name, check);
      return () => {
        if (extra.get(name) === check) extra.delete(name);
      };
    },
    drain() {
      draining = true;
    },
    get draining() {
      return draining;
    },
    live: () => ({ status: 'ok' }),
    async ready() {
      const all = [...builtIn(), ...extra];
      const results = await Promise.all(all.map(([name, check]) => run(name, check)));
      const checks: Record<string, CheckResult> = {};
      all.forEach(([name], i) => (checks[name] = results[i]!));
      return { ready: results.every((r) => r.ok), checks };
    },
  };
}
