// Streamable HTTP transport on node:http, for both eras.
//
//   POST <path>   one JSON-RPC message (or a 2025-03-26 batch). Answered as application/json when the
//                 handler sends nothing before its result, else as an SSE stream (switched lazily).
//   GET <path>    legacy: the session's stream for server-initiated messages, or a resume with
//                 Last-Event-ID. 2026-07-28 has no GET (405).
//   DELETE <path> legacy: ends the session named by Mcp-Session-Id.
//
// Era per request: a request naming a session (Mcp-Session-Id) or an initialize opens/uses a legacy
// session; anything else is 2026-07-28 and must carry its version in `_meta` and the MCP-Protocol-
// Version, Mcp-Method and Mcp-Name headers, which are checked against the body.
//
// Every request is checked in this order: Host/Origin (DNS rebinding, 403), method (405), media
// types (415/406), body size (413), JSON (400), then the era's rules. Sessions expire when idle
// and are capped in number. close() stops taking requests and waits for those in flight.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createEngine } from '../jsonrpc/index.js';
import type { Engine } from '../jsonrpc/index.js';
import { writeError } from '../jsonrpc/response.js';
import { handleNotification, handleRequest, isThenable } from '../server/dispatch.js';
import type { Reply, RequestEnv } from '../server/dispatch.js';
import { McpError } from '../server/errors.js';
import { BATCH_VERSIONS, ErrorCode, LEGACY_VERSIONS, META } from '../server/protocol.js';
import type { McpServer } from '../server/server.js';
import { Session } from '../server/session.js';
import type { Channel } from '../server/session.js';
import type { AuthPrincipal, JsonObject } from '../server/types.js';
import { clientKey, gateFor, methodRouter, readMessages } from './intake.js';
import type { Message } from './intake.js';
import { checkStatelessHeaders, header } from './headers.js';
import { ResourceServer } from '../auth/resource-server.js';
import type { ResourceServerOptions } from '../auth/resource-server.js';
import type { AuthDecision, AuthRefusal } from '../auth/authenticate.js';
import type { ReasonName } from '../jsonrpc/errors.js';
import { EventLog, SseStream, parseEventId } from './sse.js';
import type { SseOptions } from './sse.js';
import { LegacySseEndpoints } from './legacy-sse.js';
import type { ResponseSink } from './http-message.js';
import { HttpLane } from './http-lane.js';
import { LaneRequest } from './lane-message.js';
import { SharedSessions, UNREACHABLE } from '../cluster/http-sessions.js';
import type { SharedState } from '../cluster/redis-state.js';
import type { OpsOptions } from '../ops/endpoints.js';
import type { Health } from '../ops/health.js';
import type { Metrics } from '../ops/metrics.js';

/** A request as the transport gets it: from node:http, or from serveHttp()'s fast lane (body already read). */
type Req = IncomingMessage | LaneRequest;

export interface HttpOptions {
  /** The MCP endpoint path (default '/mcp'). */
  path?: string;
  /** Host header names accepted (port ignored), or '*' for any. Default: localhost, 127.0.0.1, [::1]. */
  allowedHosts?: readonly string[] | '*';
  /** Origins accepted when a request has an Origin header, or '*'. Default: http(s) origins on allowed hosts. */
  allowedOrigins?: readonly string[] | '*';
  /** Largest request body in bytes (default 4 MiB); larger bodies get 413. */
  maxBodyBytes?: number;
  /** Most legacy sessions at once (default 10000); initialize beyond it gets 503. */
  maxSessions?: number;
  /** A legacy session with no request and no open stream for this long is closed (default 30 min). */
  sessionIdleMs?: number;
  /** Interval of SSE keepalive comments (default 15 s). */
  keepAliveMs?: number;
  /** `retry:` hint of priming events in ms (default 1000). */
  retryMs?: number;
  /** Events kept per legacy session for Last-Event-ID resumption (default 1000 events / 4 MiB). */
  eventLog?: { maxEvents: number; maxBytes: number };
  /** Serve the 2024-11-05 HTTP+SSE endpoints too (default true: GET /sse, POST /messages). */
  legacySse?: boolean;
  /**
   * OAuth resource server (docs/auth.md): every request to the endpoint needs a credential the
   * authenticator accepts (else 401 with a challenge), the protected resource metadata is served at
   * /.well-known/oauth-protected-resource, and entries' scopes are enforced (403 insufficient_scope).
   */
  auth?: ResourceServerOptions | ResourceServer;
  /** A custom caller lookup instead of `auth` (no 401s: undefined is an anonymous caller). */
  authenticate?: (req: IncomingMessage) => AuthPrincipal | undefined | Promise<AuthPrincipal | undefined>;
  /**
   * Legacy sessions, their SSE events and server->client messages shared with every process using the
   * same Redis (docs/scale-out.md), from connectSharedState(). One per transport; closing it is yours.
   */
  sharedState?: SharedState;
  /** What the transport answers by itself, counted (src/ops/metrics.ts); absent, nothing is counted. */
  counters?: HttpCounters;
}

/** Why the transport answered a request itself, before dispatch (the engine's reasons, then HTTP's). */
export type RefusalCause =
  | Exclude<ReasonName, 'ok'>
  | 'host_forbidden'
  | 'origin_forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'not_acceptable'
  | 'payload_too_large'
  | 'empty_body'
  | 'session_not_found'
  | 'unsupported_protocol_version'
  | 'header_mismatch'
  | 'too_many_sessions'
  | 'session_store_unreachable'
  | 'stream_conflict'
  | 'shutting_down';

/** Callbacks for operators' counters; called on refusal paths only, never for an answered request. */
export interface HttpCounters {
  refused(cause: RefusalCause): void;
  /** A missing (error 'missing') or refused credential: 401, or 400 for a malformed one. */
  unauthorized(error: 'missing' | 'invalid_token' | 'invalid_request', reason: string): void;
}

/**
 * A legacy session as the transport keeps it. Idle sessions are most of them (bench/memory.bench.ts),
 * so its event log and stream table are made with its first SSE stream, and it has no listener of
 * its own: the transport's one listener walks the sessions that have a GET stream.
 */
class HttpSession {
  /** The standalone GET stream, once opened. */
  get: SseStream | null = null;
  /** Requests being answered (open POST exchanges), so an idle session is not one in use. */
  busy = 0;
  private log: EventLog | undefined;
  /** Streams of this session by id, for resumption; bounded, oldest ended first out. */
  private streams: Map<string, SseStream> | undefined;

