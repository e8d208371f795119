// The kernel buffers of the stdio pipes (docs/stdio.md). With the 64 KiB a pipe holds by default, a
// client with thousands of requests in flight blocks every 64 KiB, and the server's replies fill the
// output pipe every 64 KiB: each time, the transport waits for 'drain', pauses and resumes its input,
// and both processes wake up once more. A stdio server therefore asks for larger pipes at start.
//
// Only the addon can (fcntl F_SETPIPE_SZ, Linux); the pure-JS twin has no way to and leaves the pipes
// as they are, as does a stream that is not a pipe (a file, a TTY) or a platform without the call.
import { constants } from 'node:os';
import { loadNative } from '../native.js';

/** What the stdio transport asks for each pipe by default: /proc/sys/fs/pipe-max-size's default. */
export const DEFAULT_PIPE_BYTES = 1024 * 1024;

/** The most one can ask for: fcntl takes an int (the binding refuses more). */
export const MAX_PIPE_BYTES = 0x7fffffff;

/** The outcome for one stream: the pipe's capacity after, or why it was left alone. */
export type PipeGrowth =
  | { fd: number; bytes: number }
  | { fd: number | undefined; skipped: 'no-addon' | 'no-fd' | 'not-a-pipe' | 'refused'; error?: string };

const errnoName = new Map<number, string>(Object.entries(constants.errno).map(([name, code]) => [code, name]));

/** The file descriptor behind a stream, when it has one (process.stdin/stdout have `fd`). */
function fdOf(stream: object): number | undefined {
  const fd = (stream as { fd?: unknown }).fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : undefined;
}

/** Asks that the pipe behind `stream` hold at least `bytes` (never shrinks it). */
export function growPipe(stream: object, bytes: number): PipeGrowth {
  const fd = fdOf(stream);
  if (fd === undefined) return { fd, skipped: 'no-fd' };
  const binding = loadNative();
  if (binding === null) return { fd, skipped: 'no-addon' };
  const after = binding.pipeGrow(fd, bytes);
  if (after >= 0) return { fd, bytes: after };
  const error = errnoName.get(-after) ?? `errno ${-after}`;
  return { fd, skipped: error === 'EBADF' ? 'not-a-pipe' : 'refused', error };
}

/** The fd behind `stream` when the addon is loaded and that fd is a pipe, else undefined. */
export function pipeFdOf(stream: object): number | undefined {
  const fd = fdOf(stream);
  if (fd === undefined) return undefined;
  const binding = loadNative();
  return binding !== null && binding.pipeCapacity(fd) > 0 ? fd : undefined;
}
