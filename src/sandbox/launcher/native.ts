// The native launcher: a thin wrapper over the addon's sandbox functions (native/binding/sandbox_binding.cc,
// native/core/sandbox.h). The addon forks and sets everything up between fork and exec; this file turns
// the parent's fds into streams and the reaper's numbers into an ExitInfo. Each fd is owned by exactly one
// net.Socket from here on, which closes it once (on EOF, error or destroy); the child's death gives EOF on
// all three unless something it started still holds them (killGroup reaches those: same process group).
import { Socket } from 'node:net';
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import type { NativeBinding } from '../../native.js';
import { unwrapBwrapExit } from './bwrap.js';
import { permissionFlag } from './host.js';
import { signalName } from './proc.js';
import { checkCpuSeconds, checkPid, rlimitsOf, validateSpec } from './spec.js';
import type { ExitInfo, HostFeatures, LaunchSpec, Launched, Launcher } from './types.js';

const SIGNALS = constants.signals as unknown as Record<string, number>;
const ERRNOS = constants.errno as unknown as Record<string, number>;

/** Runs a binding call; an error it throws (message, errno, step) also gets the errno's name as `code`. */
function withCode<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    const e = err as Error & { errno?: number; code?: string };
    if (typeof e.errno === 'number' && e.code === undefined) {
      for (const [name, value] of Object.entries(ERRNOS)) {
        if (value === e.errno) {
          e.code = name;
          break;
        }
      }
    }
    throw err;
  }
}

export class NativeLauncher implements Launcher {
  readonly kind = 'native' as const;
  readonly #binding: NativeBinding;
  readonly #useVfork: boolean;

  /**
   * useVfork (default true): clone(CLONE_VM | CLONE_VFORK), no copy of the parent's page tables; false:
   * fork(). docs/sandbox-launcher.md has the numbers. (ASan builds of the addon always fork.)
   */
  constructor(binding: NativeBinding, options: { useVfork?: boolean } = {}) {
    this.#binding = binding;
    this.#useVfork = options.useVfork ?? true;
  }

  launch(spec: LaunchSpec, onExit: (info: ExitInfo) => void): Launched {
    validateSpec(spec);
    const bw = spec.bubblewrap;
    // Under bwrap the filter is handed to it on fd 4 and installed on the final process (see types.ts).
    const filtered = spec.denyNetwork || spec.denySpawn || spec.restrictKill;
    const argv = bw === undefined
      ? spec.argv
      : [bw.path, ...bw.args, ...(filtered ? ['--seccomp', '4'] : []), '--', spec.file, ...spec.argv.slice(1)];
    const fds = withCode(() => this.#binding.sandboxLaunch(
      {
        file: bw === undefined ? spec.file : bw.path,
        argv,
        env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        cwd: spec.cwd,
        rlimits: rlimitsOf(spec.limits),
        uid: spec.uid ?? -1,
        gid: spec.gid ?? -1,
        denyNetwork: spec.denyNetwork,
        denySpawn: spec.denySpawn,
        restrictKill: spec.restrictKill,
        newNetNamespace: spec.newNetNamespace,
        cgroupProcs: spec.cgroupProcs,
        useVfork: this.#useVfork,
        ...(bw !== undefined && filtered ? { seccompFd: 4 } : {}),
      },
      (pid, exitCode, signo, userMicros, systemMicros, maxRssKiB) => {
        const info: ExitInfo = {
          pid,
          exitCode: signo === 0 ? exitCode : null,
          signal: signo === 0 ? null : signalName(signo, SIGNALS),
          userMicros,
          systemMicros,
          maxRssKiB,
        };
        onExit(bw === undefined ? info : unwrapBwrapExit(info));
      },
    ));
    const owned = [fds.control, fds.stdout, fds.stderr];
    const streams: Socket[] = [];
    try {
      streams.push(new Socket({ fd: fds.control, readable: true, writable: true }));
      owned.shift();
      streams.push(new Socket({ fd: fds.stdout, readable: true, writable: false }));
      owned.shift();
      streams.push(new Socket({ fd: fds.stderr, readable: true, writable: false }));
      owned.shift();
    } catch (err) {
      // The child runs on; close what it cannot be reached through, and end it.
      for (const s of streams) s.destroy();
      for (const fd of owned) closeSync(fd);
      this.killGroup(fds.pid, 'SIGKILL');
      throw err;
    }
    const [control, stdout, stderr] = streams as [Socket, Socket, Socket];
    return { pid: fds.pid, control, stdout, stderr };
  }

  setCpuLimit(pid: number, softSeconds: number): void {
    checkPid(pid);
    checkCpuSeconds(softSeconds);
    withCode(() => this.#binding.sandboxSetCpuLimit(pid, softSeconds));
  }

  cpuMicros(pid: number): number | null {
    checkPid(pid);
    const micros = this.#binding.sandboxCpuMicros(pid);
    return micros < 0 ? null : micros;
  }

  killGroup(pid: number, signal: NodeJS.Signals): void {
    checkPid(pid);
    const signo = SIGNALS[signal];
    if (signo === undefined) throw new TypeError(`killGroup: unknown signal ${String(signal)}`);
    withCode(() => this.#binding.sandboxKillGroup(pid, signo));
  }

  probe(): HostFeatures {
    const p = this.#binding.sandboxProbe();
    return { launcher: 'native', ...p, permissionFlag: permissionFlag() };
  }
}