  constructor(
    readonly session: Session,
    /** Subject of the caller that opened it, when authenticated: only that caller may use it. */
    readonly owner: string | undefined,
    private readonly limits: { maxEvents: number; maxBytes: number },
    /** The shared event log's maker, when state is shared (src/cluster). */
    private readonly newLog?: () => EventLog,
  ) {}

  /** A new resumable stream of this session, kept for Last-Event-ID (`trim`: forget the oldest ended or detached one past the bound). */
  stream(id: string, sse: SseOptions, trim: boolean): SseStream {
    const stream = new SseStream(id, sse, (this.log ??= this.newLog === undefined ? new EventLog(this.limits.maxEvents, this.limits.maxBytes) : this.newLog()));
    const streams = (this.streams ??= new Map());
    streams.set(id, stream);
    if (trim && streams.size > MAX_STREAMS_PER_SESSION) {
      for (const [old, s] of streams) {
        if (s.ended || !s.attached) {
          streams.delete(old);
          break;
        }
      }
    }
    return stream;
  }

  /** The stream a Last-Event-ID names, if it is still kept. */
  find(streamId: string): SseStream | undefined {
    return this.streams?.get(streamId) ?? (this.get?.id === streamId ? this.get : undefined);
  }

  /** Ends every stream of the session. */
  end(): void {
    if (this.streams !== undefined) for (const stream of this.streams.values()) stream.end();
    this.get?.end();
  }
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];
/** How long a draining server waits for idle keep-alive connections to carry one more request. */
const DRAIN_IDLE_MS = 2000;
/** Legacy methods that change what a shared session stores: saved before their reply (src/cluster). */
const SESSION_CHANGES = new Set(['initialize', 'notifications/initialized', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);
const STORE_UNREACHABLE = 'Service Unavailable: the shared session store is unreachable, so this session cannot be served now; retry later';
const MAX_STREAMS_PER_SESSION = 64;

function json(res: ResponseSink, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  // A length, not chunked encoding: one write, and clients need not parse chunks.
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function httpError(res: ResponseSink, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  json(res, status, writeError(null, code, message), headers);
}

/** The media type of a Content-Type value is application/json (parameters such as charset aside). */
function isJsonType(type: string): boolean {
  const semi = type.indexOf(';');
  return (semi < 0 ? type : type.slice(0, semi)).trim().toLowerCase() === 'application/json';
}

/** A failure of the transport itself: 500 if nothing was sent yet, else the response just ends. */
function internalError(res: ResponseSink): void {
  if (!res.headersSent) httpError(res, 500, ErrorCode.InternalError, 'Internal error');
  else res.end();
}

function ignore(): void {}

/** The answer of the `authenticate` hook when there is none: an anonymous caller. */
const ANONYMOUS = undefined;

const EMPTY_BODY = Buffer.alloc(0);

function hostname(hostHeader: string): string {
  // "[::1]:3000" -> "[::1]"; "localhost:3000" -> "localhost"
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1).toLowerCase();
  const i = hostHeader.lastIndexOf(':');
  return (i < 0 ? hostHeader : hostHeader.slice(0, i)).toLowerCase();
}

function accepts(req: Req, type: string): boolean {
  const accept = header(req, 'accept');
  if (accept === undefined) return false;
  // Clients send the same Accept on every request: remember the last answer per type.
  const cached = ACCEPT_CACHE.get(type);
  if (cached !== undefined && cached[0] === accept) return cached[1];
  const ok = accept.split(',').some((part) => {
    const t = part.split(';')[0]!.trim().toLowerCase();
    return t === type || t === '*/*' || t === type.split('/')[0] + '/*';
  });
  ACCEPT_CACHE.set(type, [accept, ok]);
  return ok;
}

const ACCEPT_CACHE = new Map<string, [string, boolean]>();

/**
 * The environment of one 2026-07-28 POST. A class, not an object literal with a getter: V8 may
 * allocate such literals straight into the old generation, where a dead one keeps its request and
 * response alive through every young-generation collection until a full one (measured: 3 MB promoted
 * per scavenge under load, scavenges of 10 ms instead of 0.7). The request's AbortSignal is made only
 * if its handler reads it (most never do); it then aborts when the client goes away or the transport
 * closes.
 */
class StatelessEnv implements RequestEnv {
  readonly session = undefined;
  private abort: AbortController | undefined;
  private onClose: (() => void) | undefined;

  constructor(
    private readonly req: Req,
    private readonly res: ResponseSink,
    private readonly server: McpServer,
    private readonly active: Set<AbortController>,
    readonly channel: Exchange,
    readonly auth: AuthPrincipal | undefined,
  ) {}

  get signal(): AbortSignal {
    if (this.abort === undefined) {
      const abort = new AbortController();
      const res = this.res;
      this.abort = abort;
      this.onClose = () => {
        if (!res.writableFinished) abort.abort(new Error('The client closed the request'));
      };
      this.active.add(abort);
      if (res.destroyed) this.onClose();
      else res.on('close', this.onClose);
    }
    return this.abort.signal;
  }

  checkHeaders(method: string, params: JsonObject): void {
    checkStatelessHeaders(this.req, this.server, method, params);
  }

  header(name: string): string | undefined {
    return header(this.req, name);
  }

  /** Answers the request; its signal (if made) no longer needs the transport or the response. */
  finish(reply: Reply): void {
    if (this.abort !== undefined) {
      this.active.delete(this.abort);
      this.res.off('close', this.onClose!);
    }
    this.channel.finish(reply, reply.status);
  }
}

/** A POST exchange as a Channel: JSON until something must be sent before the result, then SSE. */
class Exchange implements Channel {
  stream: SseStream | null = null;
  private finished = false;

  constructor(
    private readonly res: ResponseSink,
    private readonly sse: SseOptions,
    private readonly hs: HttpSession | undefined,
    private readonly extraHeaders: Record<string, string>,
    private readonly auth: ResourceServer | undefined,
  ) {}

  get open(): boolean {
    if (this.finished) return false;
    if (this.stream !== null) return !this.stream.ended;
    return !this.res.destroyed;
  }

  send(message: string): void {
    this.ensureStream().send(message);
  }

  /** Closes the HTTP response now; the rest of the exchange waits in the session's log (legacy). */
  disconnect(): void {
    if (this.hs === undefined) return;
    this.ensureStream().disconnect();
  }

  finish(reply: Reply, status: number): void {
    if (this.finished) return;
    this.finished = true;
    if (this.stream !== null) {
      if (reply.json !== null) this.stream.send(reply.json);
      this.stream.end();
      return;
    }
    if (reply.json === null) {
      if (!this.res.headersSent) this.res.writeHead(202, this.extraHeaders);
      this.res.end();
      return;
    }
    // 403 insufficient_scope (docs/auth.md) carries its challenge, whatever the era.
    if (reply.challengeScopes !== undefined && this.auth !== undefined) {
      const challenge = this.auth.challenge(reply.challengeScopes, 'insufficient_scope', 'The access token lacks a scope this request needs');
      return json(this.res, 403, reply.json, { ...this.extraHeaders, 'WWW-Authenticate': challenge });
    }
    json(this.res, status, reply.json, this.extraHeaders);
  }

  private ensureStream(): SseStream {
    if (this.stream === null) {
      const id = randomBytes(9).toString('base64url');
      this.stream = this.hs !== undefined ? this.hs.stream(id, this.sse, true) : new SseStream(id, this.sse, null);
      this.stream.open(this.res, 200, this.extraHeaders);
    }
    return this.stream;
  }
}

export class HttpTransport {
  readonly path: string;
  private readonly allowedHosts: ReadonlySet<string> | '*';
  private readonly allowedOrigins: ReadonlySet<string> | '*' | undefined;
  readonly maxBodyBytes: number;
  private readonly maxSessions: number;
  private readonly sessionIdleMs: number;
  private readonly sse: SseOptions;
  private readonly logLimits: { maxEvents: number; maxBytes: number };
  private readonly sessions = new Map<string, HttpSession>();
  /** Sessions with a GET stream: where list changes and resource updates go (legacy era). */
  private readonly listening = new Set<HttpSession>();
  /** Removes `listener` from the server; set while `listening` is not empty. */
  private unlisten: (() => void) | undefined;
  private readonly router = methodRouter();
  private readonly engine: Engine;
  private readonly sweeper: NodeJS.Timeout;
  private readonly legacySse: LegacySseEndpoints | undefined;
  private readonly authenticate: HttpOptions['authenticate'];
  private readonly auth: ResourceServer | undefined;
  private readonly counters: HttpCounters | undefined;
  private closing = false;
  private inflight = 0;
  /** GET requests in flight (SSE streams, mostly): inflight minus these is exchanges that will end. */
  private gets = 0;
  private idle: (() => void) | undefined;
  /**
   * Stateless requests in flight, aborted when the transport closes (ends listen streams). A set,
   * not AbortSignal.any() over one long-lived signal: that ties every request's signal to it.
   */
  private readonly active = new Set<AbortController>();
  /** Sessions shared with other processes through Redis; undefined (everything local) by default. */
  private readonly shared: SharedSessions | undefined;

  constructor(
    private readonly server: McpServer,
    options: HttpOptions = {},
  ) {
    this.path = options.path ?? '/mcp';
    this.allowedHosts = options.allowedHosts === '*' ? '*' : new Set((options.allowedHosts ?? LOOPBACK).map((h) => h.toLowerCase()));
    this.allowedOrigins = options.allowedOrigins === '*' ? '*' : options.allowedOrigins === undefined ? undefined : new Set(options.allowedOrigins);
    this.maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
    this.maxSessions = options.maxSessions ?? 10_000;
    this.sessionIdleMs = options.sessionIdleMs ?? 30 * 60_000;
    this.sse = { keepAliveMs: options.keepAliveMs ?? 15_000, retryMs: options.retryMs ?? 1000 };
    this.logLimits = options.eventLog ?? { maxEvents: 1000, maxBytes: 4 * 1024 * 1024 };
    if (options.auth !== undefined && options.authenticate !== undefined) throw new TypeError('Pass auth or authenticate, not both');
    this.auth = options.auth === undefined || options.auth instanceof ResourceServer ? options.auth : new ResourceServer(options.auth);
    this.authenticate = options.authenticate;
    this.counters = options.counters;
    this.engine = createEngine({ router: this.router, maxMessageBytes: this.maxBodyBytes });
    this.sweeper = setInterval(() => this.sweep(), Math.max(50, Math.min(this.sessionIdleMs / 4, 60_000)));
    this.sweeper.unref();
    this.legacySse = options.legacySse === false ? undefined : new LegacySseEndpoints(server, this.sse, this.maxSessions);
    if (options.sharedState !== undefined) {
      const shared: SharedSessions = new SharedSessions(
        options.sharedState,
        {
          find: (id) => this.sessions.get(id),
          adopt: (id, owner) => {
            const hs = new HttpSession(new Session({ id, requestTimeoutMs: server.clientRequestTimeoutMs }), owner, this.logLimits, () => shared.newLog(id));
            this.sessions.set(id, hs);
            return hs;
          },
          drop: (id, reason) => this.closeSession(id, reason),
          detach: (id, streamId) => {
            const stream = this.sessions.get(id)?.find(streamId);
            if (stream !== undefined && stream.attached) stream.disconnect();
          },
          listChanged: (kind) => this.listener.listChanged(kind),
          resourceUpdated: (uri) => this.listener.resourceUpdated(uri),
        },
        server,
        { ttlMs: this.sessionIdleMs, limits: this.logLimits },
      );
      this.shared = shared;
    }
  }

  /** Number of live legacy sessions. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Legacy sessions with an open GET stream (the long-lived SSE streams). */
  get streamCount(): number {
    return this.listening.size;
  }

  /**
   * Handles one HTTP request. Mountable in any node:http-style server (express, fastify's raw
   * handler): requests for other paths go to `next` when given, else get 404.
   */
  handle(req: IncomingMessage, res: ServerResponse, next?: () => void): void;
  handle(req: LaneRequest, res: ResponseSink, next?: () => void): void;
  handle(req: Req, res: ResponseSink, next?: () => void): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (this.auth !== undefined && this.auth.metadataPaths.includes(path)) return this.metadata(req, res);
    if (path !== this.path && !(this.legacySse?.handles(path) ?? false)) {
      if (next !== undefined) return next();
      this.counters?.refused('not_found');
      return httpError(res, 404, ErrorCode.InvalidRequest, `Not found: the MCP endpoint is ${this.path}`);
    }
    if (!this.checkOrigin(req, res)) return;
    if (this.closing) {
      this.counters?.refused('shutting_down');
      return httpError(res, 503, ErrorCode.InternalError, 'Server is shutting down', { Connection: 'close' });
    }
    this.inflight++;
    res.on('close', this.release);
    // Every request is authenticated on its own (sessions are never credentials), before its body is read.
    const decision = this.auth !== undefined ? this.auth.authenticate(req) : this.authenticate === undefined ? ANONYMOUS : this.authenticate(req as IncomingMessage); // serveHttp's lane is off with a hook
    if (isThenable(decision)) {
      Promise.resolve(decision)
        .then((d) => this.admit(req, res, path, url, d))
        .catch(() => internalError(res));
      return;
    }
    this.admit(req, res, path, url, decision);
  }

  /**
   * A request whose credential was checked: refused ones get 401 (400 for a malformed one) with a
   * challenge; the rest go on with their principal. `decision` is an authenticator's answer with
   * `auth`, else the `authenticate` hook's principal (undefined: anonymous).
   */
  private admit(req: Req, res: ResponseSink, path: string, url: string, decision: AuthDecision | AuthPrincipal | null | undefined): void {
    let principal: AuthPrincipal | undefined;
    if (this.auth !== undefined) {
      const d = decision as AuthDecision | null;
      if (d === null || !d.ok) return this.unauthorized(res, d);
      principal = d.principal;
    } else {
      principal = decision as AuthPrincipal | undefined;
    }
    // POST to the endpoint, the request path, runs without promises unless a handler returns one.
    if (path === this.path && req.method === 'POST') return this.post(req, res, principal);
    void this.route(req, res, path, url, principal).catch(() => internalError(res));
  }

  /** 401 for a missing or refused credential (400 for a malformed one), with the resource's challenge. */
  private unauthorized(res: ResponseSink, refusal: AuthRefusal | null): void {
    const auth = this.auth!;
    const scopes = auth.scopesSupported(this.server.scopesInUse());
    this.counters?.unauthorized(refusal === null ? 'missing' : refusal.error, refusal?.reason ?? '');
    if (refusal === null) {
      return httpError(res, 401, ErrorCode.Unauthorized, 'Unauthorized: this server needs an access token (Authorization: Bearer)', {
        'WWW-Authenticate': auth.challenge(scopes),
      });
    }
    const status = refusal.error === 'invalid_request' ? 400 : 401;
    httpError(res, status, ErrorCode.Unauthorized, `Unauthorized: ${refusal.description}`, {
      'WWW-Authenticate': auth.challenge(scopes, refusal.error, refusal.description),
    });
  }

  /** RFC 9728 protected resource metadata: public, cacheable, readable from browsers. */
  private metadata(req: Req, res: ResponseSink): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return httpError(res, 405, ErrorCode.InvalidRequest, `Method ${req.method} not allowed`, { Allow: 'GET, HEAD' });
    }
    json(res, 200, JSON.stringify(this.auth!.document(this.server.scopesInUse())), {
      'Access-Control-Allow-Origin': '*',
      'Cache-Control': 'max-age=300',
    });
  }

  private readonly release = (): void => {
    this.inflight--;
    if (this.inflight === 0) this.idle?.();
  };

  private async route(req: Req, res: ResponseSink, path: string, url: string, auth: AuthPrincipal | undefined): Promise<void> {
    if (req.method === 'GET') {
      this.gets++;
      res.on('close', () => this.gets--);
    }
    if (path !== this.path) {
      const body = (): Promise<Buffer | null> => new Promise((resolve) => this.readBody(req, res, resolve, () => resolve(null)));
      // Never from the fast lane (it takes POSTs to this.path only): node:http's own objects.
      return this.legacySse!.handle(req as IncomingMessage, res as ServerResponse, path, url, body, auth);
    }
    switch (req.method) {
      case 'GET':
        return this.get(req, res, auth);
      case 'DELETE':
        return this.delete(req, res, auth);
      default:
        this.counters?.refused('method_not_allowed');
        return httpError(res, 405, ErrorCode.InvalidRequest, `Method ${req.method} not allowed`, { Allow: 'GET, POST, DELETE' });
    }
  }

  /** DNS-rebinding protection: the Host (and Origin, when sent) must name an allowed host. */
  private checkOrigin(req: Req, res: ResponseSink): boolean {
    const host = header(req, 'host');
    if (this.allowedHosts !== '*' && (host === undefined || !this.allowedHosts.has(hostname(host)))) {
      this.counters?.refused('host_forbidden');
      httpError(res, 403, ErrorCode.InvalidRequest, `Forbidden: Host ${JSON.stringify(host ?? '')} is not allowed`);
      return false;
    }
    const origin = header(req, 'origin');
    if (origin === undefined || this.allowedOrigins === '*') return true;
    let ok: boolean;
    if (this.allowedOrigins !== undefined) {
      ok = this.allowedOrigins.has(origin);
    } else {
      try {
        const u = new URL(origin);
        ok = (u.protocol === 'http:' || u.protocol === 'https:') && (this.allowedHosts === '*' || this.allowedHosts.has(u.hostname.startsWith('[') ? u.hostname : u.hostname.toLowerCase()) || this.allowedHosts.has(`[${u.hostname}]`));
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      this.counters?.refused('origin_forbidden');
      httpError(res, 403, ErrorCode.InvalidRequest, `Forbidden: Origin ${JSON.stringify(origin)} is not allowed`);
    }
    return ok;
  }

  /**
   * Reads the body and calls `done` with it; on a refusal (415, 413, already answered here) or a
   * request that never completes, `failed` runs instead (or nothing, for a request whose client went
   * away: there is no one to answer). Callbacks, not a promise: this is on every request's path.
   */
  private readBody(req: Req, res: ResponseSink, done: (body: Buffer) => void, failed: () => void): void {
    const type = header(req, 'content-type');
    if (type === undefined || !isJsonType(type)) {
      this.counters?.refused('unsupported_media_type');
      httpError(res, 415, ErrorCode.InvalidRequest, 'Unsupported Media Type: Content-Type must be application/json');
      return failed();
    }
    if (req instanceof LaneRequest) return done(req.body); // the lane read it (within maxBodyBytes)
    // Mounted behind a body parser (express.json(), fastify): the stream is spent, req.body holds it.
    const parsed = (req as IncomingMessage & { body?: unknown }).body;
    if (req.readableEnded && parsed !== undefined) {
      const body = Buffer.isBuffer(parsed) ? parsed : Buffer.from(typeof parsed === 'string' ? parsed : JSON.stringify(parsed));
      if (body.length <= this.maxBodyBytes) return done(body);
      this.counters?.refused('payload_too_large');
      httpError(res, 413, ErrorCode.InvalidRequest, `Payload Too Large: the limit is ${this.maxBodyBytes} bytes`);
      return failed();
    }
    const length = Number(header(req, 'content-length') ?? NaN);
    if (length > this.maxBodyBytes) {
      this.counters?.refused('payload_too_large');
      httpError(res, 413, ErrorCode.InvalidRequest, `Payload Too Large: the limit is ${this.maxBodyBytes} bytes`, { Connection: 'close' });
      req.resume();
      return failed();
    }
    // Plain 'data'/'end' events: an async iterator over the request costs more than the request.
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > this.maxBodyBytes) {
        req.off('data', onData);
        req.off('end', onEnd);
        this.counters?.refused('payload_too_large');
        httpError(res, 413, ErrorCode.InvalidRequest, `Payload Too Large: the limit is ${this.maxBodyBytes} bytes`, { Connection: 'close' });
        req.destroy();
        failed();
        return;
      }
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = (): void => done(chunks === undefined ? (first ?? EMPTY_BODY) : Buffer.concat(chunks, size));
    req.on('data', onData);
    req.on('end', onEnd);
    // An aborted request emits 'error' (and never 'end'): nothing to answer, and no crash.
    req.on('error', ignore);
  }

  private post(req: Req, res: ResponseSink, auth: AuthPrincipal | undefined): void {
    if (!accepts(req, 'application/json') || !accepts(req, 'text/event-stream')) {
      this.counters?.refused('not_acceptable');
      return httpError(res, 406, ErrorCode.InvalidRequest, 'Not Acceptable: Accept must include application/json and text/event-stream');
    }
    this.readBody(req, res, (body) => this.postBody(req, res, body, auth), ignore);
  }

  /** A POST whose body is in: its message, then the session or stateless path. */
  private postBody(req: Req, res: ResponseSink, body: Buffer, auth: AuthPrincipal | undefined): void {
    try {
      const admission = this.server.admission;
      const gate = gateFor(admission, this.router, admission === undefined ? '' : clientKey(auth, req.socket.remoteAddress), this.engine);
      const messages = readMessages(this.engine, this.engine.scan(body), body, gate);
      const message = messages[0];
      if (message === undefined) {
        this.counters?.refused('empty_body');
        return httpError(res, 400, ErrorCode.InvalidRequest, 'Empty body');
      }
      if (message.kind === 'invalid') {
        this.counters?.refused(message.reason);
        return json(res, 400, message.reply);
      }
      if (message.kind === 'limited') return json(res, message.denial.status, message.denial.reply, message.denial.headers);
      if (message.kind === 'deferred') {
        void message.admitted.then((denial) => {
          if (denial !== undefined) json(res, denial.status, denial.reply, denial.headers);
          else this.dispatchPost(message.request, req, res, auth);
        });
        return;
      }
      this.dispatchPost(message, req, res, auth);
    } catch {
      internalError(res);
    }
  }

  private dispatchPost(message: Message, req: Req, res: ResponseSink, auth: AuthPrincipal | undefined): void {
    const sessionId = header(req, 'mcp-session-id');
    if (sessionId !== undefined) {
      const hs = this.sessionOf(sessionId, auth);
      if (hs !== undefined) {
        this.shared?.touch(hs);
        return this.sessionPost(hs, message, req, res, auth);
      }
      if (this.shared === undefined) return this.sessionNotFound(res);
      return this.loadSession(sessionId, auth, res, (loaded) => this.sessionPost(loaded, message, req, res, auth));
    }
    if (message.kind === 'request' && message.method === 'initialize' && !declaresVersion(message.params)) {
      if (this.sessions.size >= this.maxSessions) {
        this.sweep();
        if (this.sessions.size >= this.maxSessions) {
          this.counters?.refused('too_many_sessions');
          return httpError(res, 503, ErrorCode.InternalError, 'Too many sessions; try again later', { 'Retry-After': '5' });
        }
      }
      const hs = this.openSession(auth);
      return this.legacyPost(hs, message, req, res, auth, { 'Mcp-Session-Id': hs.session.id });
    }
    return this.statelessPost(message, req, res, auth);
  }

  private sessionPost(hs: HttpSession, message: Message, req: Req, res: ResponseSink, auth: AuthPrincipal | undefined): void {
    const version = header(req, 'mcp-protocol-version');
    if (version !== undefined && !(LEGACY_VERSIONS as readonly string[]).includes(version)) {
      this.counters?.refused('unsupported_protocol_version');
      return httpError(res, 400, ErrorCode.InvalidRequest, `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(version)}`);
    }
    this.legacyPost(hs, message, req, res, auth);
  }

  /** The session `id` names as this process holds it, else as the shared store has it (404 if nowhere, 503 if the store is unreachable). */
  private withSession(id: string, auth: AuthPrincipal | undefined, res: ResponseSink, then: (hs: HttpSession) => void): void {
    const hs = this.sessionOf(id, auth);
    if (hs !== undefined) {
      this.shared?.touch(hs);
      return then(hs);
    }
    if (this.shared === undefined) return this.sessionNotFound(res);
    this.loadSession(id, auth, res, then);
  }

  private sessionNotFound(res: ResponseSink): void {
    this.counters?.refused('session_not_found');
    httpError(res, 404, ErrorCode.SessionNotFound, 'Session not found');
  }

  private storeUnreachable(res: ResponseSink): void {
    this.counters?.refused('session_store_unreachable');
    httpError(res, 503, ErrorCode.InternalError, STORE_UNREACHABLE, { 'Retry-After': '1' });
  }

  /** A session not held here, read from the shared store: one Redis read. */
  private loadSession(id: string, auth: AuthPrincipal | undefined, res: ResponseSink, then: (hs: HttpSession) => void): void {
    if (this.sessions.size >= this.maxSessions) {
      this.sweep();
      if (this.sessions.size >= this.maxSessions) {
        this.counters?.refused('too_many_sessions');
        return httpError(res, 503, ErrorCode.InternalError, 'Too many sessions; try again later', { 'Retry-After': '5' });
      }
    }
    this.shared!.load(id, auth?.subject).then(
      (found) => {
        if (found === UNREACHABLE) return this.storeUnreachable(res);
        if (found === undefined) return this.sessionNotFound(res);
        if (this.closing) return httpError(res, 503, ErrorCode.InternalError, 'Server is shutting down', { Connection: 'close' });
        then(found as HttpSession);
      },
      () => internalError(res),
    );
  }

  /** The session `id` names, if the caller may use it: a session opened by an authenticated caller is that caller's alone. */
  private sessionOf(id: string, auth: AuthPrincipal | undefined): HttpSession | undefined {
    const hs = this.sessions.get(id);
    return hs !== undefined && hs.owner === auth?.subject ? hs : undefined;
  }

  private openSession(auth: AuthPrincipal | undefined): HttpSession {
    const session = new Session({ requestTimeoutMs: this.server.clientRequestTimeoutMs });
    const shared = this.shared;
    const hs = new HttpSession(session, auth?.subject, this.logLimits, shared === undefined ? undefined : () => shared.newLog(session.id));
    this.sessions.set(session.id, hs);
    shared?.track(session);
    return hs;
  }

  private closeSession(id: string, reason = 'Session ended'): void {
    const hs = this.sessions.get(id);
    if (hs === undefined) return;
    this.sessions.delete(id);
    this.shared?.forget(id);
    this.stopListening(hs);
    hs.session.close(reason);
    hs.end();
  }

  /**
   * Server-wide events for the GET streams of legacy sessions: one listener for the transport, made
   * once, registered with the server while some session has a GET stream.
   */
  private readonly listener = {
    listChanged: (kind: 'tools' | 'prompts' | 'resources'): void => {
      const message = `{"jsonrpc":"2.0","method":"notifications/${kind}/list_changed"}`;
      for (const hs of this.listening) if (hs.session.initialized) hs.get!.send(message);
    },
    resourceUpdated: (uri: string): void => {
      let message: string | undefined;
      for (const hs of this.listening) {
        if (hs.session.subscriptions.has(uri)) hs.get!.send((message ??= JSON.stringify({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri } })));
      }
    },
  };

  /** `hs` has a GET stream: server-wide events go to it from now on (until the session closes). */
  private startListening(hs: HttpSession): void {
    // Shared state delivers server events through the bus instead (src/cluster/http-sessions.ts).
    if (this.listening.size === 0 && this.shared === undefined) this.unlisten = this.server.addListener(this.listener);
    this.listening.add(hs);
  }

  private stopListening(hs: HttpSession): void {
    if (!this.listening.delete(hs) || this.listening.size !== 0) return;
    this.unlisten?.();
    this.unlisten = undefined;
  }

  private legacyPost(
    hs: HttpSession,
    message: Message,
    req: Req,
    res: ResponseSink,
    auth: AuthPrincipal | undefined,
    headers: Record<string, string> = {},
  ): void {
    const session = hs.session;
    session.lastActive = Date.now();
    const shared = this.shared;
    if (message.kind === 'notification') {
      if (shared !== undefined && message.method === 'notifications/cancelled') shared.cancelElsewhere(session, message.params);
      handleNotification({ session, channel: closedChannel, auth, signal: undefined }, message.method, message.params);
      if (shared !== undefined && SESSION_CHANGES.has(message.method)) {
        void shared.save(hs).then(() => res.writeHead(202, headers).end());
        return;
      }
      res.writeHead(202, headers).end();
      return;
    }
    if (message.kind === 'response') {
      if (!session.resolveResponse(message.idRaw, message.message) && shared !== undefined) shared.routeResponse(session, message.idRaw, message.message);
      res.writeHead(202, headers).end();
      return;
    }
    const exchange = new Exchange(res, this.sse, hs, headers, this.auth);
    const env: RequestEnv = { session, channel: exchange, auth, signal: undefined, disconnect: () => exchange.disconnect(), header: (name) => header(req, name) };
    hs.busy++;
    if (message.kind === 'batch') {
      void this.legacyBatch(hs, message.items, exchange, env).catch(() => internalError(res)).finally(() => this.legacyDone(hs));
      return;
    }
    if (message.kind !== 'request') {
      exchange.finish({ json: null, status: 202 }, 202);
      return this.legacyDone(hs);
    }
    const reply = handleRequest(this.server, env, message.idRaw, message.method, message.params);
    // Legacy errors travel in-band with 200, except a request before initialize on a new session.
    const finish = (r: Reply): void => exchange.finish(r, r.status === 400 && session.protocolVersion === undefined ? 400 : 200);
    if (shared !== undefined && SESSION_CHANGES.has(message.method)) {
      // Stored before the reply: the client's next request may go to any process.
      void Promise.resolve(reply)
        .then(async (r) => {
          if (session.protocolVersion === undefined || (await shared.save(hs))) return finish(r);
          if (message.method !== 'initialize') return finish(r); // the change holds here; others keep the old copy
          // A session the store does not have could be served by this process only: none is opened.
          this.closeSession(session.id, 'The session store is unreachable');
          exchange.finish({ json: writeError(message.idRaw, ErrorCode.InternalError, STORE_UNREACHABLE), status: 503 }, 503);
        })
        .catch(() => internalError(res))
        .finally(() => this.legacyDone(hs));
      return;
    }
    if (!(reply instanceof Promise)) {
      finish(reply);
      return this.legacyDone(hs);
    }
    void reply.then(finish).finally(() => this.legacyDone(hs));
  }

  /** A legacy POST is over: the session was active, and an initialize that failed leaves none behind. */
  private legacyDone(hs: HttpSession): void {
    hs.busy--;
    hs.session.lastActive = Date.now();
    if (hs.session.protocolVersion === undefined) this.closeSession(hs.session.id);
  }

  /** A JSON-RPC batch (2025-03-26 only): one response with every reply. */
  private async legacyBatch(hs: HttpSession, items: Message[], exchange: Exchange, env: RequestEnv): Promise<void> {
    const session = hs.session;
    const version = session.protocolVersion;
    if (version === undefined || !BATCH_VERSIONS.has(version)) {
      this.counters?.refused('batch_not_allowed');
      return exchange.finish({ json: writeError(null, ErrorCode.InvalidRequest, `JSON-RPC batches are not supported in protocol version ${version ?? '(not initialized)'}`), status: 400 }, 400);
    }
    const replies: string[] = [];
    await Promise.all(
      items.map(async (item) => {
        if (item.kind === 'request') {
          const reply = await handleRequest(this.server, env, item.idRaw, item.method, item.params);
          if (reply.json !== null) replies.push(reply.json);
        } else if (item.kind === 'notification') {
          handleNotification(env, item.method, item.params);
        } else if (item.kind === 'response') {
          session.resolveResponse(item.idRaw, item.message);
        } else if (item.kind === 'invalid') {
          this.counters?.refused(item.reason);
          replies.push(item.reply);
        } else if (item.kind === 'limited') {
          replies.push(item.denial.reply);
        } else if (item.kind === 'deferred') {
          const denial = await item.admitted;
          const reply = denial !== undefined ? denial.reply : (await handleRequest(this.server, env, item.request.idRaw, item.request.method, item.request.params)).json;
          if (reply !== null) replies.push(reply);
        }
      }),
    );
    if (this.shared !== undefined && items.some((i) => (i.kind === 'request' || i.kind === 'notification') && SESSION_CHANGES.has(i.method))) await this.shared.save(hs);
    exchange.finish({ json: replies.length === 0 ? null : '[' + replies.join(',') + ']', status: 200 }, 200);
  }

  private statelessPost(message: Message, req: Req, res: ResponseSink, auth: AuthPrincipal | undefined): void {
    if (message.kind === 'batch') {
      this.counters?.refused('batch_not_allowed');
      return httpError(res, 400, ErrorCode.InvalidRequest, 'JSON-RPC batches are not supported in protocol version 2026-07-28');
    }
    if (message.kind !== 'request') {
      // Notifications and responses have no session to go to in this era.
      res.writeHead(202).end();
      return;
    }
    const env = new StatelessEnv(req, res, this.server, this.active, new Exchange(res, this.sse, undefined, {}, this.auth), auth);
    // The header must agree with the body's version (checked before the envelope, when both exist).
    const headerVersion = header(req, 'mcp-protocol-version');
    const meta = (message.params as JsonObject | undefined)?.['_meta'] as JsonObject | undefined;
    const bodyVersion = typeof meta === 'object' && meta !== null ? meta[META.protocolVersion] : undefined;
    if (headerVersion !== undefined && typeof bodyVersion === 'string' && headerVersion.trim() !== bodyVersion) {
      this.counters?.refused('header_mismatch');
      const e = new McpError(ErrorCode.HeaderMismatch, 'Bad Request: MCP-Protocol-Version header does not match _meta', {
        mismatch: { header: headerVersion, body: bodyVersion },
      });
      return json(res, 400, writeError(message.idRaw, e.code, e.message, JSON.stringify(e.data)));
    }
    const reply = handleRequest(this.server, env, message.idRaw, message.method, message.params);
    if (!(reply instanceof Promise)) return env.finish(reply);
    void reply.then((r) => env.finish(r));
  }

  private get(req: Req, res: ResponseSink, auth: AuthPrincipal | undefined): void {
    const sessionId = header(req, 'mcp-session-id');
    if (sessionId === undefined) {
      this.counters?.refused('method_not_allowed');
      return httpError(res, 405, ErrorCode.InvalidRequest, 'Method Not Allowed: GET needs an Mcp-Session-Id (2026-07-28 has no GET stream)', { Allow: 'POST' });
    }
    this.withSession(sessionId, auth, res, (hs) => this.getStream(hs, req, res));
  }

  private getStream(hs: HttpSession, req: Req, res: ResponseSink): void {
    if (!accepts(req, 'text/event-stream')) {
      this.counters?.refused('not_acceptable');
      return httpError(res, 406, ErrorCode.InvalidRequest, 'Not Acceptable: Accept must include text/event-stream');
    }
    hs.session.lastActive = Date.now();
    const lastEventId = header(req, 'last-event-id');
    if (lastEventId !== undefined) {
      const parsed = parseEventId(lastEventId);
      const stream = parsed === null ? undefined : hs.find(parsed.streamId);
      if (stream !== undefined && parsed !== null && stream.resume(res, parsed.seq)) return;
      if (stream !== undefined) {
        this.counters?.refused('stream_conflict');
        return httpError(res, 409, ErrorCode.InvalidRequest, 'Conflict: the events after Last-Event-ID are no longer kept');
      }
      // A stream another process holds (or held): replayed from the shared store, then relayed live.
      if (parsed !== null && this.shared !== undefined) {
        this.shared.resume(hs.session.id, parsed.streamId, parsed.seq, res, this.sse).then(
          (outcome) => {
            if (outcome === 'gone') {
              this.counters?.refused('stream_conflict');
              return httpError(res, 409, ErrorCode.InvalidRequest, 'Conflict: the events after Last-Event-ID are no longer kept');
            }
            if (outcome === 'unreachable') return this.storeUnreachable(res);
            if (outcome === 'unknown') this.openGet(hs, res);
          },
          () => internalError(res),
        );
        return;
      }
    }
    this.openGet(hs, res);
  }

  /** Opens the session's standalone GET stream. */
  private openGet(hs: HttpSession, res: ResponseSink): void {
    if (res.destroyed) return;
    if (hs.get !== null && hs.get.attached) {
      this.counters?.refused('stream_conflict');
      return httpError(res, 409, ErrorCode.InvalidRequest, 'Conflict: this session already has an open GET stream');
    }
    const stream = hs.stream(randomBytes(9).toString('base64url'), this.sse, false);
    hs.get = stream;
    this.startListening(hs);
    stream.open(res);
    hs.session.standalone = { send: (m) => stream.send(m), get open() { return !stream.ended; } };
  }

  private delete(req: Req, res: ResponseSink, auth: AuthPrincipal | undefined): void {
    const sessionId = header(req, 'mcp-session-id');
    if (sessionId === undefined) {
      this.counters?.refused('method_not_allowed');
      return httpError(res, 405, ErrorCode.InvalidRequest, 'Method Not Allowed: DELETE needs an Mcp-Session-Id', { Allow: 'POST' });
    }
    this.withSession(sessionId, auth, res, () => {
      if (this.shared === undefined) {
        this.closeSession(sessionId);
        return void res.writeHead(200).end();
      }
      // Ended everywhere: gone from the store (with a tombstone), then every process drops its copy.
      void this.shared.remove(sessionId).then((ok) => {
        if (!ok) return this.storeUnreachable(res);
        this.closeSession(sessionId);
        res.writeHead(200).end();
      });
    });
  }

  /** Closes sessions idle for longer than sessionIdleMs. */
  private sweep(): void {
    const cutoff = Date.now() - this.sessionIdleMs;
    for (const [id, hs] of this.sessions) {
      const streaming = hs.get !== null && hs.get.attached;
      if (hs.busy === 0 && !streaming && hs.session.lastActive < cutoff) this.closeSession(id);
      // A client that only listens keeps its shared session alive for every process.
      else if (streaming) this.shared?.touch(hs);
    }
  }

  /** Requests in flight other than GETs (SSE streams): POST exchanges, which end by themselves. */
  get exchangesInFlight(): number {
    return this.inflight - this.gets;
  }

  /** GET requests in flight: SSE streams, which end only when the client or close() ends them. */
  get streamsInFlight(): number {
    return this.gets;
  }

  /**
   * Stops taking requests (503), waits up to `timeoutMs` for requests in flight to finish, then
   * ends every stream and session.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    // Listen streams and other open-ended exchanges end now; calls in flight get to finish.
    for (const abort of this.active) abort.abort(new Error('Server is shutting down'));
    for (const hs of this.sessions.values()) hs.get?.end();
    this.shared?.endRelays();
    this.legacySse?.close();
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        t.unref();
        this.idle = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    for (const id of [...this.sessions.keys()]) this.closeSession(id);
    this.shared?.close();
  }
}

const closedChannel: Channel = { send: () => {}, open: false };

function declaresVersion(params: unknown): boolean {
  const meta = (params as JsonObject | undefined)?.['_meta'];
  return typeof meta === 'object' && meta !== null && META.protocolVersion in meta;
}

export interface ServeHttpOptions extends HttpOptions {
  port?: number;
  host?: string;
  /**
   * Read POSTs to the endpoint straight off the socket instead of through node:http's request and
   * response objects (src/transport/http-lane.ts; the same answers, a fraction of the CPU). Default
   * true; always off with an `authenticate` hook, which is given node's IncomingMessage.
   */
  fastLane?: boolean;
  /**
   * Operations endpoints (docs/metrics.md): /metrics, /healthz and /readyz outside the MCP path and its
   * auth, on this port or `ops.port`. Absent: none, and nothing is counted.
   */
  ops?: OpsOptions;
}

