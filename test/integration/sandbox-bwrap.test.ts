// bubblewrap as the sandbox's filesystem and pid layer (docs/sandbox-launcher.md, "bubblewrap"), under
// both launchers. The layer is tested on its own first: node started through each launcher with the
// sandbox's bwrap view but WITHOUT the permission model (which would refuse every probe below before the
// kernel saw it), so what it sees is what bwrap gives it. Then the runtime: processes really run inside
// bwrap, the report says so, allow.fs paths are readable, and the option turns it off. The hostile suite
// (sandbox.test.ts) runs under bwrap too wherever it is installed. Everything skips, saying why, where
// bwrap is missing or cannot run (no user namespaces). Every wait is bounded.
import { chownSync, existsSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native.js';
import { JsLauncher, NativeLauncher, type ExitInfo, type Launcher, type LaunchSpec } from '../../src/sandbox/launcher/index.js';
import { bwrapArgs, bwrapWorks, programPid, sharedLibraries, unwrapBwrapExit } from '../../src/sandbox/launcher/bwrap.js';
import { findOnPath } from '../../src/sandbox/launcher/host.js';
import { createSandbox } from '../../src/sandbox/parent.js';
import type { CallToolResult } from '../../src/server/types.js';

const root = process.getuid?.() === 0;
const NOBODY = 65534;
const bwrap = findOnPath('bwrap');
const works = bwrap !== null && bwrapWorks(bwrap, root ? NOBODY : undefined);
const why = bwrap === null ? 'bubblewrap is not installed' : 'bubblewrap cannot run here (user namespaces refused)';
const WAIT_MS = 20_000;

const native = loadNative();
const launchers: Launcher[] = [new JsLauncher()];
if (native !== null && typeof native.sandboxLaunch === 'function') launchers.unshift(new NativeLauncher(native));

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/sandbox/${name}`, import.meta.url));
const textOf = (r: CallToolResult): string => (r.content[0] as { text: string }).text;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh cwd the child may write (owned by nobody when we are root), under a 0711-like searchable parent. */
function freshCwd(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fastermcp-bwrap-test-'));
  dirs.push(dir);
  if (root) chownSync(dir, NOBODY, NOBODY);
  return dir;
}

function specFor(script: string, cwd: string): LaunchSpec {
  return {
    file: process.execPath,
    argv: [process.execPath, '-e', script],
    env: { PATH: '/usr/bin:/bin', HOME: cwd, LANG: 'C' },
    cwd,
    limits: { cpuSeconds: 30, dataBytes: 0, openFiles: 64, fileSizeBytes: 1 << 20, processes: 0, coreBytes: 0 },
    ...(root ? { uid: NOBODY, gid: NOBODY } : {}),
    denyNetwork: true,
    denySpawn: true,
    restrictKill: false,
    newNetNamespace: root,
    cgroupProcs: [],
    bubblewrap: { path: bwrap as string, args: bwrapArgs({ program: process.execPath, readOnly: [], cwd }, sharedLibraries(process.execPath)) },
  };
}

/** Runs a script to its end; resolves with its stdout, stderr and exit. */
function run(launcher: Launcher, script: string, cwd = freshCwd()): Promise<{ out: string; err: string; exit: ExitInfo }> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no exit within ${WAIT_MS} ms; stderr: ${err}`)), WAIT_MS);
    const child = launcher.launch(specFor(script, cwd), (exit) => {
      // stdout/stderr may still hold the last bytes: wait for both to end (bounded by the timer).
      let open = 2;
      const done = (): void => {
        if (--open === 0) {
          clearTimeout(timer);
          resolve({ out, err, exit });
        }
      };
      if (child.stdout.readableEnded) done();
      else child.stdout.once('close', done);
      if (child.stderr.readableEnded) done();
      else child.stderr.once('close', done);
    });
    child.control.on('error', () => {});
    child.control.resume();
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  });
}

// What the child reports: the error code of each probe ('ok' when it worked).
const PROBE = (serverFile: string, outside: string): string => `
const fs = require('fs');
const code = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
const r = {
  passwd: code(() => fs.readFileSync('/etc/passwd')),
  etc: code(() => fs.readdirSync('/etc')),
  serverFile: code(() => fs.readFileSync(${JSON.stringify(serverFile)})),
  writeRoot: code(() => fs.writeFileSync('/escape', 'x')),
  writeOutside: code(() => fs.writeFileSync(${JSON.stringify(outside)}, 'x')),
  writeCwd: code(() => fs.writeFileSync('own.txt', 'x')),
  killAll: code(() => process.kill(-1, 'SIGKILL')),
  pid: process.pid,
  procPids: fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).sort(),
  spawn: require('child_process').spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' }).error?.code ?? 'ok',
};
process.stdout.write(JSON.stringify(r));
`;

