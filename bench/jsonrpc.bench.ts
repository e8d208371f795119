// JSON-RPC engine micro-benchmark: ns per message for framing + envelope scan + routing.
//
// Contenders, in one process and one run (STYLE.md section 8):
//   native     the addon's Engine.feed() on a chunk of messages (one crossing per chunk)
//   js twin    src/jsonrpc/js.ts JsEngine.feed() on the same chunk
//   JSON.parse JSON.parse of each line, already split and decoded (a floor: no framing, no checks)
//   sdk        the official SDK's per-message path: ReadBuffer.append(chunk) + readMessage() until
//              empty (Buffer.concat, indexOf, toString, JSON.parse, zod JSONRPCMessageSchema)
//
// Before timing, every contender runs once on the corpus and the results are compared (same ids,
// methods and params bytes); a mismatch stops the run.
//
//   npm run bench -- jsonrpc              print the table (median of 3 rounds)
//   npm run bench -- jsonrpc --update     also rewrite bench/results/jsonrpc.md
//   npm run bench -- jsonrpc --rounds=5   more rounds
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { ReadBuffer } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { loadNative, nativeLoadErrors } from '../src/native.js';
import { JsEngine, JsRouter, type Engine, type Router } from '../src/jsonrpc/js.js';
import { NativeEngine, NativeRouter } from '../src/jsonrpc/native.js';
import { DEFAULT_LIMITS } from '../src/jsonrpc/index.js';
import {
  BODY_END,
  BODY_START,
  ID_END,
  ID_START,
  KIND,
  KIND_REQUEST,
  METHOD_END,
  METHOD_START,
  NAME_SLOT,
  RECORD_STRIDE,
  SLOT,
} from '../src/jsonrpc/records.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const update = process.argv.includes('--update');
const CHUNK_MESSAGES = 64;

// ---- corpus ---------------------------------------------------------------------------------------

function toolsCall(id: number, text: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });
}

/** A tools/call line padded with argument text to about `bytes` bytes. */
function sized(id: number, bytes: number): string {
  const base = toolsCall(id, '').length;
  const words = 'the quick brown fox jumps over the lazy dog, '.repeat(Math.ceil(bytes / 45));
  return toolsCall(id, words.slice(0, Math.max(0, bytes - base)));
}

interface Case {
  label: string;
  lines: string[]; // one message per line, no LF
  chunk: Buffer; // the lines joined with LF, as one stdio chunk
}

function makeCase(label: string, bytes: number, count: number): Case {
  const lines = Array.from({ length: count }, (_, i) => sized(1000 + i, bytes));
  return { label, lines, chunk: Buffer.from(lines.join('\n') + '\n') };
}

const cases: Case[] = [
  makeCase(`typical tools/call (~${sized(1000, 140).length} B), chunk of ${CHUNK_MESSAGES}`, 140, CHUNK_MESSAGES),
  makeCase(`1 KB tools/call, chunk of ${CHUNK_MESSAGES}`, 1024, CHUNK_MESSAGES),
  makeCase('100 KB tools/call, one per chunk', 100 * 1024, 1),
];

// ---- contenders -----------------------------------------------------------------------------------

function routes(router: Router): Router {
  router.setMethod('ping', 1);
  router.setMethod('tools/list', 2);
  router.setMethod('tools/call', 3, 0);
  router.setName(0, 'echo', 0);
  return router;
}

const binding = loadNative();
if (binding === null) {
  console.error(`bench: the native addon did not load; run npm run build:native first\n${nativeLoadErrors().join('\n')}`);
  process.exit(1);
}
const nativeEngine: Engine = new NativeEngine(binding, routes(new NativeRouter(binding)) as NativeRouter, DEFAULT_LIMITS);
const jsEngine: Engine = new JsEngine(routes(new JsRouter()) as JsRouter, DEFAULT_LIMITS);

interface Seen {
  id: string;
  method: string;
  params: string;
}

/** Runs an engine over a chunk and reads back what a dispatcher would: id, method, params bytes. */
function engineSeen(engine: Engine, chunk: Buffer): Seen[] {
  const n = engine.feed(chunk);
  const r = engine.records;
  const out: Seen[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * RECORD_STRIDE;
    if (r[o + KIND] !== KIND_REQUEST || r[o + SLOT] !== 3 || r[o + NAME_SLOT] !== 0) {
      throw new Error(`bench: record ${i} is not a routed tools/call request`);
    }
    out.push({
      id: chunk.toString('latin1', r[o + ID_START], r[o + ID_END]),
      method: chunk.toString('latin1', r[o + METHOD_START], r[o + METHOD_END]),
      params: chunk.toString('utf8', r[o + BODY_START], r[o + BODY_END]),
    });
  }
  return out;
}

function sdkSeen(chunk: Buffer): Seen[] {
  const rb = new ReadBuffer();
  rb.append(chunk);
  const out: Seen[] = [];
  for (let m = rb.readMessage(); m !== null; m = rb.readMessage()) {
    const msg = m as { id: number; method: string; params: unknown };
    out.push({ id: String(msg.id), method: msg.method, params: JSON.stringify(msg.params) });
  }
  return out;
}

