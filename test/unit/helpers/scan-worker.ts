// Worker entry for test/unit/jsonrpc-worker.test.ts: loads the engine the way an application does
// (src/jsonrpc/index.ts -> src/native.ts loader, once per thread), scans and frames what workerData
// holds, and posts the outputs back. Started through tsx (the test registers it in the Worker).
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { createEngine, createRouter, implementation } from '../../../src/jsonrpc/index.js';
import { RECORD_STRIDE } from '../../../src/jsonrpc/records.js';
import { applyRoutes } from './impls.js';
import type { Routes } from './impls.js';

const data = workerData as { routes: Routes; messages: Uint8Array[]; chunks: Uint8Array[] };
const router = createRouter();
applyRoutes(router, data.routes);
const engine = createEngine({ router });
const call = (n: number): { records: Int32Array; replies: Uint8Array; carried: Uint8Array } => ({
  records: engine.records.slice(0, n * RECORD_STRIDE),
  replies: new Uint8Array(engine.replies()),
  carried: new Uint8Array(engine.carried()),
});
const scans = data.messages.map((m) => call(engine.scan(m)));
const feeds = data.chunks.map((c) => call(engine.feed(c)));
feeds.push(call(engine.end()));
parentPort!.postMessage({ scans, feeds, threadId, implementation });
