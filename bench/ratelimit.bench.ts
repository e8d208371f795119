// Rate-limit check micro-benchmark (docs/ratelimit.md section 9): ns per check, in one run, for
//   fused native      the native engine admitting tools/call requests itself: the cost of an engine feed
//                     of 64 requests with admission on, minus the same feed with it off, per request
//                     (the client changes every chunk, cycling through the key set)
//   native binding    RateLimiter.check(key, 1, now) from JS (one crossing per check)
//   js twin           the pure-JS twin's check (src/ratelimit/js.ts)
//   js Map bucket     the obvious token bucket over a Map (the floor a JS user writes in ten lines)
//   rlf memory        rate-limiter-flexible RateLimiterMemory.consume (a promise per check)
//   rlf redis         rate-limiter-flexible RateLimiterRedis.consume on a local redis-server (one call at a time)
// with 10k and 1M distinct keys, every key used before timing. Token buckets throughout, sized so that every
// check is admitted. Each (keys, contender) pair runs in a process of its own (rounds interleaved), as in
// bench/jwt.bench.ts: one process timing every contender turns the JIT's call sites megamorphic.
//
//   npm run bench -- ratelimit                 writes bench/results/ratelimit.md
//   npm run bench -- ratelimit --node node24   the same on Node 24; bench/results/ratelimit-node24.md
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { median, resultsNameOrRerun, roundsOption, runIsolated } from './lib/isolated.js';
import { ROOT, machineLines, table, writeResults } from './lib/report.js';
import { createEngine, createRouter, implementation } from '../src/jsonrpc/index.js';
import { createRateLimiter, createRuleSet } from '../src/ratelimit/index.js';
import { METHOD_SLOTS } from '../src/server/protocol.js';
import { NAME_TABLE_TOOLS } from '../src/jsonrpc/index.js';

// ---- --node: re-run this file under another node ----------------------------------------------------------
const args = process.argv.slice(2);
const resultName = resultsNameOrRerun('ratelimit', args);
if (implementation !== 'native') throw new Error('the native addon did not load: this benchmark compares it');

const SIZES = [10_000, 1_000_000] as const;
const CONTENDERS = ['fused native', 'native binding', 'js twin', 'js Map bucket', 'rlf memory', 'rlf redis'] as const;
type Contender = (typeof CONTENDERS)[number];
const SPEC = { algorithm: 'token-bucket' as const, limit: 1_000_000_000, windowMs: 1000 };
const BATCH = 64; // fused: requests per engine feed

/** The plain Map token bucket a JS user would write. */
class MapBucket {
  private readonly buckets = new Map<string, { tokens: number; last: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}
  check(key: string, cost: number, now: number): boolean {
    let b = this.buckets.get(key);
    if (b === undefined) this.buckets.set(key, (b = { tokens: this.limit, last: now }));
    else if (now > b.last) ((b.tokens = Math.min(this.limit, b.tokens + ((now - b.last) * this.limit) / this.windowMs)), (b.last = now));
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }
}

// ---- a local redis-server for the rlf redis row ---------------------------------------------------------------
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

// ---- one (keys, contender) pair in this process ------------------------------------------------------------
async function measure(size: number, who: Contender): Promise<number> {
  const keys = Array.from({ length: size }, (_, i) => `client-${i}`);
  let i = 0;
  const next = (): string => keys[(i = i + 1 === size ? 0 : i + 1)]!;
  const bench = new Bench({ time: 600, warmupTime: 200 });
  let per = 1;
  let cleanup = async (): Promise<void> => {};
  if (who === 'fused native') {
    // Two engines over one router: one admits through a rule set of one client-scoped bucket, one does not.
    const router = createRouter();
    METHOD_SLOTS.forEach((m, slot) => router.setMethod(m, slot, m === 'tools/call' ? NAME_TABLE_TOOLS : undefined));
    router.setName(NAME_TABLE_TOOLS, 'echo', 0);
    const set = createRuleSet([{ spec: SPEC, scope: 'client', maxKeys: size }], { implementation: 'native' });
    set.setMatch(0, [METHOD_SLOTS.indexOf('tools/call')], null);
    const on = createEngine({ router });
    const off = createEngine({ router });
    on.setAdmission!((set as unknown as { raw: object }).raw, [['h', 'm', 't', 'n']]);
    const chunk = Buffer.from(
      Array.from({ length: BATCH }, (_, k) => `{"jsonrpc":"2.0","id":${k},"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}\n`).join(''),
    );
    const one = Buffer.from('{"jsonrpc":"2.0","id":0,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}\n');
    for (const k of keys) (on.setClient!(k), on.feed(one)); // every key in the table
    if (set.size(0) !== size) throw new Error(`fused: ${set.size(0)} keys tracked, expected ${size}`);
    // Both engines change client every chunk (the crossing is in both), so the difference is the checks.
    bench.add('on', () => {
      on.setClient!(next());
      if (on.feed(chunk) !== BATCH) throw new Error('records');
    });
    bench.add('off', () => {
      off.setClient!(next());
      if (off.feed(chunk) !== BATCH) throw new Error('records');
    });
    off.setAdmission!(null, []);
    per = BATCH;
  } else if (who === 'native binding' || who === 'js twin') {
    const limiter = createRateLimiter({ ...SPEC, maxKeys: size }, { implementation: who === 'js twin' ? 'js' : 'native' });
    const now = Date.now();
    for (const k of keys) limiter.check(k, 1, now);
    bench.add(who, () => limiter.check(next(), 1, Date.now()));
  } else if (who === 'js Map bucket') {
    const limiter = new MapBucket(SPEC.limit, SPEC.windowMs);
    const now = Date.now();
    for (const k of keys) limiter.check(k, 1, now);
    bench.add(who, () => limiter.check(next(), 1, Date.now()));
  } else if (who === 'rlf memory') {
    const limiter = new RateLimiterMemory({ points: SPEC.limit, duration: 3600 });
    for (const k of keys) await limiter.consume(k, 1);
    bench.add(who, async () => {
      await limiter.consume(next(), 1);
    });
  } else {
    const { Redis } = await import('ioredis');
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-bench-redis-'));
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    // Reconnects every 50 ms until the server listens (bounded: 10 s).
    // One plain connection, one call at a time, for the fill too (auto-pipelining made the timed calls
    // that followed slower, and the point is what one consume costs).
    const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    client.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('redis-server did not start within 10 s')), 10_000);
      client.once('ready', () => (clearTimeout(timer), resolve()));
    });
    const limiter = new RateLimiterRedis({ storeClient: client, points: SPEC.limit, duration: 3600 });
    for (const k of keys) await limiter.consume(k, 1);
    bench.add(who, async () => {
      await limiter.consume(next(), 1);
    });
    cleanup = async () => {
      client.disconnect();
      server.kill('SIGKILL');
    };
  }
  await bench.run();
  await cleanup();
  const p50 = (name: string): number => (bench.tasks.find((t) => t.name === name)!.result as unknown as { latency: { p50: number } }).latency.p50 * 1e6;
  if (who === 'fused native') return (p50('on') - p50('off')) / per;
  return p50(who);
}

