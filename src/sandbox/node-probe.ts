// What RLIMIT_DATA must leave to node itself on this host, found once per server process: V8 in
// Node 24+ reserves a CodeRange of about 512 MiB that the kernel counts as data, so a data limit
// of a few hundred MiB kills node before it runs anything ("Failed to reserve virtual memory for
// CodeRange"). The probe starts `node -e 0` under a small data limit through the launcher, and again
// with room for the CodeRange when that fails. The slack is added to RLIMIT_DATA only; V8's heap
// limit and the cgroup memory limit still hold the tool to memoryMb.
import type { Launcher } from './launcher/types.js';

const MiB = 1024 * 1024;
/** A data limit every node we know starts under (Node 20/22 need about 40 MiB). */
const BASE = 96 * MiB;
/** Candidate slacks, smallest first. */
const SLACKS = [0, 512 * MiB, 1024 * MiB, 2048 * MiB];

let found: Promise<number> | undefined;

function startsUnder(launcher: Launcher, cwd: string, dataBytes: number): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const launched = launcher.launch(
        {
          file: process.execPath,
          argv: [process.execPath, '--max-old-space-size=16', '-e', '0'],
          env: { PATH: '/usr/bin:/bin', LANG: 'C' },
          cwd,
          limits: { cpuSeconds: 10, dataBytes, openFiles: 64, fileSizeBytes: 0, processes: 0, coreBytes: 0 },
          denyNetwork: false,
          denySpawn: false,
          restrictKill: false,
          newNetNamespace: false,
          cgroupProcs: [],
        },
        (info) => resolve(info.exitCode === 0),
      );
      launched.control.destroy();
      launched.stdout.resume();
      launched.stderr.resume();
    } catch {
      resolve(false);
    }
  });
}

/** The bytes to add to RLIMIT_DATA for this node binary (0 for Node 20/22). Cached per process. */
export function nodeDataSlack(launcher: Launcher, cwd: string): Promise<number> {
  found ??= (async () => {
    for (const slack of SLACKS) if (await startsUnder(launcher, cwd, BASE + slack)) return slack;
    throw new Error(`sandbox: ${process.execPath} does not start even with ${(BASE + SLACKS.at(-1)!) / MiB} MiB of RLIMIT_DATA`);
  })();
  found.catch(() => (found = undefined));
  return found;
}