describe('the bwrap layer alone (no permission model), per launcher', () => {
  for (const launcher of launchers) {
    it(`${launcher.kind}: sees only its view: no /etc, no server files, read-only outside cwd, only its own pids`, async (t) => {
      if (!works) t.skip(why);
      const serverFile = fileURLToPath(import.meta.url);
      const outside = join(tmpdir(), `fastermcp-bwrap-escape-${process.pid}`);
      const cwd = freshCwd();
      const { out, err, exit } = await run(launcher, PROBE(serverFile, outside), cwd);
      expect(exit.exitCode, err).toBe(0);
      const r = JSON.parse(out) as Record<string, unknown>;
      expect(r.passwd).toBe('ENOENT'); // not even visible
      expect(r.etc).toBe('ENOENT');
      expect(r.serverFile).toBe('ENOENT');
      expect(r.writeRoot).toBe('EROFS');
      // The tmp folder exists in the view only as the path to cwd, on the read-only root.
      expect(['EROFS', 'ENOENT']).toContain(r.writeOutside);
      expect(existsSync(outside)).toBe(false);
      expect(r.writeCwd).toBe('ok');
      expect(readFileSync(join(cwd, 'own.txt'), 'utf8')).toBe('x');
      // Its pid namespace holds bwrap's reaper (1) and itself (2): kill(-1) finds nobody to signal.
      expect(r.killAll).toBe('ESRCH');
      expect(r.pid).toBe(2);
      expect(r.procPids).toEqual(['1', '2']);
      // The native launcher's seccomp filter was installed by bwrap on node itself (clone refused);
      // the js launcher has none (spawning would be refused by the permission model in the sandbox).
      expect(r.spawn).toBe(launcher.kind === 'native' ? 'EPERM' : 'ok');
    });

    it(`${launcher.kind}: a signal death inside bwrap is reported as that signal`, async (t) => {
      if (!works) t.skip(why);
      const { exit } = await run(launcher, "process.kill(process.pid, 'SIGKILL')");
      expect(exit.signal).toBe('SIGKILL');
      expect(exit.exitCode).toBeNull();
    });
  }

  for (const launcher of launchers) {
    it(`${launcher.kind}: refuses restrictKill with bubblewrap, and a -- or --seccomp of its own in args`, () => {
      const cwd = freshCwd();
      // Checked before anything starts: no bwrap needed on this host.
      const base: LaunchSpec = { ...specFor('0', cwd), bubblewrap: { path: '/usr/bin/bwrap', args: [] } };
      const code = (spec: LaunchSpec): string | undefined => {
        try {
          launcher.launch(spec, () => {});
          return undefined;
        } catch (e) {
          return (e as { code?: string }).code;
        }
      };
      expect(code({ ...base, restrictKill: true })).toBe('MCP_SANDBOX_BAD_SPEC');
      expect(code({ ...base, bubblewrap: { path: '/usr/bin/bwrap', args: ['--'] } })).toBe('MCP_SANDBOX_BAD_SPEC');
      expect(code({ ...base, bubblewrap: { path: '/usr/bin/bwrap', args: ['--seccomp', '9'] } })).toBe('MCP_SANDBOX_BAD_SPEC');
      expect(code({ ...base, bubblewrap: { path: 'bwrap', args: [] } })).toBe('MCP_SANDBOX_BAD_SPEC');
    });
  }

  it('unwrapBwrapExit maps 128 + N to signal N and leaves other statuses', () => {
    const base: ExitInfo = { pid: 5, exitCode: 0, signal: null, userMicros: null, systemMicros: null, maxRssKiB: null };
    expect(unwrapBwrapExit({ ...base, exitCode: 137 })).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(unwrapBwrapExit({ ...base, exitCode: 152 })).toMatchObject({ exitCode: null, signal: 'SIGXCPU' });
    expect(unwrapBwrapExit({ ...base, exitCode: 3 })).toMatchObject({ exitCode: 3, signal: null });
    expect(unwrapBwrapExit({ ...base, exitCode: 128 })).toMatchObject({ exitCode: 128, signal: null });
    expect(unwrapBwrapExit({ ...base, exitCode: null, signal: 'SIGKILL' })).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  it('bwrapArgs binds node, its libraries and the given paths read-only and only cwd read-write', () => {
    const libs = sharedLibraries(process.execPath);
    const args = bwrapArgs({ program: process.execPath, readOnly: ['/srv/a', '/srv/b'], cwd: '/tmp/c' }, libs);
    const pairs = (flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 2] as string] : []));
    expect(pairs('--ro-bind')).toEqual([process.execPath, ...libs]);
    expect(pairs('--ro-bind-try')).toEqual(['/srv/a', '/srv/b']);
    expect(pairs('--bind')).toEqual(['/tmp/c']);
    for (const flag of ['--unshare-pid', '--die-with-parent', '--unshare-user', '--disable-userns']) expect(args).toContain(flag);
    expect(args.slice(-2)).toEqual(['--remount-ro', '/']);
    expect(args).not.toContain('--');
  });
});

