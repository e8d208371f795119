// Reads and runs the shared vectors of test/vectors/{framing,scan,response} (format: test/vectors/README.md).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REASON_NAMES } from '../../../src/jsonrpc/errors.js';
import type { EngineLimits } from '../../../src/jsonrpc/js.js';
import { RECORD_STRIDE, describeRecord } from '../../../src/jsonrpc/records.js';
import type { DescribedRecord } from '../../../src/jsonrpc/records.js';
import { applyRoutes } from './impls.js';
import type { Impl, Routes } from './impls.js';

export const VECTORS = fileURLToPath(new URL('../../vectors/', import.meta.url));
export const DEFAULT_ROUTES = JSON.parse(readFileSync(join(VECTORS, 'routes.json'), 'utf8')) as Routes;

/** The fields an expected record may check (README.md); null means "span absent (-1)". */
export interface ExpectedRecord {
  kind: string;
  id?: string | null;
  method?: string | null;
  body?: string | null;
  name?: string | null;
  message?: string | null;
  slot?: number;
  nameSlot?: number;
  count?: number;
  inBatch?: boolean;
  idKind?: string;
  code?: number;
  reason?: string;
  reply?: string;
  carry?: boolean;
  methodEscaped?: boolean;
  nameEscaped?: boolean;
  arguments?: string | null;
  meta?: string | null;
  paramsSpanned?: boolean;
  metaRepeated?: boolean;
}

export interface EngineVector {
  file: string;
  name: string;
  limits?: Partial<EngineLimits>;
  routes?: 'default' | Routes;
  chunks?: string[];
  chunksBase64?: string[];
  end?: boolean;
  input?: string;
  inputBase64?: string;
  expect: ExpectedRecord[];
}

export interface ResponseVector {
  file: string;
  name: string;
  id: string;
  result?: string;
  error?: { code: number; message: string; data?: string };
  expect: string;
}

function readDir<T>(dir: string): T[] {
  const path = join(VECTORS, dir);
  return readdirSync(path)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: `${dir}/${f}`, ...(JSON.parse(readFileSync(join(path, f), 'utf8')) as object) }) as T);
}

export const readEngineVectors = (dir: 'framing' | 'scan'): EngineVector[] => readDir<EngineVector>(dir);
export const readResponseVectors = (): ResponseVector[] => readDir<ResponseVector>('response');

// Members the format defines (spec section 9): a runner fails on any other, so that a misspelt
// expectation or limit cannot pass by being ignored.
const CASE_MEMBERS = ['name', 'limits', 'routes', 'chunks', 'chunksBase64', 'end', 'input', 'inputBase64', 'expect'];
const LIMIT_MEMBERS = ['maxMessageBytes', 'maxDepth', 'maxBatch', 'allowBatch'];
const ROUTES_MEMBERS = ['methods', 'names'];
const RECORD_MEMBERS = [
  'kind', 'id', 'method', 'body', 'name', 'message', 'slot', 'nameSlot', 'count', 'inBatch', 'idKind', 'code',
  'reason', 'reply', 'carry', 'methodEscaped', 'nameEscaped', 'arguments', 'meta', 'paramsSpanned',
  'metaRepeated',
];
const RESPONSE_MEMBERS = ['name', 'id', 'result', 'error', 'expect'];
const RESPONSE_ERROR_MEMBERS = ['code', 'message', 'data'];

