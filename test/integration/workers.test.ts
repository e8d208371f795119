// `fastermcp serve --workers N` (src/multicore/): N processes behind one port. Requests reach every
// worker; a rolling restart (SIGHUP) replaces them one at a time while calls keep succeeding and a call
// in flight finishes on its old worker; a worker that dies is replaced; SIGTERM drains and exits 0
// leaving no process behind. Runs the built CLI (dist/cli.js) as a real process tree.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const TOOLS = join(ROOT, 'test', 'fixtures', 'workers', 'tools.mjs');
const STATELESS = '2026-07-28';

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run npm run build:ts');
});

interface Cluster {
  child: ChildProcess;
  url: URL;
  stderr: () => string;
  /** Resolves once stderr has a line matching `re` (after what was already read). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
}

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function startCluster(workers: number, extra: string[] = []): Promise<Cluster> {
  const child = spawn(process.execPath, [CLI, 'serve', TOOLS, '--http', '0', '--workers', String(workers), ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: the cleanup can reach the workers too
  });
  started.push(child);
  let err = '';
  let out = '';
  const watchers: (() => void)[] = [];
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    for (const w of [...watchers]) w();
  });
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 20 s; stderr: ${err}`)), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /serving MCP on (\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(new URL(m[1]!));
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}; stderr: ${err}`)));
  });
  expect(out).toContain(`(${workers} worker processes`);
  return {
    child,
    url,
    stderr: () => err,
    waitFor(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!re.test(err)) return;
          watchers.splice(watchers.indexOf(check), 1);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => reject(new Error(`stderr never matched ${re}: ${err}`)), timeoutMs);
        watchers.push(check);
        check();
      });
    },
  };
}

/** One stateless tools/call; resolves with the answering worker's pid. `agent` false: a new connection. */
function callPid(url: URL, tool: string, agent: Agent | false = false): Promise<number> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: tool, arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': STATELESS, 'io.modelcontextprotocol/clientCapabilities': {} } },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': STATELESS,
          'mcp-method': 'tools/call',
          'mcp-name': tool,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => (text += s));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${text}`));
          resolve(Number(JSON.parse(text).result.content[0].text));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('fastermcp serve --workers', () => {
  it('spreads connections over every worker, none of them the primary', async () => {
    const c = await startCluster(2);
    const pids = new Set<number>();
    for (let i = 0; i < 20; i++) pids.add(await callPid(c.url, 'pid'));
    expect(pids.size).toBe(2);
    expect(pids.has(c.child.pid!)).toBe(false);
    c.child.kill('SIGTERM');
    expect(await exited(c.child)).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('SIGHUP restarts the workers one at a time: no call fails, a call in flight finishes on its old worker', async () => {
    const c = await startCluster(2);
    const before = new Set<number>();
    for (let i = 0; i < 10; i++) before.add(await callPid(c.url, 'pid'));
    expect(before.size).toBe(2);
    // Keep-alive clients too: their connections to a draining worker are closed after a response.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
    const inFlight = callPid(c.url, 'slow-pid');
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(c.child.pid!, 'SIGHUP');
    const done = c.waitFor(/rolling restart done/);
    let finished = false;
    void done.then(() => (finished = true), () => (finished = true));
    const failures: string[] = [];
    let calls = 0;
    const after = new Set<number>();
    const loop = async (agent: Agent | false): Promise<void> => {
      while (!finished && calls < 5000) {
        calls++;
        try {
          const pid = await callPid(c.url, 'pid', agent);
          if (!before.has(pid)) after.add(pid);
        } catch (e) {
          failures.push(`${agent === false ? 'new connection' : 'keep-alive'}: ${(e as Error).message}`);
        }
      }
    };
    await Promise.all([loop(false), loop(false), loop(keepAlive), loop(keepAlive)]);
    await done;
    keepAlive.destroy();
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(10);
    // The call that was running when the restart began finished where it started.
    expect(before.has(await inFlight)).toBe(true);
    const now = new Set<number>();
    for (let i = 0; i < 10; i++) now.add(await callPid(c.url, 'pid'));
    expect(now.size).toBe(2);
    for (const pid of now) expect(before.has(pid)).toBe(false);
    for (const pid of before) expect(alive(pid)).toBe(false);
    c.child.kill('SIGTERM');
    expect(await exited(c.child)).toBe(0);
  });

  it('replaces a worker that dies', async () => {
    const c = await startCluster(2);
    const pids = new Set<number>();
    for (let i = 0; i < 10; i++) pids.add(await callPid(c.url, 'pid'));
    const [victim] = [...pids];
    process.kill(victim!, 'SIGKILL');
    await c.waitFor(new RegExp(`pid ${victim}\\) exited with signal SIGKILL; starting a new one`));
    const seen = new Set<number>();
    const until = Date.now() + 15_000;
    while (seen.size < 2 && Date.now() < until) {
      try {
        seen.add(await callPid(c.url, 'pid'));
      } catch {
        // a connection handed to the dead worker before the primary knew
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(seen.size).toBe(2);
    expect(seen.has(victim!)).toBe(false);
    c.child.kill('SIGTERM');
    expect(await exited(c.child)).toBe(0);
  });

  it('refuses --workers with stdio', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--stdio', '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    expect(await exited(child)).toBe(2);
    expect(err).toContain('--workers needs --http');
  });
});
