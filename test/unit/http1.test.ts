// The HTTP/1.1 head parser (src/http1/, native/core/http1.cc): every shared vector
// (test/vectors/http1-head.json) against the native parser and the JS twin, every proper prefix of an
// accepted head, a differential property test (heads built from a small grammar, then byte mutations,
// random start/end and limits: native and twin must fill identical fields), and the binding's argument checks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native.js';
import {
  FIELD_STRIDE,
  FLAG_CHUNKED,
  FLAG_CLOSE,
  FLAG_EXPECT,
  FLAG_KEEP_ALIVE,
  FLAG_TRANSFER_ENCODING,
  FLAG_UPGRADE,
  HEAD_CONTENT_LENGTH,
  HEAD_COUNT,
  HEAD_FIELDS,
  HEAD_FIELDS_LENGTH,
  HEAD_FLAGS,
  HEAD_METHOD,
  HEAD_STATUS,
  HEAD_TARGET_END,
  HEAD_TARGET_START,
  HEAD_VERSION,
  JsHeadParser,
  createHeadParser,
  type HeadParser,
} from '../../src/http1/index.js';
import { REQUIRE_NATIVE } from './helpers/impls.js';
import { uniform } from './helpers/prng.js';

const native = (() => {
  try {
    return loadNative();
  } catch {
    return null;
  }
})();
if (native === null && !REQUIRE_NATIVE) console.warn('[fastermcp tests] NATIVE HEAD PARSER SKIPPED: the addon did not load');

interface Case {
  name: string;
  input: string;
  start?: number;
  end?: number;
  maxHeadBytes?: number;
  expect: {
    status: number;
    method?: string;
    target?: string;
    version?: number;
    contentLength?: number;
    flags?: string[];
    headers?: [number, string, string][];
  };
}
const vectors = JSON.parse(readFileSync(new URL('../vectors/http1-head.json', import.meta.url), 'utf8')) as { cases: Case[] };
const CASES = vectors.cases;

const METHODS = ['OTHER', 'GET', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PUT', 'PATCH'];
const FLAGS: [string, number][] = [
  ['transfer-encoding', FLAG_TRANSFER_ENCODING],
  ['chunked', FLAG_CHUNKED],
  ['close', FLAG_CLOSE],
  ['keep-alive', FLAG_KEEP_ALIVE],
  ['upgrade', FLAG_UPGRADE],
  ['expect', FLAG_EXPECT],
];

const IMPLS = [
  { name: 'native', available: native !== null || REQUIRE_NATIVE },
  { name: 'js', available: true },
] as const;

function parserOf(impl: 'native' | 'js', maxHeadBytes?: number): HeadParser {
  return createHeadParser({ implementation: impl, ...(maxHeadBytes === undefined ? {} : { maxHeadBytes }) });
}

/** What a parse says, in the vectors' terms (only the status unless it is > 0). */
function describeHead(p: HeadParser, buf: Uint8Array, status: number): Case['expect'] {
  if (status <= 0) return { status };
  const f = p.fields;
  const text = (s: number, e: number): string => Buffer.from(buf.subarray(s, e)).toString('latin1');
  const headers: [number, string, string][] = [];
  for (let k = 0; k < f[HEAD_COUNT]!; k++) {
    const at = HEAD_FIELDS + k * FIELD_STRIDE;
    headers.push([f[at]!, text(f[at + 1]!, f[at + 2]!), text(f[at + 3]!, f[at + 4]!)]);
  }
  return {
    status,
    method: METHODS[f[HEAD_METHOD]!] ?? `?${f[HEAD_METHOD]}`,
    target: text(f[HEAD_TARGET_START]!, f[HEAD_TARGET_END]!),
    version: f[HEAD_VERSION]!,
    contentLength: f[HEAD_CONTENT_LENGTH]!,
    flags: FLAGS.filter(([, bit]) => (f[HEAD_FLAGS]! & bit) !== 0).map(([name]) => name),
    headers,
  };
}

const bytesOf = (c: Case): Buffer => Buffer.from(c.input, 'latin1');

describe('http1 vectors', () => {
  it('has many cases, each named by the sign of its status', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(80);
    for (const c of CASES) {
      const want = c.name.startsWith('y_') ? 1 : c.name.startsWith('n_') ? -1 : c.name.startsWith('i_') ? 0 : NaN;
      expect(Math.sign(c.expect.status), c.name).toBe(want);
      for (const ch of c.input) expect(ch.charCodeAt(0), c.name).toBeLessThan(256);
    }
  });

  for (const impl of IMPLS) {
    describe.skipIf(!impl.available)(impl.name, () => {
      it('reads every case as the vector says', () => {
        for (const c of CASES) {
          const p = parserOf(impl.name, c.maxHeadBytes);
          const buf = bytesOf(c);
          const start = c.start ?? 0;
          const end = c.end ?? buf.length;
          const status = p.parse(buf, start, end);
          expect(p.fields[HEAD_STATUS], c.name).toBe(status);
          expect(describeHead(p, buf, status), c.name).toEqual(c.expect);
        }
      });

      it('reads 0 for every proper prefix of an accepted head', () => {
        for (const c of CASES) {
          if (c.expect.status <= 0) continue;
          const p = parserOf(impl.name, c.maxHeadBytes);
          const buf = bytesOf(c);
          const start = c.start ?? 0;
          for (let end = start; end < start + c.expect.status; end++) {
            expect(p.parse(buf, start, end), `${c.name} cut at ${end}`).toBe(0);
          }
        }
      });

      it('ignores the bytes at and after end, and reads a copy at another position the same way', () => {
        for (const c of CASES) {
          const p = parserOf(impl.name, c.maxHeadBytes);
          const buf = bytesOf(c);
          const start = c.start ?? 0;
          const end = c.end ?? buf.length;
          for (const tail of ['\r\n\r\n', 'GET / HTTP/1.1\r\n', '\u0000\u00ff']) {
            const shift = 3;
            const bigger = Buffer.concat([Buffer.from('\r\n\r'), buf.subarray(0, end), Buffer.from(tail, 'latin1')]);
            const status = p.parse(bigger, start + shift, end + shift);
            const got = describeHead(p, bigger, status);
            expect(got, `${c.name} + ${JSON.stringify(tail)}`).toEqual(c.expect);
          }
        }
      });
    });
  }
});