const pair = process.env.FASTERMCP_RL_PAIR;
if (pair !== undefined) {
  const [size, who] = pair.split('\t') as [string, Contender];
  process.stdout.write(`${JSON.stringify({ ns: await measure(Number(size), who) })}\n`);
  process.exit(0);
}

// ---- run ------------------------------------------------------------------------------------------------------
const ROUNDS = roundsOption(args, 3);
const samples = runIsolated('FASTERMCP_RL_PAIR', SIZES.flatMap((size) => CONTENDERS.map((who) => [size, who] as const)), ROUNDS);
const result = (size: number, who: Contender): number => median(samples.get(`${size}\t${who}`)!);

// ---- report ---------------------------------------------------------------------------------------------------
const fmt = (ns: number) => (Number.isNaN(ns) ? '—' : ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`);
const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? '—' : `${(a / b).toFixed(2)}x`);
const rows = CONTENDERS.map((who) => [who, ...SIZES.map((s) => fmt(result(s, who))), ...SIZES.map((s) => ratio(result(s, who), result(s, 'js Map bucket')))]);
const targets: string[][] = [];
for (const size of SIZES) {
  const fused = result(size, 'fused native');
  const binding = result(size, 'native binding');
  const map = result(size, 'js Map bucket');
  targets.push([`fused check <= 50 ns per call (${size} keys)`, fmt(fused), fused <= 50 ? 'met' : `missed by ${fmt(fused - 50)}`]);
  targets.push([
    `standalone binding no slower than the JS Map bucket (${size} keys)`,
    `${fmt(binding)} vs ${fmt(map)}`,
    binding <= map ? 'met' : `missed (${ratio(binding, map)}): the crossing costs more than the check; the JS twin stays the default for standalone use`,
  ]);
}
const md = [
  `# Rate-limit check: median ns per check (p50; median of ${ROUNDS} rounds, each contender in its own process)`,
  '',
  ...machineLines(),
  `- rate-limiter-flexible ${(JSON.parse(readFileSync(join(ROOT, 'node_modules/rate-limiter-flexible/package.json'), 'utf8')) as { version: string }).version}; token buckets (rate-limiter-flexible: a points-per-duration window of 1 hour), every check admitted; keys cycle through the set, all present before timing; the Redis limiter gets one call at a time over one connection (the 1M-key fill takes ~40 s)`,
  `- fused native: (engine feed of ${BATCH} tools/call requests with admission) - (the same without), / ${BATCH}`,
  `- reproduce: \`npm run bench -- ratelimit${resultName === 'ratelimit' ? '' : ` --node ${resultName.slice(10)}`}\``,
  '',
  table(['contender', ...SIZES.map((s) => `${s / 1000}k keys`), ...SIZES.map((s) => `${s / 1000}k / Map bucket`)], rows),
  '',
  '## Targets',
  '',
  table(['target', 'measured', 'verdict'], targets),
  '',
];
console.log(md.join('\n'));
console.log(`wrote ${writeResults(resultName, md.join('\n'), { node: process.version, results: Object.fromEntries([...samples].map(([k, v]) => [k, median(v)])) })}`);
