// A multi-process server (`fastermcp serve --workers N`, the built dist/cli.js) for integration tests:
// started in its own process group, its URL read from stdout, its stderr kept and watched, killed with
// its workers by killClusters(). callPid() makes a stateless call to a fixture tool that answers with the
// pid of the worker that ran it (test/fixtures/workers/tools.mjs).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { beforeAll, expect } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
export const TOOLS = join(ROOT, 'test', 'fixtures', 'workers', 'tools.mjs');
export const STATELESS = '2026-07-28';

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run npm run build:ts');
});

export interface Cluster {
  child: ChildProcess;
  url: URL;
  stderr: () => string;
  /** Resolves once stderr has a line matching `re` (after what was already read). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
}

export const started: ChildProcess[] = [];
/** Kills every cluster started so far, primary and workers (the test file calls it in afterEach or afterAll). */
export function killClusters(): void {
  for (const c of started.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
  }
}

export async function startCluster(workers: number, extra: string[] = []): Promise<Cluster> {
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

/**
 * One stateless tools/call; resolves with the answering worker's pid. `agent` false: a new connection.
 * A call with no answer within `timeoutMs` fails (a connection lost between processes would otherwise
 * hang the test until vitest gives up on it, saying nothing of why).
 */
export function callPid(url: URL, tool: string, agent: Agent | false = false, timeoutMs = 10_000): Promise<number> {
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
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

