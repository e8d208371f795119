// The sandbox runner: the program a sandbox process runs (`node <permission flags> runner.mjs CONFIG`).
// It loads one tool module, sends its definition, then answers one call at a time over the control
// channel (fd 3) with length-prefixed JSON frames (protocol.ts describes them). The tool's own
// stdout/stderr are fds 1 and 2, which the server captures; nothing the tool prints reaches MCP.
//
// This file is copied alone into the sandbox's folder, so it imports node builtins only and carries
// its own few lines of framing. The tool runs in this same realm and may tamper with anything here:
// the server trusts nothing the runner sends beyond its own call's result (see parent side checks).
import { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

interface RunnerConfig {
  module: string;
  resultBytes: number;
  maxArgsBytes: number;
}

// Builtins the runner needs, taken before any tool code runs.
const stringify = JSON.stringify;
const parse = JSON.parse;
const byteLength = Buffer.byteLength;
const allocUnsafe = Buffer.allocUnsafe;
const concat = Buffer.concat;
const cpuUsage = process.cpuUsage.bind(process);
const resourceUsage = process.resourceUsage.bind(process);
const exit = process.exit.bind(process);

const config = parse(process.argv[2] ?? '{}') as RunnerConfig;
const control = new Socket({ fd: 3, readable: true, writable: true });

/** CPU time so far (µs) and peak RSS (KiB) of this process, from getrusage. */
function cpu(): { user: number; system: number; maxRss: number } {
  const u = cpuUsage();
  return { user: u.user, system: u.system, maxRss: resourceUsage().maxRSS };
}

function send(message: unknown): void {
  const json = stringify(message);
  const length = byteLength(json);
  const frame = allocUnsafe(4 + length);
  frame.writeUInt32LE(length, 0);
  frame.write(json, 4, 'utf8');
  control.write(frame);
}

/** The sandbox cause an error stands for, when it is a refusal or a limit rather than the tool's own failure. */
function causeOf(error: unknown): string | undefined {
  let e = error as { code?: unknown; syscall?: unknown; permission?: unknown; message?: unknown; cause?: unknown; name?: unknown } | undefined;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++, e = e.cause as typeof e) {
    const code = e.code;
    const syscall = typeof e.syscall === 'string' ? e.syscall : '';
    const message = typeof e.message === 'string' ? e.message : '';
    if (code === 'ERR_ACCESS_DENIED') {
      // Node's permission model: the `permission` field names the scope that refused.
      const scope = e.permission;
      if (scope === 'FileSystemRead' || scope === 'FileSystemWrite' || scope === 'FileSystem') return 'denied:fs';
      if (scope === 'ChildProcess') return 'denied:spawn';
      if (scope === 'WorkerThreads') return 'denied:worker';
      if (message.includes('process.binding')) return 'denied:binding';
      // Node 25+ also gates the network (--allow-net), naming no permission field.
      if (scope === 'Net' || message.includes('--allow-net') || /^(connect|listen|bind|send)/.test(syscall)) return 'denied:network';
      return `denied:${typeof scope === 'string' && /^[A-Za-z]{1,40}$/.test(scope) ? scope.toLowerCase() : 'permission'}`;
    }
    if (code === 'ERR_DLOPEN_DISABLED') return 'denied:addon';
    if (code === 'ERR_MEMORY_ALLOCATION_FAILED') return 'memory_limit';
    if (e.name === 'RangeError' && message.includes('Array buffer allocation failed')) return 'memory_limit';
    if (/^(socket|connect|bind|listen|send|getaddrinfo|queryA)/.test(syscall) || /^socket/.test(message)) {
      // seccomp refuses socket() with EACCES; a network namespace has only a down loopback.
      if (code === 'EACCES' || code === 'EPERM' || code === 'ENETUNREACH' || code === 'ENETDOWN' || code === 'EADDRNOTAVAIL') return 'denied:network';
    }
    if ((code === 'EPERM' || code === 'EAGAIN' || code === 'EACCES') && /^(spawn|fork|exec|uv_spawn)/.test(syscall)) return 'denied:spawn';
    if (code === 'EPERM' && syscall === 'kill') return 'denied:kill';
  }
  return undefined;
}

