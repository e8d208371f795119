// The sandbox launcher (src/sandbox/launcher/, docs/sandbox-launcher.md): the shared parser vectors against
// src/sandbox/launcher/proc.ts (the C++ core runs them in test/native/sandbox_test.cc), the shape of the
// seccomp table (whose decisions the C++ test checks with the real filter), spec validation, and node
// children started through each launcher (native when the addon loads, and js): env, cwd, fd 3, limits,
// exit statuses, kill of the whole group, CPU limits at run time, cgroup join, uid drop, network namespace,
// and for the native launcher the seccomp effects as node sees them. Every wait is bounded.
import { mkdirSync, readFileSync, rmdirSync, rmSync, chownSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native.js';
import {
  JsLauncher,
  NativeLauncher,
  cgroupV1Dirs,
  cpuMicrosFromStat,
  getLauncher,
  probeHost,
  type ExitInfo,
  type Launched,
  type LaunchSpec,
  type Launcher,
} from '../../src/sandbox/launcher/index.js';

const vectors = fileURLToPath(new URL('../vectors/', import.meta.url));
const load = <T>(name: string): T => JSON.parse(readFileSync(join(vectors, name), 'utf8')) as T;

const native = loadNative();
const launchers: Launcher[] = [new JsLauncher()];
if (native !== null && typeof native.sandboxLaunch === 'function') {
  launchers.unshift(new NativeLauncher(native), new NativeLauncher(native, { useVfork: false }));
}
const label = (l: Launcher, i: number): string => (l.kind === 'native' ? (i === 0 ? 'native (vfork)' : 'native (fork)') : l.kind);
const root = process.getuid?.() === 0;
const WAIT_MS = 20_000;

describe('shared vectors', () => {
  it('sandbox-proc-stat.json', () => {
    const { cases } = load<{ cases: { name: string; line: string; clockTicks: number; expect: number | null }[] }>(
      'sandbox-proc-stat.json',
    );
    expect(cases.length).toBeGreaterThan(10);
    for (const c of cases) expect(cpuMicrosFromStat(c.line, c.clockTicks), c.name).toBe(c.expect);
  });

  it('sandbox-cgroup.json', () => {
    const { cases } = load<{
      cases: { name: string; content: string; mountRoot: string; expect: { memory: string | null; pids: string | null } }[];
    }>('sandbox-cgroup.json');
    expect(cases.length).toBeGreaterThan(10);
    for (const c of cases) expect(cgroupV1Dirs(c.content, c.mountRoot), c.name).toEqual(c.expect);
  });

  it('sandbox-seccomp.json is well formed (its decisions run in test/native/sandbox_test.cc)', () => {
    const { cases } = load<{ cases: Record<string, unknown>[] }>('sandbox-seccomp.json');
    const flagNames = new Set(['denyNetwork', 'denySpawn', 'restrictKill']);
    const names = new Set<string>();
    for (const c of cases) {
      expect(typeof c.name).toBe('string');
      expect(names.has(c.name as string), `duplicate ${String(c.name)}`).toBe(false);
      names.add(c.name as string);
      for (const f of Object.keys(c.flags as object)) expect(flagNames.has(f), `${String(c.name)}: flag ${f}`).toBe(true);
      const e = c.expect as string;
      expect(e === 'allow' || e === 'kill' || (constants.errno as Record<string, number>)[e] !== undefined, e).toBe(true);
      expect(['real', 'bpf']).toContain(c.run);
      // No flag: no filter is installed, so nothing can be denied.
      if (Object.values(c.flags as object).every((v) => v !== true)) expect(e).toBe('allow');
    }
    // Every rule of docs/sandbox-launcher.md has a denied case.
    const denied = new Set(cases.filter((c) => c.expect !== 'allow').map((c) => c.syscall as string));
    for (const s of ['socket', 'socketpair', 'clone', 'clone3', 'kill', 'tkill', 'tgkill', 'pidfd_send_signal', 'ptrace']) {
      expect(denied.has(s), s).toBe(true);
    }
  });
});

function baseSpec(code: string, over: Partial<LaunchSpec> = {}): LaunchSpec {
  return {
    file: process.execPath,
    argv: ['node', '-e', code],
    env: { SANDBOX_TEST: '1' },
    cwd: '/',
    limits: { cpuSeconds: 0, dataBytes: 0, openFiles: 0, fileSizeBytes: 0, processes: 0, coreBytes: 0 },
    denyNetwork: false,
    denySpawn: false,
    restrictKill: false,
    newNetNamespace: false,
    cgroupProcs: [],
    ...over,
  };
}

interface Outcome {
  exit: ExitInfo;
  stdout: string;
  stderr: string;
  control: string;
  pid: number;
}

/** Launches, collects every stream to its close and the exit; kills the group if it takes over WAIT_MS. */
function run(
  launcher: Launcher,
  spec: LaunchSpec,
  hooks: { onStart?: (l: Launched) => void; onControl?: (data: string, l: Launched) => void } = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let exit: ExitInfo | undefined;
    let closed = 0;
    const text = { stdout: '', stderr: '', control: '' };
    const timer = setTimeout(() => {
      launcher.killGroup(launched.pid, 'SIGKILL');
      reject(new Error(`the child did not finish within ${WAIT_MS} ms: ${JSON.stringify(text)}`));
    }, WAIT_MS);
    const done = (): void => {
      if (exit === undefined || closed < 3) return;
      clearTimeout(timer);
      resolve({ exit, ...text, pid: launched.pid });
    };
    const launched = launcher.launch(spec, (info) => {
      exit = info;
      done();
    });
    for (const name of ['stdout', 'stderr', 'control'] as const) {
      launched[name].setEncoding('utf8');
      launched[name].on('data', (d: string) => {
        text[name] += d;
        if (name === 'control') hooks.onControl?.(d, launched);
      });
      launched[name].on('error', () => {});
      launched[name].on('close', () => {
        closed++;
        done();
      });
    }
    hooks.onStart?.(launched);
  });
}