export interface RunningHttpServer {
  url: string;
  httpServer: Server;
  transport: HttpTransport;
  /** The fast lane, when on (ServeHttpOptions.fastLane). */
  lane: HttpLane | undefined;
  /** The operations endpoints' metrics, health and address, when `ops` was given. */
  ops: { metrics: Metrics | undefined; health: Health | undefined; url: string } | undefined;
  /** Graceful shutdown: drains requests in flight, then closes the listener. */
  close(timeoutMs?: number): Promise<void>;
  /**
   * Shutdown for a process with siblings on the same port (--workers, a rolling restart): stops
   * accepting connections at once (new ones go to the siblings), keeps serving the requests that
   * still arrive on open connections but closes each connection after its response, waits for the
   * POST exchanges in flight, then close(). Resolves within about `timeoutMs`.
   */
  drain(timeoutMs?: number): Promise<void>;
}

/** Starts a node:http server for `server` (default 127.0.0.1:3000, path /mcp). */
export async function serveHttp(server: McpServer, options: ServeHttpOptions = {}): Promise<RunningHttpServer> {
  const host = options.host ?? '127.0.0.1';
  // Loaded only when asked for (prom-client takes ~40 ms to load).
  const ops = options.ops === undefined ? undefined : (await import('../ops/endpoints.js')).startOps(server, options.ops, options.allowedHosts);
  const transport = new HttpTransport(server, ops?.counters === undefined ? options : { ...options, counters: ops.counters });
  ops?.watch(transport);
  const opsHere = ops?.handle;
  const httpServer = createServer(opsHere === undefined ? (req, res) => transport.handle(req, res) : (req, res) => void (opsHere(req, res) || transport.handle(req, res)));
  // SSE streams are long-lived; requests themselves are bounded by the body limit.
  httpServer.requestTimeout = 0;
  httpServer.keepAliveTimeout = 65_000;
  const lane =
    options.fastLane !== false && options.authenticate === undefined
      ? new HttpLane(httpServer, transport, { path: transport.path, maxBodyBytes: transport.maxBodyBytes })
      : undefined;
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 3000, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const address = httpServer.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  await ops?.listen(host, options.allowedHosts);
  const close = async (timeoutMs?: number): Promise<void> => {
    ops?.drain(); // /readyz answers 503 from now on
    // Drain first, listening all along: requests that arrive meanwhile get the transport's 503
    // (Connection: close) rather than a refused connection. Then the listener goes.
    await transport.close(timeoutMs);
    const closed = new Promise<void>((resolve) => (httpServer.listening ? httpServer.close(() => resolve()) : resolve()));
    httpServer.closeIdleConnections();
    httpServer.closeAllConnections();
    lane?.closeAll();
    await closed;
    await ops?.close();
  };
  const drain = async (timeoutMs = 10_000): Promise<void> => {
    const start = Date.now();
    const deadline = start + timeoutMs;
    ops?.drain(); // /readyz answers 503 from now on
    httpServer.close(); // no new connections (under node:cluster, the primary sends them to siblings)
    // Every further response says Connection: close, so clients move to the siblings. Idle
    // connections are not cut here: a request the client is sending on one would be lost (a reset);
    // each gets its next request answered and closed, or is cut after DRAIN_IDLE_MS.
    httpServer.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      res.shouldKeepAlive = false;
    });
    lane?.drain();
    const connections = (): Promise<number> => new Promise((resolve) => httpServer.getConnections((e, n) => resolve(e === null ? n : 0)));
    for (;;) {
      const now = Date.now();
      if (now >= deadline) break;
      if (transport.exchangesInFlight === 0) {
        if (now - start >= DRAIN_IDLE_MS) break;
        // SSE streams keep their connections; they end in close().
        if ((await connections()) - transport.streamsInFlight <= 0) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await close(Math.max(0, deadline - Date.now()));
  };
  return {
    url: `http://${shownHost}:${port}${transport.path}`,
    httpServer,
    transport,
    lane,
    ops: ops === undefined ? undefined : { metrics: ops.metrics, health: ops.health, url: ops.url ?? `http://${shownHost}:${port}` },
    close,
    drain,
  };
}
