// Checks a LaunchSpec once, in TS, before either launcher acts on it (the binding checks types again), and
// the one reading of ProcessLimits both launchers share: which limits are set and to what.
import type { LaunchSpec, ProcessLimits } from './types.js';

function fail(message: string): never {
  const err = new TypeError(`sandbox launch: ${message}`) as TypeError & { code: string };
  err.code = 'MCP_SANDBOX_BAD_SPEC';
  throw err;
}

const hasNul = (s: string): boolean => s.includes('\0');

/** A limit value: a non-negative integer or Infinity. */
function checkLimit(name: string, value: unknown): void {
  if (typeof value !== 'number' || !(value === Infinity || (Number.isSafeInteger(value) && value >= 0))) {
    fail(`limits.${name} must be a non-negative integer or Infinity, got ${String(value)}`);
  }
}

const LIMIT_NAMES = ['cpuSeconds', 'dataBytes', 'openFiles', 'fileSizeBytes', 'processes', 'coreBytes'] as const;

export function validateSpec(spec: LaunchSpec): void {
  if (typeof spec !== 'object' || spec === null) fail('the spec must be an object');
  if (typeof spec.file !== 'string' || !spec.file.startsWith('/') || hasNul(spec.file)) {
    fail(`file must be an absolute path, got ${JSON.stringify(spec.file)}`);
  }
  if (!Array.isArray(spec.argv) || spec.argv.length === 0) fail('argv must be a non-empty array (argv[0] first)');
  for (const a of spec.argv) if (typeof a !== 'string' || hasNul(a)) fail('argv entries must be strings without NUL');
  if (typeof spec.env !== 'object' || spec.env === null) fail('env must be an object of strings');
  for (const [k, v] of Object.entries(spec.env)) {
    if (k === '' || k.includes('=') || hasNul(k)) fail(`env name ${JSON.stringify(k)} is not a valid variable name`);
    if (typeof v !== 'string' || hasNul(v)) fail(`env.${k} must be a string without NUL`);
  }
  if (typeof spec.cwd !== 'string' || !spec.cwd.startsWith('/') || hasNul(spec.cwd)) {
    fail(`cwd must be an absolute path, got ${JSON.stringify(spec.cwd)}`);
  }
  if (typeof spec.limits !== 'object' || spec.limits === null) fail('limits must be an object');
  for (const name of LIMIT_NAMES) checkLimit(name, spec.limits[name]);
  if (spec.limits.cpuSeconds !== Infinity && spec.limits.cpuSeconds > 2 ** 31) fail('limits.cpuSeconds is too large');
  for (const id of ['uid', 'gid'] as const) {
    const v = spec[id];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v < 2 ** 32 - 1)) fail(`${id} must be an integer id, got ${String(v)}`);
  }
  if ((spec.uid === undefined) !== (spec.gid === undefined)) fail('uid and gid must be given together');
  for (const flag of ['denyNetwork', 'denySpawn', 'restrictKill', 'newNetNamespace'] as const) {
    if (typeof spec[flag] !== 'boolean') fail(`${flag} must be a boolean`);
  }
  if (!Array.isArray(spec.cgroupProcs)) fail('cgroupProcs must be an array of paths');
  for (const p of spec.cgroupProcs) {
    if (typeof p !== 'string' || !p.startsWith('/') || hasNul(p)) fail(`cgroupProcs entry ${JSON.stringify(p)} is not an absolute path`);
  }
  const bw = spec.bubblewrap;
  if (bw !== undefined) {
    if (typeof bw !== 'object' || bw === null || typeof bw.path !== 'string' || !bw.path.startsWith('/') || hasNul(bw.path)) {
      fail('bubblewrap.path must be an absolute path');
    }
    if (!Array.isArray(bw.args)) fail('bubblewrap.args must be an array of strings');
    for (const a of bw.args) {
      if (typeof a !== 'string' || hasNul(a)) fail('bubblewrap.args entries must be strings without NUL');
      if (a === '--' || a === '--seccomp') fail(`bubblewrap.args must not hold ${a} (the launcher adds it)`);
    }
    if (spec.restrictKill) fail('restrictKill cannot be combined with bubblewrap (the filter is built before the pid is known; use its pid namespace)');
  }
}

/** Checks a pid the caller wants to signal or limit: never 0, 1 or negative (kill(-0) is our own group). */
export function checkPid(pid: number): void {
  if (!(Number.isInteger(pid) && pid > 1 && pid < 2 ** 31)) fail(`pid must be an integer above 1, got ${String(pid)}`);
}

export function checkCpuSeconds(seconds: number): void {
  if (!(Number.isInteger(seconds) && seconds >= 1 && seconds < 2 ** 31)) {
    fail(`the CPU limit must be a whole number of seconds >= 1, got ${String(seconds)}`);
  }
}

/**
 * The rlimits to set, by util-linux prlimit option name, as [soft, hard]. A limit of 0 or Infinity is
 * left unset, except coreBytes where 0 is the point (no core files) and only Infinity leaves it unset.
 * RLIMIT_CPU's hard limit is one second above the soft one, so SIGXCPU comes before SIGKILL.
 */
export function rlimitsOf(limits: ProcessLimits): [string, number, number][] {
  const out: [string, number, number][] = [];
  const set = (v: number): boolean => v !== 0 && v !== Infinity;
  if (set(limits.cpuSeconds)) out.push(['cpu', limits.cpuSeconds, limits.cpuSeconds + 1]);
  if (set(limits.dataBytes)) out.push(['data', limits.dataBytes, limits.dataBytes]);
  if (set(limits.openFiles)) out.push(['nofile', limits.openFiles, limits.openFiles]);
  if (set(limits.fileSizeBytes)) out.push(['fsize', limits.fileSizeBytes, limits.fileSizeBytes]);
  if (set(limits.processes)) out.push(['nproc', limits.processes, limits.processes]);
  if (limits.coreBytes !== Infinity) out.push(['core', limits.coreBytes, limits.coreBytes]);
  return out;
}
