// `fastermcp serve --workers N` (src/multicore/): N processes behind one port. Requests reach every
// worker; a rolling restart (SIGHUP) replaces them one at a time while calls keep succeeding and a call
// in flight finishes on its old worker; a worker that dies is replaced; SIGTERM drains and exits 0
// leaving no process behind. Runs the built CLI (dist/cli.js) as a real process tree.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePromText, samples } from '../helpers/prom-text.js';
import type { Families } from '../helpers/prom-text.js';
import { CLI, alive, callPid, exited, killClusters, startCluster, started } from '../helpers/cli-cluster.js';

afterEach(killClusters);

describe('fastermcp serve --workers', () => {
  it('spreads connections over every worker, none of them the primary', async () => {
    const c = await startCluster(2);
    const pids = new Set<number>();
    for (let i = 0; i < 20; i++) pids.add(await callPid(c.url, 'pid'));
    expect(pids.size).toBe(2);
    expect(pids.has(c.child.pid!)).toBe(false);
    c.child.kill('SIGTERM');
    expect(await exited(c.child)).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('SIGHUP restarts the workers one at a time: no call fails, a call in flight finishes on its old worker', async () => {
    const c = await startCluster(2);
    const before = new Set<number>();
    for (let i = 0; i < 10; i++) before.add(await callPid(c.url, 'pid'));
    expect(before.size).toBe(2);
    // Keep-alive clients too: their connections to a draining worker are closed after a response.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
    const inFlight = callPid(c.url, 'slow-pid');
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(c.child.pid!, 'SIGHUP');
    const done = c.waitFor(/rolling restart done/);
    let finished = false;
    void done.then(() => (finished = true), () => (finished = true));
    const failures: string[] = [];
    let calls = 0;
    const after = new Set<number>();
    const loop = async (agent: Agent | false): Promise<void> => {
      while (!finished && calls < 5000) {
        calls++;
        try {
          const pid = await callPid(c.url, 'pid', agent);
          if (!before.has(pid)) after.add(pid);
        } catch (e) {
          failures.push(`${agent === false ? 'new connection' : 'keep-alive'}: ${(e as Error).message}`);
        }
      }
    };
    await Promise.all([loop(false), loop(false), loop(keepAlive), loop(keepAlive)]);
    await done;
    keepAlive.destroy();
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(10);
    // The call that was running when the restart began finished where it started.
    expect(before.has(await inFlight)).toBe(true);
    const now = new Set<number>();
    for (let i = 0; i < 10; i++) now.add(await callPid(c.url, 'pid'));
    expect(now.size).toBe(2);
    for (const pid of now) expect(before.has(pid)).toBe(false);
    for (const pid of before) expect(alive(pid)).toBe(false);
    c.child.kill('SIGTERM');
    expect(await exited(c.child)).toBe(0);
  });

  it('back-to-back rolling restarts under load: every connection gets its answer', async () => {
    // A connection the primary hands to a worker that is just exiting must reach a sibling, not hang
    // (node:cluster keeps it until the worker answers; see leaveCluster in src/multicore/worker.ts).
    const c = await startCluster(2);
    const restarts = 8;
    let done = false;
    let calls = 0;
    const failures: string[] = [];
    const loop = async (): Promise<void> => {
      while (!done) {
        calls++;
        await callPid(c.url, 'pid', false, 5000).catch((e: Error) => failures.push(e.message));
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    const finished = (): number => c.stderr().split('rolling restart done').length - 1;
    try {
      for (let i = 1; i <= restarts; i++) {
        process.kill(c.child.pid!, 'SIGHUP');
        const until = Date.now() + 15_000;
        while (finished() < i && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
        expect(finished()).toBe(i);
      }
    } finally {
      done = true; // the clients stop even when a restart did not finish
      await Promise.all(loops);
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(restarts * 10);
    c.child.kill('SIGTERM');
    expect(await exited(c.child)).toBe(0);
  }, 90_000);

  it('replaces a worker that dies', async () => {
    const c = await startCluster(2);
    const pids = new Set<number>();
    for (let i = 0; i < 10; i++) pids.add(await callPid(c.url, 'pid'));
    const [victim] = [...pids];
    process.kill(victim!, 'SIGKILL');
    await c.waitFor(new RegExp(`pid ${victim}\\) exited with signal SIGKILL; starting a new one`));
    const seen = new Set<number>();
    const until = Date.now() + 15_000;
    while (seen.size < 2 && Date.now() < until) {
      try {
        seen.add(await callPid(c.url, 'pid'));
      } catch {
        // a connection handed to the dead worker before the primary knew
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(seen.size).toBe(2);
    expect(seen.has(victim!)).toBe(false);
    c.child.kill('SIGTERM');
    expect(await exited(c.child)).toBe(0);
  });

  it('/metrics on the shared port counts the calls of every worker, whichever worker answers the scrape', async () => {
    const c = await startCluster(2);
    const perWorker = new Map<number, number>();
    for (let i = 0; i < 12; i++) {
      const pid = await callPid(c.url, 'pid');
      perWorker.set(pid, (perWorker.get(pid) ?? 0) + 1);
    }
    expect(perWorker.size).toBe(2);
    const calls = (families: Families): number =>
      samples(families, 'mcp_server_requests_total')
        .filter((s) => s.labels['method'] === 'tools/call' && s.labels['tool'] === 'pid' && s.labels['outcome'] === 'ok')
        .reduce((sum, s) => sum + s.value, 0);
    // Two scrapes on new connections: dealt round-robin, so both workers answer one (or the same one twice: same answer).
    for (let i = 0; i < 2; i++) {
      const res = await fetch(new URL('/metrics', c.url), { headers: { connection: 'close' }, signal: AbortSignal.timeout(10_000) });
      expect(res.status).toBe(200);
      const families = parsePromText(await res.text());
      expect(calls(families)).toBe(12);
      expect(samples(families, 'fastermcp_engine_info').map((s) => [s.labels['engine'], s.value])).toEqual([[process.env['FASTERMCP_FORCE_JS'] === '1' ? 'js' : 'native', 1]]);
    }
    c.child.kill('SIGTERM');
    expect(await exited(c.child)).toBe(0);
  });

  it('--audit-log: the primary writes one chain for the calls of every worker, and audit verify accepts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-workers-audit-'));
    try {
      const key = join(dir, 'audit.key');
      const log = join(dir, 'audit.jsonl');
      writeFileSync(key, randomBytes(32));
      const c = await startCluster(2, ['--audit-log', log, '--audit-key-file', key]);
      const pids = new Set<number>();
      for (let i = 0; i < 10; i++) pids.add(await callPid(c.url, 'pid'));
      expect(pids.size).toBe(2);
      c.child.kill('SIGTERM');
      expect(await exited(c.child)).toBe(0);
      const records = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(records.map((r) => [r.seq, r.tool, r.outcome])).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1, 'pid', 'ok']));
      const verify = spawnSync(process.execPath, [CLI, 'audit', 'verify', log, '--audit-key-file', key], { encoding: 'utf8', timeout: 20_000 });
      expect(verify.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses --workers with stdio', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--stdio', '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    expect(await exited(child)).toBe(2);
    expect(err).toContain('--workers needs --http');
  });
});
