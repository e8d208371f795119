// Worker-pool round trips (docs/worker-pool.md): latency p50/p99 of one call at a time, in one run, for
//   in-process          the handler awaited on the main thread (the floor: no thread crossing at all)
//   raw piscina         Piscina.run on a pool of the fixture module itself (structured clone, no signal):
//                       what Piscina costs without anything of ours
//   raw entry json      Piscina.run on src/pool/worker.ts with a 'json' task (the JSON text), no signal: our
//                       worker entry and codec without the wrapper
//   raw entry bytes     the same with a 'bytes' task (UTF-8 JSON in a Uint8Array, buffer transferred both ways)
//   raw entry clone     the same with a 'clone' task (the argument object graph structured-cloned)
//   pool.run            createWorkerPool().run with the default transfer (fair queue, AbortController, clock)
//   pool.tool json|bytes|clone   the ToolHandler server.tool() gets, with a request signal (the real path
//                       minus dispatch), for each transfer mode
//   pool.tool json, notes wanted  the same with a progressToken and every log level wanted: what a call
//                       pays for being able to send progress and logs (the notes go to no-op sinks)
// and arguments of three sizes: none (no-op), about 1 KiB and about 100 KiB of JSON (an items array the
// handler reads; its answer is one short text block, the usual heavy-tool shape). A fourth case sends
// 100 KiB both ways (the handler echoes its arguments), and a fifth reports progress three times (only
// the 'notes wanted' contender has a progressToken, so only it posts them). One thread, one call at a time.
// A second table times, on the main thread alone and without threads, the codec work the server's event
// loop pays per call in each mode: encoding the arguments and decoding the answer (for 'clone',
// v8.serialize/deserialize, the serializer postMessage uses). Latency on a shared 2-core machine is noisy;
// that table is not.
//
// Before timing, every contender answers each case once and the answers are compared; a mismatch stops
// the run. Contenders run in one process, rounds interleaved, so call sites shared by contenders are
// megamorphic for all of them alike. The machine is shared: other people's load only ever adds time, so
// the p50 reported is the best round's (and calls/s the best round's), p99 the median round's, and the
// codec table the fastest of 7 batches.
//
//   npm run bench -- pool                   writes bench/results/pool.md
//   npm run bench -- pool --rounds 5        more rounds
//   npm run bench -- pool --node node24     the same on Node 24; bench/results/pool-node24.md
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { Bench } from 'tinybench';
import { median, resultsNameOrRerun, roundsOption } from './lib/isolated.js';
import { machineLines, table, writeResults } from './lib/report.js';
import { createWorkerPool } from '../src/pool/index.js';
import type { Transfer, WorkerPool } from '../src/pool/index.js';
import type { PoolAnswer, PoolTask } from '../src/pool/protocol.js';
import type { RequestContext } from '../src/server/context.js';

const args = process.argv.slice(2);
const resultName = resultsNameOrRerun('pool', args);
const rounds = roundsOption(args, 3);

