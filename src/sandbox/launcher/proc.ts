// Pure parsers both launchers share with the C++ core (native/core/sandbox.cc), checked against the same
// vectors (test/vectors/sandbox-proc-stat.json, test/vectors/sandbox-cgroup.json):
//   cpuMicrosFromStat   a /proc/<pid>/stat line -> utime + stime in microseconds
//   cgroupV1Dirs        /proc/self/cgroup -> the v1 memory and pids folders of this process

/**
 * utime + stime (fields 14 and 15 of proc(5) stat) in microseconds, or null when the line is malformed.
 * The command name (field 2) is in parentheses and may itself hold spaces and ')' characters, so the
 * fields are counted from the LAST ')' of the line.
 */
export function cpuMicrosFromStat(line: string, clockTicksPerSecond: number): number | null {
  if (!(clockTicksPerSecond > 0 && clockTicksPerSecond <= 1e9) || !Number.isInteger(clockTicksPerSecond)) return null;
  const close = line.lastIndexOf(')');
  const open = line.indexOf(' (');
  if (close < 0 || open < 0 || open > close || !/^[0-9]+$/.test(line.slice(0, open))) return null;
  // After ") ": field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
  const rest = line.slice(close + 1);
  if (!rest.startsWith(' ')) return null;
  const fields = rest.slice(1).replace(/\n$/, '').split(' ');
  if (fields.length < 13) return null;
  const utime = fields[11] as string;
  const stime = fields[12] as string;
  if (!/^[0-9]{1,18}$/.test(utime) || !/^[0-9]{1,18}$/.test(stime)) return null;
  const ticks = BigInt(utime) + BigInt(stime);
  const micros = (ticks * 1_000_000n) / BigInt(clockTicksPerSecond);
  // Beyond 2^53 microseconds (285 years of CPU) the line is not a real one.
  if (micros > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(micros);
}

export interface CgroupDirs {
  memory: string | null;
  pids: string | null;
}

/** A cgroup path as the kernel prints it: absolute, no empty, '.' or '..' component, no control bytes. */
function safeCgroupPath(path: string): boolean {
  if (!path.startsWith('/') || /[\x00-\x1f\x7f]/.test(path)) return false;
  if (path === '/') return true;
  const parts = path.slice(1).split('/');
  return parts.every((p) => p !== '' && p !== '.' && p !== '..');
}

/**
 * The v1 memory and pids cgroup folders of the process whose /proc/<pid>/cgroup is `content`, under
 * `mountRoot` (normally /sys/fs/cgroup, where each v1 controller is mounted at <mountRoot>/<controller>).
 * Lines are `hierarchy-id:controller,list:path`; the v2 line (`0::path`) and named hierarchies are skipped.
 * A controller listed twice, or a path that is not a plain absolute path, gives null for that controller.
 */
export function cgroupV1Dirs(content: string, mountRoot: string): CgroupDirs {
  const found: Record<'memory' | 'pids', string | null | undefined> = { memory: undefined, pids: undefined };
  const root = mountRoot.replace(/\/+$/, '');
  for (const line of content.split('\n')) {
    if (line === '') continue;
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0 || !/^[0-9]+$/.test(line.slice(0, first))) continue;
    const controllers = line.slice(first + 1, second).split(',');
    const path = line.slice(second + 1);
    for (const name of ['memory', 'pids'] as const) {
      if (!controllers.includes(name)) continue;
      if (found[name] !== undefined) {
        found[name] = null; // listed twice: ambiguous
        continue;
      }
      found[name] = safeCgroupPath(path) ? `${root}/${name}${path === '/' ? '' : path}` : null;
    }
  }
  return { memory: found.memory ?? null, pids: found.pids ?? null };
}

/** The signal name for a number on Linux (as ExitInfo.signal reports it), or `SIG<n>` when unnamed. */
export function signalName(signo: number, constants: Record<string, number>): string {
  for (const [name, value] of Object.entries(constants)) if (value === signo) return name;
  return `SIG${signo}`;
}
