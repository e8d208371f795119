// What bench/e2e-http.bench.ts and bench/memory.bench.ts share: the native load generator (built on
// demand with the CMake developer build), the server programs of this folder started the same way
// (each prints its URL on stdout), the node binary that runs them (--node), and the memory hook.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LOADGEN_CORE, SERVER_CORE, pinned } from '../lib/pin.js';
import { ROOT } from '../lib/report.js';

export const LOADGEN = join(ROOT, 'build-cmake', 'mcp_http_loadgen');
const LOADGEN_SOURCE = join(ROOT, 'bench', 'native', 'http_loadgen.cc');

/** Builds build-cmake/mcp_http_loadgen when it is missing or older than its source. */
export function ensureLoadgen(): string {
  if (existsSync(LOADGEN) && statSync(LOADGEN).mtimeMs >= statSync(LOADGEN_SOURCE).mtimeMs) return LOADGEN;
  console.log('building the HTTP load generator (cmake, build-cmake/mcp_http_loadgen) ...');
  const run = (args: string[]): void => {
    const r = spawnSync('cmake', args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`cmake ${args.join(' ')} failed (${r.status ?? r.signal}); is cmake installed?`);
  };
  if (!existsSync(join(ROOT, 'build-cmake', 'CMakeCache.txt'))) {
    run(['-S', '.', '-B', 'build-cmake', '-DFASTERMCP_DEVELOPER=ON', '-DCMAKE_BUILD_TYPE=Release']);
  }
  run(['--build', 'build-cmake', '--target', 'mcp_http_loadgen', '-j', '2']);
  return LOADGEN;
}

/** The node binary that runs the servers: --node node24 (node_modules/node24), --node /path, or this one. */
export function serverNode(argv: readonly string[]): { bin: string; version: string; flag: string } {
  let choice: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--node') choice = argv[i + 1];
    else if (argv[i]!.startsWith('--node=')) choice = argv[i]!.slice('--node='.length);
  }
  let bin = process.execPath;
  if (choice !== undefined) {
    bin = /^node\d+$/.test(choice) ? join(ROOT, 'node_modules', choice, 'bin', 'node') : choice;
    if (!existsSync(bin)) throw new Error(`--node ${choice}: ${bin} does not exist`);
  }
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return { bin, version, flag: choice === undefined ? '' : ` --node ${choice}` };
}

/** A results name: `base` when the servers run on the harness's node, else `base-node<major>`. */
export function resultsName(base: string, nodeVersion: string): string {
  const major = (v: string): string => /^v(\d+)/.exec(v)?.[1] ?? v;
  return major(nodeVersion) === major(process.version) ? base : `${base}-node${major(nodeVersion)}`;
}

