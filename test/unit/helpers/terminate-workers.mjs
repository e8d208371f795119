// Child process for test/unit/jsonrpc-worker.test.ts: starts Workers that call into the addon in a
// loop (scan, replies, carried) and terminates each while it is busy, then uses the addon on this
// thread. Prints "survived" when all of that leaves the process alive and working.
//   node terminate-workers.mjs <path of mcp_native.node> [workers]
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const [path, count = '30'] = process.argv.slice(2);
const limits = { maxMessageBytes: 1048576, maxDepth: 128, maxBatch: 1000, allowBatch: true };
const source = `
  const binding = require(${JSON.stringify(path)});
  const engine = new binding.Engine(new binding.Router(), ${JSON.stringify(limits)});
  const out = new Int32Array(64);
  const message = new TextEncoder().encode('{"jsonrpc":"2.0","id":1}');
  require('node:worker_threads').parentPort.postMessage('ready');
  for (;;) { engine.scan(message, out); engine.replies(); engine.carried(); }
`;
for (let k = 0; k < Number(count); k++) {
  const worker = new Worker(source, { eval: true });
  await new Promise((resolve) => worker.once('message', resolve));
  await new Promise((resolve) => setTimeout(resolve, 2 + (k % 4)));
  await worker.terminate();
}
const binding = createRequire(import.meta.url)(path);
const engine = new binding.Engine(new binding.Router(), limits);
const n = engine.scan(new TextEncoder().encode('{"jsonrpc":"2.0","id":1}'), new Int32Array(64));
console.log(n === 1 ? 'survived' : `scan gave ${n} records`);
