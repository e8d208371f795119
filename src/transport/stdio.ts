// stdio transport: newline-delimited JSON-RPC on a readable and a writable (process stdin/stdout by
// default). Framing, CRLF, a leading BOM and the size limit are the engine's (native when loaded);
// an oversized line is answered with the engine's error and dropped, and the stream goes on.
//
// Backpressure: when the writable's buffer is full the transport stops reading (so a client that
// stops reading stops being served new work) and waits for one 'drain', however many replies are
// queued. Nothing but JSON-RPC is ever written to the output; diagnostics go to stderr.
import type { Readable, Writable } from 'node:stream';
import { createEngine } from '../jsonrpc/index.js';
import { handleNotification, handleRequest } from '../server/dispatch.js';
import type { RequestEnv } from '../server/dispatch.js';
import { BATCH_VERSIONS, ErrorCode } from '../server/protocol.js';
import type { McpServer } from '../server/server.js';
import { Session } from '../server/session.js';
import type { Channel } from '../server/session.js';
import { writeError } from '../jsonrpc/response.js';
import { methodRouter, readMessages } from './intake.js';
import type { Message } from './intake.js';

export interface StdioOptions {
  input?: Readable;
  output?: Writable;
  /** Longest accepted line in bytes (default 4 MiB); longer lines get an error and are dropped. */
  maxMessageBytes?: number;
}

export class StdioTransport {
  private readonly input: Readable;
  private readonly output: Writable;
  private readonly session: Session;
  private readonly channel: Channel;
  private readonly engine;
  private readonly env: RequestEnv;
  private waitingForDrain = false;
  private inflight = 0;
  private ended = false;
  private unlisten: (() => void) | undefined;
  private resolveDone: (() => void) | undefined;
  /** Resolves when the input has ended and every reply has been written. */
  readonly done: Promise<void>;

  constructor(
    private readonly server: McpServer,
    options: StdioOptions = {},
  ) {
    this.input = options.input ?? process.stdin;
    this.output = options.output ?? process.stdout;
    this.engine = createEngine({
      router: methodRouter(),
      ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
    });
    this.session = new Session({ requestTimeoutMs: server.clientRequestTimeoutMs });
    const self = this;
    this.channel = {
      send: (message) => this.write(message),
      get open() {
        return !self.session.closed && self.output.writable;
      },
    };
    this.session.standalone = this.channel;
    this.env = { session: this.session, channel: this.channel, auth: undefined, signal: undefined };
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Starts reading; returns `done`. */
  start(): Promise<void> {
    this.unlisten = this.server.addListener({
      listChanged: (kind) => {
        if (this.session.initialized) this.write(`{"jsonrpc":"2.0","method":"notifications/${kind}/list_changed"}`);
      },
      resourceUpdated: (uri) => {
        if (this.session.subscriptions.has(uri)) {
          this.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri } }));
        }
      },
    });
    this.input.on('data', (chunk: Buffer) => this.onChunk(this.engine.feed(chunk), chunk));
    this.input.on('end', () => {
      this.onChunk(this.engine.end(), new Uint8Array(0));
      this.ended = true;
      this.maybeDone();
    });
    this.input.on('error', () => this.close());
    this.output.on('error', () => this.close());
    return this.done;
  }

  /** Stops reading, aborts handlers in flight and fails pending client requests. */
  close(): void {
    this.ended = true;
    this.input.pause();
    this.session.close('Connection closed');
    this.unlisten?.();
    this.maybeDone();
  }

  private onChunk(count: number, chunk: Uint8Array): void {
    for (const message of readMessages(this.engine, count, chunk)) this.onMessage(message);
  }

  private onMessage(message: Message): void {
    switch (message.kind) {
      case 'invalid':
        this.write(message.reply);
        return;
      case 'batch':
        this.onBatch(message.items);
        return;
      case 'request':
        this.track(handleRequest(this.server, this.env, message.idRaw, message.method, message.params).then((reply) => {
          if (reply.json !== null) this.write(reply.json);
        }));
        return;
      case 'notification':
        handleNotification(this.env, message.method, message.params);
        return;
      case 'response':
        this.session.resolveResponse(message.idRaw, message.message);
        return;
    }
  }

  /** Batches exist only in 2025-03-26; elsewhere the whole batch is refused. */
  private onBatch(items: Message[]): void {
    const version = this.session.protocolVersion;
    if (version === undefined || !BATCH_VERSIONS.has(version)) {
      this.write(writeError(null, ErrorCode.InvalidRequest, `JSON-RPC batches are not supported in protocol version ${version ?? '(not initialized)'}`));
      return;
    }
    const replies: Promise<string | null>[] = [];
    for (const item of items) {
      if (item.kind === 'request') {
        if (item.method === 'initialize') {
          replies.push(Promise.resolve(writeError(item.idRaw, ErrorCode.InvalidRequest, 'initialize must not be part of a batch')));
          continue;
        }
        replies.push(handleRequest(this.server, this.env, item.idRaw, item.method, item.params).then((r) => r.json));
      } else if (item.kind === 'invalid') {
        replies.push(Promise.resolve(item.reply));
      } else {
        this.onMessage(item);
      }
    }
    this.track(
      Promise.all(replies).then((all) => {
        const parts = all.filter((r): r is string => r !== null);
        if (parts.length > 0) this.write('[' + parts.join(',') + ']');
      }),
    );
  }

  private track(work: Promise<void>): void {
    this.inflight++;
    void work.finally(() => {
      this.inflight--;
      this.maybeDone();
    });
  }

  private write(message: string): void {
    if (!this.output.writable) return;
    if (!this.output.write(message + '\n') && !this.waitingForDrain) {
      // The client is not keeping up: stop taking new work until it drains.
      this.waitingForDrain = true;
      this.input.pause();
      this.output.once('drain', () => {
        this.waitingForDrain = false;
        if (!this.ended) this.input.resume();
      });
    }
  }

  private maybeDone(): void {
    if (this.ended && this.inflight === 0 && this.resolveDone !== undefined) {
      const resolve = this.resolveDone;
      this.resolveDone = undefined;
      this.session.close('Connection closed');
      this.unlisten?.();
      resolve();
    }
  }
}

/** Serves `server` on process stdin/stdout until stdin ends. */
export function serveStdio(server: McpServer, options: StdioOptions = {}): Promise<void> {
  return new StdioTransport(server, options).start();
}
