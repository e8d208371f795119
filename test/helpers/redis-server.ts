// A throwaway redis-server for the cluster-mode tests: a free 127.0.0.1 port, no persistence, a temp
// dir, started and stopped by the test file that asked for it. Nothing is mocked; when redis-server is
// missing the helper throws (the tests fail loudly; scripts/ensure-redis.mjs installs it).
//
//   const redis = useRedisServer();           // at the top of a test file: beforeAll start, afterAll stop
//   redis().url; await redis().kill(); await redis().restart();
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL (Redis dies mid-run); resolves once the process has exited. */
  kill(): Promise<void>;
  /** A new process on the same port (stops the old one first if it still runs); resolves on PING. */
  restart(): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing (timeouts); resume() is SIGCONT. */
  pause(): void;
  resume(): void;
}

const READY_TIMEOUT_MS = 10_000;
const live = new Set<ChildProcess>();
// Last resort: a test run that dies between start and afterAll leaves no redis-server behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function redisBinary(): string {
  const bin = process.env.FASTERMCP_REDIS_SERVER || 'redis-server';
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) {
    throw new Error(
      `Expected a runnable redis-server for the cluster-mode tests but \`${bin} --version\` failed` +
        ` (${r.error?.message ?? `exit ${r.status}`}); run \`node scripts/ensure-redis.mjs\` (installs it as root on` +
        ' Debian/Ubuntu) or set FASTERMCP_REDIS_SERVER.',
    );
  }
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** One PING over a fresh socket; true on +PONG within 500 ms. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 500);
    let buf = '';
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.once('error', () => done(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startRedisServer(): Promise<RedisServer> {
  const bin = redisBinary();
  const dir = mkdtempSync(join(tmpdir(), 'fastermcp-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn(
      bin,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
        '--daemonize', 'no', '--loglevel', 'warning'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    live.add(proc);
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-2000);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    proc.once('exit', () => live.delete(proc));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`redis-server exited before answering PING on port ${port}: ${output.trim()}`);
      }
      if (await ping(port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    proc.kill('SIGKILL');
    await exited(proc);
    throw new Error(`redis-server did not answer PING on port ${port} within ${READY_TIMEOUT_MS} ms: ${output.trim()}`);
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGCONT'); // a paused server would not act on SIGTERM
    proc.kill(signal);
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited(proc);
    clearTimeout(t);
  };

  // A free port can be taken between the probe and redis-server's bind: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      await halt('SIGKILL');
      if (attempt === 4) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      await launch();
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
  };
}

/** Registers beforeAll (start) and afterAll (stop) in the calling file; returns the running server. */
export function useRedisServer(): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('The redis-server of this test file has not started (beforeAll failed?).');
    return server;
  };
}
