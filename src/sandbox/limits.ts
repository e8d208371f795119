// Limits of a sandboxed tool: the options a user sets, their defaults and checks, and what they turn
// into for the launcher (rlimits), the cgroup and node's own flags. Checked once here, at
// registration, so the call path only reads numbers.
import { isAbsolute } from 'node:path';
import type { ProcessLimits } from './launcher/types.js';

export interface SandboxLimits {
  /** CPU time one call may use, in ms (runner/kernel check per call, RLIMIT_CPU as the backstop). */
  cpuMs: number;
  /** Memory the tool may use in MiB, on top of node's own (RLIMIT_DATA and the cgroup limit at memoryMb + 64 MiB; V8's heap under it). */
  memoryMb: number;
  /** Wall-clock time one call may take, in ms; then the whole process group is SIGKILLed. */
  wallMs: number;
  /** RLIMIT_NOFILE. */
  openFiles: number;
  /** RLIMIT_FSIZE: the largest file the tool may write, in bytes. */
  fileSizeBytes: number;
  /** Tasks (processes and threads) of one sandbox process: the cgroup pids limit where offered. */
  processes: number;
  /** stdout + stderr a process may write per call (and between calls) before it is killed. */
  outputBytes: number;
  /** The largest reply frame (result JSON) a call may return. */
  resultBytes: number;
}

export interface SandboxAllow {
  /** Extra absolute paths (files or folders) the tool may read. */
  fs?: string[];
}

export interface SandboxToolOptions {
  /** Overrides of the sandbox's default limits for this tool. */
  limits?: Partial<SandboxLimits>;
  allow?: SandboxAllow;
  /**
   * Warm processes kept started for this tool (default 2). 0 starts a process per call on demand
   * (the fresh-process mode without spares).
   */
  pool?: number;
  /** 'warm' reuses a process for up to recycleAfter calls; 'fresh' uses every process for one call. */
  mode?: 'warm' | 'fresh';
  /** A warm process is replaced after this many calls (default 1000). */
  recycleAfter?: number;
  /** Calls waiting for a free process beyond this many are refused with cause `overloaded` (default 256). */
  maxQueue?: number;
  /** Register under this name instead of the module's definition.name. */
  name?: string;
}

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  cpuMs: 1000,
  memoryMb: 256,
  wallMs: 5000,
  openFiles: 64,
  fileSizeBytes: 16 * 1024 * 1024,
  processes: 32,
  outputBytes: 1024 * 1024,
  resultBytes: 4 * 1024 * 1024,
});

/** Node itself needs about 40 MiB of data before the tool allocates anything. */
export const MIN_MEMORY_MB = 64;
/** node starts ~10 threads (libuv pool, V8 platform workers): fewer tasks and it aborts at startup. */
export const MIN_PROCESSES = 16;
/** stdio, the control channel, the runner and the tool module, plus what node opens at startup. */
export const MIN_OPEN_FILES = 20;

const LIMIT_RANGES: Record<keyof SandboxLimits, [number, number]> = {
  cpuMs: [1, 3_600_000],
  memoryMb: [MIN_MEMORY_MB, 1024 * 1024],
  wallMs: [1, 86_400_000],
  openFiles: [MIN_OPEN_FILES, 1 << 20],
  fileSizeBytes: [0, Number.MAX_SAFE_INTEGER],
  processes: [MIN_PROCESSES, 1 << 22],
  outputBytes: [1, 1 << 30],
  resultBytes: [1024, 1 << 30],
};

/** Merges limits over a base and checks every value; throws a RangeError naming the bad one. */
export function resolveLimits(base: Readonly<SandboxLimits>, over: Partial<SandboxLimits> | undefined, what: string): SandboxLimits {
  const out = { ...base };
  if (over !== undefined) {
    for (const [key, value] of Object.entries(over)) {
      if (!(key in LIMIT_RANGES)) throw new TypeError(`${what}: unknown limit ${JSON.stringify(key)} (known: ${Object.keys(LIMIT_RANGES).join(', ')})`);
      if (value === undefined) continue;
      out[key as keyof SandboxLimits] = value as number;
    }
  }
  for (const key of Object.keys(LIMIT_RANGES) as (keyof SandboxLimits)[]) {
    const [lo, hi] = LIMIT_RANGES[key];
    const value = out[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
      throw new RangeError(`${what}: limit ${key} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(value)}`);
    }
  }
  return out;
}

