// HTTP/1.1 request-head parsing micro-benchmark (docs/http1.md): ns per head, in one run, for
//   native           the addon's HeadParser.parse(buf, start, end) (one crossing per head, fields in an Int32Array)
//   js twin          src/http1/js.ts JsHeadParser.parse on the same bytes
//   http-parser-js   the pure-JS parser node:http can be switched to (HTTPParser.initialize + execute up to
//                    kOnHeadersComplete, which builds the method, url and headers as strings); skipped with a
//                    note when the package is not installed
//   core only        native/core/http1.cc timed in C++ by build-cmake/bench_http1 (no crossing), when built;
//                    native minus core is the N-API cost
// Heads: a realistic 8-header MCP POST (what the Streamable HTTP fast lane reads for every tools/call) and a
// minimal GET. Before timing, every contender reads each head once and the results are compared (method,
// target, header names and values); a mismatch stops the run. Each timed call parses the head 64 times (the
// timer's own cost would otherwise dominate), and each (head, contender) pair runs in a process of its own,
// rounds interleaved, as in bench/ratelimit.bench.ts.
//
//   npm run bench -- http1                 writes bench/results/http1.md
//   npm run bench -- http1 --rounds 5      more rounds
//   npm run bench -- http1 --node node24   the same on Node 24; bench/results/http1-node24.md
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { median, resultsNameOrRerun, roundsOption, runIsolated } from './lib/isolated.js';
import { ROOT, machineLines, table, writeResults } from './lib/report.js';
import {
  FIELD_STRIDE,
  HEAD_COUNT,
  HEAD_FIELDS,
  HEAD_TARGET_END,
  HEAD_TARGET_START,
  KNOWN_HEADERS,
  createHeadParser,
  type HeadParser,
} from '../src/http1/index.js';

const args = process.argv.slice(2);
const resultName = resultsNameOrRerun('http1', args);
const REPEAT = 64;

// ---- heads --------------------------------------------------------------------------------------------------
const HEADS = {
  'MCP POST, 8 headers': Buffer.from(
    'POST /mcp HTTP/1.1\r\n' +
      'Host: localhost:3000\r\n' +
      'Content-Type: application/json\r\n' +
      'Accept: application/json, text/event-stream\r\n' +
      'Content-Length: 83\r\n' +
      'Mcp-Session-Id: 7f3c2a9e-1b4d-4c8e-9f0a-2d6b8e1c3a5f\r\n' +
      'Mcp-Protocol-Version: 2025-06-18\r\n' +
      'User-Agent: node\r\n' +
      'Connection: keep-alive\r\n' +
      '\r\n',
    'latin1',
  ),
  'minimal GET, 1 header': Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'),
} as const;
type HeadName = keyof typeof HEADS;
const HEAD_NAMES = Object.keys(HEADS) as HeadName[];
const CONTENDERS = ['native', 'js twin', 'http-parser-js'] as const;
type Contender = (typeof CONTENDERS)[number];

// ---- http-parser-js (optional) --------------------------------------------------------------------------------
interface HttpParserInfo {
  method: number | string;
  url: string;
  headers: string[];
}
interface HttpParserClass {
  new (type: number): { initialize(type: number): void; execute(buf: Buffer): number | Error; [k: number]: unknown };
  REQUEST: number;
  kOnHeadersComplete: number;
  methods?: string[];
}
const requireCjs = createRequire(import.meta.url);
let HTTPParser: HttpParserClass | null = null;
let httpParserVersion = 'not installed';
try {
  HTTPParser = (requireCjs('http-parser-js') as { HTTPParser: HttpParserClass }).HTTPParser;
  httpParserVersion = (requireCjs('http-parser-js/package.json') as { version: string }).version;
} catch {
  HTTPParser = null;
}

/** What a reader of the head needs: method, target, [lower-case name, value] pairs. */
interface Seen {
  method: string;
  target: string;
  headers: [string, string][];
}

