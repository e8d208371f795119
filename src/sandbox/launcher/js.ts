// The pure-JS launcher: child_process.spawn, with what node cannot set between fork and exec done by
// util-linux programs the child is exec'd through (each one execs the next in place, so the pid stays):
//   unshare -n --                       a new network namespace (root only)
//   setpriv --nnp --pdeathsig KILL      PR_SET_NO_NEW_PRIVS, SIGKILL when the server dies, and the uid/gid
//           [--regid G --reuid U --clear-groups] --   drop (done here, not by spawn, so unshare above runs as root)
//   prlimit --cpu=S:S+1 --data=... --   the rlimits (lowering needs no privilege, so it runs last)
//   sh -c 'echo $$ > cgroup.procs...; exec "$@"'   the cgroup joins, first (still root)
//   bwrap ARGS --                       the filesystem view and pid namespace, last (spec.bubblewrap)
// What it cannot do (probe() says so): seccomp (no denyNetwork/denySpawn/restrictKill), rusage (ExitInfo's rusage fields are null), and argv[0] when a wrapper runs (it becomes
// `file`). Exec failures of `file` past the wrappers show as exit status 126/127, so the file is checked
// for execute permission first. The child is a session leader (detached) with fd 0 /dev/null, 1 and 2
// pipes and fd 3 a socketpair (node's 'pipe' stdio is a UNIX socketpair).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs';
import type { Duplex, Readable } from 'node:stream';
import { unwrapBwrapExit } from './bwrap.js';
import { cpuMicrosFromStat } from './proc.js';
import { hostFeatures, findOnPath, clockTicksPerSecond } from './host.js';
import { checkCpuSeconds, checkPid, rlimitsOf, validateSpec } from './spec.js';
import type { ExitInfo, HostFeatures, LaunchSpec, Launched, Launcher } from './types.js';

function launchError(message: string, code: string | undefined, errno?: number): Error {
  const err = new Error(`sandbox launch failed: ${message}`) as Error & { code?: string; errno?: number };
  if (code !== undefined) err.code = code;
  if (errno !== undefined) err.errno = errno;
  return err;
}

function tool(name: string): string {
  const path = findOnPath(name);
  if (path === null) throw launchError(`util-linux \`${name}\` is not on PATH (the js launcher needs it)`, 'ENOENT');
  return path;
}

const CGROUP_JOIN =
  'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"';

/** The command line that applies the spec's namespace, privileges and limits, then execs spec.file. */
export function wrapperArgv(spec: LaunchSpec, root: boolean): string[] {
  const out: string[] = [];
  if (spec.cgroupProcs.length > 0) {
    // A shell writes its own pid ($$, which exec keeps) into each cgroup.procs, still as root, then
    // execs the rest; a failed write ends it with status 125 and the shell's message on stderr.
    out.push(tool('sh'), '-c', CGROUP_JOIN, 'sh', String(spec.cgroupProcs.length), ...spec.cgroupProcs);
  }
  if (spec.newNetNamespace) {
    if (!root) throw launchError('newNetNamespace needs root (unshare(CLONE_NEWNET))', 'EPERM');
    out.push(tool('unshare'), '-n', '--');
  }
  const setpriv = findOnPath('setpriv');
  if (setpriv !== null) {
    out.push(setpriv, '--nnp', '--pdeathsig', 'KILL');
    if (spec.uid !== undefined && spec.gid !== undefined) {
      out.push(`--regid=${spec.gid}`, `--reuid=${spec.uid}`, '--clear-groups');
    }
    out.push('--');
  } else if (spec.uid !== undefined && spec.newNetNamespace) {
    throw launchError('dropping uid/gid inside a new network namespace needs util-linux `setpriv`', 'ENOENT');
  }
  const limits = rlimitsOf(spec.limits);
  if (limits.length > 0) {
    out.push(tool('prlimit'));
    for (const [name, soft, hard] of limits) out.push(`--${name}=${soft}:${hard}`);
    out.push('--');
  }
  // bubblewrap last: it runs as the dropped uid, with every limit already set (no seccomp to hand on).
  if (spec.bubblewrap !== undefined) out.push(spec.bubblewrap.path, ...spec.bubblewrap.args, '--');
  return out;
}

