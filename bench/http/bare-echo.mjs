// The HTTP floor of bench/e2e-http.bench.ts: a bare node:http server that reads the body, JSON.parses
// it and answers JSON.stringify({ text }) as application/json. No MCP, no checks: what node:http costs.
//
//   node bench/http/bare-echo.mjs [port]    prints "bare-echo: serving on http://127.0.0.1:<port>/mcp"
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const { text } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ text }));
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`bare-echo: serving on http://127.0.0.1:${server.address().port}/mcp\n`);
});
