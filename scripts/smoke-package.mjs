// Run inside a scratch project where the packed tarball was installed with --ignore-scripts
// (.ci/run step 7): the package must load its shipped prebuild, scan with the native engine, and
// also be require()-able from CommonJS (require(esm), Node >= 20.19); its `fastermcp` bin serves MCP.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  BODY_END, BODY_START, CODE, ID_END, ID_START, KIND, KIND_INVALID, KIND_REQUEST, SLOT,
  createEngine, createRouter, runtimeInfo,
} from 'fastermcp';

const info = runtimeInfo();
console.log('runtimeInfo():', JSON.stringify(info, null, 2));
assert.equal(info.implementation, 'native', `expected native, load errors: ${info.loadErrors.join('; ')}`);
assert.match(info.binaryPath, /node_modules\/fastermcp\/prebuilds\/linux-x64\/fastermcp\.glibc\.node$/);
assert.deepEqual(info.loadErrors, []);
assert.ok(existsSync('node_modules/fastermcp/dist/index.d.ts'), 'types are shipped');

const router = createRouter();
router.setMethod('ping', 1);
const engine = createEngine({ router });
const msg = new TextEncoder().encode('{"jsonrpc":"2.0","id":"p1","method":"ping"}');
assert.equal(engine.scan(msg), 1);
const r = engine.records;
assert.equal(r[KIND], KIND_REQUEST);
assert.equal(r[SLOT], 1);
assert.equal(new TextDecoder().decode(msg.subarray(r[ID_START], r[ID_END])), '"p1"');

assert.equal(engine.feed(new TextEncoder().encode('{"jsonrpc":"2.0","id":7,"method":1}\n')), 1);
assert.equal(engine.records[KIND], KIND_INVALID);
assert.equal(engine.records[CODE], -32600);
const reply = new TextDecoder().decode(engine.replies().subarray(engine.records[BODY_START], engine.records[BODY_END]));
assert.equal(reply, '{"jsonrpc":"2.0","id":7,"error":{"code":-32600,"message":"Invalid Request: \\"method\\" must be a string"}}');

const cjs = createRequire(import.meta.url)('fastermcp');
assert.equal(cjs.runtimeInfo().implementation, 'native');

// The installed bin serves MCP over stdio: initialize, then the demo's echo tool.
const { spawnSync } = await import('node:child_process');
const lines = [
  { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'smoke', version: '1' } } },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'from the tarball' } } },
];
const served = spawnSync('node_modules/.bin/fastermcp', ['serve', '--stdio'], {
  input: lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
  encoding: 'utf8',
  env: { ...process.env, FASTERMCP_REQUIRE_NATIVE: '1' },
  timeout: 30_000,
});
assert.equal(served.status, 0, served.stderr);
const replies = served.stdout.trim().split('\n').map((l) => JSON.parse(l));
assert.equal(replies.find((m) => m.id === 1).result.protocolVersion, '2025-11-25');
assert.deepEqual(replies.find((m) => m.id === 2).result, { content: [{ type: 'text', text: 'from the tarball' }] });
assert.match(served.stderr, /native JSON-RPC engine/);

// The server API works from the package.
const { McpServer } = await import('fastermcp');
const server = new McpServer({ name: 'smoke', version: '1.0.0' });
server.tool('t', { inputSchema: { type: 'object', properties: { n: { type: 'number' } } } }, ({ n }) => String(n));

console.log(`smoke-package: ok: fastermcp ${info.version} from the tarball, native engine on node ${process.version} (${info.opensslVersion}); the fastermcp bin served MCP over stdio`);