// --- differential property test ------------------------------------------------------------------------------

const pick = <T,>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

const G = {
  methods: ['GET', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'get', 'M-SEARCH', 'CONNECT', 'G(T', 'POSTS', 'G\u00c9T'],
  targets: ['/', '/mcp', '*', 'http://a.example/b?c=d', '/caf\u00e9', 'example.com:443', '/a\u007fb', '/' + 'x'.repeat(40), '/q?a=%20&b=[]{}|^`'],
  versions: ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1', 'HTTP/11.1'],
  seps: [' ', ' ', ' ', ' ', '  ', '\t'],
  names: [
    'Host', 'host', 'HOST', 'Content-Type', 'Content-Length', 'content-length', 'Transfer-Encoding', 'TRANSFER-encoding',
    'Connection', 'Accept', 'Origin', 'Authorization', 'Mcp-Session-Id', 'MCP-PROTOCOL-VERSION', 'Mcp-Method', 'Mcp-Name',
    'Last-Event-ID', 'Expect', 'Upgrade', 'User-Agent', 'X-Custom', 'Hosts', 'Content_Length', 'X(Y', 'X\u00e9', '',
  ],
  values: [
    'a', 'localhost:3000', '', '   ', 'application/json', '0', '5', '007', '2147483647', '2147483648', '99999999999999',
    '3000000000', '-1', '1,1', '1 1', ' 12 ', 'chunked', 'gzip, chunked', 'chunked, gzip', 'CHUNKED', 'chunked,', 'close',
    'keep-alive', 'Upgrade', ' Keep-Alive ,\tCLOSE,upgrade ', ', ,close,,', '100-continue', 'websocket', 'caf\u00e9 \u00ff',
    'a\u0000b', 'a\u007fb', 'a\tb', 'Bearer ' + 'abcdefghij'.repeat(8), 'a \t b',
  ],
  eols: ['\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\n', '\r', '\r\n '],
  colons: [': ', ': ', ': ', ':', ':\t', ' : ', ':  '],
  interesting: [13, 10, 32, 9, 58, 44, 0, 0x7f, 0xe9, 0x61, 0x41, 0x30, 0x2d, 0x3b],
};

