// One legacy-era session (2024-11-05 .. 2025-11-25): what initialize negotiated, the log level,
// resource subscriptions, the requests in flight (for cancellation) and the server->client requests
// waiting for an answer.
//
// Request ids are scoped here: a session's in-flight map and its pending map belong to it alone, so
// two clients using the same ids can never see each other's responses. Over stdio the connection is
// the session; over HTTP the Mcp-Session-Id header picks it.
//
// An HTTP server may hold thousands of idle sessions, so a session's collections (subscriptions,
// requests in flight, requests waiting for the client) are made when first used: an idle session is
// one object, its id and what the client sent in initialize (bench/memory.bench.ts).
import { randomBytes } from 'node:crypto';
import { McpError } from './errors.js';
import { ErrorCode, LOG_LEVELS } from './protocol.js';
import type { JsonObject } from './types.js';

/** Where messages for the client go: a stdio stream, an SSE stream, a response in the making. */
export interface Channel {
  /** Sends one complete JSON-RPC message (JSON text, no newline). */
  send(message: string): void;
  /** False once the client can no longer receive on it. */
  readonly open: boolean;
}

/** A request's cancellation handle, as the in-flight map holds it. */
export interface InflightHandle {
  abort(reason?: unknown): void;
}

interface Pending {
  resolve(result: JsonObject): void;
  reject(error: Error): void;
  cleanup(): void;
}

export interface SessionOptions {
  /** How long a server->client request may wait for its answer. */
  requestTimeoutMs: number;
  /** The id of a session that exists already (a copy of a shared session, src/cluster); default a new random one. */
  id?: string;
}

/**
 * Ids of our requests to the client when several processes serve the session (src/cluster): unique
 * across them, and each registered as its process's so a response landing elsewhere finds its way back.
 */
export interface RequestIds {
  /** The id of our next request (a string when the shared store is unreachable: then it names this process). */
  next(): Promise<number | string>;
  /** The request of `id` is settled. */
  done(id: number | string): void;
}

export class Session {
  /** Visible ASCII only (0x21..0x7E), as the spec requires; 128 random bits. */
  readonly id: string;
  protocolVersion: string | undefined;
  initialized = false;
  clientCapabilities: JsonObject = {};
  clientInfo: JsonObject | undefined;
  /** Rank in LOG_LEVELS of the lowest level the client wants; 0 (everything) until logging/setLevel. */
  minLogRank = 0;
  private subscribed: Set<string> | undefined;
  private running: Map<string, InflightHandle> | undefined;
  /** The stream for messages unrelated to a request (GET stream, or the stdio connection). */
  standalone: Channel | null = null;
  lastActive = Date.now();
  closed = false;
  private pending: Map<string, Pending> | undefined;
  /** Ids of our requests to the client start at 1: some clients ignore a cancellation of id 0. */
  private nextId = 1;
  private readonly requestTimeoutMs: number;
  /** Set for a shared session (src/cluster); process-local ids otherwise. */
  ids: RequestIds | undefined = undefined;

  constructor(options: SessionOptions) {
    this.id = options.id ?? randomBytes(16).toString('base64url');
    this.requestTimeoutMs = options.requestTimeoutMs;
  }

  /** Resource URIs the client subscribed to. */
  get subscriptions(): ReadonlySet<string> {
    return this.subscribed ?? NO_SUBSCRIPTIONS;
  }

  subscribe(uri: string): void {
    (this.subscribed ??= new Set()).add(uri);
  }

  unsubscribe(uri: string): void {
    this.subscribed?.delete(uri);
  }

  /** Requests from the client being handled, by raw id text. */
  get inflight(): ReadonlyMap<string, InflightHandle> {
    return this.running ?? NOTHING_IN_FLIGHT;
  }

  /** A request whose handler runs on: notifications/cancelled and close() can now abort it. */
  trackRequest(idRaw: string, handle: InflightHandle): void {
    (this.running ??= new Map()).set(idRaw, handle);
  }

