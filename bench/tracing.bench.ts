// What the operator observers (src/ops/) add to a request: tools/call echo through dispatch
// (handleRequest, in process, a legacy session; no transport, so every difference is the observers'),
// per configuration, all in one process, interleaved round by round (in a new shuffled order each round):
//
//   plain             no observer: dispatch's plain path
//   seam              one observer that declines every request: the seam's own cost (src/server/observe.ts)
//   tracing-no-sdk    tracingObserver with no SDK registered (declines every request)
//   log-info          loggingObserver at info (nothing written for a successful call)
//   log-debug         loggingObserver at debug: one JSON line per call, written to /dev/null (sync fd)
//   tracing-sdk       tracingObserver with BasicTracerProvider + BatchSpanProcessor (a discarding
//                     exporter) and the AsyncLocalStorage context manager
//   audit             auditObserver + AuditWriter (file in os.tmpdir(), fsync 'batch')
//   cli-default       what `fastermcp serve` registers by default: failure logs via server.onFailure (no SDK, no audit)
//   all               tracing-sdk + log-debug + audit
//
// It imports the tsc output (dist/): run `npx tsc -p tsconfig.json` first. Not the sources through tsx:
// tsx (esbuild keepNames) wraps every closure created per call in a __name() helper that costs more
// than the observers themselves.
//
// Reported: wall ns per call and process CPU ns per call (cpuUsage counts the audit writer's libuv
// threads too), medians over rounds, and CPU against plain paired by round (ratio and difference).
//
//   npm run bench -- tracing             (or: node --import tsx bench/tracing.bench.ts [--rounds=N] [--calls=N]
//                                         [--only=name,name]: plain, seam and these configurations only)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { AuditWriter } from '../dist/ops/audit.js';
import { auditObserver } from '../dist/ops/audit-observer.js';
import { createLogger, failureLogger, loggingObserver } from '../dist/ops/log.js';
import { tracingObserver } from '../dist/ops/tracing.js';
import { handleNotification, handleRequest } from '../dist/server/dispatch.js';
import type { Reply, RequestEnv } from '../dist/server/dispatch.js';
import { McpServer } from '../dist/server/server.js';
import { Session } from '../dist/server/session.js';
import { median } from './lib/stats.js';

function option(name: string): string | undefined {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
}
const ROUNDS = Number(option('rounds') ?? 15);
const CALLS = Number(option('calls') ?? 50_000);
const WARMUP = 5_000;

const discard: SpanExporter = {
  export: (_spans: ReadableSpan[], done) => done({ code: 0 }),
  shutdown: async () => {},
};
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(discard, { maxQueueSize: 1 << 16, maxExportBatchSize: 4096 })] });
const contextManager = new AsyncLocalStorageContextManager();
const devNull = (): ReturnType<typeof pino.destination> => pino.destination({ dest: '/dev/null', sync: true });
const dir = mkdtempSync(join(tmpdir(), 'fastermcp-bench-audit-'));
const key = Buffer.alloc(32, 1);

interface Config {
  name: string;
  server: McpServer;
  env: RequestEnv;
  /** Runs around the timed loop (the SDK configuration enables its context manager only then). */
  around?: <T>(fn: () => Promise<T>) => Promise<T>;
  writer?: AuditWriter;
}

function newServer(): { server: McpServer; env: RequestEnv } {
  const server = new McpServer({ name: 'bench', version: '1' });
  server.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }, (a: { text?: string }) => a.text ?? '');
  const session = new Session({ requestTimeoutMs: 60_000 });
  const env: RequestEnv = { session, channel: { send: () => {}, open: true }, auth: { subject: 'bench', scopes: [] }, signal: undefined };
  handleRequest(server, env, '0', 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'b', version: '1' } });
  handleNotification(env, 'notifications/initialized', undefined);
  return { server, env };
}

const withContext = async <T>(fn: () => Promise<T>): Promise<T> => {
  context.setGlobalContextManager(contextManager.enable());
  try {
    return await fn();
  } finally {
    context.disable();
  }
};

