// The official SDK's stdio server doing the benchmark's work: @modelcontextprotocol/sdk v1 McpServer +
// StdioServerTransport with one `echo` tool ({ text: string } checked by zod) that returns its text.
// The v1 SDK speaks the legacy handshake only (initialize, 2025-11-25); it has no 2026-07-28 era, so
// bench/e2e-stdio.bench.ts reports it as n/a there.
//
//   node bench/servers/sdk-stdio.mjs        (reads NDJSON JSON-RPC on stdin, replies on stdout)
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'sdk-stdio-bench', version: '1.0.0' });
server.registerTool('echo', { description: 'Returns its text argument.', inputSchema: { text: z.string() } }, async ({ text }) => ({
  content: [{ type: 'text', text }],
}));
await server.connect(new StdioServerTransport());