/** A head from the grammar (half of them well formed: one Host, known-good parts), then 0-3 byte mutations. */
function generate(r: () => number): Buffer {
  const clean = r() < 0.5;
  const part = <T,>(list: readonly T[], good: number): T => (clean ? list[Math.floor(r() * good)]! : pick(r, list));
  let text = '';
  if (r() < 0.1) text += '\r\n'.repeat(1 + Math.floor(r() * 2));
  text += part(G.methods, 7) + part(G.seps, 4) + part(G.targets, 6) + part(G.seps, 4) + part(G.versions, 4) + '\r\n';
  const many = r() < 0.03;
  const count = many ? 95 + Math.floor(r() * 10) : Math.floor(r() * 12);
  if (clean) text += 'Host: ' + part(G.values, 2) + '\r\n';
  for (let k = 0; k < count; k++) {
    const eol = clean || r() < 0.9 ? '\r\n' : pick(r, G.eols);
    const name = clean ? G.names[3 + Math.floor(r() * 19)]! : pick(r, G.names);
    text += name + part(G.colons, 3) + part(G.values, 29) + eol;
  }
  text += '\r\n';
  if (r() < 0.3) text += '{"jsonrpc":"2.0","id":1}';
  const bytes = [...Buffer.from(text, 'latin1')];
  const mutations = r() < 0.5 ? 0 : 1 + Math.floor(r() * 3);
  for (let m = 0; m < mutations; m++) {
    const at = Math.floor(r() * (bytes.length + 1));
    const byte = r() < 0.8 ? pick(r, G.interesting) : Math.floor(r() * 256);
    const op = r();
    if (op < 0.5 && at < bytes.length) bytes[at] = byte;
    else if (op < 0.75) bytes.splice(at, 0, byte);
    else bytes.splice(at, 1);
  }
  return Buffer.from(bytes);
}

/** The fields a parse defines: the status, and when > 0 the head's fields and its count of header entries. */
function definedFields(p: HeadParser, status: number): number[] {
  if (status <= 0) return [status];
  return Array.from(p.fields.subarray(0, HEAD_FIELDS + p.fields[HEAD_COUNT]! * FIELD_STRIDE));
}

describe.skipIf(native === null && !REQUIRE_NATIVE)('http1 differential: native against the JS twin', () => {
  it('fills identical fields on 6000 generated and mutated heads (seed 0x4854)', () => {
    const r = uniform(0x4854);
    const statuses = new Map<number, number>();
    const parsers = new Map<number, [HeadParser, HeadParser]>();
    const pair = (max: number): [HeadParser, HeadParser] => {
      let p = parsers.get(max);
      if (p === undefined) {
        p = [parserOf('native', max), parserOf('js', max)];
        parsers.set(max, p);
      }
      return p;
    };
    for (let n = 0; n < 6000; n++) {
      const head = generate(r);
      const junk = Math.floor(r() * 3);
      const buf = Buffer.concat([Buffer.from('\r\nx'.slice(0, junk)), head]);
      const start = junk;
      const end = r() < 0.2 ? start + Math.floor(r() * (head.length + 1)) : buf.length;
      const max = r() < 0.15 ? 16 + Math.floor(r() * head.length) : 16384;
      const [a, b] = pair(max);
      const sa = a.parse(buf, start, end);
      const sb = b.parse(buf, start, end);
      const label = `case ${n}: ${JSON.stringify(buf.toString('latin1'))} [${start}, ${end}) max ${max}`;
      expect(sa, label).toBe(sb);
      expect(definedFields(a, sa), label).toEqual(definedFields(b, sb));
      statuses.set(Math.sign(sa) * (sa < 0 ? -sa : 1), (statuses.get(Math.sign(sa) * (sa < 0 ? -sa : 1)) ?? 0) + 1);
    }
    // The generator must reach every outcome often enough to mean something.
    for (const status of [1, 0, -400, -431, -505]) expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(50);
  });
});

// --- the binding's arguments -----------------------------------------------------------------------------------

