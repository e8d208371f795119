// What shared legacy sessions (src/cluster, docs/scale-out.md) add to a legacy tools/call over HTTP:
// `fastermcp serve --http 0` against the same with `--redis-url` (a throwaway redis-server on this
// machine), both running at once, measured in turn, alternating within each round. The native load
// generator opens a session per connection (initialize, initialized), then sends tools/call "echo" with
// the session header; it reads each server's CPU time from the kernel. With shared state a request on
// a held session touches Redis at most every refreshMs (idle/4, at most 30 s), so the steady-state
// difference is the per-request bookkeeping in the transport. The "SSE" pair serves an echo that logs
// first (bench/http/echo-sse.mjs): each call is a stream of three events, each also appended to Redis.
//
//   npm run bench -- shared-sessions            5 rounds of 3 s
//   npm run bench -- shared-sessions --quick    3 rounds of 1.2 s
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinningNote } from './lib/pin.js';
import { median } from './lib/stats.js';
import { FASTERMCP_NATIVE, ensureLoadgen, numberOption, runLoadgen, serverNode, startServer } from './http/harness.js';
import type { LoadgenResult, RunningServer } from './http/harness.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const rounds = numberOption(argv, 'rounds', quick ? 3 : 5);
const duration = numberOption(argv, 'duration', quick ? 1.2 : 3);
const warmup = numberOption(argv, 'warmup', quick ? 0.4 : 1);
const node = serverNode(argv);
ensureLoadgen();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; child: ChildProcess; dir: string }> {
  if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('shared-sessions: redis-server is missing (node scripts/ensure-redis.mjs)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fastermcp-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') return { url: `redis://127.0.0.1:${port}`, child, dir };
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new Error('shared-sessions: redis-server did not answer PING');
}

const redis = await startRedis();
const SSE_MODULE = 'bench/http/echo-sse.mjs';
const contenders = [
  { key: 'local', label: 'in-memory, JSON', spec: FASTERMCP_NATIVE, extra: [] as string[], loadgen: [] as string[] },
  { key: 'shared', label: 'shared, JSON', spec: FASTERMCP_NATIVE, extra: ['--redis-url', redis.url], loadgen: [] as string[] },
  { key: 'localSse', label: 'in-memory, SSE (3 events)', spec: FASTERMCP_NATIVE, extra: [SSE_MODULE], loadgen: ['--sse-ok'] },
  { key: 'sharedSse', label: 'shared, SSE (3 events)', spec: FASTERMCP_NATIVE, extra: [SSE_MODULE, '--redis-url', redis.url], loadgen: ['--sse-ok'] },
];
const pairs = [
  ['JSON answer', 'local', 'shared'],
  ['SSE answer (3 events)', 'localSse', 'sharedSse'],
] as const;
const running: Record<string, RunningServer> = {};
const samples = new Map<string, LoadgenResult[]>();
console.log(`shared-sessions: ${rounds} rounds x ${duration} s (+${warmup} s warm-up); servers on node ${node.version}; ${pinningNote()}`);
try {
  // startServer puts extra arguments last: the module must come right after `serve`.
  for (const c of contenders) {
    const spec = { ...c.spec, args: c.extra[0] === SSE_MODULE ? ['dist/cli.js', 'serve', SSE_MODULE, '--http', '0'] : c.spec.args };
    running[c.key] = await startServer(spec, node.bin, { extraArgs: c.extra.filter((a) => a !== SSE_MODULE) });
  }
  const measure = (key: string, connections: number, seconds: number, warm: number): LoadgenResult => {
    const s = running[key]!;
    const extra = contenders.find((c) => c.key === key)!.loadgen;
    return runLoadgen(['--port', String(s.port), '--connections', String(connections), '--duration', String(seconds), '--warmup', String(warm), '--pid', String(s.pid), '--mode', 'legacy', ...extra], `${key} c=${connections}`);
  };
  for (const c of contenders) measure(c.key, 50, quick ? 0.6 : 2, 0);
  for (let round = 0; round < rounds; round++) {
    for (const connections of [1, 50]) {
      const order = round % 2 === 0 ? contenders : [...contenders].reverse();
      for (const c of order) {
        const r = measure(c.key, connections, duration, warmup);
        const k = `${c.key}|${connections}`;
        samples.set(k, [...(samples.get(k) ?? []), r]);
        console.log(`  round ${round + 1}/${rounds} c=${String(connections).padEnd(2)} ${c.label.padEnd(30)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.latencyUs.p50.toFixed(0).padStart(5)} us  server ${(r.serverCpuUsPerRequest ?? NaN).toFixed(1).padStart(6)} us/req`);
      }
    }
  }
  console.log('\nmedians (legacy tools/call echo, one request in flight per connection):');
  console.log('| answer | connections | in-memory req/s | shared req/s | in-memory server CPU us/req | shared server CPU us/req | shared / in-memory CPU |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [what, localKey, sharedKey] of pairs) {
    for (const connections of [1, 50]) {
      const l = samples.get(`${localKey}|${connections}`)!;
      const s = samples.get(`${sharedKey}|${connections}`)!;
      const lc = median(l.map((r) => r.serverCpuUsPerRequest ?? NaN));
      const sc = median(s.map((r) => r.serverCpuUsPerRequest ?? NaN));
      console.log(`| ${what} | ${connections} | ${median(l.map((r) => r.rps)).toFixed(0)} | ${median(s.map((r) => r.rps)).toFixed(0)} | ${lc.toFixed(1)} | ${sc.toFixed(1)} | ${(sc / lc).toFixed(3)} |`);
    }
  }
} finally {
  for (const s of Object.values(running)) await s.stop();
  redis.child.kill('SIGKILL');
  rmSync(redis.dir, { recursive: true, force: true });
}