export interface PoolSettings {
  size: number;
  mode: 'warm' | 'fresh';
  recycleAfter: number;
  maxQueue: number;
}

export function resolvePool(options: SandboxToolOptions, defaults: { pool?: number }, what: string): PoolSettings {
  const size = options.pool ?? defaults.pool ?? 2;
  const mode = options.mode ?? 'warm';
  const recycleAfter = mode === 'fresh' ? 1 : (options.recycleAfter ?? 1000);
  const maxQueue = options.maxQueue ?? 256;
  if (!Number.isInteger(size) || size < 0 || size > 256) throw new RangeError(`${what}: pool must be an integer from 0 to 256, got ${JSON.stringify(size)}`);
  if (mode !== 'warm' && mode !== 'fresh') throw new TypeError(`${what}: mode must be 'warm' or 'fresh', got ${JSON.stringify(mode)}`);
  if (!Number.isInteger(recycleAfter) || recycleAfter < 1) throw new RangeError(`${what}: recycleAfter must be a positive integer, got ${JSON.stringify(recycleAfter)}`);
  if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError(`${what}: maxQueue must be a non-negative integer, got ${JSON.stringify(maxQueue)}`);
  return { size, mode: size === 0 ? 'fresh' : mode, recycleAfter: size === 0 ? 1 : recycleAfter, maxQueue };
}

export function checkAllow(allow: SandboxAllow | undefined, what: string): string[] {
  const paths = allow?.fs ?? [];
  if (!Array.isArray(paths)) throw new TypeError(`${what}: allow.fs must be an array of absolute paths`);
  for (const p of paths) {
    if (typeof p !== 'string' || !isAbsolute(p)) throw new TypeError(`${what}: allow.fs entries must be absolute paths, got ${JSON.stringify(p)}`);
  }
  return paths;
}

/** What node itself takes before the tool allocates anything (code, stacks, libuv, V8's own). */
export const NODE_OVERHEAD_MB = 64;

/**
 * The rlimits of a new sandbox process. RLIMIT_CPU starts at one call's budget plus a second for
 * startup. RLIMIT_DATA is memoryMb plus node's own overhead plus what node reserves on this host
 * (node-probe.ts). The headroom above V8's heap limit is what makes a heap bomb end in V8's own OOM
 * report: at a tight data limit a failed mmap inside V8 or libc is often a silent SIGSEGV.
 */
export function processLimits(limits: SandboxLimits, dataSlackBytes = 0): ProcessLimits {
  return {
    cpuSeconds: Math.ceil(limits.cpuMs / 1000) + 1,
    dataBytes: (limits.memoryMb + NODE_OVERHEAD_MB) * 1024 * 1024 + dataSlackBytes,
    openFiles: limits.openFiles,
    fileSizeBytes: limits.fileSizeBytes,
    // RLIMIT_NPROC counts every process of the (shared) uid, not this sandbox's: the per-sandbox
    // count is the cgroup pids limit, and spawning is refused by seccomp and the permission model.
    processes: 0,
    coreBytes: 0,
  };
}

/** V8's old space: most of memoryMb, leaving room for the young generation and off-heap buffers. */
export function heapMb(limits: SandboxLimits): number {
  return Math.max(16, Math.floor(limits.memoryMb * 0.75) - 16);
}

/**
 * V8's young generation (semi-space, MiB) scaled to the limit: by default it may reach 3 x 16 MiB,
 * which with the old space and node's own ~40 MiB passes a small RLIMIT_DATA, and a failed mmap there
 * is a silent SIGSEGV rather than V8's OOM report.
 */
export function semiSpaceMb(limits: SandboxLimits): number {
  return Math.max(1, Math.min(16, Math.floor(limits.memoryMb / 32)));
}

/** cgroup memory limit (resident memory of the process): memoryMb plus node's own overhead. */
export function cgroupMemoryBytes(limits: SandboxLimits): number {
  return (limits.memoryMb + NODE_OVERHEAD_MB) * 1024 * 1024;
}

/** RLIMIT_CPU soft limit (whole seconds of total CPU) that lets one more call use cpuMs. */
export function cpuSecondsFor(totalMicros: number, cpuMs: number): number {
  return Math.ceil((totalMicros + cpuMs * 1000) / 1e6);
}
