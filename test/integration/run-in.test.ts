// server.tool(name, definition, { runIn, module }): a tool on the server's worker pool and a tool in its
// sandbox, registered by spec rather than by handler, served through a whole McpServer. The pool and
// the sandbox are made at the first such tool and closed by server.close().
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { McpServer } from '../../src/server/server.js';
import { MemoryClient } from '../helpers/memory-client.js';

const fixture = (path: string): string => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));
const TEXT = { type: 'object' as const, properties: { text: { type: 'string' as const } }, required: ['text'] };

const servers: McpServer[] = [];
const clients: MemoryClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function server(): McpServer {
  const s = new McpServer({ name: 'run-in', version: '1.0.0', workerPool: { maxThreads: 1 }, sandbox: { pool: 1 } });
  servers.push(s);
  return s;
}

async function client(s: McpServer): Promise<MemoryClient> {
  const c = new MemoryClient(s);
  clients.push(c);
  await c.initialize();
  return c;
}

describe("server.tool(..., { runIn })", () => {
  it('makes nothing until a tool asks for it', () => {
    const s = server();
    s.tool('plain', { inputSchema: TEXT }, ({ text }) => text);
    expect(s.workerPool).toBeUndefined();
    expect(s.sandbox).toBeUndefined();
  });

  it("runs a { runIn: 'worker' } tool on the server's pool, with the server's definition and validation", async () => {
    const s = server();
    s.tool('echo_url', { inputSchema: TEXT }, { runIn: 'worker', module: new URL('../fixtures/sandbox/echo.mjs', import.meta.url) });
    s.tool('sum', { description: 'sum of squares', inputSchema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } }, {
      runIn: 'worker',
      module: fixture('pool/tools.mjs'),
      export: 'sumSquares',
    });
    expect(s.workerPool).toBeDefined();
    const c = await client(s);
    const ok = await c.reply(c.call('sum', { n: 4 }));
    expect(ok.result.structuredContent.total).toBe(0 + 1 + 4 + 9);
    expect(ok.result.structuredContent.threadId).toBeGreaterThan(0); // not the main thread
    // The schema is checked in the server: a bad argument never reaches the pool.
    const bad = await c.reply(c.call('sum', { n: 'four' }));
    expect(bad.error?.code ?? bad.result?.isError).toBeTruthy();
    expect(s.workerPool!.stats().completed).toBe(1);
    const listed = await c.reply(c.request('tools/list', {}));
    expect(listed.result.tools.map((t: { name: string }) => t.name)).toEqual(['echo_url', 'sum']);
    const viaUrl = await c.reply(c.call('echo_url', { text: 'by url' }));
    expect(viaUrl.result.content[0].text).toBe('by url');
  });

  it("runs a { runIn: 'sandbox' } tool in a sandboxed process, with its limits", async () => {
    const s = server();
    s.tool('echo', { description: 'echo in a sandbox', inputSchema: TEXT }, { runIn: 'sandbox', module: fixture('sandbox/echo.mjs'), limits: { wallMs: 3000 } });
    s.tool('spin', { inputSchema: { type: 'object' } }, { runIn: 'sandbox', module: fixture('sandbox/infinite-loop.mjs'), limits: { wallMs: 300, cpuMs: 5000 } });
    const c = await client(s);
    const ok = await c.reply(c.call('echo', { text: 'hi' }));
    expect(ok.result).toMatchObject({ content: [{ type: 'text', text: 'hi' }] });
    const spun = await c.reply(c.call('spin', {}));
    expect(spun.result.isError).toBe(true);
    expect(spun.result.content[0].text).toMatch(/timeout/);
    expect(s.sandbox!.metrics()['echo']!.calls).toBe(1);
    // The server keeps serving after the fault.
    const again = await c.reply(c.call('echo', { text: 'again' }));
    expect(again.result.content[0].text).toBe('again');
  });

  it('a sandboxed module that cannot start makes its calls unavailable, naming why', async () => {
    const s = server();
    s.tool('broken', { inputSchema: { type: 'object' } }, { runIn: 'sandbox', module: fixture('sandbox/broken/throws-at-load.mjs') });
    const c = await client(s);
    const r = await c.reply(c.call('broken', {}), 30_000);
    expect(r.result.isError).toBe(true);
    expect(r.result.content[0].text).toMatch(/unavailable|start/);
  });

  it('refuses a bad spec at registration', () => {
    const s = server();
    expect(() => s.tool('x', {}, { runIn: 'worker', module: fixture('pool/no-such-file.mjs') })).toThrow(/not a file/);
    expect(() => s.tool('v', {}, { runIn: 'worker', module: new URL('../fixtures/pool/no-such-file.mjs', import.meta.url) })).toThrow(/not a file/);
    expect(() => s.tool('y', {}, { runIn: 'elsewhere', module: fixture('pool/tools.mjs') } as never)).toThrow(/runIn must be/);
    expect(() => s.tool('z', { prepare: () => 1 }, { runIn: 'worker', module: fixture('pool/tools.mjs') })).toThrow(/prepare/);
    expect(() => s.tool('w', {}, { runIn: 'sandbox', module: fixture('sandbox/echo.mjs'), limits: { wallMs: -1 } })).toThrow();
    expect(s.tools.size).toBe(0);
  });
});