async function configs(): Promise<Config[]> {
  const out: Config[] = [];
  const add = (name: string, setup: (server: McpServer) => void, extra: Partial<Config> = {}): void => {
    const { server, env } = newServer();
    setup(server);
    out.push({ name, server, env, ...extra });
  };
  add('plain', () => {});
  add('seam', (s) => s.observe({ begin: () => undefined }));
  add('tracing-no-sdk', (s) => s.observe(tracingObserver(s)));
  add('log-info', (s) => s.observe(loggingObserver(createLogger({ level: 'info', destination: devNull() }))));
  add('log-debug', (s) => s.observe(loggingObserver(createLogger({ level: 'debug', destination: devNull() }))));
  add('tracing-sdk', (s) => s.observe(tracingObserver(s, { tracerProvider: provider })), { around: withContext });
  const auditWriter = await AuditWriter.open(join(dir, 'audit.jsonl'), key);
  add('audit', (s) => s.observe(auditObserver(s, auditWriter)), { writer: auditWriter });
  // At info the CLI logs failures only, through server.onFailure (no observer): see src/ops/serve-ops.ts.
  add('cli-default', (s) => void s.onFailure(failureLogger(createLogger({ level: 'info', destination: devNull() }))));
  const allWriter = await AuditWriter.open(join(dir, 'all.jsonl'), key);
  add(
    'all',
    (s) => {
      s.observe(tracingObserver(s, { tracerProvider: provider }));
      s.observe(loggingObserver(createLogger({ level: 'debug', destination: devNull() })));
      s.observe(auditObserver(s, allWriter));
    },
    { around: withContext, writer: allWriter },
  );
  return out;
}

const PARAMS = { name: 'echo', arguments: { text: 'hello' } };

async function run(c: Config, n: number): Promise<{ wallNs: number; cpuNs: number }> {
  const body = async (): Promise<{ wallNs: number; cpuNs: number }> => {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const reply = handleRequest(c.server, c.env, String(i + 1), 'tools/call', PARAMS) as Reply;
      if (reply.json === null || reply instanceof Promise) throw new Error(`${c.name}: the echo call did not answer synchronously`);
    }
    // The audit writer's work is part of the cost: wait for the disk.
    await c.writer?.flush();
    const wallNs = Number(process.hrtime.bigint() - t0) / n;
    const cpu = process.cpuUsage(cpu0);
    return { wallNs, cpuNs: ((cpu.user + cpu.system) * 1000) / n };
  };
  return c.around === undefined ? body() : c.around(body);
}

async function main(): Promise<void> {
  const only = option('only')?.split(',');
  const everything = await configs();
  const all = everything.filter((c) => only === undefined || c.name === 'plain' || c.name === 'seam' || only.includes(c.name));
  for (const c of everything) if (!all.includes(c)) await c.writer?.close();
  for (const c of all) await run(c, WARMUP);
  const results = new Map<string, { wall: number[]; cpu: number[] }>(all.map((c) => [c.name, { wall: [], cpu: [] }]));
  // A fresh shuffled order every round (a fixed seed): whichever configuration runs after the audit
  // writer's garbage pays for collecting it, so no configuration may always follow another.
  let seed = 12345;
  const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let r = 0; r < ROUNDS; r++) {
    const order = [...all];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const c of order) {
      const m = await run(c, CALLS);
      results.get(c.name)!.wall.push(m.wallNs);
      results.get(c.name)!.cpu.push(m.cpuNs);
    }
  }
  // Ratios are paired by round (each configuration against plain of the same round), then the median
  // taken: other load on a shared machine moves whole rounds, and pairing cancels most of that.
  const base = results.get('plain')!;
  const paired = (xs: number[], ys: number[]): number => median(xs.map((x, i) => x / ys[i]!));
  const pairedDiff = (xs: number[], ys: number[]): number => median(xs.map((x, i) => x - ys[i]!));
  console.log(`tools/call echo through handleRequest, ${CALLS} calls x ${ROUNDS} rounds, node ${process.version}`);
  console.log('| configuration | wall ns/call | CPU ns/call | CPU vs plain (paired) | added CPU ns (paired) |');
  console.log('|---|---|---|---|---|');
  for (const c of all) {
    const r = results.get(c.name)!;
    const x = paired(r.cpu, base.cpu);
    console.log(`| ${c.name} | ${median(r.wall).toFixed(0)} | ${median(r.cpu).toFixed(0)} | ${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x | ${pairedDiff(r.cpu, base.cpu).toFixed(0)} |`);
  }
  for (const c of all) await c.writer?.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
