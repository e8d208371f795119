// Pins the reason table (docs/jsonrpc-engine.md section 8) in its three places: the spec's table,
// src/jsonrpc/errors.ts and the native addon's `reasons` / `reasonMessages` exports. Names, order and
// message templates must be equal; the wire code of every reason must be the one the spec gives, the
// one errors.ts gives, and the CODE both engines write, with the reply bytes the spec prescribes.
// The native half is skipped only when the addon does not load and FASTERMCP_REQUIRE_NATIVE is unset.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  INVALID_REQUEST,
  PARSE_ERROR,
  REASON_MESSAGES,
  REASON_NAMES,
  REASON_WIRE_CODES,
  Reason,
  formatReasonMessage,
} from '../../src/jsonrpc/errors.js';
import { CODE, KIND, KIND_INVALID, REASON, describeRecord } from '../../src/jsonrpc/records.js';
import { writeError } from '../../src/jsonrpc/response.js';
import { IMPLS, NATIVE, NATIVE_BINDING, REQUIRE_NATIVE } from './helpers/impls.js';

interface SpecRow {
  code: number;
  name: string;
  wire: number;
  message: string;
}

/** The table of section 8, read from the spec itself. */
function specTable(): SpecRow[] {
  const spec = readFileSync(new URL('../../docs/jsonrpc-engine.md', import.meta.url), 'utf8');
  const section = spec.slice(spec.indexOf('## 8.'), spec.indexOf('## 9.'));
  const rows: SpecRow[] = [];
  for (const line of section.split('\n')) {
    const m = /^\| (\d+) \| (\w+) \| (-?\d+) \| (?:`(.*)`)? ?\|$/.exec(line);
    if (m !== null) rows.push({ code: Number(m[1]), name: m[2]!, wire: Number(m[3]), message: m[4] ?? '' });
  }
  return rows;
}

describe('reason table in src/jsonrpc/errors.ts', () => {
  const spec = specTable();

  it('equals the table of spec section 8 (codes, names, order, wire codes, templates)', () => {
    expect(spec.length).toBeGreaterThan(10); // the table was found
    expect(spec.map((r) => r.code)).toEqual(spec.map((_, i) => i));
    expect([...REASON_NAMES]).toEqual(spec.map((r) => r.name));
    expect([...REASON_WIRE_CODES]).toEqual(spec.map((r) => r.wire));
    expect([...REASON_MESSAGES]).toEqual(spec.map((r) => r.message));
  });

  it('Reason maps each name to its index in REASON_NAMES, and nothing else', () => {
    expect(Object.entries(Reason)).toEqual(REASON_NAMES.map((name, code) => [name, code]));
  });

  it('gives -32700 exactly to "Parse error" messages and -32600 to "Invalid Request" ones', () => {
    for (let code = 1; code < REASON_NAMES.length; code++) {
      const expected = REASON_MESSAGES[code]!.startsWith('Parse error: ') ? PARSE_ERROR : INVALID_REQUEST;
      expect(REASON_WIRE_CODES[code], REASON_NAMES[code]).toBe(expected);
    }
    expect(REASON_WIRE_CODES[Reason.ok]).toBe(0);
    expect(REASON_MESSAGES[Reason.ok]).toBe('');
  });
});

const nativeSkipped = NATIVE_BINDING === null && !REQUIRE_NATIVE;

describe.skipIf(nativeSkipped)(`native addon reason exports${nativeSkipped ? ` (SKIPPED: ${NATIVE.problem})` : ''}`, () => {
  it('reasons equals REASON_NAMES (names and order)', () => {
    expect(NATIVE_BINDING, NATIVE.problem).not.toBeNull();
    expect([...NATIVE_BINDING!.reasons]).toEqual([...REASON_NAMES]);
  });

  it('reasonMessages equals REASON_MESSAGES (templates with their placeholders)', () => {
    expect(NATIVE_BINDING, NATIVE.problem).not.toBeNull();
    expect([...NATIVE_BINDING!.reasonMessages]).toEqual([...REASON_MESSAGES]);
  });
});

// One input per reason, under limits with numbers that cannot be confused with anything else.
const LIMITS = { maxMessageBytes: 77, maxDepth: 3, maxBatch: 2, allowBatch: true };
const CASES: { reason: number; input: Uint8Array; allowBatch?: boolean; id: string | null }[] = [
  { reason: Reason.invalid_utf8, input: new Uint8Array([0x22, 0xff, 0x22]), id: null },
  { reason: Reason.invalid_json, input: text('{"jsonrpc":"2.0",'), id: null },
  { reason: Reason.too_deep, input: text('[[[[1]]]]'), id: null },
  { reason: Reason.too_large, input: text(`"${'x'.repeat(80)}"`), id: null },
  { reason: Reason.not_object, input: text('"a"'), id: null },
  { reason: Reason.duplicate_key, input: text('{"jsonrpc":"2.0","id":"d","method":"m","m\\u0065thod":"n"}'), id: '"d"' },
  { reason: Reason.bad_version, input: text('{"jsonrpc":"2.00","id":7,"method":"m"}'), id: '7' },
  { reason: Reason.bad_id, input: text('{"jsonrpc":"2.0","id":{},"method":"m"}'), id: null },
  { reason: Reason.bad_shape, input: text('{"jsonrpc":"2.0","id":1.5}'), id: '1.5' },
  { reason: Reason.bad_method, input: text('{"jsonrpc":"2.0","id":-0,"method":null}'), id: '-0' },
  { reason: Reason.bad_params, input: text('{"jsonrpc":"2.0","id":"p","method":"m","params":"x"}'), id: '"p"' },
  { reason: Reason.bad_error, input: text('{"jsonrpc":"2.0","id":2,"error":{"code":1.0,"message":""}}'), id: '2' },
  { reason: Reason.empty_batch, input: text('[ ]'), id: null },
  { reason: Reason.batch_not_allowed, input: text('[{}]'), allowBatch: false, id: null },
  { reason: Reason.batch_too_large, input: text('[1,2,3]'), id: null },
];

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

describe('wire codes and replies written by the engines', () => {
  it('cover every reason but ok', () => {
    expect(CASES.map((c) => c.reason).sort((a, b) => a - b)).toEqual(REASON_NAMES.map((_, i) => i).slice(1));
  });

  for (const impl of IMPLS) {
    const skip = !impl.available && !REQUIRE_NATIVE;
    it.skipIf(skip)(`${impl.name}: CODE is the reason's wire code and the reply is writeError(id, code, message)`, () => {
      const router = impl.router();
      for (const c of CASES) {
        const limits = { ...LIMITS, allowBatch: c.allowBatch ?? true };
        const engine = impl.engine(router, limits);
        const count = engine.scan(c.input);
        const name = REASON_NAMES[c.reason]!;
        expect(count, name).toBe(1);
        const described = describeRecord(
          engine.records,
          0,
          { input: c.input, carried: new Uint8Array(0), replies: new Uint8Array(engine.replies()) },
          REASON_NAMES,
        );
        expect(engine.records[KIND], name).toBe(KIND_INVALID);
        expect(engine.records[REASON], name).toBe(c.reason);
        expect(engine.records[CODE], name).toBe(REASON_WIRE_CODES[c.reason]);
        expect(described.reply, name).toBe(writeError(c.id, REASON_WIRE_CODES[c.reason]!, formatReasonMessage(c.reason, limits)));
      }
    });
  }
});
