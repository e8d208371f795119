// The fast lane's LaneRequest and LaneResponse (src/transport/lane-message.ts): header lookups agree with
// the rawHeaders path node:http requests take, and responses are framed as HTTP/1.1 requires.
import { describe, expect, it } from 'vitest';
import { Socket } from 'node:net';
import { JsHeadParser } from '../../src/http1/js.js';
import { header } from '../../src/transport/headers.js';
import { LaneRequest, LaneResponse } from '../../src/transport/lane-message.js';
import type { LaneOwner } from '../../src/transport/lane-message.js';

function laneRequest(head: string): LaneRequest {
  const buf = Buffer.from(head, 'latin1');
  const parser = new JsHeadParser();
  expect(parser.parse(buf, 0, buf.length)).toBe(buf.length);
  return new LaneRequest('/mcp', buf, parser.fields, new Socket(), Buffer.alloc(0));
}

describe('LaneRequest.header', () => {
  const head =
    'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nACCEPT: application/json\r\naccept: text/event-stream\r\nX-Api-Key: k1\r\n' +
    'x-api-key: k2\r\nAuthorization: Bearer a\r\nauthorization: Bearer b\r\nMcp-Param-Region: eu\r\nCookie: c=1\r\nContent-Type:application/json  \r\n' +
    'X-Latin: caf\u00e9\r\nContent-Length: 0\r\n\r\n';
  const names = ['host', 'accept', 'x-api-key', 'authorization', 'mcp-param-region', 'cookie', 'content-type', 'x-latin', 'content-length', 'origin', 'mcp-session-id', 'x-absent'];

  it('gives what header() gives over rawHeaders (node merging: first wins for some, else joined)', () => {
    const req = laneRequest(head);
    const viaRaw = { rawHeaders: req.rawHeaders, socket: {} };
    for (const name of names) expect([name, req.header(name)]).toEqual([name, header(viaRaw, name)]);
    expect(req.header('accept')).toBe('application/json, text/event-stream');
    expect(req.header('authorization')).toBe('Bearer a');
    expect(req.header('x-latin')).toBe('café');
    expect(header(req, 'x-api-key')).toBe('k1, k2');
  });

  it('rawHeaders is node\'s layout: names as sent, values trimmed', () => {
    const req = laneRequest('POST /mcp HTTP/1.1\r\nHost: h\r\nX-A:  v  \r\n\r\n');
    expect(req.rawHeaders).toEqual(['Host', 'h', 'X-A', 'v']);
  });
});

class Sink extends Socket {
  written = '';
  override write(chunk: unknown): boolean {
    this.written += String(chunk);
    return true;
  }
}

function response(owner: Partial<LaneOwner> = {}): { res: LaneResponse; socket: Sink; finished: LaneResponse[] } {
  const socket = new Sink();
  const finished: LaneResponse[] = [];
  const res = new LaneResponse({ keepAliveSeconds: 65, closeAfter: false, finished: (r) => void finished.push(r), ...owner }, socket);
  return { res, socket, finished };
}

describe('LaneResponse', () => {
  it('a JSON answer is one write: status line, headers, Content-Length in bytes, Date, keep-alive', () => {
    const { res, socket, finished } = response();
    let closed = 0;
    res.on('close', () => closed++);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"t":"é"}');
    expect(socket.written).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Type: application\/json\r\nContent-Length: 10\r\nDate: [^\r]+ GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n\{"t":"é"\}$/);
    expect(finished).toEqual([res]);
    expect(closed).toBe(1);
    expect(res.writableFinished).toBe(true);
    res.end();
    expect(closed).toBe(1);
  });

  it('an SSE stream is chunked and ends with the last chunk', () => {
    const { res, socket } = response();
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.flushHeaders();
    res.write('data: é\n\n');
    res.end();
    expect(socket.written).toMatch(/Transfer-Encoding: chunked\r\n/);
    expect(socket.written.endsWith('\r\n\r\na\r\ndata: é\n\n\r\n0\r\n\r\n')).toBe(true);
  });

  it('Connection: close from the handler or the owner closes the connection after it', () => {
    const a = response();
    a.res.writeHead(503, { Connection: 'close' }).end('');
    expect(a.socket.written).toMatch(/\r\nConnection: close\r\n\r\n$/);
    expect(a.res.closesConnection).toBe(true);
    const b = response({ closeAfter: true });
    b.res.writeHead(200).end('x');
    expect(b.socket.written).toMatch(/\r\nConnection: close\r\n\r\nx$/);
  });

  it('refuses a header value that would split the response', () => {
    const { res } = response();
    res.writeHead(200, { 'X-Bad': 'a\r\nInjected: yes' });
    expect(() => res.end('')).toThrow(TypeError);
  });
});
