// End-to-end stdio benchmark: tools/call echo through whole servers, driven by a native load generator.
//
// Servers, alternating within each round (the starting server rotates from round to round):
//   native    fastermcp `dist/cli.js serve --stdio` with the addon (FASTERMCP_REQUIRE_NATIVE=1)
//   js        the same with the pure-JS twin (FASTERMCP_FORCE_JS=1)
//   sdk       bench/servers/sdk-stdio.mjs: the official SDK v1 McpServer + StdioServerTransport (legacy only)
//   naive     bench/servers/naive-stdio.mjs: a bare NDJSON JSON-RPC loop, the pure-JS floor
// Eras: legacy (initialize handshake, 2025-11-25) and stateless (2026-07-28, no handshake, _meta on every
// request). Windows: W=1 (latency), W=64 and W=4096 (throughput).
//
// The generator is build-cmake/mcp_stdio_loadgen (bench/native/stdio_loadgen.cc, built here if missing).
// It checks every reply byte for byte, and measures the server's CPU time from the kernel (schedstat),
// its peak RSS, and its own CPU time, so the report shows when the generator is the bottleneck.
// The server runs on SERVER_CORE and the generator on LOADGEN_CORE when taskset exists (bench/lib/pin.ts).
//
//   npm run bench -- e2e-stdio --quick              3 rounds, small N (under two minutes)
//   npm run bench -- e2e-stdio                      9 rounds, bigger N (rounds spread widely on a shared machine)
//   npm run bench -- e2e-stdio --node=node24        servers on Node 24 (node_modules/node24); also a path
//   npm run bench -- e2e-stdio --rounds=7           more rounds
// Writes bench/results/e2e-stdio.{md,json} and e2e-stdio-cpu.svg; with a server node of another major
// version than the harness's, e2e-stdio-node<major>.* instead, so Node 20 and Node 24 results sit side by side.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { barChartSvg } from './lib/chart.js';
import { hasTaskset, LOADGEN_CORE, pinned, pinningNote, SERVER_CORE } from './lib/pin.js';
import { machineLines, RESULTS, ROOT, table, writeResults } from './lib/report.js';
import { median, ratio, roundSpread } from './lib/stats.js';

// ---- options --------------------------------------------------------------------------------------

