// The fast lane's request and response (src/transport/http-lane.ts): the parts of IncomingMessage and
// ServerResponse the transport uses (src/transport/http-message.ts), and nothing else. A JSON answer is
// one write of head and body; an SSE stream is chunked. The response line and headers follow node:http's
// (Date, Connection: keep-alive, Keep-Alive: timeout=N), so a client cannot tell the lanes apart.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { FIELD_STRIDE, HEAD_COUNT, HEAD_FIELDS, KNOWN_HEADERS } from '../http1/types.js';
import { FIRST_WINS } from './http-message.js';
import type { RequestHead, ResponseSink } from './http-message.js';

/** Known-header ids by lower-case name (src/http1/types.ts). */
const KNOWN_ID = new Map(KNOWN_HEADERS.map((name, id) => [name, id] as const).filter(([, id]) => id !== 0));

/**
 * A POST whose head and whole body are in. Header values are cut from the head's bytes when asked for
 * (the transport asks for a handful), not all made into strings up front as node's rawHeaders are.
 */
export class LaneRequest implements RequestHead {
  readonly method = 'POST';
  /** The body is read already (the transport's readBody takes `body` as a body parser's). */
  readonly readableEnded = true;
  /** The head's header lines: FIELD_STRIDE ints each (id, name start/end, value start/end) into `head`. */
  private readonly lines: Int32Array;
  private raw: string[] | undefined;

  constructor(
    readonly url: string,
    private readonly head: Buffer,
    fields: Int32Array,
    readonly socket: Socket,
    readonly body: Buffer,
  ) {
    this.lines = fields.slice(HEAD_FIELDS, HEAD_FIELDS + fields[HEAD_COUNT]! * FIELD_STRIDE);
  }

  /** node's rawHeaders (name, value, ...), latin1 as node decodes them; made on first use. */
  get rawHeaders(): string[] {
    if (this.raw === undefined) {
      const lines = this.lines;
      const out: string[] = [];
      for (let at = 0; at < lines.length; at += FIELD_STRIDE) {
        out.push(this.head.latin1Slice(lines[at + 1]!, lines[at + 2]!), this.head.latin1Slice(lines[at + 3]!, lines[at + 4]!));
      }
      this.raw = out;
    }
    return this.raw;
  }

  /** A header by lower-case name, merged as node merges repeats (src/transport/headers.ts header()). */
  header(name: string): string | undefined {
    const lines = this.lines;
    const head = this.head;
    const id = KNOWN_ID.get(name) ?? 0;
    let value: string | undefined;
    for (let at = 0; at < lines.length; at += FIELD_STRIDE) {
      if (id !== 0) {
        if (lines[at] !== id) continue;
      } else if (lines[at] !== 0 || lines[at + 2]! - lines[at + 1]! !== name.length || head.latin1Slice(lines[at + 1]!, lines[at + 2]!).toLowerCase() !== name) {
        continue;
      }
      const v = head.latin1Slice(lines[at + 3]!, lines[at + 4]!);
      if (value === undefined) {
        value = v;
        if (FIRST_WINS.has(name)) break;
      } else {
        value += ', ' + v;
      }
    }
    return value;
  }
}

/** What a response tells its connection. */
export interface LaneOwner {
  /** Keep-Alive timeout in whole seconds, announced in every response. */
  readonly keepAliveSeconds: number;
  /** The connection closes after this response (the client sent Connection: close). */
  readonly closeAfter: boolean;
  /** The response is complete (all of it handed to the socket). */
  finished(res: LaneResponse): void;
}

/** Characters node:http refuses in a header value (ERR_INVALID_CHAR): response splitting. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

let dateText = '';
let dateAt = 0;

/** The Date header's value, recomputed at most once per second (as node:http does). */
function httpDate(): string {
  const now = Date.now();
  if (now - dateAt >= 1000) {
    dateAt = now - (now % 1000);
    dateText = new Date(dateAt).toUTCString();
  }
  return dateText;
}

