// The native engine inside worker_threads (STYLE.md section 7; node-addon-api's
// objectwrap_worker_thread.js): the addon keeps its state per instance (one simdjson parser per
// thread), so it must load in a Worker, in two Workers at once and next to the main thread's copy,
// give there the records and replies the main thread gives, and survive Workers being terminated
// while they are inside addon calls.
// Skipped only when the addon does not load and FASTERMCP_REQUIRE_NATIVE is unset.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { nativeBinaryPath } from '../../src/native.js';
import { RECORD_STRIDE } from '../../src/jsonrpc/records.js';
import { NATIVE, NATIVE_BINDING, REQUIRE_NATIVE, applyRoutes } from './helpers/impls.js';
import { DEFAULT_ROUTES } from './helpers/vectors.js';

const enc = new TextEncoder();

/** Messages of every outcome: routed requests, escapes, a batch, invalid JSON and UTF-8, too deep. */
const MESSAGES: Uint8Array[] = [
  '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}',
  '{"jsonrpc":"2.0","id":"a\\u0062😀","method":"resources/read","params":{"uri":"file:///a.txt"}}',
  '{"jsonrpc":"2.0","method":"prompts/g\\u0065t","params":{"n\\u0061me":"greet"}}',
  '[{"jsonrpc":"2.0","id":1e400,"result":{}},{"jsonrpc":"2.0","id":null,"error":{"code":-32601,"message":"no"}},7]',
  '{"jsonrpc":"2.0","id":-0,"method":"ping","id":2}',
  '{"jsonrpc":"2.0","id":1.50,"method":"tools/call","params":{"name":"caf\\u00e9","name":"add"}}',
  '{"jsonrpc":"2.0","id":3,"method":"x","params":' + '['.repeat(200) + ']'.repeat(200) + '}',
  '{"jsonrpc":"2.0","id":4,"method":"\\ud800"}',
  '{"jsonrpc":"2.0",',
  '',
]
  .map((m) => enc.encode(m))
  .concat([new Uint8Array([0x7b, 0x22, 0xc0, 0x80, 0x22, 0x3a, 0x31, 0x7d]), enc.encode('\ufeff {"jsonrpc":"2.0","method":"ping"}\r\n')]);

/** A stream of the messages above, framed, cut into 5-byte chunks. */
const STREAM = Buffer.concat(MESSAGES.filter((m) => !m.includes(0x0a)).flatMap((m) => [m, enc.encode('\n')]));
const CHUNKS: Uint8Array[] = [];
for (let at = 0; at < STREAM.length; at += 5) CHUNKS.push(new Uint8Array(STREAM.subarray(at, at + 5)));

interface Output {
  records: Int32Array;
  replies: Uint8Array;
  carried: Uint8Array;
}

interface WorkerResult {
  scans: Output[];
  feeds: Output[];
  threadId: number;
  implementation?: string;
}

// Plain JS run by each Worker: load the .node file itself, route like test/vectors/routes.json, scan
// every message `rounds` times (so two Workers overlap), then frame the stream, and post the outputs of
// the last round back.
const WORKER_SOURCE = `
const { parentPort, workerData, threadId } = require('node:worker_threads');
const binding = require(workerData.path);
const router = new binding.Router();
for (const [method, slot, table] of workerData.methods) router.setMethod(method, slot, table);
for (const [table, name, slot] of workerData.names) router.setName(table, name, slot);
const engine = new binding.Engine(router, workerData.limits);
const stride = workerData.stride;
let out = new Int32Array(stride * 4);
const call = (n) => {
  if (n * stride > out.length) {
    out = new Int32Array(n * stride);
    engine.copyRecords(out);
  }
  return { records: out.slice(0, n * stride), replies: new Uint8Array(engine.replies()), carried: new Uint8Array(engine.carried()) };
};
const scans = [];
for (let round = 0; round < workerData.rounds; round++) {
  scans.length = 0;
  for (const message of workerData.messages) scans.push(call(engine.scan(message, out)));
}
const feeds = workerData.chunks.map((chunk) => call(engine.feed(chunk, out)));
feeds.push(call(engine.end(out)));
parentPort.postMessage({ scans, feeds, threadId });
`;

