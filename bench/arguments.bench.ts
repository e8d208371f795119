// Arguments reading micro-benchmark (docs/jsonrpc-engine.md section 11): ns per request's `arguments`, in one
// run, for a read of 400 tools/call requests (one engine call), from the engine's records to each request's
// arguments value, by
//   native          Engine.readArguments (the addon), one JSON.parse of the values, objects built by buildArguments
//   js twin         the same with the JS engine's readArguments (src/jsonrpc/arguments.ts)
//   joined parse    what intake.ts did before: each span as a substring of the read's text, joined into one
//                   array text and JSON.parse'd once
//   parse each      JSON.parse of each span alone (the usual way)
// Arguments: the load test's echo ({"text": 55 characters}), three members (strings and a number), and
// members with nested values. Before timing every contender's values are compared with JSON.parse of each
// span (members, order, values); a mismatch stops the run. Each (arguments, contender) pair runs in a
// process of its own, rounds interleaved, as in bench/reply.bench.ts.
//
//   npm run bench -- arguments                 writes bench/results/arguments.md
//   npm run bench -- arguments --node node24   the same on Node 24; bench/results/arguments-node24.md
import { median, p50PerItem, resultsNameOrRerun, roundsOption, runIsolated } from './lib/isolated.js';
import { methodEngine } from './lib/engines.js';
import { machineLines, table, writeResults } from './lib/report.js';
import { ARGS_END, ARGS_START, RECORD_STRIDE, buildArguments } from '../src/jsonrpc/index.js';
import { loadNative } from '../src/native.js';

const args = process.argv.slice(2);
const resultName = resultsNameOrRerun('arguments', args);
const READ = 400;

const SHAPES = {
  'echo, 1 string': (i: number) => `{"text":"echo ${i} the quick brown fox jumps over the lazy dog"}`,
  '3 members': (i: number) => `{"city":"Berlin","units":"metric","days":${i % 14}}`,
  'nested values': (i: number) => `{"query":"lorem ipsum ${i}","tags":["a","b","c"],"limit":25,"filter":{"since":"2026-01-01","deep":[1,2.5]}}`,
} as const;
type ShapeName = keyof typeof SHAPES;
const SHAPE_NAMES = Object.keys(SHAPES) as ShapeName[];
const CONTENDERS = ['native', 'js twin', 'joined parse', 'parse each'] as const;
type Contender = (typeof CONTENDERS)[number];

const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

function chunkOf(shape: ShapeName): Buffer {
  const lines = Array.from(
    { length: READ },
    (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"tools/call","params":{"name":"echo","arguments":${SHAPES[shape](i)}}}`,
  );
  return Buffer.from(lines.join('\n') + '\n');
}

/** One read's arguments, from records already made by feeding `chunk` (as intake.ts reads them). */
function reader(who: Contender, chunk: Buffer): () => unknown[] {
  const engine = methodEngine(who === 'native');
  if (engine.feed(chunk) !== READ) throw new Error('bench: the engine did not see every request');
  const rec = engine.records;
  const out = new Array<unknown>(READ);
  if (who === 'native' || who === 'js twin') {
    return () => {
      const read = engine.readArguments(chunk);
      const values = JSON.parse(read.values) as unknown[];
      for (let i = 0; i < READ; i++) out[i] = buildArguments(read, values, i);
      return out;
    };
  }
  if (who === 'joined parse') {
    return () => {
      const text = latin1Slice.call(chunk, 0, chunk.length);
      let joined = text.slice(rec[ARGS_START]!, rec[ARGS_END]!);
      for (let i = 1; i < READ; i++) joined += ',' + text.slice(rec[i * RECORD_STRIDE + ARGS_START]!, rec[i * RECORD_STRIDE + ARGS_END]!);
      const all = JSON.parse('[' + joined + ']') as unknown[];
      for (let i = 0; i < READ; i++) out[i] = all[i];
      return out;
    };
  }
  return () => {
    const text = latin1Slice.call(chunk, 0, chunk.length);
    for (let i = 0; i < READ; i++) out[i] = JSON.parse(text.slice(rec[i * RECORD_STRIDE + ARGS_START]!, rec[i * RECORD_STRIDE + ARGS_END]!));
    return out;
  };
}

async function measure(shape: ShapeName, who: Contender): Promise<number | null> {
  if (who === 'native' && loadNative() === null) return null;
  return p50PerItem(who, reader(who, chunkOf(shape)), READ);
}

const pair = process.env.FASTERMCP_ARGUMENTS_PAIR;
if (pair !== undefined) {
  const [shape, who] = pair.split('\t') as [ShapeName, Contender];
  process.stdout.write(`${JSON.stringify({ ns: await measure(shape, who) })}\n`);
  process.exit(0);
}

// ---- check outputs before timing ------------------------------------------------------------------------------
const haveNative = loadNative() !== null;
for (const shape of SHAPE_NAMES) {
  const reference = JSON.stringify(Array.from({ length: READ }, (_, i) => JSON.parse(SHAPES[shape](i)) as unknown));
  for (const who of CONTENDERS) {
    if (who === 'native' && !haveNative) continue;
    const read = reader(who, chunkOf(shape));
    // Twice: the key ids of the first read are reused by the second.
    for (let k = 0; k < 2; k++) {
      if (JSON.stringify(read()) !== reference) throw new Error(`bench: ${who} reads "${shape}" differently`);
    }
  }
}

// ---- run and report ---------------------------------------------------------------------------------------------
const ROUNDS = roundsOption(args, 3);
const samples = runIsolated('FASTERMCP_ARGUMENTS_PAIR', SHAPE_NAMES.flatMap((s) => CONTENDERS.map((who) => [s, who] as const)), ROUNDS);
const result = (s: ShapeName, who: Contender): number => median(samples.get(`${s}\t${who}`)!);
const fmt = (ns: number) => (Number.isNaN(ns) ? '—' : `${ns.toFixed(0)} ns`);
const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? '—' : `${(a / b).toFixed(2)}x`);
const rows = CONTENDERS.map((who) => [
  who,
  ...SHAPE_NAMES.map((s) => fmt(result(s, who))),
  ...SHAPE_NAMES.map((s) => ratio(result(s, who), result(s, 'native'))),
]);
const md = [
  `# arguments reading: median ns per request's arguments (p50 of reads of ${READ} tools/call requests; median of ${ROUNDS} rounds, each contender in its own process)`,
  '',
  ...machineLines(),
  `- arguments: ${SHAPE_NAMES.map((s) => `${s} (${SHAPES[s](7).length} B, e.g. \`${SHAPES[s](7)}\`)`).join('; ')}`,
  '- every contender\'s values compared with JSON.parse of each span before timing; the engine has already scanned the read (records made), each contender goes from there to the values',
  `- reproduce: \`npm run bench -- arguments${resultName === 'arguments' ? '' : ` --node ${resultName.slice(10)}`}\``,
  '',
  table(['contender', ...SHAPE_NAMES, ...SHAPE_NAMES.map((s) => `${s} / native`)], rows),
  '',
];
console.log(md.join('\n'));
console.log(`wrote ${writeResults(resultName, md.join('\n'), { node: process.version, results: Object.fromEntries([...samples].map(([k, v]) => [k, median(v)])) })}`);
