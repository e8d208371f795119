// Where a tool runs, and what one call costs there: round trips p50/p99 in one run (issue 7 targets: warm
// sandbox p50 <= 200 µs with every limit in force; a fresh-process call no slower than a plain
// child_process.fork round trip).
//
// Every contender runs the same echo handler (test/fixtures/sandbox/echo.mjs: `({ text }) => text`), one call
// at a time, each answer checked:
//   in-process               the handler awaited on the main thread
//   piscina (raw)            Piscina.run on a one-thread pool of the module itself: Piscina and nothing of ours
//   worker pool              the ToolHandler of createWorkerPool().tool() (src/pool: fair queue, signal, codec)
//   sandbox warm (native)    a warm sandbox process started by the addon: permission model, uid drop, rlimits,
//                            seccomp, network namespace and cgroups as the host offers them, wall/CPU watchdogs,
//                            bounded output
//   sandbox warm (js)        the same through the pure-JS launcher (no seccomp)
// Process starts (few samples each; every sample of one contender is followed by one of each other):
//   sandbox fresh, spare     mode 'fresh' with one process started ahead: every call gets a new process
//   sandbox fresh, on demand pool 0: the process starts when the call arrives (launch + node + runner + tool)
//   child_process.fork       the baseline: fork() node with a module that answers one message, until it exits
//
// Warm contenders run in rounds, their order rotating, so the machine's other load falls on all of them
// alike; p50 and p99 are over every sample of a contender.
//
//   (runs the built package: `npm run build:ts` first)
//   npm run bench -- sandbox                  5 rounds of 400 warm calls, 30 starts per contender
//   npm run bench -- sandbox --quick          3 rounds of 150, 10 starts
//   npm run bench -- sandbox --node node24    the same with node 24 (bench/results/sandbox-node24.md)
import { fork } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
// The built package (npm run build:ts), as users run it: from the TypeScript sources the pool's threads
// would load src/pool/worker.ts through tsx's loader, which users never do.
import { createWorkerPool } from '../dist/pool/index.js';
import { createSandbox, type Sandbox } from '../dist/sandbox/parent.js';
import { getLauncher, JsLauncher } from '../dist/sandbox/launcher/index.js';
import type { ToolHandler } from '../dist/server/server.js';
import type { CallToolResult } from '../dist/server/types.js';
import { resultsNameOrRerun } from './lib/isolated.js';
import { machineLines, table, writeResults } from './lib/report.js';
import { percentile, ratio } from './lib/stats.js';

const args = process.argv.slice(2);
const name = resultsNameOrRerun('sandbox', args);
const quick = args.includes('--quick');
const ROUNDS = quick ? 3 : 5;
const WARM = quick ? 150 : 400;
const STARTS = quick ? 10 : 30;
const WARM_TARGET_US = 200;
const echoModule = fileURLToPath(new URL('../test/fixtures/sandbox/echo.mjs', import.meta.url));
// What a handler reads of its RequestContext here: the signal, _meta (no progressToken) and the log level (none).
const ctx = { signal: new AbortController().signal, meta: {}, minLogRank: Infinity } as never;

type Call = (text: string) => Promise<string>;
const textOf = (r: unknown): string => (typeof r === 'string' ? r : ((r as CallToolResult).content[0] as { text: string }).text);
const viaHandler = (handler: ToolHandler): Call => async (text) => textOf(await handler({ text }, ctx, undefined));

async function sample(call: Call, i: number, label: string): Promise<number> {
  const t = process.hrtime.bigint();
  const answer = await call(`t${i}`);
  const us = Number(process.hrtime.bigint() - t) / 1000;
  if (answer !== `t${i}`) throw new Error(`${label}: answered ${JSON.stringify(answer)} to t${i}`);
  return us;
}