function ourSeen(p: HeadParser, buf: Buffer): Seen {
  const status = p.parse(buf, 0, buf.length);
  if (status !== buf.length) throw new Error(`${p.implementation}: status ${status}, expected ${buf.length}`);
  const f = p.fields;
  const headers: [string, string][] = [];
  for (let k = 0; k < f[HEAD_COUNT]!; k++) {
    const at = HEAD_FIELDS + k * FIELD_STRIDE;
    const name = buf.toString('latin1', f[at + 1], f[at + 2]).toLowerCase();
    if (f[at]! !== 0 && KNOWN_HEADERS[f[at]!] !== name) throw new Error(`${p.implementation}: id ${f[at]} for ${name}`);
    headers.push([name, buf.toString('latin1', f[at + 3], f[at + 4])]);
  }
  return { method: buf.toString('latin1', 0, buf.indexOf(32)), target: buf.toString('latin1', f[HEAD_TARGET_START], f[HEAD_TARGET_END]), headers };
}

function httpParserSeen(buf: Buffer): Seen {
  const P = HTTPParser!;
  const parser = new P(P.REQUEST);
  let info: HttpParserInfo | null = null;
  parser[P.kOnHeadersComplete] = (i: HttpParserInfo) => {
    info = i;
  };
  parser.initialize(P.REQUEST);
  const r = parser.execute(buf);
  if (r instanceof Error) throw r;
  const got = info as HttpParserInfo | null;
  if (got === null) throw new Error('http-parser-js: no kOnHeadersComplete');
  const headers: [string, string][] = [];
  for (let k = 0; k < got.headers.length; k += 2) headers.push([got.headers[k]!.toLowerCase(), got.headers[k + 1]!]);
  const method = typeof got.method === 'number' ? (P.methods?.[got.method] ?? String(got.method)) : got.method;
  return { method, target: got.url, headers };
}

// ---- one (head, contender) pair in this process ---------------------------------------------------------------
async function measure(headName: HeadName, who: Contender): Promise<number | null> {
  const buf = HEADS[headName];
  const bench = new Bench({ time: 600, warmupTime: 200 });
  if (who === 'http-parser-js') {
    if (HTTPParser === null) return null;
    const P = HTTPParser;
    const parser = new P(P.REQUEST);
    let headersSeen = 0;
    let executed = 0;
    parser[P.kOnHeadersComplete] = () => {
      headersSeen++;
    };
    bench.add(who, () => {
      for (let k = 0; k < REPEAT; k++) {
        parser.initialize(P.REQUEST); // a fresh message: the callbacks stay, the state is reset
        parser.execute(buf);
      }
      executed += REPEAT;
    });
    await bench.run();
    if (headersSeen !== executed) throw new Error(`http-parser-js: ${headersSeen} heads completed of ${executed}`);
  } else {
    const p = createHeadParser({ implementation: who === 'native' ? 'native' : 'js' });
    const end = buf.length;
    let sum = 0;
    bench.add(who, () => {
      for (let k = 0; k < REPEAT; k++) sum += p.parse(buf, 0, end);
    });
    await bench.run();
    if (sum === 0) throw new Error(`${who}: nothing parsed`);
  }
  const p50 = (bench.tasks[0]!.result as unknown as { latency: { p50: number } }).latency.p50 * 1e6;
  return p50 / REPEAT;
}

const pair = process.env.FASTERMCP_HTTP1_PAIR;
if (pair !== undefined) {
  const [headName, who] = pair.split('\t') as [HeadName, Contender];
  process.stdout.write(`${JSON.stringify({ ns: await measure(headName, who) })}\n`);
  process.exit(0);
}

// ---- check outputs before timing ------------------------------------------------------------------------------
for (const headName of HEAD_NAMES) {
  const buf = HEADS[headName];
  const native = ourSeen(createHeadParser({ implementation: 'native' }), buf);
  const twin = ourSeen(createHeadParser({ implementation: 'js' }), buf);
  const others: [string, Seen][] = [['js twin', twin]];
  if (HTTPParser !== null) others.push(['http-parser-js', httpParserSeen(buf)]);
  for (const [who, seen] of others) {
    if (JSON.stringify(seen) !== JSON.stringify(native)) {
      throw new Error(`bench: ${who} reads "${headName}" differently:\n${JSON.stringify(seen)}\nnative:\n${JSON.stringify(native)}`);
    }
  }
}

