// Differential test of the two engines (STYLE.md section 7), on seeded random JSON-RPC traffic
// (helpers/traffic.ts): realistic messages, and the same messages with their bytes broken.
//
// 1. scan(), each message alone, each implementation: the records and reply bytes must be exactly the
//    ones the JSON.parse-based oracle (helpers/oracle.ts) derives from the spec. JSON.parse decides
//    validity except for the documented differences: it accepts escaped lone surrogates, has no depth
//    limit, does not see duplicate member names, and TextDecoder is lenient (so isUtf8 is asked first).
//    For every valid request, notification and response the spans must also read back, through
//    JSON.parse, as what JSON.parse made of the whole message: id, method, params / result / error and
//    the routed name.
// 2. feed() / end() / scan() / reset() on streams of such messages cut at random chunk boundaries, with
//    router changes between calls: native and twin must give the same records (offsets included),
//    carried() and replies() bytes after every call. Some streams are lines of one shape with other values,
//    which the native engine matches against its skeleton instead of scanning (docs/jsonrpc-engine.md 13).
//
// The seed is random per run and printed in every failure; FASTERMCP_DIFF_SEED=<n> replays a run,
// FASTERMCP_DIFF_SCALE=<n> runs n times as many cases.
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REASON_NAMES } from '../../src/jsonrpc/errors.js';
import type { Engine, EngineLimits, NameTable, Router } from '../../src/jsonrpc/js.js';
import {
  ARGS_END,
  ARGS_START,
  BODY_END,
  BODY_START,
  FLAGS,
  FLAG_IN_BATCH,
  FLAG_META_REPEATED,
  FLAG_PARAMS_SPANNED,
  ID_END,
  ID_START,
  KIND,
  KIND_BATCH,
  KIND_ERROR_RESPONSE,
  KIND_NOTIFICATION,
  KIND_REQUEST,
  KIND_RESPONSE,
  META_END,
  META_START,
  METHOD_END,
  METHOD_START,
  NAME_END,
  NAME_START,
  RECORD_STRIDE,
  describeRecord,
} from '../../src/jsonrpc/records.js';
import { DEFAULTS, IMPLS, JS, NATIVE, REQUIRE_NATIVE, applyRoutes } from './helpers/impls.js';
import type { Impl } from './helpers/impls.js';
import { scanOracle } from './helpers/oracle.js';
import { ROUTED_METHODS, Rng, Traffic, mutate } from './helpers/traffic.js';
import { DEFAULT_ROUTES } from './helpers/vectors.js';

const SEED =
  process.env.FASTERMCP_DIFF_SEED !== undefined && process.env.FASTERMCP_DIFF_SEED !== ''
    ? Number(process.env.FASTERMCP_DIFF_SEED) >>> 0
    : randomBytes(4).readUInt32LE(0);
/** FASTERMCP_DIFF_SCALE=<n> multiplies the case counts (a longer soak). */
const SCALE = Math.max(1, Number(process.env.FASTERMCP_DIFF_SCALE ?? 1) || 1);
const SCAN_CASES = 4000 * SCALE;
const STREAMS = 300 * SCALE;
const MAX_REPORTED = 8;
const replay = `(replay with FASTERMCP_DIFF_SEED=${SEED})`;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { ignoreBOM: true });

/** How a failing input is shown: JSON-escaped text when it is UTF-8, and base64 always. */
function show(bytes: Uint8Array): string {
  return `${JSON.stringify(Buffer.from(bytes).toString('utf8'))} (base64 ${Buffer.from(bytes).toString('base64')})`;
}

