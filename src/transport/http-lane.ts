// The fast lane of serveHttp(): POSTs to the MCP endpoint read straight off the socket.
//
// node:http spends most of a small request on its own machinery: an IncomingMessage and a
// ServerResponse with their streams, header objects, events. Measured with the bench's load generator
// (50 connections, one POST in flight each), a bare node:http JSON echo costs ~34 us of CPU per request
// and the same echo on a raw socket ~12 us. So serveHttp() takes each connection first: the head parser
// (src/http1) reads the request head, and a POST to the endpoint with a Content-Length body, over
// HTTP/1.1, goes to the transport with a LaneRequest and a LaneResponse (src/transport/lane-message.ts).
// Anything else - another method or path, chunked bodies, Expect, Upgrade, HTTP/1.0, a body over the
// limit, a head the parser refuses - is handed, with every byte read so far, to node:http, which owns the
// connection from then on and answers exactly as it always has (errors included).
//
// One request at a time per connection: a pipelined request waits until the response before it is
// complete. Idle connections close after keepAliveTimeout; a head must be complete within headersTimeout.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { createHeadParser } from '../http1/index.js';
import {
  FLAG_EXPECT,
  FLAG_CLOSE,
  FLAG_TRANSFER_ENCODING,
  FLAG_UPGRADE,
  HEAD_CONTENT_LENGTH,
  HEAD_FLAGS,
  HEAD_METHOD,
  HEAD_TARGET_END,
  HEAD_TARGET_START,
  HEAD_VERSION,
  METHOD_POST,
} from '../http1/index.js';
import type { HeadParser } from '../http1/index.js';
import { LaneRequest, LaneResponse } from './lane-message.js';
import type { LaneOwner } from './lane-message.js';

export interface LaneOptions {
  /** The endpoint path: POSTs to exactly this target take the lane. */
  path: string;
  /** Largest body the lane takes; a larger Content-Length goes to node:http (413 there). */
  maxBodyBytes: number;
  /** 'auto' (default): the native head parser when the addon loads. */
  implementation?: 'native' | 'js' | 'auto';
}

/** What the lane hands a complete request to. */
export interface LaneHandler {
  handle(req: LaneRequest, res: LaneResponse): void;
}

/** Bytes a connection buffers while its current response is in progress before it stops reading. */
const MAX_BUFFERED = 1 << 20;

export class HttpLane {
  readonly parser: HeadParser;
  readonly path: string;
  readonly maxBodyBytes: number;
  private readonly connections = new Set<LaneConnection>();
  /** Set by drain(): every connection closes after its current exchange. */
  draining = false;
  private readonly nodeListener: (socket: Socket) => void;
  private readonly pathBytes: Buffer;

  constructor(
    readonly httpServer: Server,
    readonly handler: LaneHandler,
    options: LaneOptions,
  ) {
    this.parser = createHeadParser(options.implementation === undefined ? {} : { implementation: options.implementation });
    this.path = options.path;
    this.pathBytes = Buffer.from(options.path, 'latin1');
    this.maxBodyBytes = options.maxBodyBytes;
    // node:http registers its own 'connection' listener when the server is made; the lane goes in front.
    const listeners = httpServer.listeners('connection') as ((socket: Socket) => void)[];
    if (listeners.length !== 1) throw new Error('serveHttp: expected node:http to have one connection listener');
    this.nodeListener = listeners[0]!;
    httpServer.removeListener('connection', this.nodeListener);
    httpServer.on('connection', (socket: Socket) => {
      this.connections.add(new LaneConnection(this, socket));
    });
  }

  /** Connections held by the lane now (node:http's are not counted). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Gives a connection to node:http: `pending` (bytes read, not answered) is read again there first. */
  handOff(conn: LaneConnection, socket: Socket, pending: Buffer | null): void {
    this.connections.delete(conn);
    socket.pause();
    if (pending !== null && pending.length > 0) socket.unshift(pending);
    this.nodeListener.call(this.httpServer, socket);
    socket.resume();
  }

  forget(conn: LaneConnection): void {
    this.connections.delete(conn);
  }

  /** True when the head just parsed is a request the lane answers. */
  takes(buf: Buffer): boolean {
    const f = this.parser.fields;
    if (f[HEAD_METHOD] !== METHOD_POST || f[HEAD_VERSION] !== 1) return false;
    if ((f[HEAD_FLAGS]! & (FLAG_TRANSFER_ENCODING | FLAG_EXPECT | FLAG_UPGRADE)) !== 0) return false;
    const length = f[HEAD_CONTENT_LENGTH]!;
    if (length < 0 || length > this.maxBodyBytes) return false;
    const start = f[HEAD_TARGET_START]!;
    const path = this.pathBytes;
    if (f[HEAD_TARGET_END]! - start !== path.length) return false;
    for (let i = 0; i < path.length; i++) if (buf[start + i] !== path[i]) return false;
    return true;
  }

  /** Keep-alive ends: every connection closes after its next response (Connection: close). */
  drain(): void {
    this.draining = true;
  }

