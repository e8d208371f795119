// `npm start`: a small newline-delimited JSON-RPC server on stdin/stdout, built on the engine.
// No arguments, no configuration. It answers
//   ping                      -> {}
//   tools/list                -> one tool, `echo`
//   tools/call {name:"echo"}  -> the `text` argument back as text content
// Invalid lines get the engine's ready-made error bytes (written by the addon when it is loaded),
// unknown methods -32601, bad echo arguments -32602; notifications and responses get no reply;
// batches get an array of the replies. It keeps serving after bad lines. The active implementation
// is printed on stderr. (A real MCP server, with initialize and sessions, comes later.)
import {
  BODY_END,
  BODY_START,
  FLAGS,
  FLAG_BODY_IS_REPLY,
  FLAG_IN_BATCH,
  FLAG_SRC_CARRY,
  ID_END,
  ID_START,
  KIND,
  KIND_BATCH,
  KIND_INVALID,
  KIND_REQUEST,
  NAME_SLOT,
  NAME_TABLE_TOOLS,
  RECORD_STRIDE,
  SLOT,
  createEngine,
  createRouter,
  runtimeInfo,
  writeError,
  writeResult,
} from './index.js';

const SLOT_PING = 0;
const SLOT_TOOLS_LIST = 1;
const SLOT_TOOLS_CALL = 2;
const TOOL_ECHO = 0;

const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;

const TOOLS_LIST_RESULT = JSON.stringify({
  tools: [
    {
      name: 'echo',
      description: 'Returns its text argument.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    },
  ],
});

const router = createRouter();
router.setMethod('ping', SLOT_PING);
router.setMethod('tools/list', SLOT_TOOLS_LIST);
router.setMethod('tools/call', SLOT_TOOLS_CALL, NAME_TABLE_TOOLS);
router.setName(NAME_TABLE_TOOLS, 'echo', TOOL_ECHO);
const engine = createEngine({ router });
const decoder = new TextDecoder();

/** The reply to one request record (r = record offset), or null for "no reply". */
function answer(rec: Int32Array, r: number, src: Uint8Array): string | null {
  const kind = rec[r + KIND]!;
  if (kind === KIND_INVALID) {
    // The engine wrote the whole error reply; reuse its bytes as they are.
    return decoder.decode(engine.replies().subarray(rec[r + BODY_START]!, rec[r + BODY_END]!));
  }
  if (kind !== KIND_REQUEST) return null; // notifications, responses and error responses need no reply
  const id = src.subarray(rec[r + ID_START]!, rec[r + ID_END]!);
  switch (rec[r + SLOT]) {
    case SLOT_PING:
      return writeResult(id, '{}');
    case SLOT_TOOLS_LIST:
      return writeResult(id, TOOLS_LIST_RESULT);
    case SLOT_TOOLS_CALL: {
      if (rec[r + NAME_SLOT] !== TOOL_ECHO) return writeError(id, INVALID_PARAMS, 'Unknown tool');
      // Only here are params materialised: the engine already routed the call by its name.
      const params = JSON.parse(decoder.decode(src.subarray(rec[r + BODY_START]!, rec[r + BODY_END]!))) as {
        arguments?: { text?: unknown };
      };
      const text = params.arguments?.text;
      if (typeof text !== 'string') {
        return writeError(id, INVALID_PARAMS, 'Invalid params: echo needs a string argument "text"');
      }
      return writeResult(id, JSON.stringify({ content: [{ type: 'text', text }] }));
    }
    default:
      return writeError(id, METHOD_NOT_FOUND, 'Method not found');
  }
}

/** Turns the records of one engine call into output lines. */
function respond(count: number, chunk: Uint8Array): string {
  const rec = engine.records;
  let out = '';
  for (let i = 0; i < count; ) {
    const r = i * RECORD_STRIDE;
    if (rec[r + KIND] === KIND_BATCH) {
      // A batch record is followed by its elements (flag IN_BATCH); reply with an array, or nothing.
      const parts: string[] = [];
      let j = i + 1;
      for (; j < count && (rec[j * RECORD_STRIDE + FLAGS]! & FLAG_IN_BATCH) !== 0; j++) {
        const reply = answer(rec, j * RECORD_STRIDE, source(rec, j * RECORD_STRIDE, chunk));
        if (reply !== null) parts.push(reply);
      }
      if (parts.length > 0) out += '[' + parts.join(',') + ']\n';
      i = j;
      continue;
    }
    const reply = answer(rec, r, source(rec, r, chunk));
    if (reply !== null) out += reply + '\n';
    i++;
  }
  return out;
}

function source(rec: Int32Array, r: number, chunk: Uint8Array): Uint8Array {
  const flags = rec[r + FLAGS]!;
  if ((flags & FLAG_BODY_IS_REPLY) !== 0) return chunk; // invalid records read replies(), not src
  return (flags & FLAG_SRC_CARRY) !== 0 ? engine.carried() : chunk;
}

const info = runtimeInfo();
process.stderr.write(
  `fastermcp demo ${info.version}: implementation=${info.implementation}` +
    (info.implementation === 'native' ? ` (simdjson ${info.simdjsonImplementation}, ${info.opensslVersion})` : '') +
    `, node ${process.version}; NDJSON JSON-RPC on stdin/stdout (ping, tools/list, tools/call echo)\n`,
);

const input = process.stdin;
input.on('data', (chunk: Buffer) => {
  const out = respond(engine.feed(chunk), chunk);
  // Backpressure: stop reading while stdout is full.
  if (out.length > 0 && !process.stdout.write(out)) {
    input.pause();
    process.stdout.once('drain', () => input.resume());
  }
});
input.on('end', () => {
  const out = respond(engine.end(), new Uint8Array(0));
  if (out.length > 0) process.stdout.write(out);
});