function unknown(value: unknown, known: readonly string[], where: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${where}: not an object`];
  return Object.keys(value)
    .filter((k) => !known.includes(k))
    .map((k) => `${where}: unknown member ${JSON.stringify(k)}`);
}

/** What is wrong with the shape of an engine vector (empty when nothing): unknown members, input forms. */
export function engineVectorProblems(vector: EngineVector, dir: 'framing' | 'scan'): string[] {
  const { file: _file, ...raw } = vector;
  const problems = unknown(raw, CASE_MEMBERS, vector.file);
  if (vector.limits !== undefined) problems.push(...unknown(vector.limits, LIMIT_MEMBERS, `${vector.file} limits`));
  if (vector.routes !== undefined && vector.routes !== 'default') {
    problems.push(...unknown(vector.routes, ROUTES_MEMBERS, `${vector.file} routes`));
  }
  if (!Array.isArray(vector.expect)) problems.push(`${vector.file}: expect is not an array`);
  else vector.expect.forEach((r, i) => problems.push(...unknown(r, RECORD_MEMBERS, `${vector.file} expect[${i}]`)));
  const inputs = (dir === 'framing' ? ['chunks', 'chunksBase64'] : ['input', 'inputBase64']).filter((k) => k in raw);
  if (inputs.length !== 1) problems.push(`${vector.file}: needs exactly one of ${dir === 'framing' ? 'chunks, chunksBase64' : 'input, inputBase64'}`);
  const foreign = (dir === 'framing' ? ['input', 'inputBase64'] : ['chunks', 'chunksBase64', 'end']).filter((k) => k in raw);
  if (foreign.length > 0) problems.push(`${vector.file}: ${foreign.join(', ')} do not belong in a ${dir} vector`);
  return problems;
}

/** What is wrong with the shape of a response vector (empty when nothing). */
export function responseVectorProblems(vector: ResponseVector): string[] {
  const { file: _file, ...raw } = vector;
  const problems = unknown(raw, RESPONSE_MEMBERS, vector.file);
  if (vector.error !== undefined) problems.push(...unknown(vector.error, RESPONSE_ERROR_MEMBERS, `${vector.file} error`));
  if ((vector.error === undefined) === (vector.result === undefined)) problems.push(`${vector.file}: needs exactly one of result, error`);
  return problems;
}

const utf8 = new TextEncoder();

/** What one engine produced for a vector: described records (in call order) and the raw outputs. */
export interface VectorRun {
  records: DescribedRecord[];
  raw: { records: Int32Array; carried: Uint8Array; replies: Uint8Array }[];
  /** Per engine call: Engine.idText, and what section 12 says it is (the call's raw ids joined; null when one is not ASCII). */
  idTexts: { actual: string | null; expected: string | null }[];
}

/** What Engine.idText gives for a call's described records (docs/jsonrpc-engine.md section 12). */
function expectedIdText(records: DescribedRecord[]): string | null {
  const ids = records.flatMap((r) => (r.id === undefined ? [] : [r.id]));
  return ids.some((id) => /[^\x00-\x7f]/.test(id)) ? null : ids.join('');
}

export function runVector(impl: Impl, vector: EngineVector): VectorRun {
  const router = impl.router();
  applyRoutes(router, vector.routes === undefined || vector.routes === 'default' ? DEFAULT_ROUTES : vector.routes);
  const engine = impl.engine(router, vector.limits);
  const run: VectorRun = { records: [], raw: [], idTexts: [] };
  const collect = (input: Uint8Array, count: number): void => {
    const sources = { input, carried: new Uint8Array(engine.carried()), replies: new Uint8Array(engine.replies()) };
    const described: DescribedRecord[] = [];
    for (let r = 0; r < count; r++) described.push(describeRecord(engine.records, r, sources, REASON_NAMES));
    run.records.push(...described);
    run.idTexts.push({ actual: engine.idText(input), expected: expectedIdText(described) });
    run.raw.push({ records: engine.records.slice(0, count * RECORD_STRIDE), carried: sources.carried, replies: sources.replies });
  };
  if (vector.input !== undefined || vector.inputBase64 !== undefined) {
    const input = vector.input !== undefined ? utf8.encode(vector.input) : new Uint8Array(Buffer.from(vector.inputBase64!, 'base64'));
    collect(input, engine.scan(input));
    return run;
  }
  const chunks = vector.chunks?.map((c) => utf8.encode(c)) ?? vector.chunksBase64!.map((c) => new Uint8Array(Buffer.from(c, 'base64')));
  for (const chunk of chunks) collect(chunk, engine.feed(chunk));
  if (vector.end === true) collect(new Uint8Array(0), engine.end());
  return run;
}

/** The described record narrowed to the fields `expected` lists, for a readable toEqual diff. */
export function pick(actual: DescribedRecord, expected: ExpectedRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(expected)) {
    switch (key) {
      case 'id':
      case 'method':
      case 'body':
      case 'name':
      case 'message':
      case 'reply':
      case 'arguments':
      case 'meta':
        out[key] = (actual as unknown as Record<string, unknown>)[key] ?? null;
        break;
      default:
        out[key] = (actual as unknown as Record<string, unknown>)[key];
    }
  }
  return out;
}