function option(name: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

const quick = process.argv.includes('--quick');
const defaultRounds = quick ? 3 : 9;
const rounds = Number(option('rounds') ?? defaultRounds);
if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds needs a positive integer, got ${option('rounds')}`);

/** `node24` -> node_modules/node24/bin/node; a path as it is; nothing -> the node running this file. */
function resolveNode(spec: string | undefined): string {
  if (spec === undefined || spec === 'system') return process.execPath;
  if (/^node\d+$/.test(spec)) {
    const bin = join(ROOT, 'node_modules', spec, 'bin', 'node');
    if (!existsSync(bin)) throw new Error(`--node ${spec}: ${bin} is missing (the npm package "${spec}" is not installed)`);
    return bin;
  }
  return spec;
}

const serverNode = resolveNode(option('node'));
const serverNodeVersion = spawnSync(serverNode, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
if (!/^v\d+/.test(serverNodeVersion)) throw new Error(`cannot run ${serverNode} --version`);
const serverMajor = serverNodeVersion.slice(1).split('.')[0]!;
const resultName = serverMajor === process.versions.node.split('.')[0] ? 'e2e-stdio' : `e2e-stdio-node${serverMajor}`;

// ---- sizes ----------------------------------------------------------------------------------------

type Era = 'legacy' | 'stateless';
const ERAS: readonly Era[] = ['legacy', 'stateless'];

interface Size {
  window: number;
  requests: number;
  warmup: number;
  /** The SDK's measured calls where fewer: at 35-80 µs per call, `requests` would take minutes per round. */
  sdkRequests?: number;
}

// Warm-ups are long enough for Node 24's JIT too: after 8k calls it still ran every server 1.4-2x
// slower than after 65k (native 2.4 against 1.1 µs per call at W=4096), while Node 20 had settled.
const SIZES: readonly Size[] = quick
  ? [
      { window: 1, requests: 2_000, warmup: 1_000 },
      { window: 64, requests: 20_000, warmup: 20_000 },
      // 1M calls (the SDK 32k): the floor's two modes (below) made 32k-call quick runs pass a target the full run
      // missed (5.9x against 3.6x on Node 24).
      { window: 4096, requests: 1_000_000, warmup: 65_536, sdkRequests: 32_768 },
    ]
  : [
      { window: 1, requests: 10_000, warmup: 2_000 },
      { window: 64, requests: 200_000, warmup: 20_000 },
      // 2M calls: the floor's CPU per call moves between two modes for seconds at a time (whether the
      // generator wakes for each of its one-reply writes, ~1.2 or ~2 µs on Node 24), and a run of 200k calls
      // (0.3 s) caught one mode; over 2M its rounds agree within a few percent (BENCHMARKS.md, stdio).
      { window: 4096, requests: 2_000_000, warmup: 40_960, sdkRequests: 200_000 },
    ];

/** The case the chart and the target lines are about. */
const HEADLINE = { era: 'legacy' as Era, window: 4096 };

// ---- servers --------------------------------------------------------------------------------------

interface Server {
  name: string;
  label: string;
  args: string[];
  env: Record<string, string | undefined>;
  eras: readonly Era[];
}

const CLI = join(ROOT, 'dist', 'cli.js');
const SERVERS: readonly Server[] = [
  {
    name: 'native',
    label: 'fastermcp native',
    args: [CLI, 'serve', '--stdio'],
    env: { FASTERMCP_REQUIRE_NATIVE: '1', FASTERMCP_FORCE_JS: undefined },
    eras: ERAS,
  },
  {
    name: 'js',
    label: 'fastermcp pure-JS twin',
    args: [CLI, 'serve', '--stdio'],
    env: { FASTERMCP_FORCE_JS: '1', FASTERMCP_REQUIRE_NATIVE: undefined },
    eras: ERAS,
  },
  {
    name: 'sdk',
    label: 'official SDK (v1 McpServer)',
    args: [join(ROOT, 'bench', 'servers', 'sdk-stdio.mjs')],
    env: {},
    eras: ['legacy'],
  },
  {
    name: 'naive',
    label: 'naive JS floor (NDJSON loop)',
    args: [join(ROOT, 'bench', 'servers', 'naive-stdio.mjs')],
    env: {},
    eras: ERAS,
  },
];

// ---- the load generator ---------------------------------------------------------------------------

const LOADGEN = join(ROOT, 'build-cmake', 'mcp_stdio_loadgen');

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

/** Builds mcp_stdio_loadgen with the developer CMake build, configuring build-cmake/ when needed. */
function ensureLoadgen(): void {
  if (!existsSync(join(ROOT, 'build-cmake', 'CMakeCache.txt'))) {
    run('cmake', ['-S', '.', '-B', 'build-cmake', '-DFASTERMCP_DEVELOPER=ON', '-DCMAKE_BUILD_TYPE=Release']);
  }
  // Always asked for: a no-op when up to date, a rebuild when stdio_loadgen.cc changed.
  const r = spawnSync('cmake', ['--build', 'build-cmake', '--target', 'mcp_stdio_loadgen'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    // A cache configured without FASTERMCP_DEVELOPER has no such target: configure it in developer mode.
    run('cmake', ['-S', '.', '-B', 'build-cmake', '-DFASTERMCP_DEVELOPER=ON', '-DCMAKE_BUILD_TYPE=Release']);
    run('cmake', ['--build', 'build-cmake', '--target', 'mcp_stdio_loadgen']);
  }
  if (!existsSync(LOADGEN)) throw new Error(`${LOADGEN} was not built`);
}

/** What stdio_loadgen prints (one JSON line). */
interface Measurement {
  calls: number;
  seconds: number;
  callsPerSec: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  serverCpuNsPerCall: number;
  serverPeakRssKb: number;
  loadgenCpuNsPerCall: number;
  errors: number;
  slowChecks: number;
  serverExit: number;
}

interface Sample extends Measurement {
  round: number;
  era: Era;
  window: number;
  server: string;
}

/** The calls measured for `server` at `size`. */
function requestsOf(server: Server, size: Size): number {
  return server.name === 'sdk' ? (size.sdkRequests ?? size.requests) : size.requests;
}

function measure(server: Server, era: Era, size: Size): Measurement {
  const [cmd, args] = pinned(serverNode, server.args, SERVER_CORE);
  const loadgenArgs = [
    '--era', era,
    '--requests', String(requestsOf(server, size)),
    '--window', String(size.window),
    '--warmup', String(size.warmup),
    '--timeout', quick ? '120' : '600',
    ...(hasTaskset() ? ['--core', String(LOADGEN_CORE)] : []),
    '--', cmd, ...args,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(server.env)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const r = spawnSync(LOADGEN, loadgenArgs, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let m: Measurement | undefined;
  try {
    m = JSON.parse(line) as Measurement;
  } catch {
    m = undefined;
  }
  if (r.status !== 0 || m === undefined || m.errors !== 0) {
    process.stderr.write(r.stderr);
    throw new Error(
      `${server.name} ${era} W=${size.window}: the run failed (loadgen exit ${r.status ?? r.signal}, ` +
        `errors ${m?.errors ?? 'unknown'}): ${LOADGEN} ${loadgenArgs.join(' ')}`,
    );
  }
  return m;
}

// ---- report ---------------------------------------------------------------------------------------

interface Row {
  server: Server;
  calls: number;
  callsPerSec: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  cpuUs: number;
  rssMb: number;
  loadgenUs: number;
  loadgenBusy: number; ///< the share of its core the generator used: CPU per call x calls/s
}

function medians(samples: readonly Sample[], era: Era, window: number): Row[] {
  const rows: Row[] = [];
  for (const server of SERVERS) {
    const mine = samples.filter((s) => s.server === server.name && s.era === era && s.window === window);
    if (mine.length === 0) continue;
    const med = (f: (s: Sample) => number): number => median(mine.map(f));
    rows.push({
      server,
      calls: mine[0]!.calls,
      callsPerSec: med((s) => s.callsPerSec),
      p50Us: med((s) => s.p50Us),
      p99Us: med((s) => s.p99Us),
      p999Us: med((s) => s.p999Us),
      cpuUs: med((s) => s.serverCpuNsPerCall / 1000),
      rssMb: med((s) => s.serverPeakRssKb / 1024),
      loadgenUs: med((s) => s.loadgenCpuNsPerCall / 1000),
      loadgenBusy: med((s) => (s.loadgenCpuNsPerCall * s.callsPerSec) / 1e9),
    });
  }
  return rows;
}

function fmt(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The generator's own CPU per call counts as comparable to the server's from half of it. */
const COMPARABLE = 0.5;
/** The generator limits calls/s when its core is this busy. */
const SATURATED = 0.8;

interface Section {
  text: string;
  comparable: string[]; ///< rows where the generator's CPU per call is at least COMPARABLE of the server's
  saturated: string[]; ///< rows where the generator's core was at least SATURATED busy
}

function section(era: Era, size: Size, rows: readonly Row[]): Section {
  const native = rows.find((r) => r.server.name === 'native');
  const comparable: string[] = [];
  const saturated: string[] = [];
  const body = rows.map((r) => {
    const share = r.loadgenUs / r.cpuUs;
    if (share >= COMPARABLE) {
      comparable.push(
        `${r.server.name} (${fmt(r.loadgenUs, 2)} vs ${fmt(r.cpuUs, 2)} µs, generator core ${fmt(r.loadgenBusy * 100, 0)}% busy)`,
      );
    }
    if (r.loadgenBusy >= SATURATED) saturated.push(`${r.server.name} (${fmt(r.loadgenBusy * 100, 0)}% busy)`);
    return [
      r.server.label,
      fmt(r.callsPerSec, 0),
      fmt(r.p50Us),
      fmt(r.p99Us),
      fmt(r.p999Us),
      fmt(r.cpuUs, 2),
      native === undefined ? 'n/a' : ratio(r.cpuUs, native.cpuUs),
      fmt(r.rssMb),
      fmt(r.loadgenUs, 2),
      `${fmt(share * 100, 0)}%`,
      `${fmt(r.loadgenBusy * 100, 0)}%`,
    ];
  });
  for (const s of SERVERS) {
    if (!s.eras.includes(era)) body.push([s.label, 'n/a (no 2026-07-28 support)', '', '', '', '', '', '', '', '', '']);
  }
  const header = [
    'server',
    'calls/s',
    'p50 µs',
    'p99 µs',
    'p99.9 µs',
    'server CPU µs/call',
    'CPU ÷ native',
    'peak RSS MB',
    'loadgen CPU µs/call',
    'loadgen ÷ server CPU',
    'loadgen core busy',
  ];
  const cpu = (name: string): number => rows.find((r) => r.server.name === name)?.cpuUs ?? NaN;
  const lines = [
    `### ${era === 'legacy' ? 'legacy (2025-11-25, initialize handshake)' : 'stateless (2026-07-28, no handshake)'}, W=${size.window}`,
    '',
    `${fmt(size.requests, 0)} measured calls` +
      (size.sdkRequests !== undefined && SERVERS.some((s) => s.name === 'sdk' && s.eras.includes(era)) ? ` (the SDK: ${fmt(size.sdkRequests, 0)})` : '') +
      ` after ${fmt(size.warmup, 0)} warm-up calls, medians of ${rounds} rounds.`,
    '',
    table(header, body),
    '',
    `Server CPU per call: SDK ÷ native ${ratio(cpu('sdk'), cpu('native'))}, naive ÷ native ${ratio(cpu('naive'), cpu('native'))}, ` +
      `js ÷ native ${ratio(cpu('js'), cpu('native'))}.`,
  ];
  if (comparable.length > 0) {
    lines.push(
      '',
      `**The generator's own CPU per call is comparable to the server's** (at least ${COMPARABLE * 100}%) for: ` +
        `${comparable.join(', ')}. ` +
        (saturated.length > 0
          ? `**Its core was at least ${SATURATED * 100}% busy for ${saturated.join(', ')}: the generator may bound calls/s there.**`
          : `Its core stayed under ${SATURATED * 100}% busy, so it did not limit calls/s` +
            (size.window === 1 ? ': at W=1 both sides pay a sleep and a wake-up per call, and the round trip sets the pace.' : '.')),
    );
  } else if (saturated.length > 0) {
    lines.push('', `**The generator's core was at least ${SATURATED * 100}% busy for ${saturated.join(', ')}: it may bound calls/s there.**`);
  }
  return { text: lines.join('\n'), comparable, saturated };
}

