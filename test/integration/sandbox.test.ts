// The hostile tool suite (issue 7, "Done when"): every misbehaving tool in test/fixtures/sandbox is
// contained and reported with the right cause WHILE benign calls to another sandboxed tool keep
// succeeding, its pool recovers afterwards, and nothing leaks (processes, cgroup folders, temp dirs).
// It runs under the launcher getLauncher() picks: native when the addon has the sandbox binding, the
// js twin under FASTERMCP_FORCE_JS=1 (npm run test:js). What differs between them follows the probe. It
// runs inside bubblewrap and again without it where bwrap runs here (sandbox-bwrap.test.ts tests that layer).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createSandbox, type Sandbox, type SandboxedTool } from '../../src/sandbox/parent.js';
import { bwrapWorks } from '../../src/sandbox/launcher/bwrap.js';
import { findOnPath } from '../../src/sandbox/launcher/host.js';
import { NOBODY } from '../../src/sandbox/process.js';
import type { SandboxToolOptions } from '../../src/sandbox/limits.js';
import type { CallRecord, ProcessEvent } from '../../src/sandbox/pool.js';
import type { CallToolResult } from '../../src/server/types.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/sandbox/${name}`, import.meta.url));
const ctx = (signal: AbortSignal = new AbortController().signal): any => ({ signal });
const causeOf = (r: CallToolResult): string | undefined => (r.structuredContent as any)?.sandbox?.cause;
const textOf = (r: CallToolResult): string => (r.content[0] as { text: string }).text;