const TOOLS = fileURLToPath(new URL('../test/fixtures/pool/tools.mjs', import.meta.url));
const ENTRY = fileURLToPath(new URL('../src/pool/worker.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const tools = (await import(TOOLS)) as Record<string, (a: unknown) => unknown>;

// ---- cases ----------------------------------------------------------------------------------------------
function items(bytes: number): { items: { id: number; name: string; tags: string[]; value: number }[] } {
  const out = [];
  let size = 12;
  for (let i = 0; size < bytes; i++) {
    const item = { id: i, name: `item-${i}`, tags: ['alpha', 'beta'], value: i * 1.5 };
    out.push(item);
    size += JSON.stringify(item).length + 1;
  }
  return { items: out };
}

interface Case {
  name: string;
  exportName: string;
  args: unknown;
}
const CASES: Case[] = [
  { name: 'no-op', exportName: 'noop', args: {} },
  { name: '1 KiB in', exportName: 'summarize', args: items(1024) },
  { name: '100 KiB in', exportName: 'summarize', args: items(100 * 1024) },
  { name: '100 KiB in and out', exportName: 'identity', args: items(100 * 1024) },
  { name: 'progress x3', exportName: 'progress3', args: {} },
];
for (const c of CASES) (c as { bytes?: number }).bytes = JSON.stringify(c.args).length;

// ---- contenders ---------------------------------------------------------------------------------------------
const rawPiscina = new Piscina({ filename: TOOLS, minThreads: 1, maxThreads: 1, idleTimeout: 60_000 });
const rawEntry = new Piscina({ filename: ENTRY, minThreads: 1, maxThreads: 1, idleTimeout: 60_000, execArgv: ['--import', TSX] });
const poolDefault = createWorkerPool({ minThreads: 1, maxThreads: 1 });
const POOLS: Record<Transfer, WorkerPool> = {
  json: createWorkerPool({ minThreads: 1, maxThreads: 1, transfer: 'json' }),
  bytes: createWorkerPool({ minThreads: 1, maxThreads: 1, transfer: 'bytes' }),
  clone: createWorkerPool({ minThreads: 1, maxThreads: 1, transfer: 'clone' }),
};
const controller = new AbortController();
const ctx = { signal: controller.signal, auth: undefined, sessionId: 'bench-session', requestId: 1, meta: {}, minLogRank: Infinity } as unknown as RequestContext;
// A request that asked for progress and every log level; the notes end here.
const noteCtx = {
  ...ctx,
  meta: { progressToken: 'bench' },
  minLogRank: 0,
  progress: (): void => {},
  log: (): void => {},
} as unknown as RequestContext;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const TOOLS_URL = pathToFileURL(TOOLS).href;

function expectAnswer<T>(mode: string, answer: PoolAnswer, ok: (a: PoolAnswer) => boolean): T {
  if (!ok(answer)) throw new Error(`raw entry ${mode}: unexpected answer ${JSON.stringify(answer)}`);
  return answer as T;
}

type Contender = (c: Case) => Promise<unknown>;
const CONTENDERS: Record<string, Contender> = {
  'in-process': async (c) => tools[c.exportName]!(c.args),
  'raw piscina': (c) => rawPiscina.run(c.args, { name: c.exportName }),
  'raw entry json': async (c) => {
    const task: PoolTask = { m: TOOLS_URL, x: c.exportName, s: JSON.stringify(c.args) };
    return JSON.parse(expectAnswer<string>('json', await rawEntry.run(task), (a) => typeof a === 'string'));
  },
  'raw entry bytes': async (c) => {
    const a = encoder.encode(JSON.stringify(c.args));
    const task: PoolTask = { m: TOOLS_URL, x: c.exportName, a };
    const answer = await rawEntry.run(task, { transferList: [a.buffer as ArrayBuffer] });
    return JSON.parse(decoder.decode(expectAnswer<Uint8Array>('bytes', answer, (x) => x instanceof Uint8Array)));
  },
  'raw entry clone': async (c) => {
    const task: PoolTask = { m: TOOLS_URL, x: c.exportName, v: c.args };
    return expectAnswer<{ v: unknown }>('clone', await rawEntry.run(task), (x) => typeof x === 'object' && x !== null && 'v' in x).v;
  },
  [`pool.run (${poolDefault.options.transfer})`]: (c) => poolDefault.run(TOOLS, c.exportName, c.args),
  ...Object.fromEntries(
    Object.entries(POOLS).map(([mode, p]) => {
      const handlers = new Map(CASES.map((c) => [c.exportName, p.tool(TOOLS, c.exportName)]));
      return [`pool.tool ${mode}`, (c: Case) => Promise.resolve(handlers.get(c.exportName)!(c.args, ctx, undefined))];
    }),
  ),
  'pool.tool json, notes wanted': (() => {
    const handlers = new Map(CASES.map((c) => [c.exportName, POOLS.json.tool(TOOLS, c.exportName)]));
    return (c: Case) => Promise.resolve(handlers.get(c.exportName)!(c.args, noteCtx, undefined));
  })(),
};

// ---- check the answers agree before timing ----------------------------------------------------------------------
for (const c of CASES) {
  const expected = await CONTENDERS['in-process']!(c);
  for (const [who, run] of Object.entries(CONTENDERS)) {
    const got = await run(c);
    if (!isDeepStrictEqual(got, expected)) throw new Error(`${who} answers ${c.name} differently: ${JSON.stringify(got).slice(0, 200)}`);
  }
}

// ---- time ---------------------------------------------------------------------------------------------------
interface Sample {
  p50: number;
  p99: number;
  hz: number;
}
const samples = new Map<string, Sample[]>();
for (let round = 0; round < rounds; round++) {
  for (const c of CASES) {
    for (const [who, run] of Object.entries(CONTENDERS)) {
      const bench = new Bench({ time: c.name.startsWith('100') ? 1000 : 500, warmupTime: 150 });
      bench.add(who, () => run(c));
      await bench.run();
      const result = bench.tasks[0]!.result as unknown as { latency: { p50: number; p99: number }; throughput: { mean: number } };
      const key = `${c.name}\t${who}`;
      const s = { p50: result.latency.p50 * 1000, p99: result.latency.p99 * 1000, hz: result.throughput.mean };
      samples.set(key, [...(samples.get(key) ?? []), s]);
    }
  }
  console.log(`round ${round + 1}/${rounds} done`);
}
await Promise.all([rawPiscina.destroy(), rawEntry.destroy(), poolDefault.close(), ...Object.values(POOLS).map((p) => p.close())]);

const f1 = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

// ---- main-thread codec work per call, no threads ---------------------------------------------------------------
/** ns per call of `f`, the fastest of 7 timed batches after a warm-up batch. */
function nsPerCall(f: () => unknown, n: number): number {
  for (let i = 0; i < n; i++) f();
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    runs.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return Math.min(...runs);
}
const codecRows: (string | number)[][] = [];
const codecData: Record<string, Record<Transfer, number>> = {};
for (const c of CASES) {
  const answer = await tools[c.exportName]!(c.args);
  const n = (c as { bytes?: number }).bytes! > 10_000 ? 200 : 20_000;
  const answerJson = JSON.stringify(answer);
  const answerBytes = encoder.encode(answerJson);
  const answerV8 = serialize(answer);
  const row: Record<Transfer, number> = {
    json: nsPerCall(() => [JSON.stringify(c.args), JSON.parse(answerJson)], n),
    bytes: nsPerCall(() => [encoder.encode(JSON.stringify(c.args)), JSON.parse(decoder.decode(answerBytes))], n),
    clone: nsPerCall(() => [serialize(c.args), deserialize(answerV8)], n),
  };
  codecData[c.name] = row;
  codecRows.push([c.name, f1(row.json / 1000), f1(row.bytes / 1000), f1(row.clone / 1000)]);
}

// ---- report -------------------------------------------------------------------------------------------------
const rows: (string | number)[][] = [];
const data: Record<string, { p50Us: number; p99Us: number; callsPerS: number }> = {};
for (const c of CASES) {
  for (const who of Object.keys(CONTENDERS)) {
    const key = `${c.name}\t${who}`;
    const s = samples.get(key)!;
    const row = {
      p50Us: Math.min(...s.map((x) => x.p50)),
      p99Us: median(s.map((x) => x.p99)),
      callsPerS: Math.max(...s.map((x) => x.hz)),
    };
    data[key] = row;
    rows.push([c.name, `${(c as { bytes?: number }).bytes} B`, who, f1(row.p50Us), f1(row.p99Us), row.callsPerS.toFixed(0)]);
  }
}
const markdown = [
  '# Worker pool round trips (bench/pool.bench.ts)',
  '',
  ...machineLines(),
  `- piscina ${Piscina.version}; one thread, one call at a time; ${rounds} rounds: p50 of the best round, p99 of the median round`,
  '',
  table(['case', 'args JSON', 'contender', 'p50 us', 'p99 us', 'calls/s'], rows),
  '',
  'Main-thread codec work per call (encode the arguments, decode the answer; us, no threads):',
  '',
  table(['case', 'json', 'bytes', 'clone (v8.serialize)'], codecRows),
  '',
].join('\n');
console.log(markdown);
console.log(`wrote ${writeResults(resultName, markdown, { rounds, results: data, codecNsPerCall: codecData })}`);
