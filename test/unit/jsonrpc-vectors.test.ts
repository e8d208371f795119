// Every shared vector of test/vectors/{framing,scan,response}, once per implementation.
import { describe, expect, it } from 'vitest';
import { writeError, writeResult } from '../../src/jsonrpc/response.js';
import { IMPLS, REQUIRE_NATIVE } from './helpers/impls.js';
import {
  engineVectorProblems,
  pick,
  readEngineVectors,
  readResponseVectors,
  responseVectorProblems,
  runVector,
} from './helpers/vectors.js';

const framing = readEngineVectors('framing');
const scan = readEngineVectors('scan');

for (const impl of IMPLS) {
  const skip = !impl.available && !REQUIRE_NATIVE;
  describe.skipIf(skip)(`${impl.name} engine${skip ? ` (SKIPPED: ${impl.problem})` : ''}`, () => {
    for (const [dir, vectors] of [['framing', framing], ['scan', scan]] as const) {
      describe(dir, () => {
        for (const vector of vectors) {
          it(`${vector.file}: ${vector.name}`, () => {
            const { records, idTexts } = runVector(impl, vector);
            expect(records.map((r, i) => pick(r, vector.expect[i] ?? { kind: '' }))).toEqual(vector.expect);
            expect(records.length).toBe(vector.expect.length);
            // Each call's id text (section 12) is its records' raw ids joined.
            expect(idTexts.map((t) => t.actual)).toEqual(idTexts.map((t) => t.expected));
          });
        }
      });
    }
  });
}

describe('response writers', () => {
  for (const vector of readResponseVectors()) {
    it(`${vector.file}: ${vector.name}`, () => {
      const text =
        vector.error !== undefined
          ? writeError(vector.id, vector.error.code, vector.error.message, vector.error.data)
          : writeResult(vector.id, vector.result!);
      expect(text).toBe(vector.expect);
      expect(writeResult(new TextEncoder().encode(vector.id), '0')).toBe(writeResult(vector.id, '0'));
    });
  }
});

describe('vector files', () => {
  it('use only the members the format defines (a misspelt one would be ignored)', () => {
    const problems = [
      ...framing.flatMap((v) => engineVectorProblems(v, 'framing')),
      ...scan.flatMap((v) => engineVectorProblems(v, 'scan')),
      ...readResponseVectors().flatMap(responseVectorProblems),
    ];
    expect(problems).toEqual([]);
  });

  it('name their outcome: y_ vectors accept every message, n_ vectors reject at least one', () => {
    for (const vector of [...framing, ...scan]) {
      const base = vector.file.split('/')[1]!;
      expect(base, vector.file).toMatch(/^[yni]_/);
      const invalid = vector.expect.filter((r) => r.kind === 'invalid').length;
      if (base.startsWith('y_')) expect(invalid, vector.file).toBe(0);
      if (base.startsWith('n_')) expect(invalid, vector.file).toBeGreaterThan(0);
    }
  });
});
