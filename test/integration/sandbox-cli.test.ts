// `fastermcp serve --stdio --sandbox-dir test/fixtures/sandbox` end to end (dist/cli.js, built by
// npm run build:ts): the startup report on stderr, every fixture listed as a tool, a benign call and
// hostile calls over stdio, the server still serving after them, and nothing left behind on exit.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { StdioChild, cli } from '../fixtures/transport/stdio-child.js';
import type { Engine, Msg } from '../fixtures/transport/stdio-child.js';

const dir = fileURLToPath(new URL('../fixtures/sandbox', import.meta.url));
const fixtures = readdirSync(dir).filter((n) => n.endsWith('.mjs'));

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run npm run build:ts');
});

const call = (id: number, name: string, args: Msg): Msg => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

// The engine only changes the JSON-RPC side; FASTERMCP_FORCE_JS=1 (js) also makes the sandbox use the js launcher.
describe.each<Engine>(['native', 'js'])('fastermcp serve --sandbox-dir (%s)', (engine) => {
  const children: StdioChild[] = [];
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.close()));
  });

  it('serves every fixture as a sandboxed tool and keeps serving after hostile calls', async () => {
    const args = ['--sandbox-dir', dir, '--sandbox-pool', '1', '--sandbox-cpu-ms', '300', '--sandbox-wall-ms', '3000', '--sandbox-memory-mb', '128'];
    const c = new StdioChild(engine, args, null);
    children.push(c);
    const init = await c.initialize('2025-06-18');
    expect(init.result.serverInfo.name).toBe('fastermcp');
    // The one-line report of active protections.
    expect(c.stderr).toMatch(/sandbox \((native|js) launcher\): active: .*permissions/);
    expect(c.stderr).toContain(`${fixtures.length} of ${fixtures.length} tools from ${dir} registered`);

    c.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const tools = (await c.reply(2)).result.tools as { name: string; inputSchema: Msg }[];
    expect(tools.map((t) => t.name).sort()).toContain('echo');
    expect(tools).toHaveLength(fixtures.length);
    expect(tools.find((t) => t.name === 'echo')!.inputSchema.required).toEqual(['text']);

    c.send(call(3, 'echo', { text: 'over stdio' }));
    c.send(call(4, 'infinite_loop', {}));
    c.send(call(5, 'read_passwd', {}));
    c.send(call(6, 'exit_mid_call', {}));
    c.send(call(7, 'echo', { text: 'still here' }));
    const echo = await c.reply(3);
    expect(echo.result.content[0].text).toBe('over stdio');
    const loop = (await c.reply(4)).result;
    expect(loop.isError).toBe(true);
    expect(loop.content[0].text).toBe('sandbox: cpu_limit after 300 ms of CPU');
    expect(loop.structuredContent.sandbox.cause).toBe('cpu_limit');
    expect((await c.reply(5)).result.structuredContent.sandbox.cause).toBe('denied:fs');
    expect((await c.reply(6)).result.structuredContent.sandbox.cause).toBe('crashed');
    expect((await c.reply(7)).result.content[0].text).toBe('still here');
    // Input is validated by the server against the module's inputSchema before any process sees it.
    c.send(call(8, 'echo', { text: 42 }));
    const bad = await c.reply(8);
    expect(bad.error?.code ?? (bad.result?.isError ? -1 : 0)).not.toBe(0);

    expect(await c.close()).toBe(0);
    expect(c.stray).toEqual([]);
    const mine = `fastermcp-sandbox-${c.pid}-`;
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith(mine))).toEqual([]);
  });

  it('refuses sandbox flags without --sandbox-dir', async () => {
    const c = new StdioChild(engine, ['--sandbox-pool', '1'], null);
    children.push(c);
    expect(await c.exited).toBe(2);
    expect(c.stderr).toContain('--sandbox-pool needs --sandbox-dir');
  });
});