function describe(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 2000);
    return String(error).slice(0, 2000);
  } catch {
    return 'an error that cannot be described';
  }
}

let handler: ((args: unknown) => unknown) | undefined;
let busy = false;
let currentId = -1;

async function call(id: number, args: unknown): Promise<void> {
  busy = true;
  currentId = id;
  let reply: string;
  try {
    const result = await handler!(args);
    reply = stringify({ id, ok: true, result: result === undefined ? null : result, cpu: cpu() });
    if (byteLength(reply) > config.resultBytes) {
      reply = stringify({ id, ok: false, error: `the result is ${byteLength(reply)} bytes, more than resultBytes ${config.resultBytes}`, cause: 'output_limit', cpu: cpu() });
    }
  } catch (e) {
    const tooLong = e instanceof RangeError && /Invalid string length/.test(e.message);
    reply = stringify({
      id,
      ok: false,
      error: describe(e),
      code: typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : undefined,
      cause: tooLong ? 'output_limit' : causeOf(e),
      cpu: cpu(),
    });
  }
  busy = false;
  const length = byteLength(reply);
  const frame = allocUnsafe(4 + length);
  frame.writeUInt32LE(length, 0);
  frame.write(reply, 4, 'utf8');
  control.write(frame);
}

// Frames from the server: one call at a time.
let pending: Buffer[] = [];
let pendingBytes = 0;
control.on('data', (chunk: Buffer) => {
  pending.push(chunk);
  pendingBytes += chunk.length;
  while (pendingBytes >= 4) {
    const head = pending.length === 1 ? pending[0]! : concat(pending, pendingBytes);
    const length = head.readUInt32LE(0);
    if (length > config.maxArgsBytes) exit(70);
    if (head.length < 4 + length) {
      pending = [head];
      return;
    }
    const body = head.subarray(4, 4 + length).toString('utf8');
    const rest = head.subarray(4 + length);
    pending = rest.length === 0 ? [] : [rest];
    pendingBytes = rest.length;
    const message = parse(body) as { id: number; args: unknown };
    if (busy) exit(71); // the server never sends a second call before the reply
    void call(message.id, message.args);
  }
});
// The server closed the channel: nothing more will come.
control.on('end', () => exit(0));
control.on('error', () => exit(0));

// A throw or rejection that escapes the handler ends the call as a failure; the server then recycles
// this process (its state is unknown).
process.on('uncaughtException', (e) => {
  send({ id: busy ? currentId : -1, ok: false, error: `uncaught: ${describe(e)}`, cause: causeOf(e) ?? 'crashed', cpu: cpu() });
});

async function load(): Promise<void> {
  let mod: { definition?: unknown; default?: unknown };
  try {
    mod = (await import(pathToFileURL(config.module).href)) as typeof mod;
  } catch (e) {
    send({ t: 'load_error', error: describe(e), cause: causeOf(e) });
    return;
  }
  if (typeof mod.default !== 'function') {
    send({ t: 'load_error', error: 'the tool module must have a default export: the handler function (args) => result' });
    return;
  }
  const d = mod.definition as { name?: unknown; title?: unknown; description?: unknown; inputSchema?: unknown; annotations?: unknown } | undefined;
  if (typeof d !== 'object' || d === null) {
    send({ t: 'load_error', error: 'the tool module must export a definition object {name, description, inputSchema}' });
    return;
  }
  handler = mod.default as (args: unknown) => unknown;
  try {
    send({ t: 'ready', definition: { name: d.name, title: d.title, description: d.description, inputSchema: d.inputSchema, annotations: d.annotations }, cpu: cpu() });
  } catch (e) {
    send({ t: 'load_error', error: `the definition is not JSON: ${describe(e)}` });
  }
}

void load();
