// One sandbox process: started through the launcher with the runner and one tool module, it answers
// one call at a time. This file owns everything about a single process: its fresh cwd and cgroup,
// the node flags of the permission model, the bounded capture of stdout/stderr, the watchdogs of a
// call (wall clock, per-call CPU, output), the classification of how a call ended, and the cleanup
// once the process is reaped. The pool (pool.ts) decides when processes start, serve and retire.
import { chownSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { classifyExit, isRunnerCause, OOM_STDERR, type Cause } from './causes.js';
import { createProcessCgroup, type ProcessCgroup } from './cgroup.js';
import { cgroupMemoryBytes, cpuSecondsFor, heapMb, processLimits, semiSpaceMb, type SandboxLimits } from './limits.js';
import { checkReady, checkReply, encodeFrame, FrameDecoder, type CpuTotals, type FrameEvent, type ReadyMessage } from './protocol.js';
import { bwrapArgs, programPid, sharedLibraries } from './launcher/bwrap.js';
import type { ExitInfo, HostFeatures, Launched, Launcher, LaunchSpec } from './launcher/types.js';

/** nobody:nogroup, what the child runs as when the server is root. */
export const NOBODY = 65534;
/** Frame overhead allowed above resultBytes (the reply envelope and an error's text). */
const FRAME_SLACK = 64 * 1024;
/** Largest arguments frame the runner accepts. */
const MAX_ARGS_BYTES = 64 * 1024 * 1024;
/** stderr kept for classification and for failure reports. */
const STDERR_TAIL = 4096;
/** Threads a tool can keep busy at once: the main thread and libuv's default pool of 4. */
const CPU_THREADS = 5;
/** After the exit, how long stderr may still drain before the exit is judged without its end. */
const STDERR_GRACE_MS = 1000;

export interface ProcessConfig {
  /** The tool's label in errors (its module path until the definition arrives). */
  label: string;
  modulePath: string;
  limits: SandboxLimits;
  allowFs: string[];
  launcher: Launcher;
  host: HostFeatures;
  /** The sandbox's root folder (0711), holding runner.mjs and one cwd per process. */
  root: string;
  runnerPath: string;
  newNetNamespace: boolean;
  /** How long a process may take to send its definition. */
  startupMs: number;
  /** Bytes RLIMIT_DATA leaves to node itself on this host (node-probe.ts). */
  dataSlackBytes: number;
  /** When the server is root: a uid of its own for each process (else every process runs as nobody). */
  uids?: UidPool | undefined;
  /** Path of bwrap when processes get a bubblewrap filesystem view and pid namespace. */
  bubblewrap?: string | undefined;
}

/** Hands out distinct uids (used as gid too) from a range; a uid returns once its process is reaped. */
export interface UidPool {
  take(): number;
  give(uid: number): void;
}

export interface CallMetrics {
  cpuUserMicros: number;
  cpuSystemMicros: number;
  maxRssKiB: number;
  wallMicros: number;
  /**
   * Where the figures come from: 'runner' (getrusage in the child, for calls that returned), 'rusage'
   * (wait4 of a process that ended with the call), 'proc' (/proc/<pid>/stat read just before a kill).
   */
  source: 'runner' | 'rusage' | 'proc';
}

export type CallOutcome =
  | { ok: true; result: unknown; metrics: CallMetrics; retire: boolean }
  | { ok: false; cause: Cause; detail: string; stderr: string; metrics: CallMetrics; retire: boolean };

interface InFlight {
  id: number;
  started: bigint;
  startCpu: CpuTotals;
  settle: (outcome: CallOutcome) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Set once a watchdog, the output bound or a cancel has decided how the call ends. */
  decided: { cause: Cause; detail: string } | undefined;
  cpuAtKill?: number | undefined;
}

let callSeq = 0;

export class SandboxProcess {
  readonly pid: number;
  /** The node process whose CPU is watched and limited: pid itself, or under bwrap its grandchild. */
  private cpuPid: number;
  state: 'starting' | 'idle' | 'busy' | 'dead' = 'starting';
  calls = 0;
  /** The definition, once the runner sent it; rejects when the process fails before that. */
  readonly ready: Promise<ReadyMessage>;
  /** True when the failure before ready was the module's own (load_error): retrying will not help. */
  loadError = false;

  private readonly launched: Launched;
  private readonly cwd: string;
  /** The uid the child runs as (undefined when the server is not root). */
  private readonly uid: number | undefined;
  private cgroup: ProcessCgroup | null = null;
  private readonly decoder: FrameDecoder;
  private resolveReady!: (m: ReadyMessage) => void;
  private rejectReady!: (e: Error) => void;
  private startupTimer: NodeJS.Timeout | undefined;
  private lastCpu: CpuTotals = { user: 0, system: 0 };
  private cpuLimitSeconds: number;
  /** The server cannot raise this process's RLIMIT_CPU (no CAP_SYS_RESOURCE). */
  private cpuLimitFixed = false;
  private output = 0;
  private stderrTail = '';
  private oomSeen = false;
  private current: InFlight | undefined;
  private exitInfo: ExitInfo | undefined;
  private stderrEnded = false;
  private finalized = false;
  private killReason: string | undefined;
  /** Resolves once the process is reaped and its cwd and cgroup are gone. */
  readonly gone: Promise<void>;
  /** True once `gone` has resolved. */
  reaped = false;
  private resolveGone!: () => void;

  constructor(
    private readonly config: ProcessConfig,
    private readonly onDead: (proc: SandboxProcess) => void,
  ) {
    this.ready = new Promise<ReadyMessage>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // the pool reads it; an unread rejection must not crash the server
    this.gone = new Promise((r) => (this.resolveGone = r));
    const { limits, host } = config;
    this.cpuLimitSeconds = processLimits(limits, config.dataSlackBytes).cpuSeconds;
    this.uid = host.root ? (config.uids?.take() ?? NOBODY) : undefined;
    // A fresh empty cwd, owned by the uid the child runs as.
    try {
      this.cwd = mkdtempSync(join(config.root, 'p-'));
    } catch (e) {
      if (this.uid !== undefined && this.uid !== NOBODY) config.uids?.give(this.uid);
      throw e;
    }
    try {
      if (this.uid !== undefined) chownSync(this.cwd, this.uid, this.uid);
      chmodSync(this.cwd, 0o700);
      if (host.cgroupMemory !== null || host.cgroupPids !== null) {
        this.cgroup = createProcessCgroup(host.cgroupMemory, host.cgroupPids, cgroupMemoryBytes(limits), limits.processes);
      }
      this.launched = config.launcher.launch(this.spec(), (info) => this.onExit(info));
    } catch (e) {
      rmSync(this.cwd, { recursive: true, force: true });
      void this.cgroup?.remove().catch(() => {});
      if (this.uid !== undefined && this.uid !== NOBODY) config.uids?.give(this.uid);
      throw e;
    }
    this.pid = this.launched.pid;
    this.cpuPid = this.pid;
    this.decoder = new FrameDecoder(limits.resultBytes + FRAME_SLACK, (ev) => this.onFrame(ev));
    this.launched.control.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    this.launched.control.on('error', () => {}); // a reset when the child dies; the exit tells the story
    this.launched.stdout.on('data', (chunk: Buffer) => this.onOutput(chunk, false));
    this.launched.stderr.on('data', (chunk: Buffer) => this.onOutput(chunk, true));
    this.launched.stdout.on('error', () => {});
    this.launched.stderr.on('error', () => {});
    this.launched.stderr.on('close', () => {
      this.stderrEnded = true;
      this.maybeFinalize();
    });
    this.startupTimer = setTimeout(() => this.kill(`it sent no definition within ${config.startupMs} ms`), config.startupMs);
  }

  private spec(): LaunchSpec {
    const { limits, host, runnerPath, modulePath, allowFs, bubblewrap: bwrap } = this.config;
    const reads = [runnerPath, modulePath, this.cwd, ...allowFs];
    const argv = [
      process.execPath,
      host.permissionFlag,
      ...reads.map((p) => `--allow-fs-read=${p}`),
      `--allow-fs-write=${this.cwd}`,
      `--max-old-space-size=${heapMb(limits)}`,
      `--max-semi-space-size=${semiSpaceMb(limits)}`,
      '--disable-warning=ExperimentalWarning',
      runnerPath,
      JSON.stringify({ module: modulePath, resultBytes: limits.resultBytes, maxArgsBytes: MAX_ARGS_BYTES }),
    ];
    return {
      file: process.execPath,
      argv,
      // Nothing from the server's environment (NODE_OPTIONS included).
      env: { PATH: '/usr/bin:/bin', HOME: this.cwd, LANG: 'C' },
      cwd: this.cwd,
      limits: processLimits(limits, this.config.dataSlackBytes),
      ...(this.uid !== undefined ? { uid: this.uid, gid: this.uid } : {}),
      denyNetwork: true,
      denySpawn: true,
      // Under bwrap the pid namespace does its job: no pid outside it can be named (see docs).
      restrictKill: bwrap === undefined,
      newNetNamespace: this.config.newNetNamespace,
      cgroupProcs: this.cgroup?.procs ?? [],
      ...(bwrap === undefined
        ? {}
        : {
            bubblewrap: {
              path: bwrap,
              args: bwrapArgs({ program: process.execPath, readOnly: [runnerPath, modulePath, ...allowFs], cwd: this.cwd }, sharedLibraries(process.execPath)),
            },
          }),
    };
  }

  /** Runs one call. Resolves (never rejects) with how it ended. */
  call(args: unknown, signal?: AbortSignal): Promise<CallOutcome> {
    if (this.state !== 'idle') throw new Error(`sandbox: process ${this.pid} is ${this.state}, not idle`);
    this.state = 'busy';
    this.calls++;
    this.output = 0;
    const { limits, launcher } = this.config;
    // The kernel backstop: RLIMIT_CPU of the whole process, raised to what one more call may use.
    // Raising needs CAP_SYS_RESOURCE (prlimit on a process of another uid, and above its hard
    // limit): where the server lacks it, the first refusal is final and the pool retires this
    // process once its CPU total leaves less than one call's budget under the limit (canServe).
    const need = cpuSecondsFor(this.lastCpu.user + this.lastCpu.system, limits.cpuMs);
    // Under bwrap node is not our child, so its pid could be reused once it is gone: check it is still
    // bwrap's grandchild right before raising a limit on it (only then: the check reads /proc, ~50 µs).
    const raise = need > this.cpuLimitSeconds && !this.cpuLimitFixed;
    if (raise && (this.cpuPid === this.pid || programPid(this.pid) === this.cpuPid)) {
      try {
        launcher.setCpuLimit(this.cpuPid, need);
        this.cpuLimitSeconds = need;
      } catch {
        this.cpuLimitFixed = true;
      }
    }
    return new Promise<CallOutcome>((settle) => {
      const call: InFlight = {
        id: ++callSeq,
        started: process.hrtime.bigint(),
        startCpu: this.lastCpu,
        settle,
        timer: undefined,
        signal,
        onAbort: undefined,
        decided: undefined,
      };
      this.current = call;
      if (signal !== undefined) {
        if (signal.aborted) {
          this.fault('cancelled', 'the caller cancelled the call');
          return;
        }
        call.onAbort = () => this.fault('cancelled', 'the caller cancelled the call');
        signal.addEventListener('abort', call.onAbort, { once: true });
      }
      call.timer = setTimeout(() => this.watch(), Math.min(limits.wallMs, Math.max(5, limits.cpuMs / CPU_THREADS)));
      this.launched.control.write(encodeFrame({ id: call.id, args }));
    });
  }

  /**
   * The call's watchdog: wall clock first, then the CPU the kernel counted since the call began. A
   * tool can keep CPU_THREADS threads busy (its own, plus libuv's pool through async crypto or zlib),
   * so the next look is due when the remaining CPU budget could first be spent at that rate.
   */
  private watch(): void {
    const call = this.current;
    if (call === undefined || call.decided !== undefined) return;
    const { limits, launcher } = this.config;
    const elapsedMs = Number(process.hrtime.bigint() - call.started) / 1e6;
    if (elapsedMs >= limits.wallMs) {
      this.fault('timeout', `after ${limits.wallMs} ms wall clock`);
      return;
    }
    const now = launcher.cpuMicros(this.cpuPid);
    let next = limits.wallMs - elapsedMs;
    if (now !== null) {
      const used = now - (call.startCpu.user + call.startCpu.system);
      if (used >= limits.cpuMs * 1000) {
        this.fault('cpu_limit', `after ${limits.cpuMs} ms of CPU`);
        return;
      }
      next = Math.min(next, Math.max(5, (limits.cpuMs * 1000 - used) / 1000 / CPU_THREADS));
    }
    call.timer = setTimeout(() => this.watch(), Math.ceil(next));
  }

  /** Decides how the current call ends and kills the process group; the exit settles the call. */
  private fault(cause: Cause, detail: string): void {
    const call = this.current;
    if (call !== undefined && call.decided === undefined && this.exitInfo === undefined) {
      call.decided = { cause, detail };
      // The kernel's count before the kill: the call's CPU when the launcher has no rusage (js).
      call.cpuAtKill = this.config.launcher.cpuMicros(this.cpuPid) ?? undefined;
    }
    this.kill(`${cause} ${detail}`);
  }

  /** Ends the process for the sandbox's close(): a call in flight ends as `unavailable`. */
  shutdown(): void {
    this.fault('unavailable', 'the sandbox closed during the call');
  }

  /** SIGKILLs the whole process group. Safe to call more than once and after the exit. */
  kill(reason: string): void {
    this.killReason ??= reason;
    if (this.exitInfo !== undefined) return;
    try {
      this.config.launcher.killGroup(this.pid, 'SIGKILL');
    } catch {
      // already reaped
    }
  }

  private onOutput(chunk: Buffer, isStderr: boolean): void {
    this.output += chunk.length;
    if (isStderr) {
      // Scan the chunk with the end of the previous one, so a message split across chunks is seen.
      if (!this.oomSeen) this.oomSeen = OOM_STDERR.test(this.stderrTail.slice(-100) + chunk.toString('utf8', 0, Math.min(chunk.length, 1 << 16)));
      const text = this.stderrTail + chunk.toString('utf8', Math.max(0, chunk.length - STDERR_TAIL));
      this.stderrTail = text.length > STDERR_TAIL ? text.slice(text.length - STDERR_TAIL) : text;
    }
    if (this.output > this.config.limits.outputBytes && this.exitInfo === undefined) {
      if (this.current !== undefined) this.fault('output_limit', `stdout+stderr passed ${this.config.limits.outputBytes} bytes`);
      else this.kill('it wrote more than outputBytes while idle');
    }
  }

  private onFrame(ev: FrameEvent): void {
    if (ev.kind === 'too_big') {
      if (this.current !== undefined) this.fault('output_limit', `the reply is ${ev.length} bytes, more than resultBytes ${this.config.limits.resultBytes}`);
      else this.kill(`it sent a ${ev.length}-byte frame`);
      return;
    }
    if (ev.kind === 'bad_json') {
      this.protocolError(`it sent a frame that is not JSON (${ev.error})`);
      return;
    }
    if (this.state === 'starting') {
      const ready = checkReady(ev.value);
      clearTimeout(this.startupTimer);
      if (typeof ready === 'string') {
        this.loadError = (ev.value as { t?: unknown })?.t === 'load_error';
        this.rejectReady(new Error(`sandbox: ${this.config.label}: ${ready}`));
        this.kill(ready);
        return;
      }
      this.lastCpu = ready.cpu;
      if (this.config.bubblewrap !== undefined) {
        // The node process under bwrap's two (its pid 1 reaper in between): the one whose CPU counts.
        const inner = programPid(this.pid);
        if (inner === null) {
          const why = 'its node process under bwrap was not found';
          this.rejectReady(new Error(`sandbox: ${this.config.label}: ${why}`));
          this.kill(why);
          return;
        }
        this.cpuPid = inner;
      }
      this.state = 'idle';
      this.resolveReady(ready);
      return;
    }
    const call = this.current;
    if (call === undefined) {
      this.protocolError('it sent a frame while no call was running');
      return;
    }
    if (call.decided !== undefined) return; // already being killed
    const reply = checkReply(ev.value);
    if (typeof reply === 'string') {
      this.protocolError(reply);
      return;
    }
    if (reply.id !== call.id) {
      if (reply.id === -1 && !reply.ok) {
        this.protocolError(reply.error ?? 'an uncaught error');
        return;
      }
      this.protocolError(`it replied to call ${reply.id} during call ${call.id}`);
      return;
    }
    const metrics = this.metricsFrom(call, reply.cpu);
    this.lastCpu = reply.cpu;
    const { limits } = this.config;
    const cpuUsed = metrics.cpuUserMicros + metrics.cpuSystemMicros;
    if (cpuUsed > limits.cpuMs * 1000) {
      this.finish(call, { ok: false, cause: 'cpu_limit', detail: `after ${limits.cpuMs} ms of CPU (the call used ${Math.round(cpuUsed / 1000)} ms)`, stderr: '', metrics, retire: true });
    } else if (reply.ok) {
      this.finish(call, { ok: true, result: reply.result, metrics, retire: false });
    } else {
      const claimed = reply.cause;
      const cause: Cause = claimed !== undefined && isRunnerCause(claimed) ? claimed : 'error';
      // A refusal or a limit leaves the process in an unknown state: it is not reused.
      this.finish(call, { ok: false, cause, detail: reply.error ?? '', stderr: '', metrics, retire: cause !== 'error' });
    }
  }

  private protocolError(why: string): void {
    const call = this.current;
    if (call !== undefined && call.decided === undefined) call.decided = { cause: 'crashed', detail: `the runner broke the protocol: ${why}` };
    this.kill(`protocol: ${why}`);
  }

  private metricsFrom(call: InFlight, end: CpuTotals): CallMetrics {
    return {
      cpuUserMicros: Math.max(0, end.user - call.startCpu.user),
      cpuSystemMicros: Math.max(0, end.system - call.startCpu.system),
      maxRssKiB: end.maxRss ?? 0,
      wallMicros: Number(process.hrtime.bigint() - call.started) / 1000,
      source: 'runner',
    };
  }

  private finish(call: InFlight, outcome: CallOutcome): void {
    if (this.current !== call) return;
    clearTimeout(call.timer);
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
    this.current = undefined;
    if (this.state === 'busy') this.state = 'idle';
    call.settle(outcome);
  }

  private onExit(info: ExitInfo): void {
    this.exitInfo = info;
    if (this.stderrEnded) this.maybeFinalize();
    else setTimeout(() => this.maybeFinalize(true), STDERR_GRACE_MS).unref();
  }

  private maybeFinalize(force = false): void {
    if (this.finalized || this.exitInfo === undefined || (!this.stderrEnded && !force)) return;
    this.finalized = true;
    clearTimeout(this.startupTimer);
    const info = this.exitInfo;
    const wasStarting = this.state === 'starting';
    this.state = 'dead';
    this.decoder.stop();
    this.launched.control.destroy();
    const memoryExceeded = this.cgroup?.memoryExceeded() ?? false;
    if (wasStarting) {
      const how = info.signal !== null ? `was killed by ${info.signal}` : `exited with status ${String(info.exitCode)}`;
      const why = this.killReason ?? `it ${how} before sending its definition`;
      this.rejectReady(new Error(`sandbox: ${this.config.label}: the process failed to start: ${why}${this.stderrTail === '' ? '' : `; stderr: ${this.stderrTail.trim().slice(-1000)}`}`));
    }
    const call = this.current;
    if (call !== undefined) {
      const peakBytes = this.cgroup?.peakBytes() ?? (info.maxRssKiB === null ? null : info.maxRssKiB * 1024);
      const memoryLimitBytes = cgroupMemoryBytes(this.config.limits);
      const { cause, detail } = call.decided ?? classifyExit({ info, stderrTail: this.stderrTail, oomSeen: this.oomSeen, cgroupMemoryExceeded: memoryExceeded, peakBytes, memoryLimitBytes });
      const metrics = this.metricsFrom(call, this.lastCpu);
      if (call.cpuAtKill !== undefined) {
        // /proc gives user + system together: counted as user time.
        metrics.cpuUserMicros = Math.max(0, call.cpuAtKill - call.startCpu.user - call.startCpu.system);
        metrics.cpuSystemMicros = 0;
        metrics.source = 'proc';
      }
      // Under bwrap, wait4 sees bwrap's chain: it includes node only if each reaped its child before a
      // group kill reached it, so it is taken only when no /proc reading exists and it covers the
      // CPU node had already reported.
      const rusageIsNode = this.config.bubblewrap === undefined ||
        (call.cpuAtKill === undefined && (info.userMicros ?? 0) + (info.systemMicros ?? 0) >= call.startCpu.user + call.startCpu.system);
      if (info.userMicros !== null && info.systemMicros !== null && rusageIsNode) {
        // The process ended with the call: the kernel's totals, less what it had used before the call.
        metrics.cpuUserMicros = Math.max(0, info.userMicros - call.startCpu.user);
        metrics.cpuSystemMicros = Math.max(0, info.systemMicros - call.startCpu.system);
        metrics.maxRssKiB = info.maxRssKiB ?? metrics.maxRssKiB;
        metrics.source = 'rusage';
      }
      this.finish(call, { ok: false, cause, detail, stderr: this.stderrTail.slice(-1000), metrics, retire: true });
    }
    const cleanup = async (): Promise<void> => {
      rmSync(this.cwd, { recursive: true, force: true });
      await this.cgroup?.remove();
      // Reaped, and its cgroup (so every task of it) gone: the uid may serve another process.
      if (this.uid !== undefined && this.uid !== NOBODY) this.config.uids?.give(this.uid);
    };
    cleanup()
      .catch((e: unknown) => process.emitWarning(`sandbox cleanup: ${(e as Error).message}`, { code: 'FASTERMCP_SANDBOX_CLEANUP' }))
      .finally(() => {
        this.reaped = true;
        this.resolveGone();
        this.onDead(this);
      });
  }

  /** False once the next call could not get its whole CPU budget under the process's RLIMIT_CPU. */
  canServe(): boolean {
    return cpuSecondsFor(this.lastCpu.user + this.lastCpu.system, this.config.limits.cpuMs) <= this.cpuLimitSeconds || !this.cpuLimitFixed;
  }

  /** The last exit facts, for a fresh-mode call's metrics and for tests. */
  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }
}
