// The stdio transport end to end: a `fastermcp serve test/fixtures/transport/tools.mjs --stdio` child
// fed raw bytes, once with the native engine and once with the pure-JS twin (FASTERMCP_FORCE_JS=1).
// Every stdout line any test sees must be a JSON-RPC message (checked after each test).
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StdioChild, cli, engineEnv, rssOf } from '../fixtures/transport/stdio-child.js';
import { openFifo } from '../helpers/fifo.js';
import { NATIVE_BINDING } from '../unit/helpers/impls.js';
import type { Engine, Msg } from '../fixtures/transport/stdio-child.js';

const MiB = 1024 * 1024;

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run npm run build:ts');
});

const call = (id: unknown, name: string, args: Msg): Msg => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const textOf = (m: Msg): string => m.result.content[0].text as string;

describe.each<Engine>(['native', 'js'])('stdio transport (%s engine)', (engine) => {
  const children: StdioChild[] = [];
  const spawnServer = (args: string[] = [], module?: string | null): StdioChild => {
    const c = new StdioChild(engine, args, module);
    children.push(c);
    return c;
  };

  afterEach(async () => {
    const done = children.splice(0);
    await Promise.all(done.map((c) => c.close()));
    for (const c of done) expect(c.stray, 'stdout carries nothing but JSON-RPC').toEqual([]);
  });

  it(`runs the ${engine} engine and writes only JSON-RPC to stdout`, async () => {
    const c = spawnServer([], null); // the built-in demo set
    const init = await c.initialize('2025-06-18');
    expect(init.result.protocolVersion).toBe('2025-06-18');
    c.send(call(2, 'echo', { text: 'héllo' }));
    c.send({ jsonrpc: '2.0', id: 3, method: 'no/such/method' });
    c.send('{"jsonrpc":"2.0","id":4,"method":');
    c.send(call(5, 'test_error_handling', {}));
    c.send(call(6, 'test_tool_with_logging', {}));
    expect(textOf(await c.reply(2))).toBe('héllo');
    expect((await c.reply(3)).error.code).toBe(-32601);
    expect((await c.next((m) => m.id === null && m.error?.code === -32700, 'the parse error')).error.message).toBeTypeOf('string');
    expect((await c.reply(5)).result.isError).toBe(true);
    expect(textOf(await c.reply(6))).toBe('Tool with logging executed successfully');
    expect(c.messages.filter((m) => m.method === 'notifications/message')).toHaveLength(3);
    expect(await c.close()).toBe(0);
    expect(c.stderr).toContain(`${engine} JSON-RPC engine`);
    expect(c.stray).toEqual([]);
  });

  it('serves CRLF lines, a leading BOM, and both split across chunks', async () => {
    const ping = (id: number): string => `{"jsonrpc":"2.0","id":${id},"method":"ping"}`;
    const a = spawnServer();
    a.write('\uFEFF' + ping(1) + '\r\n' + ping(2) + '\r\n');
    expect((await a.reply(1)).result).toEqual({});
    expect((await a.reply(2)).result).toEqual({});

    // The BOM's three bytes arrive one at a time, and a CRLF is split between \r and \n.
    const b = spawnServer();
    const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 30));
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    b.write(bom.subarray(0, 1));
    await tick();
    b.write(bom.subarray(1, 2));
    await tick();
    b.write(Buffer.concat([bom.subarray(2), Buffer.from(ping(1) + '\r')]));
    await tick();
    b.write('\n' + ping(2).slice(0, 10));
    await tick();
    b.write(ping(2).slice(10) + '\r\n');
    expect((await b.reply(1)).result).toEqual({});
    expect((await b.reply(2)).result).toEqual({});
    await b.initialize('2025-06-18');
    b.write(JSON.stringify(call(3, 'echo', { text: 'crlf' })) + '\r\n');
    expect(textOf(await b.reply(3))).toBe('crlf');
  });

  it('echoes text as JSON.stringify writes it: escapes, non-ASCII, long text (the reply buffer)', async () => {
    // Lone surrogates cannot come in (the engine refuses their escapes as not valid JSON, docs/jsonrpc-engine.md);
    // the reply buffer's tests write them (test/unit/reply-buffer.test.ts).
    const c = spawnServer();
    await c.initialize('2025-06-18');
    const texts = [
      'plain',
      'say "hi" \\ now\n\t\u0000\u001f/\u007f',
      'é ü 中 😀 \u2028\u2029 \u00ff',
      'ü'.repeat(40000) + '😀' + '"'.repeat(3000),
    ];
    texts.forEach((text, i) => c.send(call(10 + i, 'echo', { text })));
    for (let i = 0; i < texts.length; i++) expect(textOf(await c.reply(10 + i))).toBe(texts[i]);
    // A 2026-07-28 request (no initialize) gets its era's result members after content.
    const d = spawnServer();
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    d.send({ jsonrpc: '2.0', id: 20, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x"é' }, _meta: meta } });
    const stateless = await d.reply(20);
    expect(stateless.result).toEqual({ content: [{ type: 'text', text: 'x"é' }], resultType: 'complete' });
    // The same connection initialized afterwards answers in legacy: its results have no members after content
    // (the reply buffer's members change back to none).
    await d.initialize('2025-06-18');
    d.send(call(21, 'echo', { text: 'after' }));
    expect((await d.reply(21)).result).toEqual({ content: [{ type: 'text', text: 'after' }] });
  });

  it('refuses a 10 MB line with an error naming the 4 MiB limit, then serves the next line', async () => {
    const c = spawnServer();
    await c.initialize();
    const huge = JSON.stringify(call(1, 'echo', { text: 'x'.repeat(10 * MiB) }));
    // Written in pieces, as a client would stream it.
    for (let i = 0; i < huge.length; i += MiB) c.write(huge.slice(i, i + MiB));
    c.write('\n');
    c.send(call(2, 'echo', { text: 'after' }));
    const refused = await c.next((m) => m.error !== undefined, 'the too-large error', 60_000);
    expect(refused.error.code).toBe(-32600);
    expect(refused.error.message).toContain(String(4 * MiB));
    expect(textOf(await c.reply(2, 60_000))).toBe('after');
    expect(c.messages.some((m) => m.id === 1)).toBe(false);
  });

  it("sends a module's console.log to stderr, never into the protocol stream", async () => {
    const c = spawnServer([], fileURLToPath(new URL('../fixtures/transport/chatty.mjs', import.meta.url)));
    await c.initialize();
    c.send(call(1, 'chatty', {}));
    expect(textOf(await c.reply(1))).toBe('said it on stderr');
    expect(await c.close()).toBe(0);
    expect(c.stderr).toContain('chatty: loaded');
    expect(c.stderr).toContain("chatty: called { n: 1 }");
    expect(c.stderr).toContain('chatty: info');
  });

  it('--max-message-bytes sets a smaller limit', async () => {
    const c = spawnServer(['--max-message-bytes', '1000']);
    await c.initialize();
    c.send(call(1, 'echo', { text: 'y'.repeat(3000) }));
    c.send(call(2, 'echo', { text: 'z'.repeat(800) }));
    const refused = await c.next((m) => m.error !== undefined, 'the too-large error');
    expect(refused.error.code).toBe(-32600);
    expect(refused.error.message).toContain('1000');
    expect(textOf(await c.reply(2))).toBe('z'.repeat(800));
    expect(c.messages.some((m) => m.id === 1)).toBe(false);
  });

  // Node's child_process gives a child socket pairs, not pipes: the child here gets two FIFOs (a FIFO
  // opened is a pipe) as stdin and stdout, and the parent measures them through its own addon (absent in
  // the FORCE_JS test run). The server's debug line about its pipes only says when to look.
  it.skipIf(NATIVE_BINDING === null)(
    engine === 'native' ? 'grows its stdin and stdout pipes to 1 MiB; --pipe-bytes 0 leaves them' : 'leaves its pipes as they are (the twin cannot grow them)',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fastermcp-stdio-pipes-'));
      const fds: number[] = [];
      const procs: ChildProcess[] = [];
      const fifo = (name: string): number => {
        const fd = openFifo(join(dir, name));
        fds.push(fd);
        return fd;
      };
      const serve = async (args: string[]): Promise<[number, number]> => {
        const [input, output] = [fifo(`in${procs.length}`), fifo(`out${procs.length}`)];
        const proc = spawn(process.execPath, [cli, 'serve', '--stdio', '--log-level', 'debug', ...args], { env: engineEnv(engine), stdio: [input, output, 'pipe'] });
        procs.push(proc);
        let stderr = '';
        await new Promise<void>((resolve, reject) => {
          proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
            stderr += chunk;
            if (stderr.includes('"msg":"stdio pipes"')) resolve();
          });
          proc.on('exit', (code) => reject(new Error(`the server exited (${String(code)}) before starting: ${stderr}`)));
        });
        return [input, output];
      };
      try {
        const capacity = (fd: number): number => NATIVE_BINDING!.pipeCapacity(fd);
        const left = await serve(['--pipe-bytes', '0']);
        const untouched = capacity(left[0]);
        expect(untouched).toBeGreaterThan(0);
        expect(capacity(left[1])).toBe(untouched);
        const grown = await serve([]);
        const expected = engine === 'native' ? MiB : untouched;
        expect(capacity(grown[0])).toBe(expected);
        expect(capacity(grown[1])).toBe(expected);
        const asked = await serve(['--pipe-bytes', String(256 * 1024)]);
        expect(capacity(asked[0])).toBe(engine === 'native' ? 256 * 1024 : untouched);
      } finally {
        for (const proc of procs) proc.kill('SIGKILL');
        for (const fd of fds) closeSync(fd);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  // On a real pipe the native transport writes its replies straight into it (docs/stdio.md); when the pipe is
  // full, the rest goes through the stream, which pauses the input until the client reads. A client that
  // starts reading late must still get every reply, whole and in order.
  it('delivers every reply in order through a pipe that fills while the client does not read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-stdio-direct-'));
    const input = openFifo(join(dir, 'in'));
    const output = openFifo(join(dir, 'out'));
    const proc = spawn(process.execPath, [cli, 'serve', '--stdio', '--pipe-bytes', String(64 * 1024)], { env: engineEnv(engine), stdio: [input, output, 'pipe'] });
    let stderr = '';
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const writer = new Socket({ fd: input, readable: false, writable: true });
    const reader = new Socket({ fd: output, readable: true, writable: false });
    try {
      reader.pause();
      const N = 4000;
      const text = (i: number): string => `${i}:` + 'é"x'.repeat(200);
      const lines = [
        JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
        JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      ];
      for (let i = 1; i <= N; i++) lines.push(JSON.stringify(call(i, 'echo', { text: text(i) })));
      writer.write(lines.join('\n') + '\n');
      // Several MB of replies against a 64 KiB pipe nobody reads yet.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const replies: Msg[] = [];
      let rest = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${replies.length} of ${N + 1} replies; stderr: ${stderr}`)), 60_000);
        reader.setEncoding('utf8').on('data', (chunk: string) => {
          const parts = (rest + chunk).split('\n');
          rest = parts.pop()!;
          for (const part of parts) replies.push(JSON.parse(part) as Msg);
          if (replies.length === N + 1) {
            clearTimeout(timer);
            resolve();
          }
        });
        reader.resume();
      });
      expect(rest).toBe('');
      expect(replies[0]!.id).toBe(0);
      for (let i = 1; i <= N; i++) {
        if (replies[i]!.id !== i || textOf(replies[i]!) !== text(i)) expect({ i, reply: replies[i] }).toEqual({ i, reply: 'in order, whole' });
      }
    } finally {
      proc.kill('SIGKILL');
      writer.destroy();
      reader.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // A pipe or socket on stdin is read into one buffer the transport keeps (src/transport/stdin-reader.ts);
  // anything else (here a file) through process.stdin.
  it('reads a socket on stdin into its own buffer, and a file through process.stdin', async () => {
    const c = spawnServer(['--log-level', 'debug']);
    await c.initialize();
    c.send(call(1, 'echo', { text: 'through the buffer' }));
    expect(textOf(await c.reply(1))).toBe('through the buffer');
    await vi.waitFor(() => expect(c.stderr).toContain('"msg":"stdio pipes"'));
    expect(c.stderr).toContain('"reading":"buffer"');

    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-stdio-file-'));
    try {
      const lines = [
        { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        call(1, 'echo', { text: 'from a file' }),
      ];
      writeFileSync(join(dir, 'in'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
      const input = openSync(join(dir, 'in'), 'r');
      const proc = spawn(process.execPath, [cli, 'serve', '--stdio', '--log-level', 'debug'], { env: engineEnv(engine), stdio: [input, 'pipe', 'pipe'] });
      closeSync(input);
      let stdout = '';
      let stderr = '';
      proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
      expect(code, stderr).toBe(0);
      expect(stderr).toContain('"reading":"stream"');
      const replies = stdout.trim().split('\n').map((l) => JSON.parse(l) as Msg);
      expect(replies.map((r) => r.id)).toEqual([0, 1]);
      expect(textOf(replies[1]!)).toBe('from a file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The reader lends each chunk and reads the next into the same buffer: a line that spans reads must
  // have been copied, not kept as a view (its start would be overwritten). The texts differ everywhere,
  // so bytes of a later read in the wrong place change them.
  it('gets lines longer than its read buffer, and lines cut across reads, whole', async () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 é"\\中';
    const text = (length: number): string => Array.from({ length }, () => alphabet[random(alphabet.length)]).join('');
    const c = spawnServer();
    await c.initialize();
    const long = [text(700_000), text(300_000)];
    const short = Array.from({ length: 3000 }, () => text(1 + random(400)));
    const bytes = Buffer.from(
      [...long.map((t, i) => call(i, 'echo', { text: t })), ...short.map((t, i) => call(100 + i, 'echo', { text: t }))].map((m) => JSON.stringify(m) + '\n').join(''),
    );
    // Odd-sized writes, so reads end anywhere in a line.
    for (let at = 0; at < bytes.length; at += 7919) c.write(bytes.subarray(at, at + 7919));
    for (let i = 0; i < long.length; i++) expect(textOf(await c.reply(i, 60_000)) === long[i], `long text ${i}`).toBe(true);
    for (let i = 0; i < short.length; i++) {
      const got = textOf(await c.reply(100 + i, 60_000));
      if (got !== short[i]) expect({ i, got }).toEqual({ i, got: short[i] });
    }
  });

  it('--pipe-bytes takes a non-negative integer', async () => {
    const bad = spawnServer(['--pipe-bytes', 'lots'], null);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr).toContain('--pipe-bytes needs a non-negative integer');
  });

  it('answers a batch after initialize with 2025-03-26, and refuses one otherwise', async () => {
    const c = spawnServer();
    await c.initialize('2025-03-26');
    c.send([
      { jsonrpc: '2.0', id: 'a', method: 'ping' },
      call('b', 'echo', { text: 'in a batch' }),
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'zzz' } },
    ] as unknown as Msg);
    const batch = await c.next((m) => Array.isArray(m), 'the batch reply');
    const byId = new Map((batch as unknown as Msg[]).map((m) => [m.id, m]));
    expect([...byId.keys()].sort()).toEqual(['a', 'b']);
    expect(byId.get('a')!.result).toEqual({});
    expect(textOf(byId.get('b')!)).toBe('in a batch');

    const d = spawnServer();
    await d.initialize('2025-06-18');
    d.send([{ jsonrpc: '2.0', id: 1, method: 'ping' }] as unknown as Msg);
    const refused = await d.next((m) => m.error !== undefined, 'the batch refusal');
    expect(refused.id).toBeNull();
    expect(refused.error.code).toBe(-32600);
    expect(d.messages.some((m) => m.id === 1)).toBe(false);
  });

  it('answers a duplicate in-flight id with an error, not a crossed reply', async () => {
    const c = spawnServer();
    await c.initialize();
    c.send(call(7, 'slow', { tag: 'first', ms: 400 }));
    c.send(call(7, 'slow', { tag: 'second', ms: 0 }));
    const early = await c.reply(7);
    expect(early.error?.code).toBe(-32600);
    expect(early.error.message).toMatch(/in use/);
    const late = await c.reply(7);
    expect(JSON.parse(textOf(late))).toEqual({ tag: 'first', ms: 400 });
    expect(c.messages.filter((m) => m.id === 7)).toHaveLength(2);
    // Once the first is done the id is free again.
    c.send(call(7, 'slow', { tag: 'third', ms: 0 }));
    expect(JSON.parse(textOf(await c.reply(7))).tag).toBe('third');
  });

  // The client means to send 200k requests while reading nothing; buffering the replies would take
  // 2 GB (10 KB echoes) or 200 GB (1 MB replies to ~90-byte requests, hundreds per 64 KiB chunk).
  it.each([
    { shape: '10 KB echoes', request: (i: number) => call(i, 'echo', { text: `${i}:${'p'.repeat(10_000)}` }), check: (i: number, text: string) => text === `${i}:${'p'.repeat(10_000)}` },
    { shape: '1 MB replies to small requests', request: (i: number) => call(i, 'big', { bytes: MiB }), check: (_i: number, text: string) => text.length === MiB && /^b+$/.test(text) },
  ])(
    'stops reading input while the client does not read its replies ($shape), with bounded memory, then delivers every reply',
    async ({ request, check }) => {
      const TOTAL = 200_000;
      const c = spawnServer();
      // Keep a verdict per reply, not the reply.
      c.keep = (m) => (typeof m.id === 'number' && m.result !== undefined ? { jsonrpc: '2.0', id: m.id, ok: check(m.id, textOf(m)) } : m);
      await c.initialize();
      c.proc.stdout.pause();
      const stdin = c.proc.stdin;
      let written = 0;
      let stalled = false;
      const drainOr = (ms: number): Promise<boolean> =>
        new Promise((resolve) => {
          const t = setTimeout(() => {
            stdin.off('drain', onDrain);
            resolve(false);
          }, ms);
          const onDrain = (): void => {
            clearTimeout(t);
            resolve(true);
          };
          stdin.once('drain', onDrain);
        });
      while (written < TOTAL) {
        const ok = c.send(request(written));
        written++;
        // No drain for a while means the server stopped reading (a slow but reading server only
        // makes this loop longer; the memory bound below holds either way).
        if (!ok && !(await drainOr(1500))) {
          stalled = true;
          break;
        }
      }
      expect(stalled, 'the server kept reading a client that reads nothing').toBe(true);
      expect(written).toBeLessThan(TOTAL / 10);
      let peak = 0;
      for (let i = 0; i < 5; i++) {
        peak = Math.max(peak, rssOf(c.pid));
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(peak, 'server RSS while its client did not read').toBeLessThan(300 * MiB);

      // The client reads again: every request it managed to write is answered, in full.
      c.proc.stdout.resume();
      const replies = (): Msg[] => c.messages.filter((m) => typeof m.id === 'number');
      await c.until(() => replies().length >= written, `${written} replies`, 120_000);
      expect(replies()).toHaveLength(written);
      expect(new Set(replies().map((m) => m.id)).size).toBe(written);
      expect(replies().every((m) => m.ok === true)).toBe(true);
      // And it is still healthy: more traffic, read as it comes.
      for (let i = 0; i < 50; i++) if (!c.send(request(TOTAL + i))) await new Promise((r) => stdin.once('drain', r));
      c.send({ jsonrpc: '2.0', id: 'ping', method: 'ping' });
      expect((await c.reply('ping', 60_000)).result).toEqual({});
      for (let i = 0; i < 50; i++) expect((await c.reply(TOTAL + i, 60_000)).ok).toBe(true);
    },
    240_000,
  );

  it('exits 0 when stdin ends, after answering what is in flight', async () => {
    const c = spawnServer();
    await c.initialize();
    c.send(call(1, 'slow', { tag: 'last', ms: 200 }));
    c.proc.stdin.end();
    expect(await c.exited).toBe(0);
    expect(JSON.parse(textOf(await c.reply(1))).tag).toBe('last');
  });
});