// ---- core only (C++), when build-cmake/bench_http1 is built ---------------------------------------------------
const coreBin = join(ROOT, 'build-cmake', 'bench_http1');
const core = new Map<HeadName, number>();
if (existsSync(coreBin)) {
  const dir = mkdtempSync(join(tmpdir(), 'fastermcp-bench-http1-'));
  const files = HEAD_NAMES.map((name, i) => {
    const file = join(dir, `head-${i}`);
    writeFileSync(file, HEADS[name]);
    return file;
  });
  const out = execFileSync(coreBin, ['0.6', ...files], { encoding: 'utf8' }).trim().split('\n');
  HEAD_NAMES.forEach((name, i) => core.set(name, Number(out[i]!.split(' ')[0])));
}

// ---- run ------------------------------------------------------------------------------------------------------
const ROUNDS = roundsOption(args, 3);
const samples = runIsolated('FASTERMCP_HTTP1_PAIR', HEAD_NAMES.flatMap((h) => CONTENDERS.map((who) => [h, who] as const)), ROUNDS);
const result = (h: HeadName, who: Contender): number => median(samples.get(`${h}\t${who}`)!);

// ---- report ---------------------------------------------------------------------------------------------------
const fmt = (ns: number | undefined) => (ns === undefined || Number.isNaN(ns) ? '—' : `${ns.toFixed(0)} ns`);
const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? '—' : `${(a / b).toFixed(2)}x`);
const rows: string[][] = CONTENDERS.map((who) => [
  who,
  ...HEAD_NAMES.map((h) => fmt(result(h, who))),
  ...HEAD_NAMES.map((h) => ratio(result(h, who), result(h, 'native'))),
]);
rows.push(['core only (C++, no crossing)', ...HEAD_NAMES.map((h) => fmt(core.get(h))), ...HEAD_NAMES.map((h) => (core.has(h) ? ratio(core.get(h)!, result(h, 'native')) : '—'))]);
const main = HEAD_NAMES[0]!;
const nativeMain = result(main, 'native');
const md = [
  `# HTTP/1.1 head parsing: median ns per head (p50 of calls of ${REPEAT} parses; median of ${ROUNDS} rounds, each contender in its own process)`,
  '',
  ...machineLines(),
  `- http-parser-js ${httpParserVersion}${HTTPParser === null ? ' (row skipped: add it with `npm install`; it is a devDependency)' : ''}`,
  `- heads: ${HEAD_NAMES.map((h) => `${h} (${HEADS[h].length} B)`).join(', ')}; every contender's reading compared before timing`,
  '- native: HeadParser.parse from JS, one crossing per head; core only: build-cmake/bench_http1 (native/core/http1.cc with SSE2 scans), so native minus core is the N-API cost',
  `- reproduce: \`npm run bench -- http1${resultName === 'http1' ? '' : ` --node ${resultName.slice(6)}`}\` (build-cmake/ first for the core row: \`npm run test:native\`)`,
  '',
  table(['contender', ...HEAD_NAMES, ...HEAD_NAMES.map((h) => `${h} / native`)], rows),
  '',
  '## Targets',
  '',
  table(
    ['target', 'measured', 'verdict'],
    [
      [
        'native parse of the 8-header MCP POST head, crossing included, under 200 ns',
        fmt(nativeMain),
        nativeMain < 200 ? `met (${(200 - nativeMain).toFixed(0)} ns to spare)` : 'missed',
      ],
      ...(core.has(main) ? [['N-API cost (native - core only)', fmt(nativeMain - core.get(main)!), '—']] : []),
    ],
  ),
  '',
];
console.log(md.join('\n'));
console.log(
  `wrote ${writeResults(resultName, md.join('\n'), {
    node: process.version,
    httpParserJs: httpParserVersion,
    core: Object.fromEntries(core),
    results: Object.fromEntries([...samples].map(([k, v]) => [k, median(v)])),
  })}`,
);