/** A number option "--name=value" or "--name value". */
export function numberOption(argv: readonly string[], name: string, fallback: number): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = a === `--${name}` ? argv[i + 1] : a.startsWith(`--${name}=`) ? a.slice(name.length + 3) : undefined;
    if (v !== undefined) {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number, got ${v}`);
      return n;
    }
  }
  return fallback;
}

export interface ServerSpec {
  key: string;
  label: string;
  /** Arguments after the node binary, relative to the repository root. */
  args: string[];
  env?: Record<string, string | undefined>;
  /** A line the server must write on stderr (fastermcp names its engine), checked at start. */
  stderrMustMatch?: RegExp;
  /** Load generator arguments this server needs (--sse-ok: it answers POSTs as SSE streams). */
  loadgenArgs?: string[];
}

export const FASTERMCP_NATIVE: ServerSpec = {
  key: 'native',
  label: 'fastermcp native',
  args: ['dist/cli.js', 'serve', '--http', '0'],
  env: { FASTERMCP_FORCE_JS: undefined },
  stderrMustMatch: /: native JSON-RPC engine/,
};
/**
 * The native server with an authenticator and a rate limit on every call: an API key checked per request
 * (bench/http/api-keys.json) and a per-client token bucket large enough never to refuse, admitted in the
 * engine (docs/ratelimit.md section 8). What "auth and limits cost nothing visible" is measured on.
 */
export const FASTERMCP_GUARDED: ServerSpec = {
  key: 'guarded',
  label: 'fastermcp native + auth + limits',
  args: ['dist/cli.js', 'serve', '--http', '0', '--api-keys-file', 'bench/http/api-keys.json', '--resource-url', 'http://127.0.0.1/mcp', '--rate-limit-per-client', '1000000000/1'],
  env: { FASTERMCP_FORCE_JS: undefined },
  stderrMustMatch: /: native JSON-RPC engine/,
  loadgenArgs: ['--header', 'Authorization: Bearer bench-api-key-0123456789abcdef'],
};
/** The native server answering every request through node:http's objects: what the fast lane saves. */
export const FASTERMCP_NODE_HTTP: ServerSpec = {
  key: 'nodehttp',
  label: 'fastermcp native, node:http path',
  args: ['dist/cli.js', 'serve', '--http', '0', '--no-fast-lane'],
  env: { FASTERMCP_FORCE_JS: undefined },
  stderrMustMatch: /: native JSON-RPC engine/,
};
export const FASTERMCP_JS: ServerSpec = {
  key: 'js',
  label: 'fastermcp pure-JS',
  args: ['dist/cli.js', 'serve', '--http', '0'],
  env: { FASTERMCP_FORCE_JS: '1' },
  stderrMustMatch: /: js JSON-RPC engine/,
};
export const SDK_STATELESS: ServerSpec = { key: 'sdk', label: 'official SDK v1 (stateless)', args: ['bench/http/sdk.mjs', 'stateless'] };
export const SDK_STATEFUL: ServerSpec = {
  key: 'sdk',
  label: 'official SDK v1 (sessions)',
  args: ['bench/http/sdk.mjs', 'stateful'],
  loadgenArgs: ['--sse-ok'],
};
export const BARE_ECHO: ServerSpec = { key: 'bare', label: 'bare node:http echo (floor)', args: ['bench/http/bare-echo.mjs'] };

export interface MemSample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Resident bytes of V8's young generation (new space), included in rss. */
  newSpace: number;
}

export interface RunningServer {
  spec: ServerSpec;
  pid: number;
  port: number;
  url: string;
  child: ChildProcess;
  /** process.memoryUsage() after gc (only with the memory hook). */
  mem(): Promise<MemSample>;
  stop(): Promise<void>;
}

/**
 * Starts a server program pinned to SERVER_CORE and waits for its URL. `memoryHook` adds
 * --expose-gc and bench/http/mem-hook.mjs (stdin "mem" -> stdout "MEM {...}").
 */
export async function startServer(
  spec: ServerSpec,
  nodeBin: string,
  options: { memoryHook?: boolean; extraArgs?: string[]; pin?: boolean } = {},
): Promise<RunningServer> {
  const nodeArgs = options.memoryHook === true ? ['--expose-gc', '--import', './bench/http/mem-hook.mjs'] : [];
  const all = [...nodeArgs, ...spec.args, ...(options.extraArgs ?? [])];
  // A multi-process server (--workers) is not pinned: its workers inherit the primary's CPU mask.
  const [cmd, args] = options.pin === false ? [nodeBin, all] : pinned(nodeBin, all, SERVER_CORE);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(spec.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (stderr.length < 20_000) stderr += s;
  });
  const memWaiters: ((m: MemSample) => void)[] = [];
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.label}: no URL within 20 s; stderr:\n${stderr}`)), 20_000);
    child.once('exit', (code, signal) => reject(new Error(`${spec.label} exited (${code ?? signal}) before serving; stderr:\n${stderr}`)));
    lines.on('line', (line) => {
      if (line.startsWith('MEM ')) {
        memWaiters.shift()?.(JSON.parse(line.slice(4)) as MemSample);
        return;
      }
      const m = /(http:\/\/\S+)/.exec(line);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  if (spec.stderrMustMatch !== undefined && !spec.stderrMustMatch.test(stderr)) {
    child.kill();
    throw new Error(`${spec.label}: expected stderr to match ${spec.stderrMustMatch}, got:\n${stderr}`);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    spec,
    pid: child.pid!,
    port: Number(new URL(url).port),
    url,
    child,
    mem: () =>
      new Promise<MemSample>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${spec.label}: no MEM answer; stderr:\n${stderr}`)), 60_000);
        memWaiters.push((m) => {
          clearTimeout(timer);
          resolve(m);
        });
        child.stdin!.write('mem\n');
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** One line of http_loadgen output. */
export interface LoadgenResult {
  ok: boolean;
  mode: string;
  connections: number;
  protocolVersion: string;
  requests: number;
  warmupRequests: number;
  failures: number;
  seconds: number;
  rps: number;
  latencyUs: { samples: number; mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
  loadgenCpuNs: number;
  loadgenCpuUsPerRequest: number;
  loadgenCpuShare: number;
  serverCpuNs: number | null;
  serverCpuUsPerRequest: number | null;
  serverCpuShare: number | null;
  framing: { contentLength: number; chunked: number };
  failureNotes: string[];
}

/** Runs the load generator (pinned to LOADGEN_CORE unless `pin` is false); throws on any failed check. */
export function runLoadgen(args: readonly string[], what: string, pin = true): LoadgenResult {
  const [cmd, full] = pin ? pinned(LOADGEN, args, LOADGEN_CORE) : [LOADGEN, [...args]];
  const r = spawnSync(cmd, full, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: LoadgenResult | undefined;
  try {
    parsed = JSON.parse(line) as LoadgenResult;
  } catch {
    // fall through
  }
  if (parsed === undefined || !parsed.ok || r.status !== 0) {
    throw new Error(`${what}: load generator failed (exit ${r.status ?? r.signal}): ${line || r.stderr}`);
  }
  return parsed;
}

/** Opens a legacy session over fetch (initialize + notifications/initialized); returns its id. */
export async function openLegacySession(url: string): Promise<string> {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
  const init = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } },
    }),
  });
  const sid = init.headers.get('mcp-session-id');
  await init.text();
  if (init.status !== 200 || sid === null) throw new Error(`initialize: status ${init.status}, session ${sid}`);
  const done = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await done.text();
  if (done.status !== 202) throw new Error(`notifications/initialized: status ${done.status}`);
  return sid;
}
