// `fastermcp serve --workers N` against one process: Streamable HTTP tools/call "echo" over 50
// keep-alive connections, every response checked by the native load generator.
//
// Contenders, all running at once and measured in turn, alternating within each round:
//   fastermcp native, 1 process        dist/cli.js serve --http 0
//   fastermcp native, --workers 2      the same with two worker processes behind the port
//   fastermcp pure-JS, 1 process / --workers 2   the same with FASTERMCP_FORCE_JS=1
//   official SDK v1, 1 process         bench/http/sdk.mjs (it has no multi-process mode)
//   bare node:http echo, 1 process     the floor of one process
// Nothing is pinned here: a multi-process server needs every core, and its workers would inherit a
// pinned primary's CPU mask. So the load generator shares the cores with the servers, as it would with
// any client on this machine; its own CPU share is reported. Server CPU is the sum over the whole process
// tree (primary and workers) from /proc, read around each measurement.
//
//   npm run bench -- workers --quick     3 rounds of 1.5 s per measurement
//   npm run bench -- workers             5 rounds of 5 s
//   --node node24, --rounds=N, --duration=S, --connections=N
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { cpuTimeNs } from './lib/proc.js';
import { RESULTS, ROOT, machineLines, table, writeResults } from './lib/report.js';
import { median, ratio } from './lib/stats.js';
import { BARE_ECHO, FASTERMCP_JS, FASTERMCP_NATIVE, SDK_STATELESS, ensureLoadgen, numberOption, resultsName, runLoadgen, serverNode, startServer } from './http/harness.js';
import type { LoadgenResult, RunningServer, ServerSpec } from './http/harness.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const rounds = numberOption(argv, 'rounds', quick ? 3 : 5);
const duration = numberOption(argv, 'duration', quick ? 1.5 : 5);
const connections = numberOption(argv, 'connections', 50);
const node = serverNode(argv);
const NAME = resultsName('workers', node.version);

if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
  console.error('workers: dist/cli.js is missing; run `npm run build:ts` first');
  process.exit(1);
}
ensureLoadgen();

interface Contender {
  key: string;
  label: string;
  spec: ServerSpec;
  extraArgs: string[];
  mode: 'stateless' | 'plain';
  /** The SDK knows 2025-11-25 at most. */
  loadgenArgs: string[];
}
const EXPECT = ['--expect', '"resultType":"complete"'];
const contenders: Contender[] = [
  { key: 'native1', label: 'fastermcp native, 1 process', spec: FASTERMCP_NATIVE, extraArgs: [], mode: 'stateless', loadgenArgs: EXPECT },
  { key: 'native2', label: 'fastermcp native, --workers 2', spec: FASTERMCP_NATIVE, extraArgs: ['--workers', '2'], mode: 'stateless', loadgenArgs: EXPECT },
  { key: 'js1', label: 'fastermcp pure-JS, 1 process', spec: FASTERMCP_JS, extraArgs: [], mode: 'stateless', loadgenArgs: EXPECT },
  { key: 'js2', label: 'fastermcp pure-JS, --workers 2', spec: FASTERMCP_JS, extraArgs: ['--workers', '2'], mode: 'stateless', loadgenArgs: EXPECT },
  { key: 'sdk', label: 'official SDK v1 (stateless), 1 process', spec: SDK_STATELESS, extraArgs: [], mode: 'stateless', loadgenArgs: ['--protocol-version', '2025-11-25'] },
  { key: 'bare', label: 'bare node:http echo, 1 process (floor)', spec: BARE_ECHO, extraArgs: [], mode: 'plain', loadgenArgs: [] },
];

/** The pids of `pid` and every process below it (node forks from its main thread, whose tid is the pid). */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const children = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (children !== '') out.push(...children.split(' ').map(Number));
    } catch {
      // gone
    }
  }
  return out;
}

const treeCpuNs = (pid: number): number => tree(pid).reduce((sum, p) => sum + (cpuTimeNs(p) || 0), 0);

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  serverCpuUs: number;
  serverCores: number;
  loadgenShare: number;
}
const samples = new Map<string, Sample[]>();

