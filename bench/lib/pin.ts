// CPU pinning with taskset where it exists: server and load generator on different cores, so the
// generator does not steal the server's core (and the report says what was done).
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

let tasksetAvailable: boolean | undefined;

export function hasTaskset(): boolean {
  if (tasksetAvailable === undefined) {
    tasksetAvailable = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0 && availableParallelism() >= 2;
  }
  return tasksetAvailable;
}

/** The core a role runs on: the server on the last core, the load generator on core 0. */
export const SERVER_CORE = Math.max(0, availableParallelism() - 1);
export const LOADGEN_CORE = 0;

/** `command args` prefixed with `taskset -c core` when pinning is possible. */
export function pinned(command: string, args: readonly string[], core: number): [string, string[]] {
  return hasTaskset() ? ['taskset', ['-c', String(core), command, ...args]] : [command, [...args]];
}

/** How the report describes the pinning. */
export function pinningNote(): string {
  return hasTaskset()
    ? `server pinned to core ${SERVER_CORE}, load generator to core ${LOADGEN_CORE} (taskset)`
    : 'no pinning (taskset missing or a single core): server and generator share cores';
}
