// stdio transport: newline-delimited JSON-RPC on a readable and a writable (process stdin/stdout by
// default). Framing, CRLF, a leading BOM and the size limit are the engine's (native when loaded);
// an oversized line is answered with the engine's error and dropped, and the stream goes on.
//
// Backpressure: when the writable's buffer is full the transport stops reading (so a client that
// stops reading stops being served new work) and waits for one 'drain', however many replies are
// queued. A chunk's messages are handled in turns of REQUESTS_PER_TURN requests, so the replies of
// one turn are written (and can reveal a full buffer) before the next turn starts: one 64 KiB chunk
// holds hundreds of small requests, and without turns all of them would run, and their possibly
// large replies be buffered, before the first write could say the client is not reading.
// Replies of one turn are collected in a reply buffer (reply-buffer.ts; the usual text result goes in as
// its parts, written natively as bytes) and written once (a write per reply costs a syscall and a write
// request each). Nothing but JSON-RPC is ever written to the output; diagnostics go to stderr.
//
// Pipes: at start the transport asks the kernel for larger input and output pipes (pipes.ts), so
// that a busy client and this server block, drain and wake up less often. A pipe or socket on stdin is
// read into one buffer of the transport's own (stdin-reader.ts), not through process.stdin.
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { createEngine } from '../jsonrpc/index.js';
import { handleNotification, handleRequest } from '../server/dispatch.js';
import type { Reply, RequestEnv } from '../server/dispatch.js';
import { BATCH_VERSIONS, ErrorCode } from '../server/protocol.js';
import type { McpServer } from '../server/server.js';
import { Session } from '../server/session.js';
import type { Channel } from '../server/session.js';
import { TextReply } from '../server/result-json.js';
import { writeError } from '../jsonrpc/response.js';
import { gateFor, methodRouter, readMessages } from './intake.js';
import type { Gate, Message } from './intake.js';
import { DEFAULT_PIPE_BYTES, MAX_PIPE_BYTES, growPipe, pipeFdOf } from './pipes.js';
import { createReplyBuffer } from './reply-buffer.js';
import { STDIN_FD, readStdin, stdinIsStream } from './stdin-reader.js';
import type { PipeGrowth } from './pipes.js';

/** The rate-limit client key of a stdio connection (docs/ratelimit.md). */
const STDIO_CLIENT = 'stdio';

/** Requests left in flight per event-loop turn; see the header. */
const REQUESTS_PER_TURN = 16;

/**
 * Replies ready at once are written when this many bytes (characters, for the twin) wait (else at turn
 * end). Written straight into the pipe (see flush), a larger write wakes the client less often and costs
 * nothing more; through the stream, the joined string or copied Buffer would cost more to make (a larger
 * string to flatten, a copy in fresh pages).
 */
const FLUSH_AT = 64 * 1024;
const FLUSH_AT_DIRECT = 256 * 1024;

export interface StdioOptions {
  /** Default: stdin (a pipe or socket is read into a buffer of the transport's own, anything else through process.stdin). */
  input?: Readable;
  output?: Writable;
  /** Longest accepted line in bytes (default 4 MiB); longer lines get an error and are dropped. */
  maxMessageBytes?: number;
  /**
   * Kernel buffer asked for the input and output pipes at start (default 1 MiB; 0 leaves them as they
   * are). Needs the addon and Linux; the pipes never shrink (docs/stdio.md).
   */
  pipeBytes?: number;
}

export class StdioTransport {
  private readonly input: Readable;
  private readonly output: Writable;
  private readonly session: Session;
  private readonly channel: Channel;
  private readonly router = methodRouter();
  private readonly engine;
  private readonly env: RequestEnv;
  private waitingForDrain = false;
  /** Replies waiting for this turn's single write, and how much of them (bytes or characters). */
  private readonly replies = createReplyBuffer();
  /** The members the reply buffer writes after a text result's content (what setMembers set last). */
  private replyMembers = '';
  private pending = 0;
  /** process.stdout's fd when it is a pipe and the buffer can write to it (native): see flush. */
  private directFd: number | undefined;
  private flushAt = FLUSH_AT;
  private flushScheduled = false;
  /** Messages read but not yet handled, in order (input is paused while any wait). */
  private queue: Message[] = [];
  private head = 0;
  private turnScheduled = false;
  private inflight = 0;
  private ended = false;
  private unlisten: (() => void) | undefined;
  private resolveDone: (() => void) | undefined;
  private readonly pipeBytes: number;
  /** Resolves when the input has ended and every reply has been written. */
  readonly done: Promise<void>;
  /** What start() did to the input's and output's pipes (empty with pipeBytes 0). */
  pipes: PipeGrowth[] = [];
  /**
   * How the input is read: 'buffer' when the transport reads a pipe or socket on fd 0 into a buffer of its
   * own (stdin-reader.ts), 'stream' for a stream's 'data' events (a given input, or a file or TTY on stdin).
   */
  readonly reading: 'buffer' | 'stream';