describe('the sandbox runtime under bwrap, per launcher', () => {
  for (const launcher of launchers) {
    it(`${launcher.kind}: processes run inside bwrap, reported active; allow.fs is readable; benign calls work`, async (t) => {
      if (!works) t.skip(why);
      const data = mkdtempSync(join(tmpdir(), 'fastermcp-bwrap-data-'));
      dirs.push(data);
      writeFileSync(join(data, 'note.txt'), 'hello from allow.fs', { mode: 0o644 });
      const { chmodSync } = await import('node:fs');
      chmodSync(data, 0o755);
      const sandbox = createSandbox({ launcher, defaults: { wallMs: 10_000 } });
      try {
        expect(sandbox.bubblewrap).toBe(bwrap);
        expect(sandbox.report().protections.bubblewrap!.active).toBe(true);
        expect(sandbox.report().line).toMatch(/active: .*bubblewrap \(/);
        const pids: number[] = [];
        sandbox.on('call', (r: { pid: number }) => pids.push(r.pid));
        const echo = await sandbox.tool(fixture('echo.mjs'), { pool: 1 });
        const reader = await sandbox.tool(fixture('read-file.mjs'), { pool: 1, allow: { fs: [data] } });
        for (let i = 0; i < 5; i++) {
          const r = (await echo.handler({ text: `call ${i}` }, { signal: new AbortController().signal } as any, undefined)) as CallToolResult;
          expect(textOf(r)).toBe(`call ${i}`);
        }
        const read = (await reader.handler({ path: join(data, 'note.txt') }, { signal: new AbortController().signal } as any, undefined)) as CallToolResult;
        expect(read.isError, JSON.stringify(read)).toBeUndefined();
        expect(textOf(read)).toBe('hello from allow.fs');
        // The launched pid is bwrap; node is its grandchild, in a pid namespace of its own.
        const pid = pids[0] as number;
        expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('bwrap');
        const inner = programPid(pid);
        expect(inner).not.toBeNull();
        const status = readFileSync(`/proc/${inner}/status`, 'utf8');
        expect(status).toMatch(/^NSpid:\s+\d+\s+2$/m);
      } finally {
        await sandbox.close();
      }
    });

    it(`${launcher.kind}: bubblewrap: false turns it off and the report says so`, async (t) => {
      if (!works) t.skip(why);
      const sandbox = createSandbox({ launcher, bubblewrap: false });
      try {
        expect(sandbox.bubblewrap).toBeNull();
        expect(sandbox.report().protections.bubblewrap).toEqual({ active: false, note: 'turned off' });
        const pids: number[] = [];
        sandbox.on('call', (r: { pid: number }) => pids.push(r.pid));
        const echo = await sandbox.tool(fixture('echo.mjs'), { pool: 1 });
        const r = (await echo.handler({ text: 'plain' }, { signal: new AbortController().signal } as any, undefined)) as CallToolResult;
        expect(textOf(r)).toBe('plain');
        // The call ran in node itself (Node 24+ names its main thread MainThread), not under bwrap.
        expect(readlinkSync(`/proc/${pids[0]}/exe`)).toBe(realpathSync(process.execPath));
      } finally {
        await sandbox.close();
      }
    });
  }
});