/** A process is gone once kill(pid, 0) fails with ESRCH (it was reaped). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Polls `check` every 10 ms, up to `tries` times (a bound, not a timing assertion). */
async function until(check: () => boolean, what: string, tries = 1500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

// The whole suite runs twice where bubblewrap runs here: inside it (the default) and with the option off,
// so both the bwrap path and the plain one (seccomp restrictKill, no pid namespace) stay covered.
const bwrapPath = findOnPath('bwrap');
const bwrapHere = bwrapPath !== null && bwrapWorks(bwrapPath, process.getuid?.() === 0 ? NOBODY : undefined);

for (const bubblewrap of [true, false]) {
  describe.skipIf(bubblewrap && !bwrapHere)(`bubblewrap ${bubblewrap ? 'on (bwrap installed and runs here)' : 'off'}`, () => {
    const SECRET = `fastermcp-secret-${process.pid}`;
    let sandbox: Sandbox;
    let echo: SandboxedTool;
    let listener: Server;
    let port = 0;
    let connections = 0;
    const pids = new Set<number>();
    const records: CallRecord[] = [];
    /** Every process the sandboxes started, and those reported gone. */
    const started = new Set<number>();
    const exited = new Set<number>();

    beforeAll(async () => {
      process.env.FASTERMCP_TEST_SECRET = SECRET; // must never reach a sandboxed tool
      sandbox = createSandbox({ bubblewrap, defaults: { cpuMs: 400, wallMs: 4000, memoryMb: 128, outputBytes: 256 * 1024, resultBytes: 64 * 1024 } });
      sandbox.on('call', (r: CallRecord) => {
        records.push(r);
        pids.add(r.pid);
      });
      sandbox.on('process', (e: ProcessEvent) => (e.event === 'start' ? started : exited).add(e.pid));
      echo = await sandbox.tool(fixture('echo.mjs'), { pool: 2 });
      listener = createServer((s) => {
        connections++;
        s.destroy();
      });
      await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
      port = (listener.address() as { port: number }).port;
    });

    afterAll(async () => {
      delete process.env.FASTERMCP_TEST_SECRET;
      listener?.close();
      await sandbox?.close();
      // Nothing leaks: every sandbox process is reaped, every cgroup folder and temp dir is gone.
      expect(started.size).toBeGreaterThan(0);
      expect([...started].filter((pid) => !exited.has(pid)), 'processes never reported gone').toEqual([]);
      for (const pid of new Set([...pids, ...started])) expect(alive(pid), `pid ${pid} is gone`).toBe(false);
      const mine = `fastermcp-sandbox-${process.pid}-`;
      for (const dir of [sandbox.host.cgroupMemory, sandbox.host.cgroupPids]) {
        if (dir !== null) expect(readdirSync(dir).filter((n) => n.startsWith(mine)), `cgroup folders in ${dir}`).toEqual([]);
      }
      expect(readdirSync(tmpdir()).filter((n) => n.startsWith(mine)), 'sandbox temp dirs').toEqual([]);
    });

    /**
     * Runs the hostile call while a stream of benign echo calls runs beside it (at least 8, and on until
     * the hostile call ends); every benign call must succeed with its own text.
     */
    async function containedWhileBenign(tool: SandboxedTool, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult> {
      let done = false;
      const hostile = Promise.resolve(tool.handler(args, ctx(signal), undefined) as Promise<CallToolResult>).finally(() => (done = true));
      const benign = async (lane: number): Promise<number> => {
        let n = 0;
        while (!done || n < 4) {
          const text = `lane ${lane} call ${n}`;
          const r = (await echo.handler({ text }, ctx(), undefined)) as CallToolResult;
          expect(r.isError, JSON.stringify(r)).toBeUndefined();
          expect(textOf(r)).toBe(text);
          n++;
        }
        return n;
      };
      const [result, a, b] = await Promise.all([hostile, benign(0), benign(1)]);
      expect(a + b).toBeGreaterThanOrEqual(8);
      return result;
    }

    interface Case {
      file: string;
      args?: Record<string, unknown>;
      options?: SandboxToolOptions;
      cause: () => string | string[];
      text?: RegExp;
      skip?: () => string | false;
    }

    const native = (): boolean => sandbox.launcher.kind === 'native' && sandbox.host.seccomp;
    /** Processes run inside bubblewrap (installed and working here; sandbox-bwrap.test.ts tests the layer). */
    const bwrapOn = (): boolean => sandbox.bubblewrap !== null;

    const CASES: Record<string, Case> = {
      'an infinite loop (per-call CPU check)': { file: 'infinite-loop.mjs', cause: () => 'cpu_limit', text: /cpu_limit after 400 ms of CPU/ },
      'an infinite loop with a short wall clock': { file: 'infinite-loop.mjs', options: { limits: { cpuMs: 10_000, wallMs: 300 } }, cause: () => 'timeout', text: /^sandbox: timeout after 300 ms wall clock$/ },
      'CPU spent in native code (PBKDF2)': { file: 'native-spin.mjs', cause: () => 'cpu_limit' },
      'a catastrophic regex': { file: 'regex-spin.mjs', cause: () => 'cpu_limit' },
      'CPU spent on the thread pool (4 async PBKDF2)': { file: 'threadpool-spin.mjs', cause: () => 'cpu_limit' },
      // A generous CPU budget, so the memory limit is what ends them (the garbage collector works hard).
      'a heap memory bomb': { file: 'heap-bomb.mjs', options: { limits: { cpuMs: 20_000, wallMs: 20_000 } }, cause: () => 'memory_limit' },
      'a Buffer memory bomb': { file: 'buffer-bomb.mjs', options: { limits: { cpuMs: 20_000, wallMs: 20_000 } }, cause: () => 'memory_limit' },
      'a fork bomb': { file: 'fork-bomb.mjs', cause: () => 'denied:spawn' },
      'spawning through process.binding': { file: 'spawn-binding.mjs', cause: () => 'denied:binding' },
      'a worker thread': { file: 'worker.mjs', cause: () => 'denied:worker' },
      'a native addon': { file: 'native-addon.mjs', cause: () => 'denied:addon' },
      'reading /etc/passwd': { file: 'read-passwd.mjs', cause: () => 'denied:fs' },
      "reading the server's own files": { file: 'read-server-files.mjs', cause: () => 'denied:fs' },
      'writing outside its folder': { file: 'write-outside.mjs', args: { path: `${tmpdir()}/fastermcp-escape-${process.pid}` }, cause: () => 'denied:fs' },
      'a socket to 127.0.0.1': {
        file: 'socket.mjs',
        args: {},
        cause: () => 'denied:network',
        skip: () => (native() || sandbox.networkNamespace ? false : 'neither seccomp (native launcher) nor a network namespace (root + unshare) is available here'),
      },
      "reading the parent's /proc/<ppid>/environ": { file: 'read-parent-environ.mjs', cause: () => 'denied:fs' },
      'flooding stdout': { file: 'flood-stdout.mjs', cause: () => 'output_limit', text: /stdout\+stderr passed 262144 bytes/ },
      'never replying': { file: 'never-reply.mjs', options: { limits: { wallMs: 500 } }, cause: () => 'timeout', text: /^sandbox: timeout after 500 ms wall clock$/ },
      'exiting mid-call': { file: 'exit-mid-call.mjs', cause: () => 'crashed', text: /exited with status 3 mid-call/ },
      // Its group is only itself (a session leader): the kill ends the call and the pool replaces it.
      'killing its own process group': { file: 'kill-group.mjs', cause: () => 'crashed', text: /was killed by SIGKILL mid-call/ },
      // seccomp refuses a signal aimed past the child itself (EPERM). Under bwrap its pid namespace holds
      // nobody it may signal (ESRCH, an ordinary error of the tool): kill(-1) reaches nothing either way.
      'signalling every process (kill -1)': {
        file: 'kill-others.mjs',
        cause: () => (bwrapOn() ? 'error' : 'denied:kill'),
        skip: () => (native() || bwrapOn() ? false : 'without seccomp (js launcher) or bwrap kill(-1) reaches every process of uid nobody, other sandboxes included (the uidRange option closes this; tested below)'),
      },
      'a huge result': { file: 'huge-result.mjs', args: { bytes: 1_000_000 }, cause: () => 'output_limit', text: /more than resultBytes 65536/ },
    };

    describe(`hostile tools (launcher chosen by getLauncher; FASTERMCP_FORCE_JS=${process.env.FASTERMCP_FORCE_JS ?? ''})`, () => {
      for (const [title, c] of Object.entries(CASES)) {
        it(`contains ${title}`, async (t) => {
          const why = c.skip?.();
          if (why) t.skip(why);
          const tool = await sandbox.tool(fixture(c.file), { pool: 1, name: `${c.file}-${title.length}`, ...c.options });
          const args = c.file === 'socket.mjs' ? { port } : (c.args ?? {});
          const result = await containedWhileBenign(tool, args);
          const expected = c.cause();
          expect(result.isError, JSON.stringify(result)).toBe(true);
          expect(causeOf(result), `${textOf(result)} ${JSON.stringify(result.structuredContent)}`).toBe(expected);
          expect(textOf(result)).toMatch(new RegExp(`^sandbox: ${expected}`));
          if (c.text !== undefined) expect(textOf(result)).toMatch(c.text);
          expect((result._meta as any).sandbox.code).toMatch(/^MCP_SANDBOX_/);
          // The pool recovers: a replacement process starts and becomes idle.
          await until(() => tool.stats().idle === 1 && tool.stats().live === 1, `${c.file}'s replacement process`);
          expect(tool.stats().unavailable).toBeNull();
        });
      }

      it('lets no connection through to 127.0.0.1', () => {
        expect(connections).toBe(0);
      });

      it('wrote nothing outside the sandbox folder', () => {
        expect(existsSync(`${tmpdir()}/fastermcp-escape-${process.pid}`)).toBe(false);
      });

      it("hands the tool a minimal environment (nothing of the server's)", async () => {
        const tool = await sandbox.tool(fixture('read-env.mjs'), { pool: 1 });
        const result = await containedWhileBenign(tool, {});
        expect(result.isError).toBeUndefined();
        const env = (result.structuredContent as { env: Record<string, string> }).env;
        expect(Object.keys(env).sort()).toEqual(expect.arrayContaining(['HOME', 'LANG', 'PATH']));
        for (const key of Object.keys(env)) expect(['HOME', 'LANG', 'PATH', 'PWD']).toContain(key);
        expect(env.PATH).toBe('/usr/bin:/bin');
        expect(JSON.stringify(result)).not.toContain(SECRET);
      });

      it('cancels a call when the client does: the process is killed and replaced', async () => {
        const tool = await sandbox.tool(fixture('never-reply.mjs'), { pool: 1, name: 'never_reply_cancel' });
        const ac = new AbortController();
        const pending = containedWhileBenign(tool, {}, ac.signal);
        await until(() => tool.stats().busy === 1, 'the call to start');
        ac.abort();
        const result = await pending;
        expect(causeOf(result)).toBe('cancelled');
        await until(() => tool.stats().idle === 1, 'the replacement process');
      });

      it('with uidRange, gives each process its own uid, so kill(-1) reaches no other sandbox', async (t) => {
        if (!sandbox.host.root) t.skip('uids are only changed when the server runs as root');
        const first = 2_000_000_000;
        const own = createSandbox({ bubblewrap, uidRange: { first, count: 16 }, defaults: { wallMs: 4000 } });
        own.on('process', (e: ProcessEvent) => (e.event === 'start' ? started : exited).add(e.pid));
        try {
          const mates = await own.tool(fixture('echo.mjs'), { pool: 2 });
          const killer = await own.tool(fixture('kill-others.mjs'), { pool: 1 });
          const uids = new Set<number>();
          own.on('call', (r: CallRecord) => {
            pids.add(r.pid);
            let status = '';
            try {
              status = readFileSync(`/proc/${r.pid}/status`, 'utf8');
            } catch {
              return; // it ended with the call
            }
            const m = /^Uid:\s+(\d+)/m.exec(status);
            if (m !== null) uids.add(Number(m[1]));
          });
          await until(() => mates.stats().idle === 2, 'both echo processes');
          const before = await Promise.all([1, 2].map((i) => mates.handler({ text: `m${i}` }, ctx(), undefined) as Promise<CallToolResult>));
          expect(before.map(textOf)).toEqual(['m1', 'm2']);
          const result = (await killer.handler({}, ctx(), undefined)) as CallToolResult;
          // seccomp refuses it (EPERM). Without seccomp kill(-1) returns 0 (Linux ignores the EPERM of each
          // process it may not signal) yet reaches nobody: the other sandbox processes below survive.
          // Under bwrap, its own pid namespace holds no process it may signal: ESRCH.
          if (own.bubblewrap !== null) expect(textOf(result)).toMatch(/kill ESRCH/);
          else if (native()) expect(causeOf(result), textOf(result)).toBe('denied:kill');
          else expect(textOf(result)).toBe('signalled everyone');
          const after = await Promise.all([1, 2, 3, 4].map((i) => mates.handler({ text: `a${i}` }, ctx(), undefined) as Promise<CallToolResult>));
          expect(after.map(textOf)).toEqual(['a1', 'a2', 'a3', 'a4']);
          for (const uid of uids) expect(uid >= first && uid < first + 16, `uid ${uid} in the range`).toBe(true);
          expect(uids.size).toBeGreaterThanOrEqual(2);
        } finally {
          await own.close();
        }
      });

      it('reports per-call metrics from the kernel or the runner', () => {
        const ok = records.filter((r) => r.tool === 'echo' && r.cause === 'ok');
        expect(ok.length).toBeGreaterThan(50);
        for (const r of ok) {
          expect(r.source).toBe('runner');
          expect(r.maxRssKiB).toBeGreaterThan(1000);
          expect(r.wallMicros).toBeGreaterThan(0);
        }
        const spins = records.filter((r) => r.cause === 'cpu_limit');
        expect(spins.length).toBeGreaterThanOrEqual(4);
        // A call killed for its CPU had used its budget (400 ms), counted by the kernel (in 10 ms ticks).
        // (No upper bound: how far past it a call gets depends on how soon this loaded machine runs the watchdog.)
        for (const spin of spins) expect(spin.cpuUserMicros + spin.cpuSystemMicros, spin.tool).toBeGreaterThanOrEqual(390_000);
        const m = sandbox.metrics();
        expect(m.echo!.byCause.ok).toBe(ok.length);
        expect(m.echo!.unavailable).toBeNull();
      });
    });
  });
}
