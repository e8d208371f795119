#!/usr/bin/env node
// Rolling restarts back to back under load: starts `fastermcp serve --workers 2` (the built
// dist/cli.js, the workers test fixture's tools), keeps client loops calling a tool while it sends the
// primary SIGHUP after SIGHUP, and counts the calls answered, failed, and never answered (a connection
// lost between the primary and a worker shows up as a call with no answer within --timeout-ms).
//
//   node scripts/stress-restarts.mjs [--seconds=60] [--clients=4] [--keep-alive=2] [--timeout-ms=5000]
//
// --keep-alive: how many of the clients reuse connections (the rest open one per call). Prints one JSON
// line and exits 1 if any call failed or went unanswered. Everything listens on 127.0.0.1; bounded in time.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const STATELESS = '2026-07-28';

function option(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) return fallback;
  const value = Number(arg.slice(name.length + 3));
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} needs a non-negative integer, got ${arg}`);
  return value;
}
const seconds = option('seconds', 60);
const clients = option('clients', 4);
const keepAliveClients = Math.min(option('keep-alive', 2), clients);
const timeoutMs = option('timeout-ms', 5000);

const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'serve', join(ROOT, 'test', 'fixtures', 'workers', 'tools.mjs'), '--http', '0', '--host', '127.0.0.1', '--workers', '2'], {
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true, // its own process group: the workers go with it at the end
});
let stderr = '';
child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
const url = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error(`no URL within 20 s: ${stderr}`)), 20_000);
  child.stdout.setEncoding('utf8').on('data', (s) => {
    out += s;
    const m = /serving MCP on (\S+)/.exec(out);
    if (m !== null) {
      clearTimeout(timer);
      resolve(new URL(m[1]));
    }
  });
  child.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${stderr}`)));
});

const body = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'pid', arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': STATELESS, 'io.modelcontextprotocol/clientCapabilities': {} } },
});
const headers = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': STATELESS,
  'mcp-method': 'tools/call',
  'mcp-name': 'pid',
  'content-length': Buffer.byteLength(body),
};
const counts = { answered: 0, unanswered: 0, failed: 0 };
const failures = new Map();

/** One call; settles with its outcome counted, never rejects. */
function call(agent) {
  return new Promise((resolve) => {
    const fail = (what) => {
      counts.failed++;
      failures.set(what, (failures.get(what) ?? 0) + 1);
      resolve();
    };
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s) => (text += s));
      res.on('end', () => {
        if (res.statusCode === 200 && /"result"/.test(text)) {
          counts.answered++;
          resolve();
        } else fail(`HTTP ${res.statusCode}`);
      });
    });
    let timedOut = false;
    req.setTimeout(timeoutMs, () => {
      timedOut = true;
      counts.unanswered++;
      req.destroy();
      resolve();
    });
    req.on('error', (e) => (timedOut ? undefined : fail(e.message)));
    req.end(body);
  });
}

const end = Date.now() + seconds * 1000;
const restartsDone = () => stderr.split('rolling restart done').length - 1;
let restarts = 0;
const restarter = (async () => {
  while (Date.now() < end) {
    process.kill(child.pid, 'SIGHUP');
    const until = Date.now() + 20_000;
    while (restartsDone() <= restarts && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    if (restartsDone() <= restarts) throw new Error(`a rolling restart did not finish within 20 s: ${stderr}`);
    restarts++;
  }
})();
const loops = Array.from({ length: clients }, async (_, i) => {
  const agent = i < keepAliveClients ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
  while (Date.now() < end) await call(agent);
  if (agent) agent.destroy();
});
try {
  await Promise.all([restarter, ...loops]);
} finally {
  process.kill(-child.pid, 'SIGKILL');
}
console.log(JSON.stringify({ seconds, clients, keepAliveClients, restarts, ...counts, failures: Object.fromEntries(failures) }));
process.exitCode = counts.failed + counts.unanswered === 0 ? 0 : 1;