function verdict(ok: boolean): string {
  return ok ? '**pass**' : '**miss**';
}

/** The headline window's samples of `server` in `era`, by round (a round without one: undefined). */
function byRound(samples: readonly Sample[], era: Era, server: string): (Sample | undefined)[] {
  const out: (Sample | undefined)[] = new Array<Sample | undefined>(rounds).fill(undefined);
  for (const s of samples) if (s.era === era && s.window === HEADLINE.window && s.server === server) out[s.round] = s;
  return out;
}

/** Per round: `name`'s server CPU per call ÷ native's in the same round. */
function roundRatios(samples: readonly Sample[], era: Era, name: string): number[] {
  const native = byRound(samples, era, 'native');
  return byRound(samples, era, name).map((s, i) => (s === undefined || native[i] === undefined ? NaN : s.serverCpuNsPerCall / native[i]!.serverCpuNsPerCall));
}

const times = (v: number): string => `${fmt(v, 2)}x`;

function targets(samples: readonly Sample[]): string {
  const lines = [
    '## Targets (issue 4)',
    '',
    'Each verdict is on the medians of the run; "per round" gives the same ratio (or calls/s) within each round, ' +
      'where the servers ran minutes apart at most.',
    '',
  ];
  for (const era of ERAS) {
    const rows = medians(samples, era, HEADLINE.window);
    const get = (name: string): Row | undefined => rows.find((r) => r.server.name === name);
    const native = get('native');
    if (native === undefined) continue;
    const sdk = get('sdk');
    const naive = get('naive');
    lines.push(`${era}, W=${HEADLINE.window} (server CPU µs/call: native ${fmt(native.cpuUs, 2)}):`, '');
    if (sdk !== undefined) {
      const f = sdk.cpuUs / native.cpuUs;
      lines.push(
        `- server CPU per call ≤ 1/20 of the SDK's (≤ ${fmt(sdk.cpuUs / 20, 2)} µs): ${verdict(f >= 20)}, ` +
          `the SDK uses ${ratio(sdk.cpuUs, native.cpuUs)} native's` +
          (f >= 20 ? '' : ` (native must get ${ratio(20, f)} cheaper)`) +
          ` (${roundSpread(roundRatios(samples, era, 'sdk'), 20, times)})`,
      );
    } else {
      lines.push('- server CPU per call ≤ 1/20 of the SDK\'s: n/a (the v1 SDK has no 2026-07-28 era)');
    }
    if (naive !== undefined) {
      const f = naive.cpuUs / native.cpuUs;
      lines.push(
        `- server CPU per call ≤ 1/4 of the naive floor's (≤ ${fmt(naive.cpuUs / 4, 2)} µs): ${verdict(f >= 4)}, ` +
          `the floor uses ${ratio(naive.cpuUs, native.cpuUs)} native's` +
          (f >= 4 ? '' : ` (native must get ${ratio(4, f)} cheaper)`) +
          ` (${roundSpread(roundRatios(samples, era, 'naive'), 4, times)})`,
      );
    }
    lines.push(
      `- ≥ 1,000,000 calls/s at W=${HEADLINE.window}: ${verdict(native.callsPerSec >= 1e6)}, ` +
        `${fmt(native.callsPerSec, 0)} calls/s` +
        (native.callsPerSec >= 1e6 ? '' : ` (${ratio(1e6, native.callsPerSec)} short)`) +
        ` (${roundSpread(byRound(samples, era, 'native').map((s) => s?.callsPerSec ?? NaN), 1e6, (v) => `${fmt(v / 1000, 0)}k`)})`,
      '',
    );
  }
  return lines.join('\n');
}

