// header() reads req.rawHeaders instead of req.headers; it must give what node's req.headers gives
// (joined repeats, first-wins fields, any letter case) for every header the transport reads.
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { header } from '../../src/transport/headers.js';

const NAMES = [
  'host', 'origin', 'content-type', 'content-length', 'accept', 'authorization', 'mcp-session-id',
  'mcp-protocol-version', 'mcp-method', 'mcp-name', 'mcp-param-region', 'last-event-id', 'x-absent',
];

let seen: (req: IncomingMessage) => void = () => {};
const server = createServer((req, res) => {
  seen(req);
  res.end();
});
let port = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends a raw request with these header lines and returns, per name, [header(), req.headers]. */
function roundTrip(lines: string[]): Promise<[string, string | undefined, string | undefined][]> {
  return new Promise((resolve, reject) => {
    seen = (req) => {
      // header() first: it must not depend on req.headers having been built.
      const ours = NAMES.map((n) => header(req, n));
      const theirs = NAMES.map((n) => {
        const v = req.headers[n];
        return Array.isArray(v) ? v.join(', ') : v;
      });
      resolve(NAMES.map((n, i) => [n, ours[i], theirs[i]]));
    };
    const socket = connect(port, '127.0.0.1', () => {
      socket.end(['POST /mcp HTTP/1.1', ...lines, 'Connection: close', '', ''].join('\r\n'));
    });
    socket.on('error', reject);
    socket.resume();
  });
}

describe('header() over rawHeaders', () => {
  it('agrees with req.headers for single headers in any case', async () => {
    const rows = await roundTrip([
      'HOST: localhost:3000', 'Origin: http://localhost', 'content-TYPE: application/json', 'Content-Length: 0',
      'ACCEPT: application/json, text/event-stream', 'Mcp-Session-Id: abc', 'MCP-PROTOCOL-VERSION: 2025-11-25',
      'mcp-method: tools/call', 'Mcp-Name: echo', 'Mcp-Param-Region: =?base64?ZXU=?=', 'Authorization: Bearer x',
    ]);
    for (const [name, ours, theirs] of rows) expect(ours, name).toBe(theirs);
  });

  it('agrees with req.headers for repeated headers (joined, or the first kept)', async () => {
    const rows = await roundTrip([
      'Host: a', 'Host: b', 'Content-Type: application/json', 'content-type: text/plain', 'Content-Length: 0',
      'Accept: application/json', 'accept: text/event-stream', 'Mcp-Name: one', 'MCP-NAME: two',
      'Authorization: Bearer first', 'Authorization: Bearer second', 'Origin: http://a', 'Origin: http://b',
    ]);
    for (const [name, ours, theirs] of rows) expect(ours, name).toBe(theirs);
  });
});