const ERRNO_LINE = `const code = (e) => (e && e.code) || String(e);`;

describe.each(launchers.map((l, i) => [label(l, i), l] as const))('%s launcher', (_name, launcher) => {
  it('env, cwd, argv, fd 3 both ways, exit code, rusage', async () => {
    const dir = join(tmpdir(), `sandbox-launcher-cwd-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      const code = `
        const net = require('node:net');
        const s = new net.Socket({ fd: 3 });
        s.write(JSON.stringify({ env: process.env, cwd: process.cwd(), argv: process.argv.slice(1) }) + '\\n');
        s.on('data', (d) => { s.end('pong:' + d); s.on('close', () => process.exit(7)); });`;
      const out = await run(launcher, baseSpec(code, { env: { A: 'b', EMPTY: '' }, cwd: dir, argv: ['node', '-e', code, 'x y'] }), {
        onControl: (d, l) => {
          if (d.includes('\n')) l.control.write('ping');
        },
      });
      const first = JSON.parse(out.control.split('\n')[0] as string) as { env: object; cwd: string; argv: string[] };
      expect(first.env).toEqual({ A: 'b', EMPTY: '' });
      expect(first.cwd).toBe(dir);
      expect(first.argv).toEqual(['x y']);
      expect(out.control.endsWith('pong:ping')).toBe(true);
      expect(out.exit).toMatchObject({ pid: out.pid, exitCode: 7, signal: null });
      if (launcher.kind === 'native') {
        expect(out.exit.userMicros).toBeGreaterThan(0);
        expect(out.exit.systemMicros).toBeGreaterThanOrEqual(0);
        expect(out.exit.maxRssKiB).toBeGreaterThan(1000); // a node process is tens of MiB
      } else {
        expect(out.exit).toMatchObject({ userMicros: null, systemMicros: null, maxRssKiB: null });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sets the rlimits and the memory limit takes effect', async () => {
    const code = `
      const limits = require('node:fs').readFileSync('/proc/self/limits', 'utf8');
      let alloc = 'ok';
      try { Buffer.alloc(1.2e9, 1); } catch (e) { alloc = e.message; }
      console.log(JSON.stringify({ limits, alloc }));`;
    // 1 GB of data: Node 24+ reserves over 512 MiB of it before running any JavaScript.
    const limits = { cpuSeconds: 30, dataBytes: 1e9, openFiles: 100, fileSizeBytes: 1e6, processes: 4000, coreBytes: 0 };
    const out = await run(launcher, baseSpec(code, { limits }));
    const { limits: text, alloc } = JSON.parse(out.stdout) as { limits: string; alloc: string };
    const row = (name: string): string[] =>
      (text.split('\n').find((l) => l.startsWith(name)) ?? '').slice(26).trim().split(/\s+/).slice(0, 2);
    expect(row('Max cpu time')).toEqual(['30', '31']);
    expect(row('Max data size')).toEqual(['1000000000', '1000000000']);
    expect(row('Max open files')).toEqual(['100', '100']);
    expect(row('Max file size')).toEqual(['1000000', '1000000']);
    expect(row('Max processes')).toEqual(['4000', '4000']);
    expect(row('Max core file size')).toEqual(['0', '0']);
    expect(alloc).toMatch(/allocation failed|Failed to allocate memory/); // Node 20-22 | Node 24+
    expect(out.exit.exitCode).toBe(0);
  });

  it('a write past the file size limit fails with EFBIG instead of killing', async () => {
    const dir = join(tmpdir(), `sandbox-launcher-fsize-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      const code = `${ERRNO_LINE} try { require('node:fs').writeFileSync('big', Buffer.alloc(5000)); console.log('wrote'); } catch (e) { console.log(code(e)); }`;
      const out = await run(launcher, baseSpec(code, { cwd: dir, limits: { ...baseSpec('').limits, fileSizeBytes: 1000 } }));
      expect(out.stdout.trim()).toBe('EFBIG');
      expect(out.exit.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a child killed by a signal, and killGroup reaches its children', async () => {
    const code = `
      const { spawn } = require('node:child_process');
      const kid = spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
      const s = new (require('node:net').Socket)({ fd: 3 });
      s.write(String(kid.pid) + '\\n');
      setInterval(() => {}, 1000);`;
    let grandchild = 0;
    const out = await run(launcher, baseSpec(code, { env: {} }), {
      onControl: (d, l) => {
        grandchild = Number(d.trim());
        launcher.killGroup(l.pid, 'SIGKILL');
      },
    });
    expect(out.exit).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(grandchild).toBeGreaterThan(1);
    // The sleep was in the child's process group: it dies too (then init reaps it).
    const deadline = Date.now() + WAIT_MS;
    let alive = true;
    while (alive && Date.now() < deadline) {
      try {
        process.kill(grandchild, 0);
        const stat = readFileSync(`/proc/${grandchild}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) alive = false; // a zombie is dead
        else await new Promise((r) => setTimeout(r, 20));
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
    launcher.killGroup(out.pid, 'SIGKILL'); // the group is gone: ESRCH is ignored
  });

  it('self-inflicted signal and a plain exit code', async () => {
    const killed = await run(launcher, baseSpec(`process.kill(process.pid, 'SIGTERM'); setTimeout(() => {}, 10000);`));
    expect(killed.exit).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
    const exited = await run(launcher, baseSpec(`process.exitCode = 3`));
    expect(exited.exit).toMatchObject({ exitCode: 3, signal: null });
  });

  it('cpuMicros while it runs, then setCpuLimit ends it with SIGXCPU', async () => {
    let seen: number | null = null;
    const code = `new (require('node:net').Socket)({ fd: 3 }).write('go'); for (;;) {}`;
    const out = await run(launcher, baseSpec(code), {
      onControl: (_d, l) => {
        const poll = (): void => {
          seen = launcher.cpuMicros(l.pid);
          if (seen !== null && seen > 0) launcher.setCpuLimit(l.pid, 1);
          else setTimeout(poll, 10);
        };
        poll();
      },
    });
    expect(seen).toBeGreaterThan(0);
    expect(out.exit.signal).toBe('SIGXCPU');
    expect(launcher.cpuMicros(out.pid)).toBe(null); // reaped
  });

  it('a setup failure throws with the step and errno and calls no onExit', () => {
    let called = false;
    const spec = baseSpec('', { file: '/nonexistent/program' });
    expect(() => launcher.launch(spec, () => (called = true))).toThrow(/nonexistent\/program.*(No such file|ENOENT)/);
    try {
      launcher.launch(baseSpec('', { cwd: '/nonexistent-dir' }), () => (called = true));
      expect.unreachable();
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
      expect((err as Error).message).toMatch(/chdir\(\/nonexistent-dir\)/);
    }
    expect(called).toBe(false);
    expect(() => launcher.launch(baseSpec('', { argv: [] }), () => {})).toThrow(/argv/);
    expect(() => launcher.killGroup(0, 'SIGKILL')).toThrow(/pid/);
    expect(() => launcher.cpuMicros(-1)).toThrow(/pid/);
  });

  it.runIf(root)('joins a cgroup before exec', async () => {
    const pids = probeHost().cgroupPids;
    if (pids === null) return;
    const group = join(pids, `sandbox-launcher-test-${process.pid}-${launcher.kind}`);
    mkdirSync(group);
    try {
      const out = await run(launcher, baseSpec(`process.stdout.write(require('node:fs').readFileSync('/proc/self/cgroup', 'utf8'))`, {
        cgroupProcs: [join(group, 'cgroup.procs')],
      }));
      expect(out.stdout).toMatch(new RegExp(`:pids:.*/sandbox-launcher-test-${process.pid}-${launcher.kind}\\n`));
    } finally {
      rmdirSync(group);
    }
  });

  it.runIf(root)('drops to nobody and enters a new network namespace', async () => {
    const dir = join(tmpdir(), `sandbox-launcher-uid-${process.pid}`);
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    try {
      const code = `console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(),
        net: require('node:fs').readFileSync('/proc/net/dev', 'utf8').split('\\n').slice(2).filter(Boolean).map((l) => l.split(':')[0].trim()) }))`;
      const out = await run(launcher, baseSpec(code, { uid: 65534, gid: 65534, cwd: dir, newNetNamespace: true }));
      expect(JSON.parse(out.stdout)).toEqual({ uid: 65534, gid: 65534, groups: [65534], net: ['lo'] });
    } finally {
      rmdirSync(dir);
    }
  });
});

describe.runIf(launchers[0]?.kind === 'native')('native launcher: seccomp as node sees it', () => {
  const launcher = launchers[0] as Launcher;

  it('denyNetwork: net.connect fails with EACCES, fd 3 still works, threads start', async () => {
    const code = `${ERRNO_LINE}
      const s = new (require('node:net').Socket)({ fd: 3 });
      const c = require('node:net').connect(9, '127.0.0.1');
      c.on('error', (e) => {
        const w = new (require('node:worker_threads').Worker)('require("node:worker_threads").parentPort.postMessage(6*7)', { eval: true });
        w.on('message', (m) => { s.end(code(e) + ' worker:' + m); });
      });`;
    const out = await run(launcher, baseSpec(code, { denyNetwork: true }));
    expect(out.control).toBe('EACCES worker:42');
    expect(out.exit.exitCode).toBe(0);
  });

  it('denySpawn: child_process fails, worker threads still run', async () => {
    const code = `${ERRNO_LINE}
      const r = require('node:child_process').spawnSync('/bin/true', { stdio: 'ignore' });
      const w = new (require('node:worker_threads').Worker)('1', { eval: true });
      w.on('exit', (c) => console.log(JSON.stringify({ spawn: r.error ? code(r.error) : r.status, worker: c })));`;
    const out = await run(launcher, baseSpec(code, { denySpawn: true }));
    expect(JSON.parse(out.stdout)).toEqual({ spawn: 'EPERM', worker: 0 });
  });

  it('restrictKill: only itself and its own group', async () => {
    const code = `${ERRNO_LINE}
      const tryKill = (pid) => { try { process.kill(pid, 0); return 'ok'; } catch (e) { return code(e); } };
      console.log(JSON.stringify({ init: tryKill(1), parent: tryKill(${process.pid}), self: tryKill(process.pid), group: tryKill(-process.pid) }));`;
    const out = await run(launcher, baseSpec(code, { restrictKill: true }));
    expect(JSON.parse(out.stdout)).toEqual({ init: 'EPERM', parent: 'EPERM', self: 'ok', group: 'ok' });
    // The same calls without the rule succeed (we are root or the same user as the parent).
    const open = await run(launcher, baseSpec(code));
    expect(JSON.parse(open.stdout)).toMatchObject({ parent: 'ok', self: 'ok' });
  });

  it('probe reports seccomp and no_new_privs on this host; /proc shows the filter and NoNewPrivs', async () => {
    const p = probeHost();
    expect(p.launcher).toBe('native');
    expect(p.seccomp).toBe(true);
    expect(p.noNewPrivs).toBe(true);
    const out = await run(launcher, baseSpec(`process.stdout.write(require('node:fs').readFileSync('/proc/self/status', 'utf8'))`, { denyNetwork: true }));
    expect(out.stdout).toMatch(/NoNewPrivs:\t1\n/);
    expect(out.stdout).toMatch(/Seccomp:\t2\n/);
  });
});

describe('choice and probe', () => {
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.FASTERMCP_FORCE_JS;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.FASTERMCP_FORCE_JS;
    else process.env.FASTERMCP_FORCE_JS = saved;
  });

  it('getLauncher is native when the addon has the sandbox binding, else js', () => {
    const l = getLauncher();
    expect(getLauncher()).toBe(l);
    const forced = process.env.FASTERMCP_FORCE_JS === '1';
    expect(l.kind).toBe(!forced && native !== null ? 'native' : 'js');
    expect(probeHost()).toBe(probeHost());
  });

  it('the js probe says what it cannot do', () => {
    const p = new JsLauncher().probe();
    expect(p.launcher).toBe('js');
    expect(p.seccomp).toBe(false);
    expect(p.permissionFlag).toMatch(/^--(experimental-)?permission$/);
    expect(p.root).toBe(root);
  });
});
