// The contract between the sandbox runtime (src/sandbox/*: runner, protocol, warm pool, causes) and
// the process launcher underneath it. Two launchers implement it:
//   native  the addon forks and, between fork and exec, async-signal-safely: setsid, rlimits, cgroup
//           join, uid/gid drop, PR_SET_NO_NEW_PRIVS, a seccomp filter, an optional network namespace,
//           chdir, fd layout, close every other fd; exit statuses and rusage come from wait4 on a
//           dedicated reaper thread (pidfds), never from libuv's thread pool.
//   js      child_process.spawn with the limits applied by util-linux `prlimit` and the namespace by
//           `unshare -n` where those exist; no seccomp, no rusage. The fallback when the addon is
//           missing (FASTERMCP_FORCE_JS=1), and what the probe reports as weaker.
// The runtime sees streams, never file descriptors, so it runs unchanged on either.
import type { Duplex, Readable } from 'node:stream';

/**
 * Kernel limits set in the child before exec. 0 or Infinity leaves that limit unset, except coreBytes,
 * where 0 sets RLIMIT_CORE to 0 (no core files) and only Infinity leaves it unset.
 */
export interface ProcessLimits {
  /** RLIMIT_CPU soft limit in whole seconds (SIGXCPU); the hard limit is one second above. */
  cpuSeconds: number;
  /** RLIMIT_DATA in bytes (RLIMIT_AS is unusable for node: V8 reserves gigabytes of address space). */
  dataBytes: number;
  /** RLIMIT_NOFILE. */
  openFiles: number;
  /** RLIMIT_FSIZE in bytes (a bigger write fails with EFBIG; SIGXFSZ is ignored in the child). */
  fileSizeBytes: number;
  /** RLIMIT_NPROC (not enforced for root, hence the cgroup pids limit and the seccomp spawn rule). */
  processes: number;
  /** RLIMIT_CORE; 0 means no core files. */
  coreBytes: number;
}

export interface LaunchSpec {
  /** Absolute path of the program (the runtime passes process.execPath). */
  file: string;
  /** argv[0] first. */
  argv: string[];
  /** The child's whole environment (nothing is inherited). */
  env: Record<string, string>;
  /** Working directory (must exist; the runtime makes a fresh empty one). */
  cwd: string;
  limits: ProcessLimits;
  /** Drop to this uid/gid (and no supplementary groups) before exec; only when the server is root. */
  uid?: number;
  gid?: number;
  /**
   * seccomp: socket() and socketpair() fail with EACCES (the control channel is inherited, fd 3). io_uring
   * is refused whenever a filter is installed, since its operations would bypass this rule.
   */
  denyNetwork: boolean;
  /**
   * seccomp: fork, vfork and clone without CLONE_THREAD fail with EPERM; clone3 fails with
   * ENOSYS (so libc falls back to clone, whose flags the filter can see). Threads stay allowed.
   */
  denySpawn: boolean;
  /**
   * seccomp: kill/tkill/tgkill/rt_(tg)sigqueueinfo only at the child itself or its own group (no kill(-1), no
   * siblings); pidfd_send_signal always fails (a pidfd's target is invisible to the filter).
   */
  restrictKill: boolean;
  /** unshare(CLONE_NEWNET): a network namespace with only a down loopback (needs root). */
  newNetNamespace: boolean;
  /** cgroup.procs files (v1 memory, pids, ...) the child writes its own pid into before exec. */
  cgroupProcs: string[];
  /**
   * Exec `file` through bubblewrap: `path ARGS [--seccomp 4] -- file argv[1..]`, after every other step
   * (so bwrap runs as the dropped uid, in an unprivileged user namespace). args come from bwrapArgs()
   * (bwrap.ts). The native launcher hands its seccomp filter to bwrap on fd 4, which installs it on the
   * final process (the filter refuses the clone/unshare/mount bwrap needs). restrictKill must be false:
   * its own-pid rules need a pid not known when the filter is made; args' pid namespace replaces it.
   * The launched pid is bwrap's; the program is its grandchild (bwrap's pid 1 reaper, then the program).
   * A signal death of the program, which bwrap reports as exit 128 + N, is reported as that signal.
   */
  bubblewrap?: { path: string; args: string[] } | undefined;
}

/** How a child ended, from wait4(2). */
export interface ExitInfo {
  pid: number;
  /** Exit status when it exited, else null (-1 in the rare case another waiter reaped the pid first). */
  exitCode: number | null;
  /** Signal name (SIGKILL, SIGXCPU, SIGSEGV, ...) when a signal ended it, else null. */
  signal: string | null;
  /** rusage of the child (null from the js launcher, which cannot see it). */
  userMicros: number | null;
  systemMicros: number | null;
  maxRssKiB: number | null;
}

/** A started child. control is a duplex byte stream (the child's fd 3); stdout/stderr are its fds 1 and 2. */
export interface Launched {
  pid: number;
  control: Duplex;
  stdout: Readable;
  stderr: Readable;
}

/** What this host offers the sandbox, found once at startup (reported by `fastermcp serve`). */
export interface HostFeatures {
  launcher: 'native' | 'js';
  seccomp: boolean;
  noNewPrivs: boolean;
  netNamespace: boolean;
  /** The v1 memory / pids cgroup folder this process may create children in, or null. */
  cgroupMemory: string | null;
  cgroupPids: string | null;
  /** Path of `bwrap` when installed, else null. */
  bubblewrap: string | null;
  /** The flag that turns on Node's permission model for the child (`--permission` or `--experimental-permission`). */
  permissionFlag: string;
  /** True when the server runs as root (then the child drops to `nobody`). */
  root: boolean;
}

export interface Launcher {
  readonly kind: 'native' | 'js';
  /** Starts a child; onExit is called exactly once, after the child is reaped. Throws (with errno) when it cannot start. */
  launch(spec: LaunchSpec, onExit: (info: ExitInfo) => void): Launched;
  /** prlimit(2) RLIMIT_CPU of a running child, in whole seconds of its total CPU time (soft; hard = soft + 1). */
  setCpuLimit(pid: number, softSeconds: number): void;
  /** The child's CPU time so far (user + system), in microseconds, or null when it cannot be read. */
  cpuMicros(pid: number): number | null;
  /** Sends a signal to the child's whole process group (it is a session leader). Ignores ESRCH. */
  killGroup(pid: number, signal: NodeJS.Signals): void;
  probe(): HostFeatures;
}
