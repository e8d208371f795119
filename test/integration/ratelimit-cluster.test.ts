// Cluster mode end to end on a real redis-server: two server processes sharing one budget (counts
// within the documented bound), and Redis killed, paused and restarted under a running limiter.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ClusterLimiter, type ClusterDecision, type ClusterItem } from '../../src/ratelimit/cluster.js';
import type { Decision, RuleSpec } from '../../src/ratelimit/types.js';
import { useRedisServer } from '../helpers/redis-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const child = fileURLToPath(new URL('../fixtures/ratelimit/cluster-child.ts', import.meta.url));
const server = useRedisServer();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await sleep(10);
  }
}

interface ChildResult {
  admitted: number[];
  denied: number[];
  unavailable: number[];
}

/** Starts `n` cluster-child processes, releases them together, returns their counts. */
async function runChildren(n: number, config: object): Promise<ChildResult[]> {
  const procs = Array.from({ length: n }, () =>
    spawn(process.execPath, ['--import', 'tsx', child, JSON.stringify(config)], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const outs = procs.map(() => ({ stdout: '', stderr: '' }));
  const exits = procs.map(
    (p, i) =>
      new Promise<number | null>((resolve) => {
        p.stdout.setEncoding('utf8').on('data', (s: string) => (outs[i].stdout += s));
        p.stderr.setEncoding('utf8').on('data', (s: string) => (outs[i].stderr += s));
        p.on('exit', (code) => resolve(code));
      }),
  );
  const kill = setTimeout(() => procs.forEach((p) => p.kill('SIGKILL')), 25_000);
  try {
    await waitFor('both children ready', () => outs.every((o) => o.stdout.includes('ready\n')), 20_000).catch((err) => {
      throw new Error(`${err.message}\n${outs.map((o) => o.stderr).join('\n')}`);
    });
    for (const p of procs) p.stdin.end('go\n');
    const codes = await Promise.all(exits);
    expect(codes, outs.map((o) => o.stderr).join('\n')).toEqual(procs.map(() => 0));
    return outs.map((o) => JSON.parse(o.stdout.split('\n')[1]) as ChildResult);
  } finally {
    clearTimeout(kill);
  }
}

describe('two processes sharing one budget', () => {
  it('admit in total the limit, within N x leaseSize', async () => {
    const N = 2;
    const leaseSize = 20;
    // Windows far longer than the run, so the counts do not depend on timing: the sliding log admits
    // `limit` in all, and the token bucket refills less than one permit (10 h for 400) during the run.
    const rules: RuleSpec[] = [
      { name: 'log', scope: 'global', algorithm: 'sliding-window-log', limit: 400, windowMs: 600_000 },
      { name: 'bucket', scope: 'global', algorithm: 'token-bucket', limit: 400, windowMs: 36_000_000 },
    ];
    const results = await runChildren(N, { url: server().url, rules, leaseSize, durationMs: 1200 });
    for (let rule = 0; rule < rules.length; rule++) {
      const total = results.reduce((sum, r) => sum + r.admitted[rule], 0);
      const refill = rule === 1 ? 1 : 0;
      // Over-admission bound: limit + N x (leaseSize + cost - 1) with cost 1 (docs/ratelimit-cluster.md).
      expect(total).toBeLessThanOrEqual(rules[rule].limit + refill + N * leaseSize);
      // Under-admission: at most the permits still leased when the run ended.
      expect(total).toBeGreaterThanOrEqual(rules[rule].limit - N * leaseSize);
      expect(results.every((r) => r.unavailable[rule] === 0)).toBe(true);
      expect(results.reduce((sum, r) => sum + r.denied[rule], 0)).toBeGreaterThan(0);
    }
  });
});

describe('Redis dies mid-run', () => {
  const rules: RuleSpec[] = [{ name: 'calls', scope: 'client', algorithm: 'sliding-window-log', limit: 100_000, windowMs: 60_000 }];
  const items: ClusterItem[] = [{ rule: 0, key: 'k', cost: 1 }];

  /** Checks in a loop (leaseSize 1: every call asks Redis) until stopped; records outcomes and latencies. */
  function driver(l: ClusterLimiter) {
    const outcomes: string[] = [];
    let worst = 0;
    let stop = false;
    const done = (async () => {
      while (!stop) {
        const t0 = performance.now();
        const d: ClusterDecision = await l.check(items, performance.now());
        worst = Math.max(worst, performance.now() - t0);
        outcomes.push(d.reason ?? (d.allowed ? 'ok' : 'denied'));
        if (d.reason === 'redis_unavailable') {
          outcomes[outcomes.length - 1] += d.allowed ? ':allowed' : `:denied:${d.retryAfterMs > 0}`;
        }
        await sleep(2);
      }
    })();
    return {
      outcomes,
      count: (o: string) => outcomes.filter((x) => x === o).length,
      since: (mark: number, o: string) => outcomes.slice(mark).filter((x) => x === o).length,
      finish: async () => {
        stop = true;
        await done;
        return worst;
      },
    };
  }

  it("'open': the fallback decides promptly while Redis is down; health goes down then up", async () => {
    let fallbackCalls = 0;
    const fallback = (_items: readonly ClusterItem[], _now: number): Decision => {
      fallbackCalls++;
      return { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 0 };
    };
    const l = new ClusterLimiter({ redis: server().url, rules, leaseSize: 1, onRedisDown: 'open', fallback });
    const health: string[] = [];
    try {
      expect(l.health()).toMatchObject({ state: 'down', lastError: 'not connected yet' });
      await l.ready();
      await waitFor('health up once connected', () => l.health().state === 'up');
      l.on('health', (h) => health.push(h.state));
      const d = driver(l);
      await waitFor('calls admitted through Redis', () => d.count('ok') >= 5);
      await server().kill();
      await waitFor('health down', () => l.health().state === 'down');
      expect(l.health().lastError).toBeTruthy();
      await waitFor('fallback decisions', () => d.count('redis_unavailable:allowed') >= 5);
      await server().restart();
      await waitFor('health up', () => l.health().state === 'up', 15_000);
      const mark = d.outcomes.length;
      await waitFor('calls through Redis again', () => d.since(mark, 'ok') >= 5);
      const worst = await d.finish();
      expect(worst).toBeLessThan(1000);
      expect(fallbackCalls).toBe(d.count('redis_unavailable:allowed'));
      expect(health).toEqual(['down', 'up']);
    } finally {
      await l.close();
    }
  });

  it("'closed': calls are denied with redis_unavailable and a retry time, never hang, and recover", async () => {
    const l = new ClusterLimiter({ redis: server().url, rules, leaseSize: 1, onRedisDown: 'closed' });
    try {
      await l.ready();
      const d = driver(l);
      await waitFor('calls admitted through Redis', () => d.count('ok') >= 5);
      await server().kill();
      await waitFor('denials', () => d.count('redis_unavailable:denied:true') >= 5);
      expect(l.health().state).toBe('down');
      await server().restart();
      await waitFor('health up', () => l.health().state === 'up', 15_000);
      const mark = d.outcomes.length;
      await waitFor('calls through Redis again', () => d.since(mark, 'ok') >= 5);
      const worst = await d.finish();
      expect(worst).toBeLessThan(1000);
      expect(d.outcomes.every((o) => o === 'ok' || o === 'redis_unavailable:denied:true')).toBe(true);
    } finally {
      await l.close();
    }
  });

  it('a server that stops answering (SIGSTOP) costs a call at most the command timeout', async () => {
    const l = new ClusterLimiter({ redis: server().url, rules, leaseSize: 1, onRedisDown: 'closed', commandTimeoutMs: 50 });
    try {
      await l.ready();
      expect(await l.check(items, 0)).toMatchObject({ allowed: true });
      server().pause();
      try {
        const t0 = performance.now();
        const denied = await l.check(items, 1);
        expect(performance.now() - t0).toBeLessThan(1000);
        expect(denied).toMatchObject({ allowed: false, reason: 'redis_unavailable' });
        expect(l.health()).toMatchObject({ state: 'down', lastError: expect.stringMatching(/timed out/i) });
      } finally {
        server().resume();
      }
      // The connection never dropped: the next claim goes through and health is back up.
      let last: ClusterDecision | undefined;
      for (let i = 0; i < 200 && !last?.allowed; i++) {
        last = await l.check(items, 2);
        if (!last.allowed) await sleep(10);
      }
      expect(last).toMatchObject({ allowed: true });
      expect(l.health().state).toBe('up');
    } finally {
      await l.close();
    }
  });
});
