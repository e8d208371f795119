// The stdio reply buffer (src/transport/reply-buffer.ts, native/core/reply_buffer.cc): the shared vectors
// (test/vectors/reply-buffer.json) against the native buffer and the JS twin; random text (plain runs with
// escapes, non-ASCII and lone surrogates mixed in) giving exactly the bytes of the JS response string
// (JSON.stringify's escaping) from both; strings longer than the binding's stack and scratch space; lines
// and textResult interleaved across take(); and the binding's argument checks.
import { closeSync, constants as fsConstants, mkdtempSync, openSync, readSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { JsReplyBuffer } from '../../src/transport/reply-buffer.js';
import type { ReplyBuffer } from '../../src/transport/reply-buffer.js';
import { textResultReply } from '../../src/server/result-json.js';
import { NATIVE_BINDING, REQUIRE_NATIVE } from './helpers/impls.js';

interface Vector {
  name: string;
  id: string;
  text?: string;
  textUnits?: number[];
  members: string;
  expect: string;
}

const vectors = (JSON.parse(readFileSync(new URL('../vectors/reply-buffer.json', import.meta.url), 'utf8')) as { cases: Vector[] }).cases;

if (NATIVE_BINDING === null && !REQUIRE_NATIVE) console.warn('[fastermcp tests] NATIVE REPLY BUFFER SKIPPED: the addon did not load');

const IMPLS = [
  { name: 'native', available: NATIVE_BINDING !== null || REQUIRE_NATIVE, make: (): ReplyBuffer => new NATIVE_BINDING!.ReplyBuffer() },
  { name: 'js', available: true, make: (): ReplyBuffer => new JsReplyBuffer() },
];

const bytesOf = (out: Uint8Array | string): Buffer => (typeof out === 'string' ? Buffer.from(out, 'utf8') : Buffer.from(out));

/** A deterministic generator (mulberry32), so a failure names a reproducible case. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL = [0x22, 0x5c, 0x00, 0x08, 0x0a, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff, 0x100, 0x7ff, 0x800, 0x2028, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xfffe];

function randomText(next: () => number, maxLength: number): string {
  const units: number[] = [];
  const length = Math.floor(next() * maxLength);
  for (let i = 0; i < length; i++) {
    const pick = next();
    if (pick < 0.05) units.push(SPECIAL[Math.floor(next() * SPECIAL.length)]!);
    else if (pick < 0.08) units.push(Math.floor(next() * 0x10000));
    else if (pick < 0.1) units.push(0xd83d, 0xde00); // a pair
    else units.push(0x20 + Math.floor(next() * 0x5f));
  }
  let text = '';
  for (let i = 0; i < units.length; i += 4096) text += String.fromCharCode(...units.slice(i, i + 4096));
  return text;
}

describe.each(IMPLS)('reply buffer ($name)', ({ available, make }) => {
  it.skipIf(!available).each(vectors)('vector: $name', (v) => {
    const text = v.textUnits === undefined ? v.text! : String.fromCharCode(...v.textUnits);
    const buffer = make();
    buffer.setMembers(v.members);
    buffer.textResult(v.id, text);
    expect(bytesOf(buffer.take()).toString('utf8')).toBe(v.expect);
    // A new buffer's members are ''.
    if (v.members === '') {
      const fresh = make();
      fresh.textResult(v.id, text);
      expect(bytesOf(fresh.take()).toString('utf8')).toBe(v.expect);
    }
  });

  it.skipIf(!available)('writes the bytes of the JS response string for random text (20000 cases)', () => {
    const next = random(20261123);
    const buffer = make();
    for (let n = 0; n < 20000; n++) {
      const text = randomText(next, n % 500 === 0 ? 6000 : 48);
      const id = n % 3 === 0 ? JSON.stringify('id-é-' + n) : String(n);
      // Members set before most cases (some to the text they already had) and kept over the rest; they change every four cases.
      const members = n % 8 < 4 ? (n % 16 < 8 ? '' : ',"_meta":{"k":"ü😀"}') : ',"resultType":"complete"';
      const expected = textResultReply(id, text, members) + '\n';
      if (n % 2 === 0) buffer.setMembers(members);
      else if (n % 8 === 1 || n % 8 === 5) buffer.setMembers(members); // set again to the same text
      buffer.textResult(id, text);
      const got = bytesOf(buffer.take());
      // Compared as bytes (a lone surrogate decoded from UTF-8 would hide a difference); shown as text.
      if (!got.equals(Buffer.from(expected, 'utf8'))) expect({ n, got: got.toString('utf8') }).toEqual({ n, got: expected });
      // A well-formed text reads back as itself.
      if (text.isWellFormed()) expect((JSON.parse(expected) as { result: { content: { text: string }[] } }).result.content[0]!.text).toBe(text);
    }
  });

  it.skipIf(!available)('takes strings past the stack and scratch sizes, and keeps lines in order across takes', () => {
    const buffer = make();
    const long = 'é'.repeat(70000) + '\ud800' + 'x'.repeat(3000);
    const id = JSON.stringify('i'.repeat(300) + '中');
    const members = ',"_meta":' + JSON.stringify({ pad: 'm'.repeat(600) });
    expect(buffer.line('{"jsonrpc":"2.0","id":0,"result":{}}')).toBeGreaterThan(0);
    buffer.setMembers(members);
    buffer.textResult(id, long);
    buffer.line('x'.repeat(200000));
    const first = bytesOf(buffer.take()).toString('utf8');
    expect(first).toBe('{"jsonrpc":"2.0","id":0,"result":{}}\n' + textResultReply(id, long, members) + '\n' + 'x'.repeat(200000) + '\n');
    expect(bytesOf(buffer.take()).length).toBe(0);
    // Members outlive take(), until set again.
    buffer.textResult('1', 'short');
    buffer.setMembers('');
    buffer.textResult('2', 'short');
    expect(bytesOf(buffer.take()).toString('utf8')).toBe(textResultReply('1', 'short', members) + '\n' + textResultReply('2', 'short', '') + '\n');
  });

  it.skipIf(!available)('returns the amount waiting, and nothing after take()', () => {
    const buffer = make();
    const a = buffer.line('{}');
    const b = buffer.textResult('1', 'abc');
    expect(a).toBe(3);
    expect(b).toBe(3 + textResultReply('1', 'abc', '').length + 1);
    buffer.take();
    expect(buffer.line('[]')).toBe(3);
  });
});

describe.skipIf(NATIVE_BINDING === null && !REQUIRE_NATIVE)('native ReplyBuffer binding', () => {
  it('refuses what is not a string with a TypeError, and writes nothing', () => {
    const buffer = new NATIVE_BINDING!.ReplyBuffer();
    const call = buffer.textResult as unknown as (...args: unknown[]) => number;
    expect(() => call(1, 'a')).toThrow(new TypeError('Expected idRaw to be a string'));
    expect(() => call('1', { toString: () => 'a' })).toThrow(new TypeError('Expected text to be a string'));
    expect(() => call('1')).toThrow(TypeError);
    const setMembers = buffer.setMembers as unknown as (...args: unknown[]) => void;
    expect(() => setMembers(null)).toThrow(new TypeError('Expected members to be a string'));
    expect(() => setMembers()).toThrow(new TypeError('Expected members to be a string'));
    expect(() => (buffer.line as unknown as (v: unknown) => number)(Symbol('x'))).toThrow(new TypeError('Expected json to be a string'));
    expect(buffer.take().length).toBe(0);
  });

  it('writeTo writes what waits into a non-blocking pipe, refuses a blocking one, and checks its fd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-reply-'));
    const path = join(dir, 'fifo');
    execFileSync('mkfifo', [path]);
    const nonblocking = openSync(path, fsConstants.O_RDWR | fsConstants.O_NONBLOCK);
    const blocking = openSync(path, 'r+');
    try {
      const buffer = new NATIVE_BINDING!.ReplyBuffer();
      buffer.textResult('1', 'é"');
      expect(buffer.writeTo(blocking)).toBe(-constants.errno.EAGAIN);
      expect(buffer.writeTo(nonblocking)).toBe(0);
      const got = Buffer.alloc(100);
      const n = readSync(nonblocking, got);
      expect(got.subarray(0, n).toString('utf8')).toBe(textResultReply('1', 'é"', '') + '\n');
      expect(buffer.take().length).toBe(0);
      const write = buffer.writeTo as unknown as (fd: unknown) => number;
      expect(() => write('1')).toThrow(new TypeError('Expected fd to be an integer'));
      expect(() => write(-1)).toThrow(RangeError);
      expect(() => write(1.5)).toThrow(RangeError);
    } finally {
      closeSync(nonblocking);
      closeSync(blocking);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('needs new, and its methods work detached from the object', () => {
    const Ctor = NATIVE_BINDING!.ReplyBuffer as unknown as () => unknown;
    expect(() => Ctor()).toThrow(TypeError);
    const { textResult, take } = new NATIVE_BINDING!.ReplyBuffer();
    textResult('5', 'x');
    expect(take().toString()).toBe(textResultReply('5', 'x', '') + '\n');
  });
});
