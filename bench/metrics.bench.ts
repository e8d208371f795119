// What metrics cost a request (docs/metrics.md, "Cost"): dispatch of an echo tools/call (2026-07-28,
// synchronous handler, as the HTTP transport calls it), as
//   off            no observer: dispatch's plain path
//   no-op observer an observer whose watch does nothing: the cost of the seam itself
//   metrics        createMetrics(server): the request observer counting by method, tool and outcome
// what one scrape of /metrics costs (registry.metrics()) with 50 tools' series, and end to end over HTTP:
// the server's CPU per request of `dist/cli.js serve --http 0` (metrics on, the CLI's default) against the
// same with --no-metrics, under the native load generator (bench/http/harness.ts; stateless echo,
// 50 connections), alternating within each round.
// Replies are checked equal before timing. Runs the compiled dist/ (build it first). Each variant runs in
// a process of its own, rounds interleaved (bench/lib/isolated.ts), all in one run of this file, so that
// drift on a shared machine hits all three alike.
//
//   npm run bench -- metrics              writes bench/results/metrics.md
//   npm run bench -- metrics --rounds 9
//   npm run bench -- metrics --no-e2e        skip the HTTP part
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { median, ratio } from './lib/stats.js';
import { roundsOption, runIsolated } from './lib/isolated.js';
import { ROOT, machineLines, table, writeResults } from './lib/report.js';
import { FASTERMCP_NATIVE, ensureLoadgen, runLoadgen, startServer } from './http/harness.js';
import type { LoadgenResult, RunningServer, ServerSpec } from './http/harness.js';

// The compiled dist/, not src/ through tsx: tsx (esbuild keepNames) wraps every closure a function makes
// in a __name() call, which made the observer seam (a few closures per request) look 3x dearer than it is.
if (!existsSync(join(ROOT, 'dist', 'ops', 'metrics.js'))) {
  console.error('metrics bench: dist/ops/metrics.js is missing; run `npx tsc -p tsconfig.json` first');
  process.exit(1);
}
const { implementation } = (await import('../dist/jsonrpc/index.js')) as typeof import('../src/jsonrpc/index.js');
const { createMetrics } = (await import('../dist/ops/metrics.js')) as typeof import('../src/ops/metrics.js');
const { handleRequest } = (await import('../dist/server/dispatch.js')) as typeof import('../src/server/dispatch.js');
const { McpServer } = (await import('../dist/server/server.js')) as typeof import('../src/server/server.js');
type McpServer = import('../src/server/server.js').McpServer;
type Reply = import('../src/server/dispatch.js').Reply;
type RequestEnv = import('../src/server/dispatch.js').RequestEnv;

const rounds = roundsOption(process.argv.slice(2), 7);
const BATCH = 100;
const VARIANTS = ['off', 'no-op observer', 'metrics'] as const;
type Variant = (typeof VARIANTS)[number];

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const PARAMS = { name: 'echo', arguments: { text: 'hello' }, _meta: META };

function serverFor(variant: Variant): McpServer {
  const server = new McpServer({ name: 'bench', version: '1' });
  server.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, (args) => String((args as { text: string }).text));
  if (variant === 'no-op observer') server.observe({ begin: () => ({ end: () => {} }) });
  if (variant === 'metrics') createMetrics(server);
  return server;
}

const env: RequestEnv = { session: undefined, channel: { send: () => {}, open: true }, auth: undefined, signal: undefined };
let id = 0;
const callOnce = (server: McpServer): Reply => {
  const reply = handleRequest(server, env, String(++id & 0xffff), 'tools/call', PARAMS);
  if (reply instanceof Promise) throw new Error('expected a synchronous reply');
  return reply;
};

/** The median time of a bench's one task, in ms (tinybench's unit). */
const p50 = (bench: Bench): number => (bench.tasks[0]!.result as unknown as { latency: { p50: number } }).latency.p50;

// A child times one variant (runIsolated): a process of its own gives each variant the same monomorphic
// start; in one shared process the observer call sites in dispatch see every variant's shapes.
const child = process.env.FASTERMCP_METRICS_VARIANT as Variant | undefined;
if (child !== undefined) {
  const server = serverFor(child); // only this variant's server: no other observer or collector in the process
  const bench = new Bench({ time: 700, warmupTime: 200 });
  // BATCH calls per sample: the timer's own cost and granularity stay out of the per-call number.
  bench.add(child, () => {
    for (let i = 0; i < BATCH; i++) callOnce(server);
  });
  await bench.run();
  console.log(JSON.stringify({ ns: (p50(bench) * 1e6) / BATCH }));
  process.exit(0);
}
// The same reply whatever watches.
const expected = callOnce(serverFor('off')).json!.replace(/"id":\d+/, '');
for (const v of VARIANTS) {
  const got = callOnce(serverFor(v)).json!.replace(/"id":\d+/, '');
  if (got !== expected) throw new Error(`${v}: the reply differs:\n${got}\n${expected}`);
}

const ns = new Map<Variant, number[]>();
for (const [key, values] of runIsolated('FASTERMCP_METRICS_VARIANT', VARIANTS.map((v) => [v]), rounds)) ns.set(key as Variant, values);

