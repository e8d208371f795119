// One cgroup v1 memory (and pids) folder per sandbox process, where the host offers a writable
// controller: memory.limit_in_bytes (+ memory.memsw.limit_in_bytes when swap accounting exists) and
// pids.max. The launcher writes the child's pid into cgroup.procs before exec. After the child is
// reaped the folder is read (did it hit the limit?) and removed. Folder names carry the server's
// pid, so folders left by a server that died are found and removed by the next one.
import { existsSync, readFileSync, rmdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { staleNames } from './stale.js';

const PREFIX = 'fastermcp-sandbox-';
let seq = 0;

export interface ProcessCgroup {
  /** cgroup.procs files for the LaunchSpec. */
  procs: string[];
  /** True when the memory cgroup's limit was hit or its OOM killer ran. */
  memoryExceeded(): boolean;
  /** The most memory the cgroup's tasks used (memory.max_usage_in_bytes), or null. */
  peakBytes(): number | null;
  /** Removes the folders (the process must be gone); retries while the kernel still counts a task. */
  remove(): Promise<void>;
}

/** Removes folders a dead server left behind under the given controller folders. */
export function sweepStaleCgroups(parents: (string | null)[]): void {
  for (const parent of parents) {
    if (parent === null) continue;
    for (const name of staleNames(parent, /^fastermcp-sandbox-(\d+)-\d+$/)) {
      try {
        rmdirSync(join(parent, name));
      } catch {
        // still has tasks (a stray process): leave it; it is not ours to kill
      }
    }
  }
}

/** Makes the folders for one sandbox process. Throws with the path when a controller refuses. */
export function createProcessCgroup(memoryParent: string | null, pidsParent: string | null, memoryBytes: number, maxTasks: number): ProcessCgroup {
  const name = `${PREFIX}${process.pid}-${++seq}`;
  const dirs: string[] = [];
  const procs: string[] = [];
  let memoryDir: string | null = null;
  try {
    if (memoryParent !== null) {
      memoryDir = join(memoryParent, name);
      mkdirSync(memoryDir);
      dirs.push(memoryDir);
      writeFileSync(join(memoryDir, 'memory.limit_in_bytes'), String(memoryBytes));
      // Without swap accounting the file is absent; with it, swap must not extend the limit.
      const memsw = join(memoryDir, 'memory.memsw.limit_in_bytes');
      if (existsSync(memsw)) writeFileSync(memsw, String(memoryBytes));
      procs.push(join(memoryDir, 'cgroup.procs'));
    }
    if (pidsParent !== null) {
      const dir = join(pidsParent, name);
      mkdirSync(dir);
      dirs.push(dir);
      writeFileSync(join(dir, 'pids.max'), String(maxTasks));
      procs.push(join(dir, 'cgroup.procs'));
    }
  } catch (e) {
    for (const d of dirs.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // nothing joined it yet, so this only fails if it is already gone
      }
    }
    throw new Error(`sandbox: cannot set up a cgroup for the process: ${(e as Error).message}`);
  }
  return {
    procs,
    memoryExceeded(): boolean {
      if (memoryDir === null) return false;
      try {
        const oom = /oom_kill (\d+)/.exec(readFileSync(join(memoryDir, 'memory.oom_control'), 'utf8'));
        if (oom !== null && Number(oom[1]) > 0) return true;
        return Number(readFileSync(join(memoryDir, 'memory.failcnt'), 'utf8')) > 0;
      } catch {
        return false;
      }
    },
    peakBytes(): number | null {
      if (memoryDir === null) return null;
      try {
        const n = Number(readFileSync(join(memoryDir, 'memory.max_usage_in_bytes'), 'utf8'));
        return Number.isFinite(n) ? n : null;
      } catch {
        return null;
      }
    },
    async remove(): Promise<void> {
      for (const d of dirs) {
        // The kernel drops a reaped task from the cgroup asynchronously: EBUSY for a short while.
        for (let attempt = 0; ; attempt++) {
          try {
            rmdirSync(d);
            break;
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code === 'ENOENT') break;
            if (code !== 'EBUSY' || attempt >= 200) throw new Error(`sandbox: cannot remove cgroup ${d}: ${(e as Error).message}`);
            await new Promise((r) => setTimeout(r, 5));
          }
        }
      }
    },
  };
}
