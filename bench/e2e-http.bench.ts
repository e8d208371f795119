// Streamable HTTP end to end: tools/call "echo" over keep-alive connections, every response checked.
//
// Contenders, all running at once (each pinned to the server core) and measured in turn, alternating
// within each round:
//   fastermcp native   dist/cli.js serve --http 0
//   native + auth + limits   the same with --api-keys-file and --rate-limit-per-client (never refusing):
//                      an API key checked and a rate-limit check (in the engine) on every request
//   native, node:http path   the same with --no-fast-lane: every request through node:http's request and
//                      response objects (what the fast lane, src/transport/http-lane.ts, saves)
//   fastermcp pure-JS  the same with FASTERMCP_FORCE_JS=1
//   official SDK v1    bench/http/sdk.mjs: stateless (server + transport per request) or sessions
//   floor              bench/http/bare-echo.mjs: node:http, JSON.parse, JSON.stringify({ text })
// Modes: stateless (2026-07-28; the SDK gets the same request as 2025-11-25, the newest it knows) and
// legacy (a session per connection: initialize, notifications/initialized, then tools/call), with 1 and
// 50 connections. The load generator is native (bench/native/http_loadgen.cc, pinned to the other
// core): one request in flight per connection; it reads the server's CPU time from the kernel.
//
//   npm run bench -- e2e-http --quick          3 rounds of 1.2 s per measurement (under 2 minutes)
//   npm run bench -- e2e-http                  5 rounds of 5 s
//   npm run bench -- e2e-http --node node24    servers on node_modules/node24 (--node /path works too)
//   --rounds=N --duration=S --warmup=S         override
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { barChartSvg } from './lib/chart.js';
import { hasTaskset, pinningNote } from './lib/pin.js';
import { RESULTS, ROOT, machineLines, table, writeResults } from './lib/report.js';
import { median, ratio } from './lib/stats.js';
import {
  BARE_ECHO,
  FASTERMCP_GUARDED,
  FASTERMCP_JS,
  FASTERMCP_NATIVE,
  FASTERMCP_NODE_HTTP,
  SDK_STATEFUL,
  SDK_STATELESS,
  ensureLoadgen,
  numberOption,
  resultsName,
  runLoadgen,
  serverNode,
  startServer,
} from './http/harness.js';
import type { LoadgenResult, RunningServer, ServerSpec } from './http/harness.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const rounds = numberOption(argv, 'rounds', quick ? 3 : 5);
const duration = numberOption(argv, 'duration', quick ? 1.2 : 5);
const warmup = numberOption(argv, 'warmup', quick ? 0.4 : 1);
const CONNECTIONS = [1, 50] as const;
const node = serverNode(argv);
const NAME = resultsName('e2e-http', node.version);

if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
  console.error('e2e-http: dist/cli.js is missing; run `npm run build:ts` first');
  process.exit(1);
}
ensureLoadgen();

// ---- what is measured ---------------------------------------------------------------------------

type Mode = 'stateless' | 'legacy';
interface Load {
  /** "stateless", "legacy" or "floor" (the bare echo, shared by both modes' tables). */
  mode: Mode | 'floor';
  contender: 'native' | 'guarded' | 'nodehttp' | 'js' | 'sdk' | 'bare';
  label: string;
  server: string; // key into `running`
  args: string[]; // load generator arguments besides port, connections, timing and pid
}

const RESULT_COMPLETE = '"resultType":"complete"';
const loads: Load[] = [
  { mode: 'floor', contender: 'bare', label: BARE_ECHO.label, server: 'bare', args: ['--mode', 'plain'] },
  { mode: 'stateless', contender: 'native', label: FASTERMCP_NATIVE.label, server: 'native', args: ['--mode', 'stateless', '--expect', RESULT_COMPLETE] },
  { mode: 'stateless', contender: 'guarded', label: FASTERMCP_GUARDED.label, server: 'guarded', args: ['--mode', 'stateless', '--expect', RESULT_COMPLETE, ...FASTERMCP_GUARDED.loadgenArgs!] },
  { mode: 'stateless', contender: 'nodehttp', label: FASTERMCP_NODE_HTTP.label, server: 'nodehttp', args: ['--mode', 'stateless', '--expect', RESULT_COMPLETE] },
  { mode: 'stateless', contender: 'js', label: FASTERMCP_JS.label, server: 'js', args: ['--mode', 'stateless', '--expect', RESULT_COMPLETE] },
  { mode: 'stateless', contender: 'sdk', label: SDK_STATELESS.label, server: 'sdkStateless', args: ['--mode', 'stateless', '--protocol-version', '2025-11-25'] },
  { mode: 'legacy', contender: 'native', label: FASTERMCP_NATIVE.label, server: 'native', args: ['--mode', 'legacy'] },
  { mode: 'legacy', contender: 'guarded', label: FASTERMCP_GUARDED.label, server: 'guarded', args: ['--mode', 'legacy', ...FASTERMCP_GUARDED.loadgenArgs!] },
  { mode: 'legacy', contender: 'nodehttp', label: FASTERMCP_NODE_HTTP.label, server: 'nodehttp', args: ['--mode', 'legacy'] },
  { mode: 'legacy', contender: 'js', label: FASTERMCP_JS.label, server: 'js', args: ['--mode', 'legacy'] },
  { mode: 'legacy', contender: 'sdk', label: SDK_STATEFUL.label, server: 'sdkStateful', args: ['--mode', 'legacy', ...SDK_STATEFUL.loadgenArgs!] },
];
const specs: Record<string, ServerSpec> = {
  bare: BARE_ECHO,
  native: FASTERMCP_NATIVE,
  guarded: FASTERMCP_GUARDED,
  nodehttp: FASTERMCP_NODE_HTTP,
  js: FASTERMCP_JS,
  sdkStateless: SDK_STATELESS,
  sdkStateful: SDK_STATEFUL,
};

