// Which process holds the server side of a TCP connection, read from the kernel: for tests of a
// multi-process server (`--workers`) that must talk to one process in particular. /proc/net/tcp gives
// the inode of the server's socket for our connection; /proc/<pid>/fd names the process that has it.
// Linux only.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** The inode of the socket at 127.0.0.1:`serverPort` connected to our local port `clientPort`. */
function serverInode(serverPort: number, clientPort: number): string | undefined {
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    // local_address rem_address st ... inode (field 9)
    if (f[1]!.endsWith(`:${hex(serverPort)}`) && f[2]!.endsWith(`:${hex(clientPort)}`)) return f[9];
  }
  return undefined;
}

function holds(pid: number, inode: string): boolean {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return true;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // gone
  }
  return false;
}

/** The one pid among `pids` that holds the server side of `socket` (waits briefly for the hand-over). */
export async function ownerOf(socket: Socket, serverPort: number, pids: readonly number[]): Promise<number | undefined> {
  for (let i = 0; i < 50; i++) {
    const inode = serverInode(serverPort, socket.localPort!);
    if (inode !== undefined && inode !== '0') {
      const owners = pids.filter((p) => holds(p, inode));
      if (owners.length === 1) return owners[0];
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return undefined;
}

/** A connection to 127.0.0.1:`port` served by process `pid` (connections are dealt round-robin). */
export async function connectTo(port: number, pid: number, pids: readonly number[]): Promise<Socket> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    if ((await ownerOf(socket, port, pids)) === pid) return socket;
    socket.destroy();
  }
  throw new Error(`no connection to port ${port} reached pid ${pid} in 40 attempts`);
}
