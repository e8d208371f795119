// The sandbox's process pool end to end: warm reuse and recycling, fresh processes per call, the
// bounded queue, tools that fail at startup (reported, and no endless respawning), a registration
// through McpServer, and the per-call CPU backstop (RLIMIT_CPU) being raised for each call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSandbox, type Sandbox } from '../../src/sandbox/parent.js';
import { MAX_STARTUP_FAILURES, type CallRecord } from '../../src/sandbox/pool.js';
import { McpServer } from '../../src/server/server.js';
import type { CallToolResult } from '../../src/server/types.js';
import * as api from '../../src/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/sandbox/${name}`, import.meta.url));
const ctx = (signal: AbortSignal = new AbortController().signal): any => ({ signal });
const causeOf = (r: CallToolResult): string | undefined => (r.structuredContent as any)?.sandbox?.cause;
const textOf = (r: CallToolResult): string => (r.content[0] as { text: string }).text;

async function until(check: () => boolean, what: string, tries = 1500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

let sandbox: Sandbox;
const records: CallRecord[] = [];
let scratch: string;

beforeAll(() => {
  sandbox = createSandbox({ defaults: { wallMs: 10_000 } });
  sandbox.on('call', (r: CallRecord) => records.push(r));
  scratch = mkdtempSync(join(tmpdir(), 'fastermcp-pool-test-'));
  chmodSync(scratch, 0o755); // the child runs as nobody when the tests run as root
});

afterAll(async () => {
  await sandbox?.close();
  rmSync(scratch, { recursive: true, force: true });
  const mine = `fastermcp-sandbox-${process.pid}-`;
  expect(readdirSync(tmpdir()).filter((n) => n.startsWith(mine))).toEqual([]);
});

const pidsOf = (tool: string): number[] => records.filter((r) => r.tool === tool).map((r) => r.pid);

describe('sandbox pool', () => {
  it('is part of the public API', () => {
    expect(api.createSandbox).toBe(createSandbox);
    expect(api.DEFAULT_SANDBOX_LIMITS.wallMs).toBe(5000);
    expect(api.SANDBOX_ERROR_CODES.timeout).toBe('MCP_SANDBOX_TIMEOUT');
  });

  it('reuses a warm process and recycles it after recycleAfter calls', async () => {
    const t = await sandbox.tool(fixture('echo.mjs'), { name: 'echo_recycle', pool: 1, recycleAfter: 3 });
    for (let i = 0; i < 7; i++) {
      const r = (await t.handler({ text: `n${i}` }, ctx(), undefined)) as CallToolResult;
      expect(textOf(r)).toBe(`n${i}`);
    }
    const pids = pidsOf('echo_recycle');
    expect(pids).toHaveLength(7);
    expect(new Set(pids.slice(0, 3)).size).toBe(1);
    expect(new Set(pids.slice(3, 6)).size).toBe(1);
    expect(new Set([pids[0], pids[3], pids[6]]).size).toBe(3);
  });

  it("runs every call in a fresh process with mode 'fresh' and with pool 0", async () => {
    for (const [name, options] of [
      ['echo_fresh', { mode: 'fresh' as const, pool: 1 }],
      ['echo_pool0', { pool: 0 }],
    ] as const) {
      const t = await sandbox.tool(fixture('echo.mjs'), { name, ...options });
      const results = await Promise.all([0, 1, 2, 3].map((i) => t.handler({ text: `f${i}` }, ctx(), undefined) as Promise<CallToolResult>));
      expect(results.map(textOf)).toEqual(['f0', 'f1', 'f2', 'f3']);
      expect(new Set(pidsOf(name)).size).toBe(4);
      if (name === 'echo_pool0') await until(() => t.stats().live === 0, 'pool 0 to keep no process');
    }
  });

  it('queues calls beyond the free processes and refuses past maxQueue (overloaded)', async () => {
    const t = await sandbox.tool(fixture('never-reply.mjs'), { name: 'queue_test', pool: 1, maxQueue: 1, limits: { wallMs: 400 } });
    const first = t.handler({}, ctx(), undefined) as Promise<CallToolResult>;
    await until(() => t.stats().busy === 1, 'the first call to start');
    const second = t.handler({}, ctx(), undefined) as Promise<CallToolResult>;
    const third = (await t.handler({}, ctx(), undefined)) as CallToolResult;
    expect(causeOf(third)).toBe('overloaded');
    expect(textOf(third)).toMatch(/maxQueue 1/);
    expect(causeOf(await first)).toBe('timeout');
    expect(causeOf(await second)).toBe('timeout'); // it got the replacement process
  });

  it('cancels a call that waits in the queue', async () => {
    const t = await sandbox.tool(fixture('never-reply.mjs'), { name: 'queue_cancel', pool: 1, limits: { wallMs: 2000 } });
    const first = t.handler({}, ctx(), undefined) as Promise<CallToolResult>;
    await until(() => t.stats().busy === 1, 'the first call to start');
    const ac = new AbortController();
    const waiting = t.handler({}, ctx(ac.signal), undefined) as Promise<CallToolResult>;
    await until(() => t.stats().queued === 1, 'the second call to queue');
    ac.abort();
    expect(causeOf(await waiting)).toBe('cancelled');
    expect(t.stats().queued).toBe(0);
    expect(causeOf(await first)).toBe('timeout');
  });

  it('rejects a module that throws at load, naming the error, and starts nothing more', async () => {
    await expect(sandbox.tool(fixture('broken/throws-at-load.mjs'))).rejects.toThrow(/failed to load: Error: this tool module is broken on purpose/);
  });

  it('rejects a module whose process dies at startup', async () => {
    await expect(sandbox.tool(fixture('broken/exits-at-load.mjs'))).rejects.toThrow(/exited with status 9 before sending its definition/);
  });

  it(`stops restarting a tool whose processes fail ${MAX_STARTUP_FAILURES} times in a row`, async () => {
    // Loads once, then every later process dies at startup (the marker file appears after the first).
    const dir = mkdtempSync(join(scratch, 'flaky-'));
    chmodSync(dir, 0o755);
    const marker = join(dir, 'started');
    const module = join(dir, 'flaky.mjs');
    writeFileSync(
      module,
      `import { existsSync } from 'node:fs';
export const definition = { name: 'flaky', inputSchema: { type: 'object' } };
if (existsSync(${JSON.stringify(marker)})) process.exit(7);
export default function flaky() { process.exit(1); }
`,
      { mode: 0o644 },
    );
    const t = await sandbox.tool(module, { pool: 1, allow: { fs: [dir] } });
    writeFileSync(marker, '', { mode: 0o644 });
    const crashed = (await t.handler({}, ctx(), undefined)) as CallToolResult;
    expect(causeOf(crashed)).toBe('crashed');
    await until(() => t.stats().unavailable !== null, 'the pool to give up');
    expect(t.stats().started).toBe(1 + MAX_STARTUP_FAILURES);
    const after = (await t.handler({}, ctx(), undefined)) as CallToolResult;
    expect(causeOf(after)).toBe('unavailable');
    expect(textOf(after)).toMatch(/failed to start 3 times in a row .*exited with status 7/);
  });

  it('reports an ordinary thrown error as cause error and keeps the process', async () => {
    const module = join(scratch, 'thrower.mjs');
    writeFileSync(
      module,
      `export const definition = { name: 'thrower', inputSchema: { type: 'object' } };
export default ({ fail }) => { if (fail) throw new TypeError('bad input: ' + fail); return 'fine'; };
`,
      { mode: 0o644 },
    );
    const t = await sandbox.tool(module, { pool: 1 });
    const failed = (await t.handler({ fail: 'x' }, ctx(), undefined)) as CallToolResult;
    expect(failed.isError).toBe(true);
    expect(causeOf(failed)).toBe('error');
    expect(textOf(failed)).toBe('sandbox: error thrown by the tool: TypeError: bad input: x');
    expect(textOf((await t.handler({}, ctx(), undefined)) as CallToolResult)).toBe('fine');
    expect(new Set(pidsOf('thrower')).size).toBe(1);
  });

  it('lets a tool read what allow.fs lists, and nothing else', async () => {
    const dir = mkdtempSync(join(scratch, 'allowed-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'data.txt'), 'allowed data', { mode: 0o644 });
    const module = join(scratch, 'reader.mjs');
    writeFileSync(
      module,
      `import { readFileSync } from 'node:fs';
export const definition = { name: 'reader', inputSchema: { type: 'object' } };
export default ({ path }) => readFileSync(path, 'utf8');
`,
      { mode: 0o644 },
    );
    const allowed = await sandbox.tool(module, { name: 'reader_allowed', pool: 1, allow: { fs: [dir] } });
    const denied = await sandbox.tool(module, { name: 'reader_denied', pool: 1 });
    expect(textOf((await allowed.handler({ path: join(dir, 'data.txt') }, ctx(), undefined)) as CallToolResult)).toBe('allowed data');
    expect(causeOf((await allowed.handler({ path: '/etc/hostname' }, ctx(), undefined)) as CallToolResult)).toBe('denied:fs');
    expect(causeOf((await denied.handler({ path: join(dir, 'data.txt') }, ctx(), undefined)) as CallToolResult)).toBe('denied:fs');
  });

  it('close() during a tool start ends it too, and leaves nothing behind', async () => {
    const other = createSandbox();
    const starting = other.tool(fixture('echo.mjs'));
    await until(() => readdirSync(tmpdir()).some((n) => n.startsWith(`fastermcp-sandbox-${process.pid}-`)), 'the root folder');
    await other.close();
    await expect(starting).rejects.toThrow(/sandbox/);
  });

  it('registers through McpServer with the definition the module sent', async () => {
    const server = new McpServer({ name: 't', version: '1' });
    await sandbox.register(server, fixture('echo.mjs'), { name: 'echo_server', pool: 1 });
    const listed = [...server.tools.enabled()].map((e) => e.listed as any);
    expect(listed).toHaveLength(1);
    expect(listed[0].name).toBe('echo_server');
    expect(listed[0].description).toBe('Returns its text argument.');
    expect(listed[0].inputSchema.required).toEqual(['text']);
    const entry = [...server.tools.enabled()][0]!;
    const r = (await entry.handler({ text: 'via server' }, ctx(), undefined)) as CallToolResult;
    expect(textOf(r)).toBe('via server');
    expect(sandbox.metrics().echo_server!.byCause.ok).toBe(1);
  });

  it('keeps each call under RLIMIT_CPU while calls add up past it, and stops one over its budget', async () => {
    const dir = mkdtempSync(join(scratch, 'burn-'));
    chmodSync(dir, 0o755);
    const module = join(dir, 'burn.mjs');
    writeFileSync(
      module,
      `export const definition = { name: 'burn', inputSchema: { type: 'object' } };
const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
export default function burn({ ms }) { const end = cpu() + ms * 1000; while (cpu() < end); return 'done'; }
`,
      { mode: 0o644 },
    );
    const t = await sandbox.tool(module, { pool: 1, limits: { cpuMs: 2000, wallMs: 10_000 } });
    expect(textOf((await t.handler({ ms: 10 }, ctx(), undefined)) as CallToolResult)).toBe('done');
    // Calls each under the budget whose sum passes it: none dies of SIGXCPU. Either RLIMIT_CPU is
    // raised before each call, or (without CAP_SYS_RESOURCE) the process is replaced before the
    // limit could cut a call short.
    for (let i = 0; i < 6; i++) expect(textOf((await t.handler({ ms: 700 }, ctx(), undefined)) as CallToolResult)).toBe('done');
    const burns = records.filter((r) => r.tool === 'burn');
    expect(burns.every((r) => r.cause === 'ok')).toBe(true);
    // A call that burns past the budget is stopped by the per-call check.
    const over = (await t.handler({ ms: 5000 }, ctx(), undefined)) as CallToolResult;
    expect(causeOf(over)).toBe('cpu_limit');
  });
});
