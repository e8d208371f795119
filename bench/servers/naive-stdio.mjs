// The naive pure-JS floor for stdio: the least a Node program can do and still answer the benchmark's
// requests. Newline-delimited JSON-RPC split by hand, JSON.parse per line, JSON.stringify per reply and
// one stdout write per reply. No MCP validation at all: no schema, no session state, no capability
// checks. It accepts both eras' shapes: legacy (initialize, then plain requests) and 2026-07-28
// (no handshake; params._meta carries the protocol version, and results carry resultType).
//
//   node bench/servers/naive-stdio.mjs
const STATELESS = '2026-07-28';
const VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';

function reply(message) {
  const { id, method, params } = message;
  if (id === undefined) return undefined; // a notification
  if (method === 'initialize') {
    return {
      jsonrpc: '2.0',
      id,
      result: {
        protocolVersion: params?.protocolVersion ?? '2025-11-25',
        capabilities: { tools: {} },
        serverInfo: { name: 'naive-stdio', version: '1.0.0' },
      },
    };
  }
  if (method === 'tools/call' && params?.name === 'echo') {
    const result = { content: [{ type: 'text', text: String(params.arguments?.text) }] };
    if (params._meta?.[VERSION_KEY] === STATELESS) result.resultType = 'complete';
    return { jsonrpc: '2.0', id, result };
  }
  if (method === 'ping') return { jsonrpc: '2.0', id, result: {} };
  return { jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } };
}

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let start = 0;
  for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n', start)) {
    const line = pending.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    let out;
    try {
      out = reply(JSON.parse(line));
    } catch {
      out = { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } };
    }
    if (out !== undefined) process.stdout.write(JSON.stringify(out) + '\n');
  }
  pending = pending.slice(start);
});
