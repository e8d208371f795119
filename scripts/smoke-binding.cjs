// Load one mcp_native.node file directly (not through src/native.ts) and scan a message with it.
//   node scripts/smoke-binding.cjs build-cmakejs/Release/mcp_native.node
// Used by .ci/run for the cmake-js build and the prebuild: proves the file loads in this Node,
// exports the section 10 surface and routes a request.
'use strict';
const assert = require('node:assert/strict');
const path = require('node:path');

const file = path.resolve(process.argv[2] ?? '');
const b = require(file);
const { version } = require('../package.json');

assert.equal(b.version, version, 'binding version');
assert.equal(b.abi, 9, 'binding abi');
assert.equal(typeof b.sandboxLaunch, 'function', 'abi 4: the sandbox launcher');
// abi 5: pipe capacity (a regular file is not a pipe: -EBADF on Linux, -ENOSYS elsewhere)
const notPipe = require('node:fs').openSync(file, 'r');
assert.ok(b.pipeCapacity(notPipe) < 0 && b.pipeGrow(notPipe, 1 << 20) < 0, 'abi 5: pipeCapacity / pipeGrow refuse a file');
require('node:fs').closeSync(notPipe);
assert.equal(typeof b.simdjsonImplementation, 'string');
assert.match(b.opensslVersion, /^OpenSSL \d+\.\d+\.\d+/);
assert.ok(Array.isArray(b.reasons) && b.reasons[0] === 'ok', 'reasons table');

const router = new b.Router();
router.setMethod('tools/call', 7, 0);
router.setName(0, 'echo', 3);
const engine = new b.Engine(router, { maxMessageBytes: 4194304, maxDepth: 128, maxBatch: 1000, allowBatch: true });
const out = new Int32Array(20 * 4); // RECORD_STRIDE 20 (abi 2)
const msg = Buffer.from('{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{}}}');
const n = engine.scan(msg, out);
const text = (s, e) => msg.subarray(s, e).toString();
assert.equal(n, 1, 'record count');
assert.equal(out[0], 0, 'KIND request');
assert.equal(text(out[4], out[5]), '42', 'id span');
assert.equal(text(out[6], out[7]), 'tools/call', 'method span');
assert.equal(out[10], 7, 'SLOT');
assert.equal(out[11], 3, 'NAME_SLOT');
assert.equal(text(out[12], out[13]), 'echo', 'name span');
assert.equal(text(out[16], out[17]), '{}', 'arguments span');
assert.equal(out[18], -1, 'no _meta span');
assert.equal(out[1] & (1 << 7), 1 << 7, 'PARAMS_SPANNED');
// abi 8: the call's arguments read for JS (docs/jsonrpc-engine.md section 11)
const [values, table, keyCount] = engine.readArguments(msg);
assert.equal(values, '[]', 'readArguments values');
assert.deepEqual(Array.from(table), [1, 0, 0], 'readArguments table: an object of no members');
assert.equal(keyCount, 0, 'readArguments key count');
// abi 9: the call's ids as one text (section 12)
assert.equal(engine.idText(msg), '42', 'idText');

const bad = Buffer.from('not json');
assert.equal(engine.scan(bad, out), 1);
assert.equal(out[0], 4, 'KIND invalid');
assert.equal(out[14], -32700, 'CODE');
const reply = engine.replies().subarray(out[8], out[9]).toString();
assert.equal(reply, '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: message is not valid JSON"}}');

// abi 3: the HTTP/1.1 head parser (src/http1/types.ts fields; HEAD_FIELDS_LENGTH 508)
const fields = new Int32Array(508);
const heads = new b.HeadParser(fields, 16384);
const head = Buffer.from('POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}');
assert.equal(heads.parse(head, 0, head.length), head.length - 2, 'head length');
assert.deepEqual(Array.from(fields.subarray(1, 8)), [2, 5, 9, 1, 2, 0, 2], 'head fields');

// abi 6: the stdio reply buffer (docs/jsonrpc-engine.md section 8); abi 7: its members set once
const replies = new b.ReplyBuffer();
replies.line('{"jsonrpc":"2.0","id":1,"result":{}}');
replies.textResult('2', 'é"\ud800');
replies.setMembers(',"resultType":"complete"');
replies.textResult('3', 'x');
assert.equal(
  replies.take().toString(),
  '{"jsonrpc":"2.0","id":1,"result":{}}\n{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"é\\"\\ud800"}]}}\n' +
    '{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"x"}],"resultType":"complete"}}\n',
  'abi 7: ReplyBuffer',
);

console.log(
  `smoke-binding: ok: ${path.relative(process.cwd(), file)} on node ${process.version}: ` +
    `version ${b.version}, simdjson ${b.simdjsonImplementation}, ${b.opensslVersion}`,
);