/** Calls every contender `perRound` times per round, in rotating order; returns their sorted samples. */
async function interleaved(contenders: [string, Call][], rounds: number, perRound: number): Promise<Map<string, number[]>> {
  const out = new Map(contenders.map(([label]) => [label, [] as number[]]));
  let i = 0;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const [label, call] = contenders[(r + k) % contenders.length]!;
      for (let n = 0; n < perRound; n++) out.get(label)!.push(await sample(call, i++, label));
    }
  }
  for (const xs of out.values()) xs.sort((a, b) => a - b);
  return out;
}

// ---- contenders ----------------------------------------------------------------------------------------

const echo = (await import(echoModule)) as { default: (a: { text: string }) => string };
const piscina = new Piscina({ filename: echoModule, minThreads: 1, maxThreads: 1 });
const pool = createWorkerPool({ minThreads: 1, maxThreads: 1 });
const launcher = getLauncher();
const limits = { cpuMs: 1000, wallMs: 5000, memoryMb: 128 };
const sandboxes: Sandbox[] = [createSandbox({ defaults: limits })];
const jsSandbox = launcher.kind === 'js' ? undefined : createSandbox({ launcher: new JsLauncher(), defaults: limits });
if (jsSandbox !== undefined) sandboxes.push(jsSandbox);
const main = sandboxes[0]!;
// Where bubblewrap runs here (the default), the same contenders again without it, to show its cost.
const withBwrap = main.bubblewrap !== null;
const plain = withBwrap ? createSandbox({ defaults: limits, bubblewrap: false }) : undefined;
const jsPlain = withBwrap && jsSandbox !== undefined ? createSandbox({ launcher: new JsLauncher(), defaults: limits, bubblewrap: false }) : undefined;
for (const s of [plain, jsPlain]) if (s !== undefined) sandboxes.push(s);
const bw = withBwrap ? ', bwrap' : '';
let tools = 0;
const sandboxed = async (sandbox: Sandbox, options: object): Promise<Call> =>
  viaHandler((await sandbox.tool(echoModule, { name: `echo_${tools++}`, ...options })).handler);

const warm: [string, Call][] = [
  ['in-process', async (text) => echo.default({ text })],
  ['piscina (raw)', (text) => piscina.run({ text }) as Promise<string>],
  ['worker pool', viaHandler(pool.tool(echoModule))],
  [`sandbox warm (${launcher.kind}${bw})`, await sandboxed(main, { pool: 1, recycleAfter: 1_000_000 })],
];
if (jsSandbox !== undefined) warm.push([`sandbox warm (js${bw})`, await sandboxed(jsSandbox, { pool: 1, recycleAfter: 1_000_000 })]);
if (plain !== undefined) warm.push([`sandbox warm (${launcher.kind}, no bwrap)`, await sandboxed(plain, { pool: 1, recycleAfter: 1_000_000 })]);
if (jsPlain !== undefined) warm.push(['sandbox warm (js, no bwrap)', await sandboxed(jsPlain, { pool: 1, recycleAfter: 1_000_000 })]);

// The baseline for a process per call: node forked, one message each way, until it exits.
const forkDir = mkdtempSync(join(tmpdir(), 'fastermcp-bench-fork-'));
chmodSync(forkDir, 0o755);
const forkChild = join(forkDir, 'child.mjs');
writeFileSync(forkChild, "process.once('message', (m) => { process.send({ text: m.text }, () => process.disconnect()); });\n");
const forkCall: Call = async (text) => {
  const c = fork(forkChild, [], { stdio: 'ignore', execArgv: [] }); // not this file's --import tsx
  const exited = new Promise((resolve) => c.once('exit', resolve));
  const reply = await new Promise<{ text: string }>((resolve) => {
    c.once('message', (m) => resolve(m as { text: string }));
    c.send({ text });
  });
  await exited;
  return reply.text;
};
const starts: [string, Call][] = [
  ['child_process.fork round trip', forkCall],
  [`sandbox fresh, spare ready (${launcher.kind}${bw})`, await sandboxed(main, { mode: 'fresh', pool: 1 })],
  [`sandbox fresh, on demand (${launcher.kind}${bw})`, await sandboxed(main, { pool: 0 })],
];
if (plain !== undefined) {
  starts.push([`sandbox fresh, spare ready (${launcher.kind}, no bwrap)`, await sandboxed(plain, { mode: 'fresh', pool: 1 })]);
  starts.push([`sandbox fresh, on demand (${launcher.kind}, no bwrap)`, await sandboxed(plain, { pool: 0 })]);
}