  /** Ends every connection the lane holds (serveHttp's close(), after the transport has drained). */
  closeAll(): void {
    for (const conn of this.connections) conn.destroy();
    this.connections.clear();
  }
}

class LaneConnection implements LaneOwner {
  /** Bytes read and not yet answered, from the start of the next request. */
  private buf: Buffer | null = null;
  /** While a body is arriving: the chunks after `buf`, their size, and the total `buf` must reach. */
  private more: Buffer[] | null = null;
  private moreBytes = 0;
  private need = 0;
  private current: LaneResponse | null = null;
  /** Inside drain(): a response that ends synchronously lets the loop go on rather than re-enter it. */
  private inDrain = false;
  private paused = false;
  private clientClose = false;
  private gone = false;
  /** When the unfinished head in `buf` began to arrive (0: none). */
  private headSince = 0;

  constructor(
    private readonly lane: HttpLane,
    private readonly socket: Socket,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('timeout', this.onTimeout);
    socket.setTimeout(lane.httpServer.keepAliveTimeout);
  }

  get keepAliveSeconds(): number {
    return Math.floor(this.lane.httpServer.keepAliveTimeout / 1000);
  }

  get closeAfter(): boolean {
    return this.clientClose || this.lane.draining;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.gone) return; // closing: what a client still sends is not read
    if (this.more !== null) {
      this.more.push(chunk);
      this.moreBytes += chunk.length;
      if (this.buf!.length + this.moreBytes < this.need) return;
      this.buf = Buffer.concat([this.buf!, ...this.more], this.buf!.length + this.moreBytes);
      this.more = null;
      this.moreBytes = 0;
    } else {
      this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    }
    if (this.current === null) this.drain();
    else if (this.buf !== null && this.buf.length > MAX_BUFFERED && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  };

  /** Answers every complete request in `buf`, one at a time; stops at a response still in progress. */
  private drain(): void {
    if (this.inDrain) return;
    this.inDrain = true;
    try {
      const lane = this.lane;
      const parser = lane.parser;
      while (this.buf !== null && this.current === null && !this.gone) {
        const buf = this.buf;
        const headLength = parser.parse(buf, 0, buf.length);
        if (headLength === 0) return this.partialHead();
        this.headSince = 0;
        if (headLength < 0 || !lane.takes(buf)) return this.handOff();
        const f = parser.fields;
        const total = headLength + f[HEAD_CONTENT_LENGTH]!;
        if (buf.length < total) {
          // Collect the body's chunks and join them once, not on every chunk.
          this.need = total;
          this.more = [];
          return;
        }
        if ((f[HEAD_FLAGS]! & FLAG_CLOSE) !== 0) this.clientClose = true;
        const req = new LaneRequest(buf.latin1Slice(f[HEAD_TARGET_START]!, f[HEAD_TARGET_END]!), buf, f, this.socket, buf.subarray(headLength, total));
        this.buf = total === buf.length ? null : buf.subarray(total);
        const res = new LaneResponse(this, this.socket);
        this.current = res;
        lane.handler.handle(req, res);
      }
    } finally {
      this.inDrain = false;
    }
  }

  /** From LaneResponse.end(): the next request may go. */
  finished(res: LaneResponse): void {
    if (this.current !== res) return;
    this.current = null;
    if (res.closesConnection || this.clientClose) {
      this.gone = true;
      this.lane.forget(this);
      this.socket.end();
      return;
    }
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    if (this.buf !== null && this.more === null) this.drain();
  }

  /**
   * A head still incomplete: wait for more, unless it has taken longer than node:http's headersTimeout
   * (a client trickling bytes, which the idle timeout alone would never cut off): then 408, as node does.
   */
  private partialHead(): void {
    const now = Date.now();
    if (this.headSince === 0) this.headSince = now;
    else if (now - this.headSince > this.lane.httpServer.headersTimeout) {
      this.gone = true;
      this.socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      this.socket.destroySoon();
    }
  }

  private handOff(): void {
    const socket = this.socket;
    this.gone = true;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    socket.off('timeout', this.onTimeout);
    socket.setTimeout(0);
    // drain() runs only with no body being collected (`more` is null): `buf` is every byte not answered.
    const pending = this.buf;
    this.buf = null;
    this.lane.handOff(this, socket, pending);
  }

  /** The client ended its side: nothing more will come, so the connection closes (as node:http does). */
  private readonly onEnd = (): void => {
    this.destroy();
  };

  private readonly onError = (): void => {
    // ECONNRESET and the like: 'close' follows.
  };

  private readonly onClose = (): void => {
    this.gone = true;
    this.lane.forget(this);
    const res = this.current;
    this.current = null;
    res?.emitClose();
  };

  private readonly onTimeout = (): void => {
    // A response in progress (an SSE stream) keeps its connection; an idle or stalled one closes.
    if (this.current === null) this.destroy();
  };

  destroy(): void {
    this.gone = true;
    this.socket.destroy();
  }
}
