// src/sandbox/protocol.ts: frames (4-byte LE length + JSON) split and joined across chunks, the bound
// on a frame's length, bad JSON, the shape checks of ready and reply messages, and the runner
// (child.ts, which carries its own framing) speaking the same protocol over a real fd 3.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { checkReady, checkReply, encodeFrame, FrameDecoder, type FrameEvent } from '../../src/sandbox/protocol.js';
import { installRunner } from '../../src/sandbox/runner-file.js';
import { mulberry32 } from './helpers/prng.js';

function decodeAll(chunks: Buffer[], max = 1 << 20): FrameEvent[] {
  const out: FrameEvent[] = [];
  const d = new FrameDecoder(max, (e) => out.push(e));
  for (const c of chunks) d.push(c);
  return out;
}

describe('sandbox frames', () => {
  it('round-trips messages however the bytes are chunked', () => {
    const messages = [{ id: 1, args: { text: 'héllo ☃' } }, { id: 2, args: {} }, { id: 3, args: { big: 'x'.repeat(70_000) } }];
    const bytes = Buffer.concat(messages.map(encodeFrame));
    const rand = mulberry32(7);
    for (let trial = 0; trial < 50; trial++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + Math.floor(rand() * (trial % 2 === 0 ? 7 : 20_000));
        chunks.push(bytes.subarray(at, at + n));
        at += n;
      }
      expect(decodeAll(chunks)).toEqual(messages.map((value) => ({ kind: 'message', value })));
    }
  });

  it('writes the body length little-endian in the first 4 bytes', () => {
    const f = encodeFrame({ a: 'é' });
    expect(f.readUInt32LE(0)).toBe(Buffer.byteLength('{"a":"é"}'));
    expect(f.subarray(4).toString()).toBe('{"a":"é"}');
  });

  it('reports a frame over the bound from its header alone, and stops', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32LE(1025, 0);
    expect(decodeAll([header, encodeFrame({ later: true })], 1024)).toEqual([{ kind: 'too_big', length: 1025 }]);
  });

  it('reports a body that is not JSON, and stops', () => {
    const body = Buffer.from('{not json');
    const header = Buffer.alloc(4);
    header.writeUInt32LE(body.length, 0);
    const events = decodeAll([header, body, encodeFrame({ later: true })]);
    expect(events).toHaveLength(1);
    expect(events[0]!.kind).toBe('bad_json');
  });
});

describe('sandbox message checks', () => {
  const cpu = { user: 1, system: 2 };
  it('accepts well-formed replies and names what is wrong with others', () => {
    expect(checkReply({ id: 1, ok: true, result: 'x', cpu })).toEqual({ id: 1, ok: true, result: 'x', cpu });
    expect(checkReply({ id: 1, ok: false, error: 'boom', cause: 'denied:fs', cpu })).toMatchObject({ cause: 'denied:fs' });
    expect(checkReply([])).toBe('a reply must be a JSON object');
    expect(checkReply({ id: 1.5, ok: true, cpu })).toBe('a reply needs an integer id');
    expect(checkReply({ id: 1, ok: 'yes', cpu })).toBe('a reply needs a boolean ok');
    expect(checkReply({ id: 1, ok: true, cpu: { user: -1, system: 0 } })).toBe('a reply needs cpu {user, system}');
    expect(checkReply({ id: 1, ok: false, cpu })).toBe('a failed reply needs an error string');
    expect(checkReply({ id: 1, ok: false, error: 'x', cause: 3, cpu })).toBe('cause must be a string');
  });

  it('accepts a ready message with a usable definition only', () => {
    const ok = { t: 'ready', definition: { name: 'a.b-c_1', description: 'd', inputSchema: { type: 'object' } }, cpu };
    expect(checkReady(ok)).toEqual(ok);
    expect(checkReady({ t: 'load_error', error: 'SyntaxError: x' })).toBe('the tool module failed to load: SyntaxError: x');
    expect(checkReady({ ...ok, definition: { name: 'bad name' } })).toMatch(/^definition.name must be 1-128 characters/);
    expect(checkReady({ ...ok, definition: { name: 'x', inputSchema: [] } })).toBe('definition.inputSchema must be a JSON Schema object');
    expect(checkReady({ ...ok, definition: { name: 'x', description: 5 } })).toBe('definition.description must be a string');
    expect(checkReady({ t: 'hello' })).toBe('the first frame must be ready or load_error');
  });
});

describe('the runner speaks the same protocol', () => {
  it('sends the definition, answers calls in order, and classifies a refusal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-runner-test-'));
    try {
      const runner = await installRunner(dir);
      const tool = join(dir, 'tool.mjs');
      writeFileSync(
        tool,
        `export const definition = { name: 'adder', inputSchema: { type: 'object' } };
export default async ({ a, b }) => { if (a === 'throw') { const e = new Error('no'); e.code = 'ERR_ACCESS_DENIED'; e.permission = 'FileSystemRead'; throw e; } return { sum: a + b }; };
`,
      );
      const child = spawn(process.execPath, [runner, JSON.stringify({ module: tool, resultBytes: 1 << 20, maxArgsBytes: 1 << 20 })], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
      const control = child.stdio[3] as Duplex;
      const frames: any[] = [];
      let wake: () => void = () => {};
      const d = new FrameDecoder(1 << 20, (e) => {
        if (e.kind === 'message') frames.push(e.value);
        wake();
      });
      control.on('data', (c: Buffer) => d.push(c));
      const next = async (): Promise<any> => {
        while (frames.length === 0) await new Promise<void>((r) => (wake = r));
        return frames.shift();
      };
      const ready = await next();
      expect(checkReady(ready)).toEqual(ready);
      expect(ready.definition.name).toBe('adder');
      // One frame split in two writes, then the next call.
      const f = encodeFrame({ id: 10, args: { a: 2, b: 3 } });
      control.write(f.subarray(0, 3));
      control.write(f.subarray(3));
      const r1 = await next();
      expect(r1).toMatchObject({ id: 10, ok: true, result: { sum: 5 } });
      expect(checkReply(r1)).toEqual(r1);
      control.write(encodeFrame({ id: 11, args: { a: 'throw' } }));
      expect(await next()).toMatchObject({ id: 11, ok: false, error: 'Error: no', code: 'ERR_ACCESS_DENIED', cause: 'denied:fs' });
      control.end();
      const code = await new Promise((r) => child.on('exit', r));
      expect(code).toBe(0); // the runner exits when the server closes the channel
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
