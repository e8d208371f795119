// Intake micro-benchmark: ns per request from a read's bytes to the messages dispatch takes (id, method,
// params with their arguments), for a read of 400 tools/call requests (one 64 KiB-class chunk), by
//   native   the addon's Engine.feed + readMessages (src/transport/intake.ts), as a stdio server reads
//   js twin  the same with the JS engine (src/jsonrpc/js.ts)
//   sdk      the official SDK's stdio path: ReadBuffer.append(chunk) + readMessage() until empty (split,
//            toString, JSON.parse and zod's JSONRPCMessageSchema per line)
// Requests: the load test's echo, a tool with a longer name (search_repositories: a name of 13 characters or
// more is not a cheap substring of the read's text) and two arguments, and the echo as 2026-07-28 sends it
// (the same `_meta` on every request). Before timing every contender's messages are compared with
// JSON.parse of each line (id, method, params); a mismatch stops the run. Each (requests, contender) pair
// runs in a process of its own, rounds interleaved, as in bench/arguments.bench.ts.
//
//   npm run bench -- intake                 writes bench/results/intake.md
//   npm run bench -- intake --node node24   the same on Node 24; bench/results/intake-node24.md
import { ReadBuffer } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { median, p50PerItem, resultsNameOrRerun, roundsOption, runIsolated } from './lib/isolated.js';
import { methodEngine } from './lib/engines.js';
import { machineLines, table, writeResults } from './lib/report.js';
import { loadNative } from '../src/native.js';
import { readMessages } from '../src/transport/intake.js';

const args = process.argv.slice(2);
const resultName = resultsNameOrRerun('intake', args);
const READ = 400;
const META = '{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}';

const REQUESTS = {
  'echo': (i: number) => `{"name":"echo","arguments":{"text":"echo ${i} the quick brown fox jumps over the lazy dog"}}`,
  'search_repositories': (i: number) => `{"name":"search_repositories","arguments":{"query":"fastermcp ${i}","limit":25}}`,
  'echo, 2026-07-28': (i: number) => `{"name":"echo","arguments":{"text":"echo ${i} the quick brown fox jumps over the lazy dog"},"_meta":${META}}`,
} as const;
type RequestsName = keyof typeof REQUESTS;
const REQUESTS_NAMES = Object.keys(REQUESTS) as RequestsName[];
const CONTENDERS = ['native', 'js twin', 'sdk'] as const;
type Contender = (typeof CONTENDERS)[number];

function linesOf(requests: RequestsName): string[] {
  return Array.from({ length: READ }, (_, i) => `{"jsonrpc":"2.0","id":${1000 + i},"method":"tools/call","params":${REQUESTS[requests](i)}}`);
}

interface Read {
  id: unknown;
  method: string;
  params: unknown;
}

/** One read of `chunk` into its messages, as the contender makes them. */
function reader(who: Contender, chunk: Buffer): () => unknown[] {
  if (who === 'sdk') {
    return () => {
      const buffer = new ReadBuffer();
      buffer.append(chunk);
      const out: unknown[] = [];
      for (let m = buffer.readMessage(); m !== null; m = buffer.readMessage()) out.push(m);
      return out;
    };
  }
  const engine = methodEngine(who === 'native');
  return () => readMessages(engine, engine.feed(chunk), chunk);
}

/** What every contender must agree on: each request's id, method and params. */
function comparable(who: Contender, messages: unknown[]): Read[] {
  return messages.map((m) => {
    const message = m as { kind?: string; idRaw?: string; id?: unknown; method: string; params: unknown };
    if (who === 'sdk') return { id: message.id, method: message.method, params: message.params };
    if (message.kind !== 'request') throw new Error(`bench: ${who} read a ${String(message.kind)}`);
    return { id: JSON.parse(message.idRaw!) as unknown, method: message.method, params: message.params };
  });
}

async function measure(requests: RequestsName, who: Contender): Promise<number | null> {
  if (who === 'native' && loadNative() === null) return null;
  return p50PerItem(who, reader(who, Buffer.from(linesOf(requests).join('\n') + '\n')), READ);
}

const pair = process.env.FASTERMCP_INTAKE_PAIR;
if (pair !== undefined) {
  const [requests, who] = pair.split('\t') as [RequestsName, Contender];
  process.stdout.write(`${JSON.stringify({ ns: await measure(requests, who) })}\n`);
  process.exit(0);
}

/** JSON text with every object's members sorted by name. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

// ---- check outputs before timing ------------------------------------------------------------------------------
const haveNative = loadNative() !== null;
for (const requests of REQUESTS_NAMES) {
  const lines = linesOf(requests);
  const expected = lines.map((line) => {
    const m = JSON.parse(line) as Read;
    return { id: m.id, method: m.method, params: m.params };
  });
  for (const who of CONTENDERS) {
    if (who === 'native' && !haveNative) continue;
    // The SDK's zod rebuilds params with `_meta` first: its members are compared in a canonical order.
    const text = who === 'sdk' ? canonical : JSON.stringify;
    const read = reader(who, Buffer.from(lines.join('\n') + '\n'));
    // Twice: what a first read leaves behind (the engine's key ids, the last `_meta` and tool name) is reused.
    for (let k = 0; k < 2; k++) {
      if (text(comparable(who, read())) !== text(expected)) throw new Error(`bench: ${who} reads "${requests}" differently`);
    }
  }
}

// ---- run and report ---------------------------------------------------------------------------------------------
const ROUNDS = roundsOption(args, 3);
const samples = runIsolated('FASTERMCP_INTAKE_PAIR', REQUESTS_NAMES.flatMap((r) => CONTENDERS.map((who) => [r, who] as const)), ROUNDS);
const result = (r: RequestsName, who: Contender): number => median(samples.get(`${r}\t${who}`)!);
const fmt = (ns: number) => (Number.isNaN(ns) ? '—' : `${ns.toFixed(0)} ns`);
const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? '—' : `${(a / b).toFixed(2)}x`);
const rows = CONTENDERS.map((who) => [
  who,
  ...REQUESTS_NAMES.map((r) => fmt(result(r, who))),
  ...REQUESTS_NAMES.map((r) => ratio(result(r, who), result(r, 'native'))),
]);
const md = [
  `# intake: median ns per request from a read's bytes to its messages (p50 of reads of ${READ} tools/call requests; median of ${ROUNDS} rounds, each contender in its own process)`,
  '',
  ...machineLines(),
  `- requests: ${REQUESTS_NAMES.map((r) => `${r} (${linesOf(r)[7]!.length} B, e.g. \`${linesOf(r)[7]}\`)`).join('; ')}`,
  '- every contender\'s messages (id, method, params) compared with JSON.parse of each line before timing; native and the twin are the engine\'s feed and readMessages, as a stdio server reads; sdk is its ReadBuffer (split, JSON.parse, zod)',
  `- reproduce: \`npm run bench -- intake${resultName === 'intake' ? '' : ` --node ${resultName.slice(7)}`}\``,
  '',
  table(['contender', ...REQUESTS_NAMES, ...REQUESTS_NAMES.map((r) => `${r} / native`)], rows),
  '',
];
console.log(md.join('\n'));
console.log(`wrote ${writeResults(resultName, md.join('\n'), { node: process.version, results: Object.fromEntries([...samples].map(([k, v]) => [k, median(v)])) })}`);