export class JsLauncher implements Launcher {
  readonly kind = 'js' as const;

  launch(spec: LaunchSpec, onExit: (info: ExitInfo) => void): Launched {
    validateSpec(spec);
    // Failures spawn would only report asynchronously (or as prlimit's exit 127), reported now instead.
    try {
      accessSync(spec.file, fsConstants.X_OK);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw launchError(`execve(${spec.file}): ${e.message}`, e.code, e.errno);
    }
    let cwdIsDir = false;
    try {
      cwdIsDir = statSync(spec.cwd).isDirectory();
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw launchError(`chdir(${spec.cwd}): ${e.message}`, e.code, e.errno);
    }
    if (!cwdIsDir) throw launchError(`chdir(${spec.cwd}): not a directory`, 'ENOTDIR');
    const root = process.getuid?.() === 0;
    const wrappers = wrapperArgv(spec, root);
    // Without setpriv the uid/gid drop is spawn's (libuv also clears the supplementary groups).
    const dropHere = !wrappers.some((a) => a.startsWith('--reuid='));
    const [command, ...args] = wrappers.length > 0 ? [...wrappers, spec.file, ...spec.argv.slice(1)] : [spec.file, ...spec.argv.slice(1)];
    let child: ChildProcess;
    try {
      child = spawn(command as string, args, {
        argv0: wrappers.length > 0 ? undefined : spec.argv[0],
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        uid: dropHere ? spec.uid : undefined,
        gid: dropHere ? spec.gid : undefined,
        windowsHide: true,
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw launchError(`spawn(${command as string}): ${e.message}`, e.code, e.errno);
    }
    if (child.pid === undefined) {
      // spawn reports why on the next tick as 'error'; that event is swallowed, this throw is the report.
      child.once('error', () => {});
      for (const s of child.stdio) s?.destroy();
      throw launchError(`spawn(${command as string}) did not start a process (EACCES, EAGAIN, EMFILE or ENOENT)`, 'ESPAWN');
    }
    const pid = child.pid;
    const viaBwrap = spec.bubblewrap !== undefined;
    child.once('exit', (code, signal) => {
      const info: ExitInfo = { pid, exitCode: code, signal, userMicros: null, systemMicros: null, maxRssKiB: null };
      onExit(viaBwrap ? unwrapBwrapExit(info) : info);
    });
    // An 'error' after a successful spawn (a failed kill) must not become an uncaught exception.
    child.on('error', () => {});
    return {
      pid,
      control: child.stdio[3] as Duplex,
      stdout: child.stdout as Readable,
      stderr: child.stderr as Readable,
    };
  }

  setCpuLimit(pid: number, softSeconds: number): void {
    checkPid(pid);
    checkCpuSeconds(softSeconds);
    const r = spawnSync(tool('prlimit'), ['--pid', String(pid), `--cpu=${softSeconds}:${softSeconds + 1}`], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (r.error !== undefined || r.status !== 0) {
      const why = r.error?.message ?? (r.stderr.trim() || `exit status ${String(r.status)}`);
      const err = new Error(`prlimit(${pid}, RLIMIT_CPU) failed: ${why}`) as Error & { code: string };
      err.code = /No such process/.test(why) ? 'ESRCH' : 'EPRLIMIT';
      throw err;
    }
  }

  cpuMicros(pid: number): number | null {
    checkPid(pid);
    let line: string;
    try {
      line = readFileSync(`/proc/${pid}/stat`, 'latin1');
    } catch {
      return null;
    }
    return cpuMicrosFromStat(line, clockTicksPerSecond());
  }

  killGroup(pid: number, signal: NodeJS.Signals): void {
    checkPid(pid);
    try {
      process.kill(-pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  probe(): HostFeatures {
    return hostFeatures('js');
  }
}
