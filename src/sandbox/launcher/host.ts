// Host facts the launchers need from TS: programs on PATH, the clock tick rate, the js launcher's probe,
// and the Node permission flag (both launchers report it: the child runs the same node binary).
import { spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupV1Dirs } from './proc.js';
import type { HostFeatures } from './types.js';

const found = new Map<string, string | null>();

/** Absolute path of an executable on this process's PATH (plus the sbin folders), or null. Memoised. */
export function findOnPath(name: string): string | null {
  const hit = found.get(name);
  if (hit !== undefined) return hit;
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  let result: string | null = null;
  for (const dir of dirs) {
    if (!dir.startsWith('/')) continue; // a relative PATH entry would depend on the cwd
    const path = join(dir, name);
    try {
      accessSync(path, fsConstants.X_OK);
      if (statSync(path).isFile()) {
        result = path;
        break;
      }
    } catch {
      // not here
    }
  }
  found.set(name, result);
  return result;
}

let ticks: number | undefined;

/** sysconf(_SC_CLK_TCK) via getconf (100 on every Linux port in practice, the fallback). */
export function clockTicksPerSecond(): number {
  if (ticks === undefined) {
    const getconf = findOnPath('getconf');
    const r = getconf === null ? null : spawnSync(getconf, ['CLK_TCK'], { encoding: 'utf8', timeout: 10_000 });
    const n = r !== null && r.status === 0 ? Number(r.stdout.trim()) : NaN;
    ticks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticks;
}

/** The flag that enables Node's permission model in a child running this node binary. */
export function permissionFlag(): string {
  return process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
}

/** `dir` when it is a folder where a child cgroup can be made (checked by making and removing one). */
function usableCgroup(dir: string | null): string | null {
  if (dir === null) return null;
  try {
    if (!statSync(dir).isDirectory()) return null;
    const probe = join(dir, `fastermcp-probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
    return dir;
  } catch {
    return null;
  }
}

/** This process's v1 memory and pids cgroup folders, when a child cgroup can be made in them. */
export function cgroupFolders(): { memory: string | null; pids: string | null } {
  let content = '';
  try {
    content = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return { memory: null, pids: null };
  }
  const dirs = cgroupV1Dirs(content, '/sys/fs/cgroup');
  return { memory: usableCgroup(dirs.memory), pids: usableCgroup(dirs.pids) };
}

/** What the js launcher can do on this host. */
export function hostFeatures(launcher: 'js'): HostFeatures {
  const root = process.getuid?.() === 0;
  const unshare = findOnPath('unshare');
  const yes = findOnPath('true');
  let netNamespace = false;
  if (root && unshare !== null && yes !== null) {
    netNamespace = spawnSync(unshare, ['-n', '--', yes], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  }
  const cgroups = cgroupFolders();
  return {
    launcher,
    seccomp: false,
    noNewPrivs: findOnPath('setpriv') !== null,
    netNamespace,
    cgroupMemory: cgroups.memory,
    cgroupPids: cgroups.pids,
    bubblewrap: findOnPath('bwrap'),
    permissionFlag: permissionFlag(),
    root,
  };
}