  untrackRequest(idRaw: string): void {
    this.running?.delete(idRaw);
  }

  /**
   * Sends `method` to the client over `channel` and waits for the answer. Aborting `signal`, or no
   * answer within the timeout, stops the wait and tells the client with notifications/cancelled.
   */
  request(channel: Channel, method: string, params: JsonObject, signal: AbortSignal): Promise<JsonObject> {
    if (this.closed) return Promise.reject(new McpError(ErrorCode.InternalError, 'Session closed'));
    if (!channel.open) return Promise.reject(new McpError(ErrorCode.InternalError, 'No open stream to the client'));
    // Already cancelled: nothing is sent, so there is nothing to cancel on the client either.
    if (signal.aborted) return Promise.reject(abortReason(signal));
    if (this.ids !== undefined) {
      const ids = this.ids;
      return ids.next().then((id) => {
        // The session, the stream or the call may have ended while the id was being allocated.
        if (this.closed || !channel.open || signal.aborted) {
          ids.done(id);
          return this.request(channel, method, params, signal);
        }
        return this.ask(channel, method, params, signal, id);
      });
    }
    return this.ask(channel, method, params, signal, this.nextId++);
  }

  private ask(channel: Channel, method: string, params: JsonObject, signal: AbortSignal, id: number | string): Promise<JsonObject> {
    // The key is the id as the client's response writes it (JSON text).
    const key = typeof id === 'number' ? String(id) : JSON.stringify(id);
    const ids = this.ids;
    // The spec's cancellation works both ways: the client stops working on a request we gave up on.
    const cancel = (reason: string): void => {
      if (channel.open) {
        channel.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } }));
      }
    };
    return new Promise<JsonObject>((resolve, reject) => {
      const onAbort = (): void => {
        pending.cleanup();
        cancel('The request that needed it was cancelled');
        reject(abortReason(signal));
      };
      const timer = setTimeout(() => {
        pending.cleanup();
        cancel(`No answer within ${this.requestTimeoutMs} ms`);
        reject(new McpError(ErrorCode.InternalError, `The client did not answer ${method} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      timer.unref?.();
      const pending: Pending = {
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          this.pending?.delete(key);
          ids?.done(id);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      (this.pending ??= new Map()).set(key, pending);
      channel.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /**
   * Delivers a client's response; false when no request of ours has that id. A response with neither
   * an error object nor a result object fails the request (it never throws here).
   */
  resolveResponse(idText: string, message: JsonObject): boolean {
    const pending = this.pending?.get(idText);
    if (pending === undefined) return false;
    pending.cleanup();
    const error = message['error'];
    const result = message['result'];
    if (isObject(error)) {
      const code = typeof error['code'] === 'number' ? error['code'] : ErrorCode.InternalError;
      const text = typeof error['message'] === 'string' ? error['message'] : 'Client error';
      pending.reject(new McpError(code, text, error['data']));
    } else if (isObject(result)) {
      pending.resolve(result);
    } else {
      pending.reject(new McpError(ErrorCode.InternalError, 'The client answered with neither a result object nor an error object'));
    }
    return true;
  }

  setLogLevel(level: string): boolean {
    const rank = (LOG_LEVELS as readonly string[]).indexOf(level);
    if (rank < 0) return false;
    this.minLogRank = rank;
    return true;
  }

  /** Ends the session: aborts its handlers and fails its waiting requests. */
  close(reason = 'Session closed'): void {
    if (this.closed) return;
    this.closed = true;
    const running = this.running;
    this.running = undefined;
    if (running !== undefined) for (const controller of running.values()) controller.abort(new Error(reason));
    for (const pending of this.pending === undefined ? [] : [...this.pending.values()]) {
      pending.cleanup();
      pending.reject(new McpError(ErrorCode.InternalError, reason));
    }
    this.standalone = null;
  }
}

const NO_SUBSCRIPTIONS: ReadonlySet<string> = new Set();
const NOTHING_IN_FLIGHT: ReadonlyMap<string, InflightHandle> = new Map();

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('Cancelled');
}