function check(c: Case): void {
  const expected = c.lines.map((l) => {
    const m = JSON.parse(l) as { id: number; method: string; params: unknown };
    return { id: String(m.id), method: m.method, params: JSON.stringify(m.params) };
  });
  const got: Record<string, Seen[]> = {
    native: engineSeen(nativeEngine, c.chunk),
    'js twin': engineSeen(jsEngine, c.chunk),
    sdk: sdkSeen(c.chunk),
  };
  for (const [name, seen] of Object.entries(got)) {
    const a = JSON.stringify(seen);
    const b = JSON.stringify(expected);
    if (a !== b) throw new Error(`bench: ${name} disagrees with JSON.parse on "${c.label}"`);
  }
}

// ---- run ------------------------------------------------------------------------------------------

interface Row {
  label: string;
  ns: Record<string, number>; // median ns per message
}

const CONTENDERS = ['native', 'js twin', 'JSON.parse', 'sdk'] as const;

async function measure(c: Case): Promise<Row> {
  check(c);
  const perChunk = c.lines.length;
  let sink = 0;
  const bench = new Bench({ time: 600, warmupTime: 200 });
  bench
    .add('native', () => {
      sink += nativeEngine.feed(c.chunk);
    })
    .add('js twin', () => {
      sink += jsEngine.feed(c.chunk);
    })
    .add('JSON.parse', () => {
      for (const l of c.lines) sink += (JSON.parse(l) as { id: number }).id;
    })
    .add('sdk', () => {
      const rb = new ReadBuffer();
      rb.append(c.chunk);
      while (rb.readMessage() !== null) sink++;
    });
  await bench.run();
  if (sink === 0) throw new Error('bench: nothing ran');
  const ns: Record<string, number> = {};
  for (const t of bench.tasks) {
    const r = t.result;
    if (r.state !== 'completed') {
      throw new Error(`bench: ${t.name} did not complete (${r.state === 'errored' ? String(r.error) : r.state})`);
    }
    ns[t.name] = (r.latency.p50 * 1e6) / perChunk; // tinybench reports ms
  }
  return { label: c.label, ns };
}

/** Core-only timings from bench/native (built by CMake), to read off the N-API crossing cost. */
function coreOnly(): string | null {
  const exe = join(root, 'build-cmake', 'bench_scan');
  if (!existsSync(exe)) return null;
  try {
    return execFileSync(exe, { encoding: 'utf8', timeout: 120_000 });
  } catch (err) {
    return `bench_scan failed: ${(err as Error).message}`;
  }
}

// The machine is shared and noisy: run every case in several rounds (contenders alternate inside a
// round) and report, per contender, the median of the round medians.
const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
const ROUNDS = roundsArg === undefined ? 3 : Number(roundsArg.slice('--rounds='.length));
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`bench: expected --rounds=N with N >= 1, got ${roundsArg}`);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const rows: Row[] = [];
for (const c of cases) {
  const rounds: Row[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await measure(c));
  const ns: Record<string, number> = {};
  for (const k of CONTENDERS) ns[k] = median(rounds.map((r) => r.ns[k]));
  rows.push({ label: c.label, ns });
}

const fmt = (x: number): string => (x >= 10_000 ? `${(x / 1000).toFixed(1)} µs` : `${x.toFixed(0)} ns`);
const ratio = (a: number, b: number): string => `${(b / a).toFixed(1)}x`;
const lines: string[] = [];
lines.push(`# JSON-RPC engine: ns per message (median of ${ROUNDS} rounds)`);
lines.push('');
lines.push(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), ` +
  `${Math.round(totalmem() / 2 ** 30)} GiB, simdjson kernel ${binding.simdjsonImplementation}, ${new Date().toISOString().slice(0, 10)}`);
lines.push('');
lines.push('Command: `npm run bench -- jsonrpc` (`--update` rewrites this file). Framing + validation + ' +
  'envelope scan + routing for native and the twin; JSON.parse alone on pre-split strings; the SDK path is ' +
  'ReadBuffer + JSON.parse + zod. Ratios: how many times slower the others are than native.');
lines.push('');
lines.push(`| message | ${CONTENDERS.join(' | ')} | twin / native | JSON.parse / native | sdk / native |`);
lines.push(`|---|${CONTENDERS.map(() => '---:').join('|')}|---:|---:|---:|`);
for (const r of rows) {
  const n = r.ns.native;
  lines.push(`| ${r.label} | ${CONTENDERS.map((k) => fmt(r.ns[k])).join(' | ')} | ${ratio(n, r.ns['js twin'])} | ` +
    `${ratio(n, r.ns['JSON.parse'])} | ${ratio(n, r.ns.sdk)} |`);
}
const core = coreOnly();
if (core !== null) {
  lines.push('');
  lines.push('Core only (bench/native/scan_bench.cc, no N-API; the difference to the native column is the crossing):');
  lines.push('');
  lines.push('```');
  lines.push(core.trimEnd());
  lines.push('```');
}
const report = lines.join('\n') + '\n';
console.log(report);
if (update) {
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'jsonrpc.md'), report);
  console.log('bench: wrote bench/results/jsonrpc.md');
}