function sameInts(a: Int32Array, b: Int32Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

function describeAll(records: Int32Array, input: Uint8Array, carried: Uint8Array, replies: Uint8Array): string {
  const out: string[] = [];
  for (let r = 0; r < records.length / RECORD_STRIDE; r++) {
    out.push(JSON.stringify(describeRecord(records, r, { input, carried, replies }, REASON_NAMES)));
  }
  return out.join('\n    ') || '(no records)';
}

function randomLimits(rng: Rng): EngineLimits {
  return {
    maxMessageBytes: rng.chance(0.04) ? rng.range(1, 200) : DEFAULTS.maxMessageBytes,
    maxDepth: rng.pick([1, 2, 3, 3, 4, 4, 5, 6, 8, 128, 128]),
    maxBatch: rng.pick([1, 2, 3, 1000]),
    allowBatch: rng.chance(0.9),
  };
}

/** A message as bytes: generated, sometimes wrapped in whitespace or a BOM, sometimes mutated. */
function randomMessage(rng: Rng, limits: EngineLimits): Uint8Array {
  const traffic = new Traffic(rng, limits);
  let text = traffic.top();
  if (rng.chance(0.05)) text = traffic.ws() + text + traffic.ws();
  if (rng.chance(0.02)) text = '\ufeff' + text;
  const bytes = enc.encode(text);
  return rng.chance(0.45) ? mutate(rng, bytes) : bytes;
}

// ---------------------------------------------------------------------------------------------------
// 1. scan() against the oracle

/** What a scan() read back through JSON.parse must equal (the `parsed` message or batch element). */
function semanticProblems(bytes: Uint8Array, records: Int32Array, parsed: unknown): string[] {
  const problems: string[] = [];
  const text = (start: number, end: number): string => dec.decode(bytes.subarray(start, end));
  const parseString = (start: number, end: number): unknown => JSON.parse('"' + text(start, end) + '"');
  let element = 0;
  for (let r = 0; r < records.length / RECORD_STRIDE; r++) {
    const at = r * RECORD_STRIDE;
    const kind = records[at + KIND]!;
    if (kind === KIND_BATCH) continue;
    const inBatch = (records[at + FLAGS]! & FLAG_IN_BATCH) !== 0;
    const target = (inBatch ? (parsed as unknown[])[element++] : parsed) as Record<string, unknown>;
    if (kind !== KIND_REQUEST && kind !== KIND_NOTIFICATION && kind !== KIND_RESPONSE && kind !== KIND_ERROR_RESPONSE) continue;
    const where = `record ${r} (${['request', 'notification', 'response', 'error_response'][kind]})`;
    if (records[at + ID_START]! >= 0) {
      const id = JSON.parse(text(records[at + ID_START]!, records[at + ID_END]!)) as unknown;
      if (!Object.is(id, target.id)) problems.push(`${where}: id span reads ${String(id)}, JSON.parse gives ${String(target.id)}`);
    } else if (Object.hasOwn(target, 'id')) {
      problems.push(`${where}: no id span but the message has an id`);
    }
    if (kind === KIND_REQUEST || kind === KIND_NOTIFICATION) {
      const method = parseString(records[at + METHOD_START]!, records[at + METHOD_END]!);
      if (method !== target.method) problems.push(`${where}: method span reads ${JSON.stringify(method)}, JSON.parse gives ${JSON.stringify(target.method)}`);
      if (records[at + BODY_START]! >= 0) {
        const params = JSON.parse(text(records[at + BODY_START]!, records[at + BODY_END]!)) as unknown;
        if (!isDeepStrictEqual(params, target.params)) problems.push(`${where}: params span differs from JSON.parse's params`);
      } else if (Object.hasOwn(target, 'params')) {
        problems.push(`${where}: no params span but the message has params`);
      }
      const route = Object.hasOwn(DEFAULT_ROUTES.methods, target.method as string) ? DEFAULT_ROUTES.methods[target.method as string] : undefined;
      const field = route?.table === 1 ? 'uri' : 'name';
      const params = target.params as Record<string, unknown> | undefined;
      if (records[at + NAME_START]! >= 0) {
        const name = parseString(records[at + NAME_START]!, records[at + NAME_END]!);
        if (route?.table === undefined || name !== params?.[field]) {
          problems.push(`${where}: routed name span reads ${JSON.stringify(name)}, JSON.parse gives ${JSON.stringify(params?.[field])}`);
        }
      } else if (route?.table !== undefined && typeof params === 'object' && params !== null && !Array.isArray(params) && typeof params[field] === 'string') {
        problems.push(`${where}: no routed name span but params.${field} is a string`);
      }
      // ARGS / META read back as params.arguments / params._meta; a spanned params is exactly them
      // and the routed name (with a duplicate member, JSON.parse keeps the last: never spanned then).
      const isObject = typeof params === 'object' && params !== null && !Array.isArray(params);
      const rebuilt: Record<string, unknown> = {};
      for (const [key, start, end] of [['arguments', ARGS_START, ARGS_END], ['_meta', META_START, META_END]] as const) {
        if (records[at + start]! < 0) continue;
        const value = JSON.parse(text(records[at + start]!, records[at + end]!)) as unknown;
        if (!isObject || !isDeepStrictEqual(value, params[key])) problems.push(`${where}: ${key} span differs from JSON.parse's params.${key}`);
        rebuilt[key] = value;
      }
      if ((records[at + FLAGS]! & FLAG_PARAMS_SPANNED) !== 0) {
        if (records[at + NAME_START]! >= 0) rebuilt[field] = parseString(records[at + NAME_START]!, records[at + NAME_END]!);
        if (!isObject || !isDeepStrictEqual(rebuilt, params)) problems.push(`${where}: PARAMS_SPANNED but params is more than the name, arguments and _meta spans`);
      }
    } else {
      const body = JSON.parse(text(records[at + BODY_START]!, records[at + BODY_END]!)) as unknown;
      const expected = kind === KIND_RESPONSE ? target.result : target.error;
      if (!isDeepStrictEqual(body, expected)) problems.push(`${where}: body span differs from JSON.parse's ${kind === KIND_RESPONSE ? 'result' : 'error'}`);
    }
  }
  return problems;
}

interface ScanPair {
  router: Router;
  engines: Map<string, Engine>;
}

function scanEngine(impl: Impl, pair: ScanPair, limits: EngineLimits): Engine {
  const key = JSON.stringify(limits);
  let engine = pair.engines.get(key);
  if (engine === undefined) {
    engine = impl.engine(pair.router, limits);
    pair.engines.set(key, engine);
  }
  return engine;
}

describe('differential: scan() against the JSON.parse oracle', () => {
  for (const impl of IMPLS) {
    const skip = !impl.available && !REQUIRE_NATIVE;
    it.skipIf(skip)(`${impl.name}: ${SCAN_CASES} generated and mutated messages ${replay}`, () => {
      const rng = new Rng(SEED);
      const router = impl.router();
      applyRoutes(router, DEFAULT_ROUTES);
      const pair: ScanPair = { router, engines: new Map() };
      const failures: string[] = [];
      let valid = 0;
      let parseErrors = 0;
      let metaRepeated = 0;
      for (let c = 0; c < SCAN_CASES && failures.length < MAX_REPORTED; c++) {
        const limits = randomLimits(rng);
        const bytes = randomMessage(rng, limits);
        const expected = scanOracle(bytes, limits, DEFAULT_ROUTES);
        const engine = scanEngine(impl, pair, limits);
        const count = engine.scan(bytes);
        const records = engine.records.slice(0, count * RECORD_STRIDE);
        const replies = new Uint8Array(engine.replies());
        const matches = (e: { records: Int32Array; replies: Uint8Array }): boolean => sameInts(records, e.records) && sameBytes(replies, e.replies);
        if (!matches(expected) && !(expected.alternative !== undefined && matches(expected.alternative))) {
          failures.push(
            `case ${c}, limits ${JSON.stringify(limits)}\n  input ${show(bytes)}\n  ${impl.name}:\n    ` +
              describeAll(records, bytes, new Uint8Array(0), replies) +
              `\n  oracle (JSON.parse ${expected.parsedOk ? 'accepts' : 'refuses'}):\n    ` +
              describeAll(expected.records, bytes, new Uint8Array(0), expected.replies),
          );
          continue;
        }
        if (expected.parsedOk) {
          const problems = semanticProblems(bytes, records, expected.parsed);
          if (problems.length > 0) failures.push(`case ${c}: input ${show(bytes)}\n  ${problems.join('\n  ')}`);
        }
        if (records[KIND] !== 4) valid++;
        if (records[14] === -32700) parseErrors++;
        for (let at = 0; at < records.length; at += RECORD_STRIDE) if ((records[at + FLAGS]! & FLAG_META_REPEATED) !== 0) metaRepeated++;
      }
      expect(failures, `seed ${SEED} ${replay}\n${failures.join('\n\n')}`).toEqual([]);
      // The generator must keep producing valid and broken traffic, and repeated `_meta` (pipelines), or
      // this test proves little.
      expect(valid, 'valid messages').toBeGreaterThan(SCAN_CASES / 5);
      expect(parseErrors, '-32700 messages').toBeGreaterThan(SCAN_CASES / 10);
      expect(metaRepeated, 'records with META_REPEATED').toBeGreaterThan(SCAN_CASES / 2000);
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// 2. streams: native and twin after every call

interface Side {
  router: Router;
  engine: Engine;
}

function makeSide(impl: Impl, limits: EngineLimits): Side {
  const router = impl.router();
  applyRoutes(router, DEFAULT_ROUTES);
  return { router, engine: impl.engine(router, limits) };
}

/** A stream of lines: messages (some mutated), blank and whitespace lines, LF or CRLF, maybe a BOM. */
function randomStream(rng: Rng, limits: EngineLimits): Uint8Array {
  const parts: Uint8Array[] = [];
  if (rng.chance(0.2)) parts.push(enc.encode('\ufeff'));
  const lines = rng.range(1, 24);
  for (let l = 0; l < lines; l++) {
    if (rng.chance(0.06)) parts.push(enc.encode(rng.pick(['', ' ', '\t \r', '\ufeff'])));
    else parts.push(randomMessage(rng, limits));
    if (l < lines - 1 || rng.chance(0.6)) parts.push(enc.encode(rng.pick(['\n', '\n', '\n', '\r\n', '\n\n', ' \r\n'])));
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** A random string value for shapedStream: mostly plain printable ASCII, sometimes what a skeleton cannot match. */
function shapedText(rng: Rng): string {
  const plain = ' !#$%&()*+,-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}~';
  let text = '';
  for (let i = rng.range(0, 40); i > 0; i--) text += plain[rng.int(plain.length)];
  if (rng.chance(0.1)) text += rng.pick(['\\"', '\\n', '\\u00e9', 'é', '\t', '"', '\\', '\x7f', '\x01']);
  return text;
}

/** A random number token for shapedStream, sometimes not a JSON number at all. */
function shapedNumber(rng: Rng): string {
  if (rng.chance(0.1)) return rng.pick(['01', '-', '1.', '.5', '1e', '+1', '0x1', '1_0', '--1']);
  return rng.pick(['', '-']) + String(rng.int(100000)) + rng.pick(['', '', '.5', 'e3', 'E-2', '.25e+1']);
}

/**
 * Lines of one shape with other values each time (the id, the arguments' strings and numbers): what a client
 * sends, and what the native engine matches against the last request's skeleton (docs/jsonrpc-engine.md section
 * 13) instead of scanning it. Some lines break the shape, the JSON or the UTF-8.
 */
function shapedStream(rng: Rng): Uint8Array {
  const name = rng.pick(['echo', 'add', 'nope']);
  const meta = rng.chance(0.3) ? ',"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}' : '';
  const stringId = rng.chance(0.3);
  const line = (): string => {
    const id = stringId !== rng.chance(0.05) ? JSON.stringify('r-' + String(rng.int(1000))) : shapedNumber(rng);
    return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${name}","arguments":{"text":"${shapedText(rng)}","n":${shapedNumber(rng)},"o":{"k":[1]}}${meta}}}`;
  };
  const parts: Uint8Array[] = [];
  for (let l = rng.range(2, 30); l > 0; l--) {
    const bytes = enc.encode(line());
    if (rng.chance(0.08)) bytes[rng.int(bytes.length)] = rng.int(256);
    parts.push(bytes, enc.encode(rng.pick(['\n', '\n', '\n', '\r\n'])));
  }
  return new Uint8Array(Buffer.concat(parts));
}

function randomChunks(rng: Rng, bytes: Uint8Array): Uint8Array[] {
  const most = rng.pick([1, 8, 8, 64, 64, 512, bytes.length + 1]);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = rng.range(rng.chance(0.05) ? 0 : 1, most);
    // A fresh copy each time (engines must not keep references to a caller's chunk), at any alignment.
    const offset = rng.int(8);
    const copy = new Uint8Array(offset + length + rng.int(8));
    copy.set(bytes.subarray(at, at + length), offset);
    chunks.push(copy.subarray(offset, offset + Math.min(length, bytes.length - at)));
    at += length;
  }
  return chunks;
}

/** A router change, applied to both sides; returns it for the log. */
function routerChange(rng: Rng, sides: Side[]): string {
  const methods = [...ROUTED_METHODS, 'x/y', 'wörk/😀', ''];
  const names = ['echo', 'add', 'café', 'greet', 'file:///a.txt', '😀', ''];
  const slot = rng.int(20);
  const table = rng.int(3) as NameTable;
  const roll = rng.int(100);
  let call: string;
  let args: unknown[];
  if (roll < 30) [call, args] = ['setMethod', [rng.pick(methods), slot, rng.chance(0.7) ? table : undefined]];
  else if (roll < 50) [call, args] = ['deleteMethod', [rng.pick(methods)]];
  else if (roll < 75) [call, args] = ['setName', [table, rng.pick(names), slot]];
  else if (roll < 95) [call, args] = ['deleteName', [table, rng.pick(names)]];
  else if (roll < 98) [call, args] = ['clear', []];
  else [call, args] = ['defaults', []];
  const results = sides.map(({ router }) => {
    if (call === 'defaults') return applyRoutes(router, DEFAULT_ROUTES);
    return (router as unknown as Record<string, (...a: unknown[]) => unknown>)[call]!(...args);
  });
  if (results[0] !== results[1]) throw new Error(`router.${call}(${JSON.stringify(args)}) returned ${String(results[0])} / ${String(results[1])}`);
  return `router.${call}(${args.map((a) => JSON.stringify(a) ?? 'undefined').join(', ')})`;
}

describe.skipIf(!NATIVE.available && !REQUIRE_NATIVE)('differential: native and twin on chunked streams', () => {
  it(`${STREAMS} streams, same records, carried() and replies() after every call ${replay}`, () => {
    const rng = new Rng(SEED ^ 0x9e3779b9);
    const failures: string[] = [];
    let calls = 0;
    let records = 0;
    for (let s = 0; s < STREAMS && failures.length < MAX_REPORTED; s++) {
      const limits = randomLimits(rng);
      if (rng.chance(0.25)) limits.maxMessageBytes = rng.range(8, 300);
      const sides = [makeSide(NATIVE, limits), makeSide(JS, limits)];
      // The calls so far, compactly: `feed <n>` takes the next n bytes of the stream of its round.
      const log: string[] = [];
      const compare = (input: Uint8Array, counts: number[]): string | null => {
        calls++;
        const [native, js] = sides.map(({ engine }, i) => ({
          records: engine.records.slice(0, counts[i]! * RECORD_STRIDE),
          carried: new Uint8Array(engine.carried()),
          replies: new Uint8Array(engine.replies()),
        }));
        records += counts[0]!;
        if (counts[0] === counts[1] && sameInts(native!.records, js!.records) && sameBytes(native!.carried, js!.carried) && sameBytes(native!.replies, js!.replies)) {
          return null;
        }
        return (
          `  last call's input ${show(input)}\n  carried native ${show(native!.carried)} js ${show(js!.carried)}\n` +
          `  native:\n    ${describeAll(native!.records, input, native!.carried, native!.replies)}\n` +
          `  js:\n    ${describeAll(js!.records, input, js!.carried, js!.replies)}`
        );
      };
      const fail = (problem: string): void => {
        failures.push(`stream ${s}, limits ${JSON.stringify(limits)}\n  calls: ${log.join('; ')}\n${problem}`);
      };
      streams: for (let round = 0; round < 2; round++) {
        const stream = rng.chance(0.3) ? shapedStream(rng) : randomStream(rng, limits);
        log.push(`stream ${Buffer.from(stream).toString('base64')}`);
        for (const chunk of randomChunks(rng, stream)) {
          if (rng.chance(0.05)) log.push(routerChange(rng, sides));
          if (rng.chance(0.03)) {
            const message = randomMessage(rng, limits);
            log.push(`scan ${Buffer.from(message).toString('base64')}`);
            const problem = compare(message, sides.map(({ engine }) => engine.scan(message)));
            if (problem !== null) {
              fail(problem);
              break streams;
            }
          }
          if (rng.chance(0.01)) {
            log.push('reset');
            for (const { engine } of sides) engine.reset();
          }
          log.push(`feed ${chunk.length}`);
          const problem = compare(chunk, sides.map(({ engine }) => engine.feed(chunk)));
          if (problem !== null) {
            fail(problem);
            break streams;
          }
        }
        log.push('end');
        const problem = compare(new Uint8Array(0), sides.map(({ engine }) => engine.end()));
        if (problem !== null) {
          fail(problem);
          break streams;
        }
      }
    }
    expect(failures, `seed ${SEED} ${replay}\n${failures.join('\n\n')}`).toEqual([]);
    expect(records, 'records compared').toBeGreaterThan(STREAMS * 5);
    expect(calls).toBeGreaterThan(STREAMS * 4);
  });
});
