// The official SDK (v1, @modelcontextprotocol/sdk) serving the same "echo" tool over Streamable HTTP on
// node:http, written the way its documentation shows (the express examples, minus express):
//   stateless  a new McpServer and StreamableHTTPServerTransport per POST, sessionIdGenerator undefined
//   stateful   one McpServer + transport per session (sessionIdGenerator randomUUID), looked up by the
//              Mcp-Session-Id header; a new one on initialize. Replies as SSE streams, the transport's
//              default, as in the documentation's stateful example.
//   stateful-json  the same with enableJsonResponse: true. In SDK 1.32.2 this mode keeps one
//              _streamMapping entry per request for the life of the session (about 5 KB a call), which
//              is why the benchmarks use the default.
// Stateless uses enableJsonResponse: true (one JSON reply per POST, like fastermcp's). The body is
// read and JSON.parsed here and passed as parsedBody, as express.json() would. SDK v1 knows no
// 2026-07-28: the stateless load is sent as MCP-Protocol-Version 2025-11-25.
//
//   node bench/http/sdk.mjs stateless|stateful|stateful-json [port]
//   prints "sdk: serving MCP on http://127.0.0.1:<port>/mcp"
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const mode = process.argv[2];
if (mode !== 'stateless' && mode !== 'stateful' && mode !== 'stateful-json') {
  process.stderr.write('usage: node bench/http/sdk.mjs stateless|stateful|stateful-json [port]\n');
  process.exit(2);
}

function getServer() {
  const server = new McpServer({ name: 'sdk-echo', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echoes its text argument', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

function jsonError(res, status, message) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

/** stateful: live transports by session id. */
const transports = new Map();

async function handle(req, res) {
  if (new URL(req.url, 'http://x').pathname !== '/mcp') return jsonError(res, 404, 'Not found');
  const body = req.method === 'POST' ? await readJson(req) : undefined;
  if (mode === 'stateless') {
    if (req.method !== 'POST') return jsonError(res, 405, 'Method not allowed.');
    const server = getServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
    return;
  }
  const sessionId = req.headers['mcp-session-id'];
  let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
  if (transport === undefined) {
    if (sessionId !== undefined || req.method !== 'POST' || !isInitializeRequest(body)) {
      return jsonError(res, 400, 'Bad Request: No valid session ID provided');
    }
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: mode === 'stateful-json',
      onsessioninitialized: (id) => transports.set(id, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) transports.delete(transport.sessionId);
    };
    await getServer().connect(transport);
  }
  await transport.handleRequest(req, res, body);
}

const http = createServer((req, res) => {
  handle(req, res).catch((e) => {
    if (!res.headersSent) jsonError(res, 500, String(e?.message ?? e));
    else res.end();
  });
});
http.keepAliveTimeout = 65_000;
http.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`sdk: serving MCP on http://127.0.0.1:${http.address().port}/mcp\n`);
});