const loadBefore = loadavg()[0]!;
const machine = machineLines(node.version);
console.log(`workers: ${quick ? 'quick' : 'full'} run, ${rounds} rounds x ${duration} s, ${connections} connections, servers on node ${node.version}, ${availableParallelism()} cores, nothing pinned`);
const running: Record<string, RunningServer> = {};
try {
  for (const c of contenders) running[c.key] = await startServer(c.spec, node.bin, { extraArgs: c.extraArgs, pin: false });
  const measure = (c: Contender, seconds: number): { r: LoadgenResult; cpuNs: number } => {
    const server = running[c.key]!;
    const before = treeCpuNs(server.pid);
    const r = runLoadgen(['--port', String(server.port), '--connections', String(connections), '--duration', String(seconds), '--warmup', '0', '--mode', c.mode, ...c.loadgenArgs], c.label, false);
    return { r, cpuNs: treeCpuNs(server.pid) - before };
  };
  for (const c of contenders) measure(c, quick ? 0.8 : 2); // JIT warm-up, dropped
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order.map((_, i) => order[(i + round) % order.length]!)) {
      const { r, cpuNs } = measure(c, duration);
      const s: Sample = {
        rps: r.rps,
        p50: r.latencyUs.p50,
        p99: r.latencyUs.p99,
        serverCpuUs: cpuNs / 1000 / r.requests,
        serverCores: cpuNs / 1e9 / r.seconds,
        loadgenShare: r.loadgenCpuShare,
      };
      samples.set(c.key, [...(samples.get(c.key) ?? []), s]);
      console.log(`  round ${round + 1}/${rounds}  ${c.label.padEnd(40)} ${s.rps.toFixed(0).padStart(6)} req/s  p50 ${s.p50.toFixed(0).padStart(5)} us  server ${s.serverCpuUs.toFixed(1).padStart(5)} us/req on ${s.serverCores.toFixed(2)} cores`);
    }
  }
} finally {
  await Promise.all(Object.values(running).map((r) => r.stop()));
}

const sum = (key: string): Sample => {
  const xs = samples.get(key)!;
  return {
    rps: median(xs.map((x) => x.rps)),
    p50: median(xs.map((x) => x.p50)),
    p99: median(xs.map((x) => x.p99)),
    serverCpuUs: median(xs.map((x) => x.serverCpuUs)),
    serverCores: median(xs.map((x) => x.serverCores)),
    loadgenShare: median(xs.map((x) => x.loadgenShare)),
  };
};
const native1 = sum('native1');
const js1 = sum('js1');
const rows = contenders.map((c) => {
  const s = sum(c.key);
  const base = c.key.startsWith('js') ? js1 : native1;
  return [c.label, s.rps.toFixed(0), ratio(s.rps, base.rps), s.p50.toFixed(0), s.p99.toFixed(0), s.serverCpuUs.toFixed(1), s.serverCores.toFixed(2), s.loadgenShare.toFixed(2)];
});
const md = [
  `# --workers 2 against one process (${NAME})`,
  '',
  ...machine,
  `- load average before: ${loadBefore.toFixed(2)}; ${rounds} rounds x ${duration} s, ${connections} keep-alive connections, stateless tools/call echo (the floor: a plain JSON echo); medians`,
  '- nothing pinned: the load generator shares the two cores with the servers; server CPU is the whole process tree (primary + workers)',
  '- command: `npm run bench -- workers' + (quick ? ' --quick' : '') + node.flag + '`',
  '',
  table(['server', 'req/s', 'req/s vs 1 process (same engine)', 'p50 µs', 'p99 µs', 'server CPU µs/req', 'server CPU (cores)', 'load generator CPU (cores)'], rows),
  '',
].join('\n');
const file = writeResults(NAME, md, Object.fromEntries(contenders.map((c) => [c.key, { label: c.label, ...sum(c.key), samples: samples.get(c.key) }])));
console.log(`\n${md}\nworkers: wrote ${file} (${RESULTS})`);
