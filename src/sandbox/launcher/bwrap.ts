// bubblewrap (bwrap) as the filesystem and pid layer of a sandbox process (docs/sandbox-launcher.md,
// "bubblewrap"). Both launchers exec the program through `bwrap ARGS -- program ...` after every other
// step (cgroup join, netns, rlimits, uid drop, no_new_privs), so bwrap runs unprivileged and builds its
// mounts inside a user namespace of its own. The view starts from an empty read-only tmpfs and holds
// only: the program and the shared libraries its loader names, the paths given read-only, the cwd
// read-write, a minimal /dev and a fresh /proc of a new pid namespace. No /etc at all: node needs none
// of it to run a tool (no network, so no resolv.conf/hosts/certificates; no /etc/localtime, so the
// tool's clock is UTC; no passwd, so os.userInfo() fails).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmdirSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { signalName } from './proc.js';
import type { ExitInfo } from './types.js';

const SIGNALS = constants.signals as unknown as Record<string, number>;

export interface FsView {
  /** The program bwrap runs (bound read-only, with its shared libraries). */
  program: string;
  /** Files and folders bound read-only at their own paths (runner, module, allow.fs), when they exist. */
  readOnly: string[];
  /** The working folder, bound read-write. */
  cwd: string;
}

const libraries = new Map<string, string[]>();

/**
 * The shared objects `program` loads (the dynamic loader's own list, as ldd prints it: the loader lists
 * them and exits without running the program), by the paths the loader looks them up at. Memoised per
 * program. Only for dynamic programs such as node: a static one would run (with no arguments) and give [].
 */
export function sharedLibraries(program: string): string[] {
  const known = libraries.get(program);
  if (known !== undefined) return known;
  const r = spawnSync(program, [], {
    env: { LD_TRACE_LOADED_OBJECTS: '1' },
    encoding: 'utf8',
    timeout: 10_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`sandbox bubblewrap: cannot list the shared libraries of ${program}: ${r.error?.message ?? (r.stderr.trim() || `exit status ${String(r.status)}`)}`);
  }
  const out: string[] = [];
  for (const line of r.stdout.split('\n')) {
    // "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "\t/lib64/ld-linux-x86-64.so.2 (0x...)"
    const m = /^\s*(?:\S+\s+=>\s+)?(\/\S+)\s+\(0x[0-9a-f]+\)\s*$/.exec(line);
    if (m !== null) out.push(m[1] as string);
  }
  libraries.set(program, out);
  return out;
}

/** The bwrap options (everything before `--`) for this view; the caller adds `--seccomp N` when it has a filter. */
export function bwrapArgs(view: FsView, libs: string[]): string[] {
  const args = [
    // A user namespace of its own (bwrap runs unprivileged after the uid drop) in which the tool may not
    // make further ones; new pid, IPC and UTS namespaces. The network namespace is the launcher's.
    '--unshare-user', '--disable-userns', '--unshare-pid', '--unshare-ipc', '--unshare-uts',
    '--die-with-parent',
    '--proc', '/proc',
    '--dev', '/dev',
  ];
  const bound = new Set<string>();
  const ro = (path: string, target = path, flag = '--ro-bind'): void => {
    if (bound.has(target)) return;
    bound.add(target);
    args.push(flag, path, target);
  };
  ro(realpathSync(view.program), view.program);
  // Each library at the path the loader asks for, from wherever its symlinks lead on the host.
  for (const lib of libs) ro(realpathSync(lib), lib);
  // A path missing when the process starts is simply absent from the view (ENOENT, as without bwrap).
  for (const path of view.readOnly) ro(path, path, '--ro-bind-try');
  args.push('--bind', view.cwd, view.cwd, '--chdir', view.cwd);
  // Last: the empty root becomes read-only, so a write outside cwd fails (EROFS) instead of landing in tmpfs.
  args.push('--remount-ro', '/');
  return args;
}

/**
 * bwrap's own exit when the program ended: bwrap exits with 128 + N when its child died of signal N.
 * Those statuses become the signal again, so the runtime's exit classification sees what it would see
 * without bwrap. (A program that itself exits with 129..192 reads as that signal: both are a crash.)
 */
export function unwrapBwrapExit(info: ExitInfo): ExitInfo {
  const code = info.exitCode;
  if (code === null || code <= 128 || code > 128 + 64) return info;
  return { ...info, exitCode: null, signal: signalName(code - 128, SIGNALS) };
}

const usable = new Map<string, boolean>();

/**
 * Whether bwrap can build a view here for a process of `uid` (user namespaces may be turned off or
 * restricted by the host: then bwrap fails and is not used). Runs `bwrap ... -- true` once per path/uid.
 */
export function bwrapWorks(bwrap: string, uid: number | undefined): boolean {
  const key = `${bwrap}:${String(uid)}`;
  const known = usable.get(key);
  if (known !== undefined) return known;
  let ok = false;
  let cwd: string | undefined;
  try {
    cwd = mkdtempSync(join(tmpdir(), 'fastermcp-bwrap-probe-'));
    chmodSync(cwd, 0o755);
    const program = realpathSync('/bin/true');
    const args = bwrapArgs({ program, readOnly: [], cwd }, sharedLibraries(program));
    const r = spawnSync(bwrap, [...args, '--', program], {
      env: {},
      stdio: 'ignore',
      timeout: 10_000,
      ...(uid !== undefined ? { uid, gid: uid } : {}),
    });
    ok = r.error === undefined && r.status === 0;
  } catch {
    ok = false;
  } finally {
    if (cwd !== undefined) rmdirSync(cwd);
  }
  usable.set(key, ok);
  return ok;
}

/** The children of a process: its main thread's `children` file, else a scan of /proc for its ppid. */
function childrenOf(pid: number): number[] | null {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(`/proc/${pid}`)) return null;
  }
  // Kernels without CONFIG_PROC_CHILDREN: field 4 of /proc/<n>/stat (after the last ')') is the ppid.
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * The program's pid (in this pid namespace) under a bwrap pid: bwrap runs a pid 1 reaper, which runs the
 * program, which may start nothing else (spawning is refused). Follows single children down to the leaf;
 * null when the tree is not (yet, or any more) that chain.
 */
export function programPid(bwrapPid: number): number | null {
  let pid = bwrapPid;
  for (let depth = 0; depth < 4; depth++) {
    const kids = childrenOf(pid);
    if (kids === null || kids.length > 1) return null;
    if (kids.length === 0) return depth === 0 ? null : pid;
    pid = kids[0] as number;
  }
  return null;
}
