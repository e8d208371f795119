// Framing properties, once per implementation: how a stream is cut into chunks changes nothing but
// SRC_CARRY, offsets and META_REPEATED (which compares within a call), and a line framed out of a stream
// gives the records scan() gives for it.
import { describe, expect, it } from 'vitest';
import { REASON_NAMES } from '../../src/jsonrpc/errors.js';
import { describeRecord } from '../../src/jsonrpc/records.js';
import type { DescribedRecord } from '../../src/jsonrpc/records.js';
import type { Engine, EngineLimits } from '../../src/jsonrpc/js.js';
import { IMPLS, REQUIRE_NATIVE, applyRoutes } from './helpers/impls.js';
import type { Impl } from './helpers/impls.js';
import { DEFAULT_ROUTES, readEngineVectors } from './helpers/vectors.js';

/** A described record without what depends on chunking: SRC_CARRY, the offsets and META_REPEATED. */
type Normal = Omit<DescribedRecord, 'carry' | 'start' | 'end' | 'metaRepeated'>;

function normal(engine: Engine, input: Uint8Array, count: number): Normal[] {
  const sources = { input, carried: new Uint8Array(engine.carried()), replies: new Uint8Array(engine.replies()) };
  const out: Normal[] = [];
  for (let r = 0; r < count; r++) {
    const { carry: _carry, start: _start, end: _end, metaRepeated: _metaRepeated, ...rest } = describeRecord(engine.records, r, sources, REASON_NAMES);
    out.push(rest);
  }
  return out;
}

function feedAll(impl: Impl, chunks: Uint8Array[], limits: Partial<EngineLimits>): Normal[] {
  const router = impl.router();
  applyRoutes(router, DEFAULT_ROUTES);
  const engine = impl.engine(router, limits);
  const out: Normal[] = [];
  for (const chunk of chunks) out.push(...normal(engine, chunk, engine.feed(chunk)));
  out.push(...normal(engine, new Uint8Array(0), engine.end()));
  return out;
}

function scanLine(impl: Impl, line: Uint8Array, limits: Partial<EngineLimits>): Normal[] {
  const router = impl.router();
  applyRoutes(router, DEFAULT_ROUTES);
  const engine = impl.engine(router, limits);
  return normal(engine, line, engine.scan(line));
}

const enc = new TextEncoder();
const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** Streams: every framing vector joined into one byte string, and scan vectors joined as lines. */
const framingStreams = readEngineVectors('framing').map((v) => ({
  name: v.file,
  limits: v.limits ?? {},
  bytes: concat(v.chunks?.map((c) => enc.encode(c)) ?? v.chunksBase64!.map((c) => new Uint8Array(Buffer.from(c, 'base64')))),
}));
const scanLines = readEngineVectors('scan')
  .filter((v) => v.limits === undefined && (v.routes === undefined || v.routes === 'default'))
  .map((v) => (v.input !== undefined ? enc.encode(v.input) : new Uint8Array(Buffer.from(v.inputBase64!, 'base64'))))
  .filter((line) => !line.includes(0x0a) && !(line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf) && line.length > 0);

for (const impl of IMPLS) {
  const skip = !impl.available && !REQUIRE_NATIVE;
  describe.skipIf(skip)(`${impl.name} framing${skip ? ` (SKIPPED: ${impl.problem})` : ''}`, () => {
    it('gives the same records however each framing vector stream is cut (every 2-way cut, 1-byte chunks)', () => {
      for (const { name, limits, bytes } of framingStreams) {
        const whole = feedAll(impl, [bytes], limits);
        const bytewise = feedAll(impl, Array.from(bytes, (b) => new Uint8Array([b])), limits);
        expect(bytewise, `${name} in 1-byte chunks`).toEqual(whole);
        for (let cut = 0; cut <= bytes.length; cut++) {
          const split = feedAll(impl, [bytes.subarray(0, cut), bytes.subarray(cut)], limits);
          expect(split, `${name} cut at ${cut}`).toEqual(whole);
        }
      }
    });

    it('frames each line of a stream of all scan vectors exactly as scan() reads that line', () => {
      const stream = concat(scanLines.flatMap((line, i) => [line, enc.encode(i % 3 === 0 ? '\r\n' : '\n')]));
      const expected = scanLines.flatMap((line) => scanLine(impl, line, {}));
      expect(feedAll(impl, [stream], {})).toEqual(expected);
      // The same stream in 7-byte chunks.
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < stream.length; at += 7) chunks.push(stream.subarray(at, at + 7));
      expect(feedAll(impl, chunks, {})).toEqual(expected);
    });

    it('keeps framing across a too-large line at every cut', () => {
      const ping = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
      const bytes = enc.encode(`${ping}\n${'z'.repeat(60)}\n${ping}\n\r\n${'q'.repeat(41)}`);
      const limits = { maxMessageBytes: ping.length };
      const whole = feedAll(impl, [bytes], limits);
      expect(whole.map((r) => r.reason)).toEqual(['ok', 'too_large', 'ok', 'too_large']);
      for (let cut = 0; cut <= bytes.length; cut++) {
        for (const second of [cut, Math.min(bytes.length, cut + 13)]) {
          const parts = [bytes.subarray(0, cut), bytes.subarray(cut, second), bytes.subarray(second)];
          expect(feedAll(impl, parts, limits), `cuts at ${cut}, ${second}`).toEqual(whole);
        }
      }
    });
  });
}