// ---- run -----------------------------------------------------------------------------------------------

const started = Date.now();
for (const [label, call] of [...warm, ...starts]) await sample(call, 0, label); // every answer checked once first
for (const [label, call] of warm) for (let i = 0; i < 100; i++) await sample(call, i, label); // JIT and caches
const warmSamples = await interleaved(warm, ROUNDS, WARM);
const startSamples = await interleaved(starts, STARTS, 1);
const report = main.report().line;

await Promise.all([...sandboxes.map((s) => s.close()), pool.close(), piscina.close()]);
rmSync(forkDir, { recursive: true, force: true });

// ---- report --------------------------------------------------------------------------------------------

const p = (xs: number[], q: number): number => percentile(xs, q);
const fmt = (us: number): string => (us >= 10_000 ? `${(us / 1000).toFixed(1)} ms` : `${us.toFixed(1)} µs`);
const rowsOf = (samples: Map<string, number[]>, baseline: string): string[][] =>
  [...samples].map(([label, xs]) => [label, String(xs.length), fmt(p(xs, 50)), fmt(p(xs, 99)), ratio(p(xs, 50), p(samples.get(baseline)!, 50))]);
const warmP50 = p(warmSamples.get(`sandbox warm (${launcher.kind}${bw})`)!, 50);
const forkP50 = p(startSamples.get('child_process.fork round trip')!, 50);
const fresh = [...startSamples].filter(([label]) => label.startsWith('sandbox fresh'));
const targets = [
  `- warm sandbox round trip p50 ${fmt(warmP50)} with every limit the host offers in force: target ≤ ${WARM_TARGET_US} µs, ${warmP50 <= WARM_TARGET_US ? 'met' : `missed by ${ratio(warmP50, WARM_TARGET_US)}`}`,
  ...fresh.map(([label, xs]) => `- ${label} p50 ${fmt(p(xs, 50))} against child_process.fork ${fmt(forkP50)}: ${ratio(p(xs, 50), forkP50)} of fork (target ≤ 1.00x: ${p(xs, 50) <= forkP50 ? 'met' : 'missed'})`),
];
const md = [
  '# Where a tool runs: round trip of one call',
  '',
  ...machineLines(),
  `- launcher: ${launcher.kind}; sandbox protections: ${report}`,
  `- ${ROUNDS} rounds of ${WARM} calls per warm contender (order rotating), ${STARTS} interleaved starts per process contender${quick ? ' (--quick)' : ''}`,
  '- reproduce: `npm run bench -- sandbox` (add `--node node24` for Node 24)',
  '',
  '## Targets',
  '',
  ...targets,
  '',
  '## Warm: a call to something already running',
  '',
  table(['contender', 'calls', 'p50', 'p99', 'p50 vs in-process'], rowsOf(warmSamples, 'in-process')),
  '',
  '## A process per call',
  '',
  table(['contender', 'calls', 'p50', 'p99', 'p50 vs fork'], rowsOf(startSamples, 'child_process.fork round trip')),
  '',
].join('\n');
const file = writeResults(name, md, {
  quick,
  node: process.version,
  launcher: launcher.kind,
  report,
  warm: Object.fromEntries([...warmSamples].map(([k, xs]) => [k, { n: xs.length, p50: p(xs, 50), p99: p(xs, 99) }])),
  starts: Object.fromEntries([...startSamples].map(([k, xs]) => [k, { n: xs.length, p50: p(xs, 50), p99: p(xs, 99) }])),
});
console.log(md);
console.log(`sandbox: wrote ${file} (+ .json) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