describe.skipIf(native === null && !REQUIRE_NATIVE)('http1 native binding arguments', () => {
  const b = native!;
  const head = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1');
  const make = (): { parse(buf: Uint8Array, start: number, end: number): number } =>
    new b.HeadParser(new Int32Array(HEAD_FIELDS_LENGTH), 16384);
  const any = (v: unknown): never => v as never;

  it('constructs from an Int32Array of HEAD_FIELDS_LENGTH and a head size in [16, 2^24]', () => {
    expect(make().parse(head, 0, head.length)).toBe(head.length);
    expect(() => new b.HeadParser(new Int32Array(HEAD_FIELDS_LENGTH - 1), 16384)).toThrow(RangeError);
    expect(() => new b.HeadParser(any(new Uint32Array(HEAD_FIELDS_LENGTH)), 16384)).toThrow(TypeError);
    expect(() => new b.HeadParser(any([]), 16384)).toThrow(TypeError);
    expect(() => new b.HeadParser(any(undefined), 16384)).toThrow(TypeError);
    for (const bad of [15, 2 ** 24 + 1, 1.5, NaN, Infinity, -1]) {
      expect(() => new b.HeadParser(new Int32Array(HEAD_FIELDS_LENGTH), bad), String(bad)).toThrow(RangeError);
    }
    expect(() => new b.HeadParser(new Int32Array(HEAD_FIELDS_LENGTH), any('16384'))).toThrow(TypeError);
    expect(() => (b.HeadParser as unknown as (f: Int32Array, m: number) => unknown)(new Int32Array(HEAD_FIELDS_LENGTH), 16384)).toThrow(TypeError);
  });

  it('refuses fields over a resizable buffer', () => {
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resizable?: boolean };
    const buffer = new Resizable(HEAD_FIELDS_LENGTH * 4, { maxByteLength: HEAD_FIELDS_LENGTH * 8 });
    if (buffer.resizable !== true) return; // no resizable buffers in this runtime
    expect(() => new b.HeadParser(new Int32Array(buffer, 0, HEAD_FIELDS_LENGTH), 16384)).toThrow(RangeError);
  });

  it('checks parse arguments: TypeError for a wrong type, RangeError for a wrong number', () => {
    const p = make();
    const parse = (...args: unknown[]): number => (p.parse as (...a: unknown[]) => number)(...args);
    expect(() => parse(head.toString(), 0, 4)).toThrow(TypeError);
    expect(() => parse(new Uint16Array(8), 0, 4)).toThrow(TypeError);
    expect(() => parse(new DataView(new ArrayBuffer(8)), 0, 4)).toThrow(TypeError);
    expect(() => parse(head.buffer, 0, 4)).toThrow(TypeError);
    expect(() => parse(head, '0', 4)).toThrow(TypeError);
    expect(() => parse(head, 0, undefined)).toThrow(TypeError);
    expect(() => parse(head, 0n, 4)).toThrow(TypeError);
    expect(() => parse(head, 0)).toThrow(TypeError);
    expect(() => parse()).toThrow(TypeError);
    for (const [start, end] of [
      [-1, 4],
      [5, 4],
      [0, head.length + 1],
      [0.5, 4],
      [0, 4.5],
      [NaN, 4],
      [0, NaN],
      [0, Infinity],
      [-Infinity, 4],
    ] as const) {
      expect(() => parse(head, start, end), `${start}, ${end}`).toThrow(RangeError);
    }
    expect(parse(head, head.length, head.length)).toBe(0);
    expect(parse(new Uint8Array(0), 0, 0)).toBe(0);
    expect(parse(head, -0, head.length)).toBe(head.length);
  });

  it('reads a Uint8Array view at its own offsets, and a plain Uint8Array like a Buffer', () => {
    const p = new JsHeadParser();
    const backing = Buffer.concat([Buffer.from('junk'), head]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, head.length);
    const fields = new Int32Array(HEAD_FIELDS_LENGTH);
    const n = new b.HeadParser(fields, 16384);
    expect(n.parse(view, 0, view.length)).toBe(p.parse(view, 0, view.length));
    expect(Array.from(fields.subarray(0, 13))).toEqual(Array.from(p.fields.subarray(0, 13)));
    expect(n.parse(new Uint8Array(head), 0, head.length)).toBe(head.length);
  });

  it('parse does not depend on this', () => {
    const { parse } = make();
    expect(parse(head, 0, head.length)).toBe(head.length);
    expect(parse.call(undefined, head, 0, head.length)).toBe(head.length);
  });

  it('throws instead of writing once its fields buffer is detached', () => {
    const fields = new Int32Array(HEAD_FIELDS_LENGTH);
    const p = new b.HeadParser(fields, 16384);
    expect(p.parse(head, 0, head.length)).toBe(head.length);
    structuredClone(fields.buffer, { transfer: [fields.buffer] });
    expect(fields.length).toBe(0);
    expect(() => p.parse(head, 0, head.length)).toThrow(TypeError);
  });

  it('the wrapper and the factory pick the native class', () => {
    const p = createHeadParser({ implementation: 'native' });
    expect(p.implementation).toBe('native');
    expect(p.parse(head, 0, head.length)).toBe(head.length);
    expect(p.fields[HEAD_COUNT]).toBe(1);
    expect(() => createHeadParser({ maxHeadBytes: 15 })).toThrow(RangeError);
  });
});