const key = (mode: string, connections: number, contender: string): string => `${mode}|${connections}|${contender}`;
const samples = new Map<string, LoadgenResult[]>();

// ---- run ----------------------------------------------------------------------------------------

const started = Date.now();
const loadBefore = loadavg()[0]!;
// Taken now: the git line must name the code the servers load at start.
const machine = machineLines(node.version);
console.log(`e2e-http: ${quick ? 'quick' : 'full'} run, ${rounds} rounds x ${duration} s (+${warmup} s warm-up) per measurement; servers on node ${node.version}`);
console.log(`e2e-http: ${pinningNote()}`);
const running: Record<string, RunningServer> = {};
try {
  for (const [name, spec] of Object.entries(specs)) running[name] = await startServer(spec, node.bin);

  const measure = (load: Load, connections: number, seconds: number, warm: number): LoadgenResult => {
    const server = running[load.server]!;
    const what = `${load.label}, ${load.mode}, ${connections} connection(s)`;
    return runLoadgen(
      ['--port', String(server.port), '--connections', String(connections), '--duration', String(seconds), '--warmup', String(warm), '--pid', String(server.pid), ...load.args],
      what,
    );
  };

  // JIT warm-up of every server on every path before the first round (results dropped).
  for (const load of loads) measure(load, 50, quick ? 0.6 : 2, 0);

  let checked = 0;
  for (let round = 0; round < rounds; round++) {
    for (const connections of CONNECTIONS) {
      // Alternate the order from round to round so that drift on a shared machine spreads evenly.
      const order = round % 2 === 0 ? loads : [...loads].reverse();
      const rotated = order.map((_, i) => order[(i + round) % order.length]!);
      for (const load of rotated) {
        const r = measure(load, connections, duration, warmup);
        checked += r.requests + r.warmupRequests;
        const k = key(load.mode, connections, load.contender);
        samples.set(k, [...(samples.get(k) ?? []), r]);
        console.log(
          `  round ${round + 1}/${rounds}  ${load.mode.padEnd(9)} c=${String(connections).padEnd(2)} ${load.label.padEnd(30)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.latencyUs.p50.toFixed(0).padStart(6)} us  server ${(r.serverCpuUsPerRequest ?? NaN).toFixed(1).padStart(6)} us/req`,
        );
      }
    }
  }

  // ---- report -----------------------------------------------------------------------------------

  interface Summary {
    rps: number;
    p50: number;
    p99: number;
    p999: number;
    serverCpuUs: number;
    serverShare: number;
    loadgenCpuUs: number;
    loadgenShare: number;
    framing: string;
  }
  const summarize = (k: string): Summary => {
    const rs = samples.get(k) ?? [];
    const framing = rs.every((r) => r.framing.chunked === 0) ? 'length' : rs.every((r) => r.framing.contentLength === 0) ? 'chunked' : 'mixed';
    return {
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.latencyUs.p50)),
      p99: median(rs.map((r) => r.latencyUs.p99)),
      p999: median(rs.map((r) => r.latencyUs.p999)),
      serverCpuUs: median(rs.map((r) => r.serverCpuUsPerRequest ?? NaN)),
      serverShare: median(rs.map((r) => r.serverCpuShare ?? NaN)),
      loadgenCpuUs: median(rs.map((r) => r.loadgenCpuUsPerRequest)),
      loadgenShare: median(rs.map((r) => r.loadgenCpuShare)),
      framing,
    };
  };
  const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
  const f1 = (x: number): string => (Number.isFinite(x) ? (x < 100 ? x.toFixed(1) : x.toFixed(0)) : 'n/a');
  const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

  const summary: Record<string, Record<number, Record<string, Summary & { label: string }>>> = {};
  const sections: string[] = [];
  const modeTitle: Record<Mode, string> = {
    stateless: 'stateless (2026-07-28; the SDK: stateless mode under 2025-11-25)',
    legacy: 'legacy sessions (2025-11-25: initialize, then tools/call with Mcp-Session-Id)',
  };
  for (const mode of ['stateless', 'legacy'] as const) {
    summary[mode] = {};
    for (const connections of CONNECTIONS) {
      const rows: Record<string, Summary & { label: string }> = {};
      for (const load of loads.filter((l) => l.mode === mode || l.mode === 'floor')) {
        rows[load.contender] = { label: load.label, ...summarize(key(load.mode, connections, load.contender)) };
      }
      summary[mode]![connections] = rows;
      const floor = rows.bare!;
      const sdk = rows.sdk!;
      sections.push(
        `### ${modeTitle[mode]}, ${connections} connection${connections === 1 ? '' : 's'}`,
        '',
        table(
          ['server', 'req/s', 'p50 µs', 'p99 µs', 'p99.9 µs', 'server CPU µs/req', 'server CPU (cores)', 'loadgen CPU µs/req', 'req/s vs floor', 'req/s vs SDK', 'CPU/req vs floor', 'CPU/req vs SDK', 'framing'],
          (['native', 'guarded', 'nodehttp', 'js', 'sdk', 'bare'] as const).map((c) => {
            const r = rows[c]!;
            return [
              r.label,
              f0(r.rps),
              f0(r.p50),
              f0(r.p99),
              f0(r.p999),
              f1(r.serverCpuUs),
              f2(r.serverShare),
              f1(r.loadgenCpuUs),
              ratio(r.rps, floor.rps),
              ratio(r.rps, sdk.rps),
              ratio(r.serverCpuUs, floor.serverCpuUs),
              ratio(r.serverCpuUs, sdk.serverCpuUs),
              r.framing,
            ];
          }),
        ),
        '',
      );
    }
  }

  // The target: 50 connections, throughput at least the bare node:http echo's in the same run.
  const targetLines: string[] = [];
  const targets: Record<string, { rps: number; floor: number; factor: number; pass: boolean }> = {};
  for (const mode of ['stateless', 'legacy'] as const) {
    for (const c of ['native', 'guarded', 'js'] as const) {
      const r = summary[mode]![50]![c]!;
      const floor = summary[mode]![50]!.bare!;
      const factor = r.rps / floor.rps;
      const pass = factor >= 1;
      targets[`${mode}|${c}`] = { rps: r.rps, floor: floor.rps, factor, pass };
      targetLines.push(
        `- ${pass ? 'PASS' : 'MISS'}: ${r.label}, ${mode}, 50 connections: ${f0(r.rps)} req/s = ${factor.toFixed(2)}x the floor's ${f0(floor.rps)} req/s` +
          (pass ? '' : ` (needs ${(1 / factor).toFixed(2)}x more)`),
      );
    }
  }
  const sdkGap = (['stateless', 'legacy'] as const).map((mode) => {
    const s = summary[mode]![50]!;
    return `${mode}: the floor does ${ratio(s.bare!.rps, s.sdk!.rps)} the SDK's req/s, fastermcp native ${ratio(s.native!.rps, s.sdk!.rps)}`;
  });

  const all = [...samples.values()].flat();
  const maxLoadgenShare = Math.max(...all.map((r) => r.loadgenCpuShare));
  const maxServerShare50 = Math.max(...all.filter((r) => r.connections === 50).map((r) => r.serverCpuShare ?? 0));
  // With 50 requests in flight an uncontended server keeps its core busy; less means something else ran there.
  const serverShare50 = median(all.filter((r) => r.connections === 50 && r.mode !== 'plain').map((r) => r.serverCpuShare ?? NaN));
  const contention =
    serverShare50 < 0.9
      ? `The servers got a median ${(serverShare50 * 100).toFixed(0)}% of their core with 50 connections in flight (an idle machine gives close to 100%): other work shared the core, so req/s here are depressed and noisy, while server CPU µs per request, counted by the kernel, is the steadier figure.`
      : `The servers got a median ${(serverShare50 * 100).toFixed(0)}% of their core with 50 connections in flight.`;
  const generatorNote =
    maxLoadgenShare > 0.8
      ? `the load generator reached ${(maxLoadgenShare * 100).toFixed(0)}% of its core in some measurement: it may have been a bottleneck there`
      : `the load generator used at most ${(maxLoadgenShare * 100).toFixed(0)}% of its core in any measurement (not a bottleneck); with 50 connections the servers used up to ${(maxServerShare50 * 100).toFixed(0)}% of theirs`;

  const chartBars = (['native', 'guarded', 'nodehttp', 'js', 'sdk', 'bare'] as const).map((c) => ({
    label: summary.stateless![50]![c]!.label,
    value: summary.stateless![50]![c]!.serverCpuUs,
  }));
  writeFileSync(
    join(RESULTS, `${NAME}-cpu.svg`),
    barChartSvg('Server CPU per tools/call, Streamable HTTP stateless, 50 connections', 'µs', chartBars),
  );

  const md = [
    '# Streamable HTTP end to end: tools/call "echo"',
    '',
    ...machine,
    `- ${pinningNote()}`,
    `- ${quick ? 'quick' : 'full'} run (\`npm run bench -- e2e-http${quick ? ' --quick' : ''}${node.flag}\`): ${rounds} rounds, each measurement ${warmup} s warm-up + ${duration} s measured; contenders alternate within each round (order reversed and rotated per round); every figure is the median over rounds`,
    `- load generator: bench/native/http_loadgen.cc (epoll, HTTP/1.1 keep-alive, one request in flight per connection); every response checked (status, framing, Content-Type, the request's own echoed text and id): ${checked} responses, 0 mismatches`,
    '- server CPU: the kernel\'s count for the server process (all threads, /proc/<pid>/task/*/schedstat) over the measured seconds; "(cores)" is that CPU time divided by the wall time',
    '',
    '## Contenders',
    '',
    '- fastermcp native: `dist/cli.js serve --http 0` (the demo set; its `echo` tool); fastermcp pure-JS: the same with FASTERMCP_FORCE_JS=1. Replies: application/json. Both take POSTs to the endpoint through the fast lane (src/transport/http-lane.ts: read straight off the socket).',
    '- fastermcp native, node:http path: the native server with `--no-fast-lane`: every request through node:http\'s IncomingMessage and ServerResponse.',
    '- fastermcp native + auth + limits: the native server with `--api-keys-file bench/http/api-keys.json --rate-limit-per-client 1000000000/1`: every request carries `Authorization: Bearer <key>` (checked: a SHA-256 digest lookup), and every call is admitted by a per-client token bucket in the engine (never refusing).',
    '- official SDK v1: bench/http/sdk.mjs. Stateless: a new McpServer + StreamableHTTPServerTransport per POST (enableJsonResponse), sent as 2025-11-25 since v1 refuses 2026-07-28. Sessions: one server + transport per session, replies as SSE streams (the transport\'s default; its JSON mode keeps an entry per request in SDK 1.32.2, see bench/http/sdk.mjs).',
    '- floor: bench/http/bare-echo.mjs, node:http reading the body, JSON.parse, JSON.stringify({ text }); the load is a plain POST of `{"text":...}`.',
    '',
    '## Target (issue 4)',
    '',
    'Streamable HTTP tools/call, 50 connections: throughput at least that of the bare node:http JSON echo in the same run.',
    '',
    ...targetLines,
    '',
    `For scale (50 connections): ${sdkGap.join('; ')}.`,
    '',
    `Generator: ${generatorNote}.${hasTaskset() ? '' : ' Without pinning, server and generator shared the cores.'}`,
    '',
    `Machine load: 1-minute load average ${loadBefore.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end (2 would be both cores busy). ${contention}`,
    '',
    `![server CPU per request, stateless, 50 connections](${NAME}-cpu.svg)`,
    '',
    '## Results',
    '',
    'The floor row is the same measurement in both modes: a plain POST of `{"text":...}` to bench/http/bare-echo.mjs.',
    '"vs" columns are this row divided by the other (req/s: higher is better; CPU/req: lower is better).',
    '"framing": how the server framed its replies (Content-Length or chunked).',
    '',
    ...sections,
  ].join('\n');
  const file = writeResults(NAME, md, {
    quick,
    rounds,
    durationSeconds: duration,
    warmupSeconds: warmup,
    node: node.version,
    pinning: pinningNote(),
    targets,
    summary,
    runs: Object.fromEntries(samples),
  });
  console.log(`\n${targetLines.join('\n')}\nGenerator: ${generatorNote}.\n${contention}`);
  console.log(`e2e-http: wrote ${file} (+ .json, ${NAME}-cpu.svg) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await Promise.all(Object.values(running).map((s) => s.stop()));
}
