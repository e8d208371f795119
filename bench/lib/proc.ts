// What the kernel says a process used: CPU time (ns, all threads, from /proc/<pid>/task/*/schedstat,
// which is exact rather than in 10 ms ticks) and resident memory (/proc/<pid>/status). Linux only;
// elsewhere the functions return NaN so reports show the gap instead of a made-up number.
import { readFileSync, readdirSync } from 'node:fs';

/** CPU time (user + system, ns) used so far by every live thread of `pid`. */
export function cpuTimeNs(pid: number): number {
  try {
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended between readdir and read
      }
    }
    return total;
  } catch {
    return NaN;
  }
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? NaN : Number(m[1]);
  } catch {
    return NaN;
  }
}

/** Resident set size now, KiB. */
export function rssKb(pid: number): number {
  return statusKb(pid, 'VmRSS');
}

/** Peak resident set size so far, KiB. */
export function peakRssKb(pid: number): number {
  return statusKb(pid, 'VmHWM');
}
