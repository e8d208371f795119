// Leftovers of a server that died: sandbox root folders and cgroup folders are named after the server's
// pid, so the next server finds the ones whose server is gone and removes them.
import { readdirSync } from 'node:fs';

/** Whether a process with this pid exists (EPERM: it does, as another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The entries of `dir` that `pattern` marks as a dead server's (its first group is the server's pid); none
 * when `dir` cannot be read.
 */
export function staleNames(dir: string, pattern: RegExp): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => {
    const m = pattern.exec(name);
    return m !== null && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]));
  });
}