  constructor(
    private readonly server: McpServer,
    options: StdioOptions = {},
  ) {
    const pipeBytes = options.pipeBytes ?? DEFAULT_PIPE_BYTES;
    if (!Number.isInteger(pipeBytes) || pipeBytes < 0 || pipeBytes > MAX_PIPE_BYTES) {
      throw new RangeError(`pipeBytes must be an integer in [0, ${MAX_PIPE_BYTES}], got ${String(pipeBytes)}`);
    }
    this.output = options.output ?? process.stdout;
    this.pipeBytes = pipeBytes;
    this.engine = createEngine({
      router: this.router,
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
    // Last, after everything that can throw: a socket opened on fd 0 would be left behind.
    if (options.input === undefined && stdinIsStream()) {
      this.input = readStdin((chunk) => this.onData(chunk));
      // Reading starts with the socket; nothing is read before start().
      this.input.pause();
      this.reading = 'buffer';
    } else {
      this.input = options.input ?? process.stdin;
      this.reading = 'stream';
    }
  }

  /** Starts reading; returns `done`. */
  start(): Promise<void> {
    if (this.pipeBytes > 0) {
      // Only process.stdin says which fd it reads; the transport's own reader reads fd 0.
      const input = this.reading === 'buffer' ? { fd: STDIN_FD } : this.input;
      this.pipes = [growPipe(input, this.pipeBytes), growPipe(this.output, this.pipeBytes)];
    }
    if (this.output === process.stdout && this.replies.writeTo !== undefined) this.directFd = pipeFdOf(this.output);
    if (this.directFd !== undefined) this.flushAt = FLUSH_AT_DIRECT;
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
    if (this.reading === 'stream') this.input.on('data', (chunk: Buffer) => this.onData(chunk));
    this.input.on('end', () => {
      const gate = this.gate();
      this.onChunk(this.engine.end(), new Uint8Array(0), gate);
      this.ended = true;
      this.maybeDone();
    });
    this.input.on('error', () => this.close());
    this.output.on('error', () => this.close());
    if (this.reading === 'buffer') this.input.resume();
    return this.done;
  }

  /** A chunk read from the input (lent: done with when this returns; the engine copies what it carries). */
  private onData(chunk: Uint8Array): void {
    const gate = this.gate();
    this.onChunk(this.engine.feed(chunk), chunk, gate);
  }

  /** Stops reading, aborts handlers in flight and fails pending client requests. */
  close(): void {
    this.ended = true;
    this.input.pause();
    this.queue = [];
    this.head = 0;
    this.session.close('Connection closed');
    this.unlisten?.();
    this.maybeDone();
  }

  /** Admission for the next chunk (set before the engine reads it: a native engine may admit by itself). */
  private gate(): Gate | undefined {
    // One client on stdio: the process at the other end of the pipe.
    return gateFor(this.server.admission, this.router, STDIO_CLIENT, this.engine);
  }

  private onChunk(count: number, chunk: Uint8Array, gate: Gate | undefined): void {
    const messages = readMessages(this.engine, count, chunk, gate);
    if (this.head === this.queue.length) {
      this.queue = messages;
      this.head = 0;
    } else {
      this.queue.push(...messages);
    }
    this.pump();
  }

  /** Handles queued messages in order until the queue is empty, a turn is full or output is backed up. */
  private pump(): void {
    let started = 0;
    while (this.head < this.queue.length) {
      // write() paused the input; the drain handler pumps again.
      if (this.waitingForDrain) return;
      if (started === REQUESTS_PER_TURN) {
        // Let this turn's replies be written before starting more.
        this.input.pause();
        if (!this.turnScheduled) {
          this.turnScheduled = true;
          setImmediate(() => {
            this.turnScheduled = false;
            this.pump();
          });
        }
        return;
      }
      const message = this.queue[this.head++]!;
      // Only work left in flight counts toward the turn: a reply ready at once is already in
      // the reply buffer, which is written (and can reveal a full pipe) as soon as it is large.
      if (this.onMessage(message)) started++;
      if (this.pending >= this.flushAt) this.flush();
    }
    this.queue = [];
    this.head = 0;
    if (!this.ended && !this.waitingForDrain) this.input.resume();
    this.maybeDone();
  }

  /** Handles one message; true when it left work in flight (a reply that comes later). */
  private onMessage(message: Message): boolean {
    switch (message.kind) {
      case 'invalid':
        this.write(message.reply);
        return false;
      case 'limited':
        this.write(message.denial.reply);
        return false;
      case 'deferred':
        this.track(
          message.admitted.then((denial) => {
            if (denial !== undefined) this.write(denial.reply);
            else this.onMessage(message.request);
          }),
        );
        return true;
      case 'batch':
        this.onBatch(message.items);
        return true;
      case 'request': {
        const reply = handleRequest(this.server, this.env, message.idRaw, message.method, message.params);
        // Most replies are ready at once; only asynchronous handlers leave work in flight.
        if (reply instanceof Promise) {
          this.track(reply.then((r) => this.writeReply(r)));
          return true;
        }
        this.writeReply(reply);
        return false;
      }
      case 'notification':
        handleNotification(this.env, message.method, message.params);
        return false;
      case 'response':
        this.session.resolveResponse(message.idRaw, message.message);
        return false;
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
        replies.push(Promise.resolve(handleRequest(this.server, this.env, item.idRaw, item.method, item.params)).then((r) => r.json));
      } else if (item.kind === 'invalid') {
        replies.push(Promise.resolve(item.reply));
      } else if (item.kind === 'limited') {
        replies.push(Promise.resolve(item.denial.reply));
      } else if (item.kind === 'deferred') {
        const { request } = item;
        replies.push(
          item.admitted.then((denial) =>
            denial !== undefined ? denial.reply : Promise.resolve(handleRequest(this.server, this.env, request.idRaw, request.method, request.params)).then((r) => r.json),
          ),
        );
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

  private writeReply(reply: Reply): void {
    if (reply instanceof TextReply) {
      const { members } = reply;
      // A session's results mostly carry the same members ('' in legacy): set only when they change.
      if (members !== this.replyMembers) {
        this.replies.setMembers(members);
        this.replyMembers = members;
      }
      this.pending = this.replies.textResult(reply.idRaw, reply.text);
      this.scheduleFlush();
    } else if (reply.json !== null) {
      this.write(reply.json);
    }
  }

  private write(message: string): void {
    this.pending = this.replies.line(message);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.pending === 0) {
      this.maybeDone();
      return;
    }
    // Straight into the pipe when the stream has nothing queued, so bytes stay in order: no Buffer, no
    // copy, no stream write. What the pipe does not take now goes through the stream, which waits for
    // room and says when to stop reading (below).
    if (this.directFd !== undefined && this.output.writable && this.output.writableLength === 0) {
      const left = this.replies.writeTo!(this.directFd);
      if (left === 0) {
        this.pending = 0;
        this.maybeDone();
        return;
      }
      // A pipe in blocking mode (not libuv's own) is written through the stream from now on.
      if (left === -constants.errno.EAGAIN) {
        this.directFd = undefined;
        this.flushAt = FLUSH_AT;
      }
    }
    const out = this.replies.take();
    this.pending = 0;
    if (this.output.writable && !this.output.write(out) && !this.waitingForDrain) {
      // The client is not keeping up: stop taking new work until it drains.
      this.waitingForDrain = true;
      this.input.pause();
      this.output.once('drain', () => {
        this.waitingForDrain = false;
        if (!this.turnScheduled) this.pump();
      });
    }
    this.maybeDone();
  };

  private maybeDone(): void {
    if (this.ended && this.inflight === 0 && this.head === this.queue.length && !this.flushScheduled && this.resolveDone !== undefined) {
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