export class LaneResponse implements ResponseSink {
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  /** The head said Connection: close: the connection ends after this response. */
  closesConnection = false;
  private status = 200;
  private headers: Record<string, string> | undefined;
  private chunked = false;
  private closeListeners: (() => void)[] | undefined;
  private closed = false;

  constructor(
    private readonly owner: LaneOwner,
    private readonly socket: Socket,
  ) {}

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  writeHead(status: number, headers?: Record<string, string>): this {
    if (this.headersSent) throw new Error('Cannot write headers after they are sent');
    this.status = status;
    this.headers = headers;
    return this;
  }

  /** Sends the head now: the body follows in chunks (an SSE stream). */
  flushHeaders(): void {
    if (this.headersSent || this.socket.destroyed) return;
    this.chunked = true;
    this.socket.write(this.head(-1));
  }

  write(chunk: string): boolean {
    if (this.writableEnded || this.socket.destroyed) return false;
    if (chunk.length === 0) return true;
    let out = chunkFrame(chunk);
    if (!this.headersSent) {
      this.chunked = true;
      out = this.head(-1) + out;
    }
    return this.socket.write(out);
  }

  end(chunk?: string): this {
    if (this.writableEnded) return this;
    this.writableEnded = true;
    if (!this.socket.destroyed) {
      if (!this.headersSent) {
        const body = chunk ?? '';
        this.socket.write(this.head(Buffer.byteLength(body)) + body);
      } else if (this.chunked) {
        this.socket.write((chunk === undefined || chunk.length === 0 ? '' : chunkFrame(chunk)) + '0\r\n\r\n');
      }
      this.writableFinished = true;
    }
    this.owner.finished(this);
    this.emitClose();
    return this;
  }

  destroy(): this {
    this.socket.destroy();
    return this;
  }

  on(_event: 'close', listener: () => void): this {
    (this.closeListeners ??= []).push(listener);
    return this;
  }

  off(_event: 'close', listener: () => void): this {
    const listeners = this.closeListeners;
    const i = listeners === undefined ? -1 : listeners.indexOf(listener);
    if (i >= 0) listeners!.splice(i, 1);
    return this;
  }

  /** 'close': once, when the response ends or its connection goes first. */
  emitClose(): void {
    if (this.closed) return;
    this.closed = true;
    const listeners = this.closeListeners;
    if (listeners === undefined) return;
    this.closeListeners = undefined;
    for (const listener of listeners) listener();
  }

  /** The status line and headers; `length` < 0: chunked. */
  private head(length: number): string {
    this.headersSent = true;
    const status = this.status;
    let out = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    let hasLength = false;
    let connection: string | undefined;
    const headers = this.headers;
    if (headers !== undefined) {
      for (const name in headers) {
        const value = headers[name]!;
        if (INVALID_VALUE.test(value) || INVALID_VALUE.test(name)) throw new TypeError(`Invalid character in header ${JSON.stringify(name)}`);
        const lower = name.length === 14 || name.length === 10 ? name.toLowerCase() : '';
        if (lower === 'content-length') hasLength = true;
        else if (lower === 'connection') {
          connection = value;
          continue;
        }
        out += name + ': ' + value + '\r\n';
      }
    }
    if (length < 0) out += 'Transfer-Encoding: chunked\r\n';
    else if (!hasLength) out += 'Content-Length: ' + length + '\r\n';
    out += 'Date: ' + httpDate() + '\r\n';
    if (this.owner.closeAfter || connection?.toLowerCase() === 'close') {
      this.closesConnection = true;
      out += 'Connection: close\r\n\r\n';
    } else {
      out += 'Connection: keep-alive\r\nKeep-Alive: timeout=' + this.owner.keepAliveSeconds + '\r\n\r\n';
    }
    return out;
  }
}

function chunkFrame(chunk: string): string {
  return Buffer.byteLength(chunk).toString(16) + '\r\n' + chunk + '\r\n';
}
