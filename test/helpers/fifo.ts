// A new pipe for tests that need one as a file descriptor (Node has no pipe(), and child_process gives
// socket pairs): a FIFO at `path`, opened read-write, which on Linux never blocks and keeps the pipe
// open. The caller closes the descriptor.
import { execFileSync } from 'node:child_process';
import { openSync } from 'node:fs';

export function openFifo(path: string): number {
  execFileSync('mkfifo', [path]);
  return openSync(path, 'r+');
}
