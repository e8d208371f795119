// nst/JSONTestSuite through scan() (docs/jsonrpc-engine.md section 9): every file of
// test/vectors/jsontestsuite/ is one message, allowBatch true, once per implementation.
//   y_  valid JSON: no -32700 record (it may still be an invalid JSON-RPC message, -32600)
//   n_  invalid JSON: exactly one record, invalid, code -32700
//   i_  implementation-defined: test/vectors/jsontestsuite-i.json says accept (no -32700) or reject
//       (-32700); every i_ file must be listed there and every listed file must exist.
// Then native and twin must write the same records and the same reply bytes for every file.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PARSE_ERROR, REASON_NAMES } from '../../src/jsonrpc/errors.js';
import { CODE, KIND, KIND_INVALID, RECORD_STRIDE } from '../../src/jsonrpc/records.js';
import { IMPLS, JS, NATIVE, REQUIRE_NATIVE, applyRoutes } from './helpers/impls.js';
import type { Impl } from './helpers/impls.js';
import { DEFAULT_ROUTES, VECTORS } from './helpers/vectors.js';

const DIR = join(VECTORS, 'jsontestsuite');
const FILES = readdirSync(DIR)
  .filter((f) => f !== 'LICENSE')
  .sort();
const VERDICTS = JSON.parse(readFileSync(join(VECTORS, 'jsontestsuite-i.json'), 'utf8')) as Record<string, string>;

interface Scanned {
  records: Int32Array;
  replies: Uint8Array;
}

function scanFile(impl: Impl, bytes: Uint8Array): Scanned {
  const router = impl.router();
  applyRoutes(router, DEFAULT_ROUTES);
  const engine = impl.engine(router, { allowBatch: true });
  const count = engine.scan(bytes);
  return { records: engine.records.slice(0, count * RECORD_STRIDE), replies: new Uint8Array(engine.replies()) };
}

const codes = (s: Scanned): number[] => Array.from({ length: s.records.length / RECORD_STRIDE }, (_, r) => s.records[r * RECORD_STRIDE + CODE]);
const reasons = (s: Scanned): string[] =>
  Array.from({ length: s.records.length / RECORD_STRIDE }, (_, r) => REASON_NAMES[s.records[r * RECORD_STRIDE + 15]] ?? '?');

function read(file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(DIR, file)));
}

describe('jsontestsuite files', () => {
  it('are all y_, n_ or i_ (and there are some of each)', () => {
    expect(FILES.filter((f) => !/^[yni]_.*\.json$/.test(f))).toEqual([]);
    for (const prefix of ['y_', 'n_', 'i_']) expect(FILES.some((f) => f.startsWith(prefix)), prefix).toBe(true);
  });

  it('jsontestsuite-i.json lists every i_ file, only existing ones, each accept or reject', () => {
    const iFiles = FILES.filter((f) => f.startsWith('i_'));
    const listed = Object.keys(VERDICTS).sort();
    expect(iFiles.filter((f) => !(f in VERDICTS)), 'i_ files without a verdict').toEqual([]);
    expect(listed.filter((f) => !FILES.includes(f)), 'stale entries (no such file)').toEqual([]);
    expect(Object.entries(VERDICTS).filter(([, v]) => v !== 'accept' && v !== 'reject'), 'bad verdicts').toEqual([]);
  });
});

for (const impl of IMPLS) {
  const skip = !impl.available && !REQUIRE_NATIVE;
  describe.skipIf(skip)(`${impl.name} engine on JSONTestSuite${skip ? ` (SKIPPED: ${impl.problem})` : ''}`, () => {
    for (const file of FILES) {
      it(file, () => {
        const scanned = scanFile(impl, read(file));
        const got = codes(scanned);
        const detail = `${file}: reasons ${reasons(scanned).join(',')}`;
        const expectReject = file.startsWith('n_') || (file.startsWith('i_') && VERDICTS[file] === 'reject');
        expect(got.length, detail).toBeGreaterThan(0);
        if (expectReject) {
          expect(got, detail).toEqual([PARSE_ERROR]);
          expect(scanned.records[KIND], detail).toBe(KIND_INVALID);
        } else {
          expect(got.filter((c) => c === PARSE_ERROR), detail).toEqual([]);
        }
      });
    }
  });
}

describe.skipIf(!NATIVE.available && !REQUIRE_NATIVE)('native and twin agree on JSONTestSuite', () => {
  it('write the same records and reply bytes for every file', () => {
    const differ: string[] = [];
    for (const file of FILES) {
      const bytes = read(file);
      const native = scanFile(NATIVE, bytes);
      const js = scanFile(JS, bytes);
      if (
        Buffer.compare(Buffer.from(native.records.buffer), Buffer.from(js.records.buffer)) !== 0 ||
        Buffer.compare(native.replies, js.replies) !== 0
      ) {
        differ.push(`${file}: native ${reasons(native).join(',')} / js ${reasons(js).join(',')}`);
      }
    }
    expect(differ).toEqual([]);
  });
});
