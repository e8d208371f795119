// The stdio transport's own reader of fd 0 when it is a pipe or a socket (docs/stdio.md, "Reading
// into one buffer"). process.stdin gives every read a new 64 KiB buffer: a malloc'd backing store the
// garbage collector frees later. In some runs that memory goes back to the kernel between reads, and
// the reads copy the pipe's bytes into pages the kernel must fault in again (about 20,000 more page
// faults per 2M small calls). This reader is a net.Socket on fd 0 that reads into one
// buffer kept for the transport's life (Node's `onread`); each chunk is only lent to the callback,
// which must be done with its bytes when it returns (both engines copy the unfinished line they carry).
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import type { OnReadOpts, SocketConstructorOpts } from 'node:net';

/**
 * What one read can take: Node's own read size. Larger reads hand the transport more requests at once,
 * whose objects then live longer (Node 24, legacy echo at W = 4096 against process.stdin: 64 KiB 0.91,
 * 128 KiB 0.93, 256 KiB 0.98 of its CPU per call; 32 KiB is dearer in 2026-07-28).
 */
export const READ_BUFFER_BYTES = 64 * 1024;

export const STDIN_FD = 0;

/** Whether fd 0 is something a net.Socket can read: a pipe (FIFO) or a socket, on a POSIX system. */
export function stdinIsStream(): boolean {
  if (process.platform === 'win32') return false;
  try {
    const stat = fstatSync(STDIN_FD);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false; // fd 0 closed
  }
}

/**
 * A socket reading fd 0 that passes each chunk to `onChunk` (a view of the reader's one buffer, valid
 * until onChunk returns). It starts reading at once; pause() and resume() stop and restart the reads,
 * and it emits 'end', 'error' and 'close' as a stream does. Only for an fd 0 that stdinIsStream().
 */
export function readStdin(onChunk: (chunk: Uint8Array) => void): Socket {
  const buffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  // The constructor takes `onread` since Node 15.8; @types/node lists it only for connect().
  const options: SocketConstructorOpts & { onread: OnReadOpts } = {
    fd: STDIN_FD,
    readable: true,
    writable: false,
    onread: {
      buffer,
      callback: (bytes: number) => {
        onChunk(buffer.subarray(0, bytes));
        return true;
      },
    },
  };
  return new Socket(options);
}