function runWorker(path: string, rounds: number): { worker: Worker; result: Promise<WorkerResult> } {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      path,
      rounds,
      stride: RECORD_STRIDE,
      messages: MESSAGES,
      chunks: CHUNKS,
      limits: { maxMessageBytes: 4194304, maxDepth: 128, maxBatch: 1000, allowBatch: true },
      methods: Object.entries(DEFAULT_ROUTES.methods).map(([m, { slot, table }]) => [m, slot, table ?? -1]),
      names: Object.entries(DEFAULT_ROUTES.names).flatMap(([table, names]) =>
        Object.entries(names).map(([name, slot]) => [Number(table), name, slot]),
      ),
    },
  });
  const result = new Promise<WorkerResult>((resolve, reject) => {
    worker.once('message', (value: WorkerResult) => resolve(value));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} before posting its result`)));
  });
  return { worker, result };
}

/** A Worker running helpers/scan-worker.ts (the public API and the loader) under tsx. */
function runLoaderWorker(): Promise<WorkerResult> {
  const worker = new Worker(new URL('./helpers/scan-worker-boot.mjs', import.meta.url), {
    workerData: { routes: DEFAULT_ROUTES, messages: MESSAGES, chunks: CHUNKS },
  });
  return new Promise<WorkerResult>((resolve, reject) => {
    worker.once('message', (value: WorkerResult) => resolve(value));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} before posting its result`)));
  });
}

/** The same work on the main thread, through the TS wrapper. */
function mainThread(): { scans: Output[]; feeds: Output[] } {
  const router = NATIVE.router();
  applyRoutes(router, DEFAULT_ROUTES);
  const engine = NATIVE.engine(router);
  const call = (n: number): Output => ({
    records: engine.records.slice(0, n * RECORD_STRIDE),
    replies: new Uint8Array(engine.replies()),
    carried: new Uint8Array(engine.carried()),
  });
  const scans = MESSAGES.map((m) => call(engine.scan(m)));
  const feeds = CHUNKS.map((c) => call(engine.feed(c)));
  feeds.push(call(engine.end()));
  return { scans, feeds };
}

const plain = (outputs: Output[]): { records: number[]; replies: string; carried: string }[] =>
  outputs.map((o) => ({
    records: Array.from(o.records),
    replies: Buffer.from(o.replies).toString('latin1'),
    carried: Buffer.from(o.carried).toString('latin1'),
  }));

const skip = NATIVE_BINDING === null && !REQUIRE_NATIVE;

describe.skipIf(skip)(`native engine in worker threads${skip ? ` (SKIPPED: ${NATIVE.problem})` : ''}`, () => {
  const path = (): string => {
    const p = nativeBinaryPath();
    expect(p, `the addon did not load: ${NATIVE.problem}`).not.toBeNull();
    return p!;
  };

  it('gives in a Worker the records, replies and carried bytes of the main thread', async () => {
    const expected = mainThread();
    expect(expected.scans.reduce((n, o) => n + o.records.length / RECORD_STRIDE, 0)).toBeGreaterThan(MESSAGES.length);
    const { result } = runWorker(path(), 1);
    const got = await result;
    expect(plain(got.scans)).toEqual(plain(expected.scans));
    expect(plain(got.feeds)).toEqual(plain(expected.feeds));
  });

  it('loads through the public API and the loader in a Worker, picks native and gives the same outputs', async () => {
    const expected = mainThread();
    const got = await runLoaderWorker();
    expect(got.implementation).toBe('native');
    expect(plain(got.scans)).toEqual(plain(expected.scans));
    expect(plain(got.feeds)).toEqual(plain(expected.feeds));
  });

  it('runs in two Workers at once, and next to the main thread', async () => {
    const expected = mainThread();
    const a = runWorker(path(), 300);
    const b = runWorker(path(), 300);
    // The main thread keeps scanning while both Workers run.
    for (let i = 0; i < 50; i++) expect(plain(mainThread().scans)).toEqual(plain(expected.scans));
    const [gotA, gotB] = await Promise.all([a.result, b.result]);
    expect(gotA.threadId).not.toBe(gotB.threadId);
    for (const got of [gotA, gotB]) {
      expect(plain(got.scans)).toEqual(plain(expected.scans));
      expect(plain(got.feeds)).toEqual(plain(expected.feeds));
    }
  });

  // Worker.terminate() landing while the Worker is inside an addon call: the call's next N-API step
  // fails (the environment is terminating) and the binding's exception cannot be thrown. Without
  // NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS (binding.gyp) node-addon-api aborted the whole process
  // ("FATAL ERROR: Error::ThrowAsJavaScriptException napi_throw"); Piscina terminates Workers. The
  // Workers run in a child process so that an abort fails this test instead of the test run.
  it('survives Workers terminated while inside addon calls, and the addon keeps working', () => {
    const script = fileURLToPath(new URL('./helpers/terminate-workers.mjs', import.meta.url));
    const child = spawnSync(process.execPath, [script, path(), '30'], { encoding: 'utf8', timeout: 60_000 });
    const why = `exit ${child.status} signal ${child.signal}: ${child.stderr.split('\n').slice(0, 3).join(' / ')}`;
    expect(child.stdout.trim(), why).toBe('survived');
    expect(child.status, why).toBe(0);
  });
});
