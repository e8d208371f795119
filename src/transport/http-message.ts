// What the Streamable HTTP transport reads of a request and does with a response. node:http's
// IncomingMessage and ServerResponse have all of it; so do the fast lane's LaneRequest and LaneResponse
// (src/transport/lane-message.ts), which skip node:http's per-request objects and streams.

/** The head of a request: method, target, headers as node's rawHeaders (name, value, name, value, ...). */
export interface RequestHead {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly rawHeaders: string[];
  readonly socket: { readonly remoteAddress?: string | undefined };
}

/** A response, as node's ServerResponse is used here: a JSON answer in one go, or an SSE stream. */
export interface ResponseSink {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly writableLength: number;
  writeHead(status: number, headers?: Record<string, string>): this;
  flushHeaders(): void;
  write(chunk: string): boolean;
  end(chunk?: string): this;
  destroy(): this;
  on(event: 'close', listener: () => void): this;
  off(event: 'close', listener: () => void): this;
}

/** Headers of which node keeps the first when repeated (lib/_http_incoming.js matchKnownFields); others are joined with ', '. */
export const FIRST_WINS: ReadonlySet<string> = new Set(['host', 'content-type', 'content-length', 'authorization', 'user-agent', 'referer', 'from', 'max-forwards']);

declare module 'node:buffer' {
  interface Buffer {
    /** node's own latin1 decoder (what toString('latin1', start, end) ends in), without the argument checks. */
    latin1Slice(start: number, end: number): string;
  }
}
