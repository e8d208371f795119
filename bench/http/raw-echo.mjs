// What node:http itself costs, for docs/http-lane.md section 1: the bare echo of bare-echo.mjs on a raw
// `net` socket instead of node:http. It handles only what the load generator's plain mode sends (POSTs
// with a Content-Length); it is a measurement, not a server.
//
//   node bench/http/raw-echo.mjs [port]     prints "raw-echo: serving on http://127.0.0.1:<port>/mcp"
//   build-cmake/mcp_http_loadgen --port P --mode plain --connections 50 --duration 5 --warmup 1 --pid PID
import { createServer } from 'node:net';

let date = new Date().toUTCString();
setInterval(() => (date = new Date().toUTCString()), 1000).unref();

const server = createServer({ noDelay: true }, (socket) => {
  let pending = null;
  socket.on('data', (chunk) => {
    const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    pending = null;
    let at = 0;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n', at, 'latin1');
      if (end < 0) break;
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(buf.latin1Slice(at, end))?.[1] ?? 0);
      const bodyStart = end + 4;
      if (buf.length < bodyStart + length) break;
      const { text } = JSON.parse(buf.utf8Slice(bodyStart, bodyStart + length));
      const out = JSON.stringify({ text });
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: ${date}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\nContent-Length: ${Buffer.byteLength(out)}\r\n\r\n${out}`,
      );
      at = bodyStart + length;
    }
    if (at < buf.length) pending = buf.subarray(at);
  });
  socket.on('error', () => {});
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`raw-echo: serving on http://127.0.0.1:${server.address().port}/mcp\n`);
});