// ---- main -----------------------------------------------------------------------------------------

function main(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  ensureLoadgen();
  const started = Date.now();
  const samples: Sample[] = [];
  console.log(
    `e2e-stdio: ${quick ? 'quick' : 'full'} mode, ${rounds} rounds, servers on node ${serverNodeVersion} (${serverNode}); ${pinningNote()}`,
  );
  for (let round = 0; round < rounds; round++) {
    for (const era of ERAS) {
      for (const size of SIZES) {
        const servers = SERVERS.filter((s) => s.eras.includes(era));
        // Rotate the starting server each round so no server always runs first (or right after another).
        const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
        for (const server of order) {
          const m = measure(server, era, size);
          samples.push({ round, era, window: size.window, server: server.name, ...m });
          console.log(
            `  round ${round + 1}/${rounds} ${era.padEnd(9)} W=${String(size.window).padEnd(4)} ${server.name.padEnd(6)} ` +
              `${fmt(m.callsPerSec, 0).padStart(9)} calls/s  server ${fmt(m.serverCpuNsPerCall / 1000, 2).padStart(7)} µs/call  ` +
              `p50 ${fmt(m.p50Us).padStart(9)} µs  loadgen ${fmt(m.loadgenCpuNsPerCall / 1000, 2)} µs/call`,
          );
        }
      }
    }
  }
  const seconds = (Date.now() - started) / 1000;

  const sections: string[] = [];
  const comparable: string[] = [];
  const saturated: string[] = [];
  for (const era of ERAS) {
    for (const size of SIZES) {
      const s = section(era, size, medians(samples, era, size.window));
      sections.push(s.text);
      comparable.push(...s.comparable.map((c) => `${era} W=${size.window}: ${c}`));
      saturated.push(...s.saturated.map((c) => `${era} W=${size.window}: ${c}`));
    }
  }

  const headline = medians(samples, HEADLINE.era, HEADLINE.window);
  const chartTitle = `Server CPU per tools/call over stdio (${HEADLINE.era}, W=${HEADLINE.window}, node ${serverNodeVersion})`;
  const svg = barChartSvg(
    chartTitle,
    'µs',
    headline.map((r) => ({ label: r.server.label, value: r.cpuUs })),
  );
  writeFileSync(join(RESULTS, `${resultName}-cpu.svg`), svg);

  const md = [
    `# End-to-end stdio: tools/call echo (${quick ? 'quick' : 'full'} run)`,
    '',
    ...machineLines(serverNodeVersion),
    `- ${pinningNote()}`,
    `- load generator: build-cmake/mcp_stdio_loadgen (bench/native/stdio_loadgen.cc), every reply checked byte for byte`,
    `- ${rounds} rounds, servers alternating within each round (starting server rotated per round); ${fmt(seconds, 0)} s in all`,
    `- regenerate: \`npm run bench -- e2e-stdio${quick ? ' --quick' : ''}${rounds === defaultRounds ? '' : ` --rounds=${rounds}`}${resultName === 'e2e-stdio' ? '' : ` --node=node${serverMajor}`}\``,
    '',
    'Server CPU is the kernel\'s count (schedstat, all threads) over the measured phase only, divided by the calls; ' +
      'peak RSS is the server\'s VmHWM at the end. Latency is from the batch a request was written in to its reply, ' +
      'so at W=4096 it is mostly queueing (W ÷ throughput). "loadgen" is the generator\'s own CPU per call.',
    '',
    `![${chartTitle}](${resultName}-cpu.svg)`,
    '',
    `The chart is the ${HEADLINE.era} era at W=${HEADLINE.window}, the throughput case the targets are stated for.`,
    '',
    targets(samples),
    '## Is the generator the bottleneck?',
    '',
    saturated.length === 0
      ? `No: the generator's core was under ${SATURATED * 100}% busy in every row ("loadgen core busy" in the tables).`
      : `**Possibly: its core was at least ${SATURATED * 100}% busy in ${saturated.join('; ')}.**`,
    '',
    comparable.length === 0
      ? `Its own CPU per call was under ${COMPARABLE * 100}% of the server's in every row.`
      : `Its own CPU per call was comparable to the server's (at least ${COMPARABLE * 100}%) in: ${comparable.join('; ')}. ` +
        'At W=1 that is the sleep and wake-up per call both sides pay (tens of µs on this machine); at W=64 and up it ' +
        'tracks how many replies a server puts in one write: fewer replies per wake-up, more generator CPU per call.',
    '',
    '## Results',
    '',
    sections.join('\n\n'),
  ].join('\n');

  const data = {
    mode: quick ? 'quick' : 'full',
    rounds,
    serverNode: serverNodeVersion,
    harnessNode: process.version,
    pinning: pinningNote(),
    sizes: SIZES,
    headline: HEADLINE,
    seconds,
    samples,
  };
  const path = writeResults(resultName, md, data);
  console.log(`\n${targets(samples)}`);
  console.log(`e2e-stdio: wrote ${path}, ${resultName}.json and ${resultName}-cpu.svg (${fmt(seconds, 0)} s)`);
}

main();