// One scrape with 50 tools that were called.
const scrapeServer = new McpServer({ name: 'bench', version: '1' });
for (let i = 0; i < 50; i++) scrapeServer.tool(`tool-${i}`, {}, () => 'x');
const scrapeMetrics = createMetrics(scrapeServer);
for (let i = 0; i < 50; i++) handleRequest(scrapeServer, env, '1', 'tools/call', { name: `tool-${i}`, arguments: {}, _meta: META });
const text = await scrapeMetrics.text();
const scrapeBench = new Bench({ time: 1000, warmupTime: 200 });
scrapeBench.add('scrape', async () => {
  await scrapeMetrics.text();
});
await scrapeBench.run();
const scrapeUs = p50(scrapeBench) * 1000;

// ---- end to end: the CLI's HTTP server with and without metrics ------------------------------------------
const E2E_SPECS: readonly ServerSpec[] = [
  { ...FASTERMCP_NATIVE, key: 'metrics-on', label: 'serve --http 0 (metrics on)' },
  { ...FASTERMCP_NATIVE, key: 'metrics-off', label: 'serve --http 0 --no-metrics', args: [...FASTERMCP_NATIVE.args, '--no-metrics'] },
];
const e2e = new Map<string, LoadgenResult[]>();
if (!process.argv.includes('--no-e2e')) {
  ensureLoadgen();
  const servers: RunningServer[] = [];
  try {
    for (const spec of E2E_SPECS) servers.push(await startServer(spec, process.execPath));
    const measure = (server: RunningServer, seconds: number, warm: number): LoadgenResult =>
      runLoadgen(
        ['--port', String(server.port), '--connections', '50', '--duration', String(seconds), '--warmup', String(warm), '--pid', String(server.pid), '--mode', 'stateless', '--expect', '"resultType":"complete"'],
        server.spec.label,
      );
    for (const server of servers) measure(server, 1, 0); // JIT warm-up, dropped
    for (let round = 0; round < rounds; round++) {
      for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
        e2e.set(server.spec.key, [...(e2e.get(server.spec.key) ?? []), measure(server, 2, 0.3)]);
      }
      console.log(`e2e round ${round + 1}/${rounds} done`);
    }
  } finally {
    for (const server of servers) await server.stop();
  }
}
const cpuOf = (key: string): number[] => (e2e.get(key) ?? []).map((r) => r.serverCpuUsPerRequest ?? NaN);
const e2eRows = E2E_SPECS.filter((spec) => e2e.has(spec.key)).map((spec) => {
  const rs = e2e.get(spec.key)!;
  const cpu = median(cpuOf(spec.key));
  const offCpu = median(cpuOf('metrics-off'));
  return [spec.label, cpu.toFixed(2), ratio(cpu, offCpu), median(rs.map((r) => r.rps)).toFixed(0), cpuOf(spec.key).map((x) => x.toFixed(2)).join(' ')];
});
// Both servers were measured back to back in each round: the median of the per-round differences is
// steadier than the difference of medians when the machine's load drifts.
const pairedUs = e2eRows.length === 0 ? NaN : median(cpuOf('metrics-on').map((on, i) => on - cpuOf('metrics-off')[i]!));

const off = median(ns.get('off')!);
const rows = VARIANTS.map((v) => {
  const m = median(ns.get(v)!);
  return [v, m.toFixed(0), v === 'off' ? '' : `+${(m - off).toFixed(0)}`, ratio(m, off), ns.get(v)!.map((x) => x.toFixed(0)).join(' ')];
});
const markdown = [
  '# Metrics: cost per request',
  '',
  ...machineLines(),
  `- JSON-RPC engine: ${implementation}; each variant in a process of its own, ${rounds} rounds interleaved; per process the p50 of a batch of ${BATCH} calls / ${BATCH}, then the median over rounds`,
  '',
  'Dispatch of one echo tools/call (2026-07-28, synchronous handler), ns per call:',
  '',
  table(['variant', 'ns/call', 'added ns', 'vs off', 'every round'], rows),
  '',
  ...(e2eRows.length === 0
    ? []
    : [
        'End to end: `dist/cli.js serve --http 0`, stateless tools/call echo, 50 connections, native load generator; server CPU per request (median over rounds):',
        '',
        table(['server', 'server CPU us/request', 'vs --no-metrics', 'requests/s', 'every round (us)'], e2eRows),
        '',
        `Median of the per-round differences (metrics on - off): ${pairedUs >= 0 ? '+' : ''}${pairedUs.toFixed(2)} us per request.`,
        '',
      ]),
  `One scrape (registry.metrics(), default process metrics included, 50 tools' series, ${text.length} bytes): ${scrapeUs.toFixed(0)} us.`,
  '',
  'Command: `npm run bench -- metrics`',
].join('\n');
console.log(markdown);
const path = writeResults('metrics', markdown, { rounds, ns: Object.fromEntries(ns), scrapeUs, scrapeBytes: text.length, e2e: Object.fromEntries(e2e), e2ePairedUs: pairedUs });
console.log(`\nwrote ${path}`);
process.exit(0);
