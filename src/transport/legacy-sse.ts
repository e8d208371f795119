// The HTTP+SSE transport of protocol revision 2024-11-05, for old clients: GET /sse opens a stream
// whose first event names the endpoint to POST to (/messages?sessionId=...); every POST is answered
// 202 and its reply travels on the stream. One session per stream; it ends with the stream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createEngine } from '../jsonrpc/index.js';
import { handleNotification, handleRequest } from '../server/dispatch.js';
import type { AuthPrincipal } from '../server/types.js';
import type { RequestEnv } from '../server/dispatch.js';
import { writeError } from '../jsonrpc/response.js';
import { ErrorCode } from '../server/protocol.js';
import type { McpServer } from '../server/server.js';
import { Session } from '../server/session.js';
import { clientKey, gateFor, methodRouter, readMessages } from './intake.js';
import { SseStream } from './sse.js';
import type { SseOptions } from './sse.js';

export const LEGACY_SSE_PATH = '/sse';
export const LEGACY_MESSAGES_PATH = '/messages';

export class LegacySseEndpoints {
  private readonly sessions = new Map<string, { session: Session; stream: SseStream; unlisten: () => void; owner: AuthPrincipal | undefined }>();
  private readonly router = methodRouter();
  private readonly engine = createEngine({ router: this.router });

  constructor(
    private readonly server: McpServer,
    private readonly sse: SseOptions,
    /** Most streams at once; more get 503 (each is a session held open by its client). */
    private readonly maxSessions: number,
  ) {}

  handles(path: string): boolean {
    return path === LEGACY_SSE_PATH || path === LEGACY_MESSAGES_PATH;
  }

  /** `auth`: the caller, when the transport authenticates; a session is its opener's alone. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    url: string,
    readBody: () => Promise<Buffer | null>,
    auth: AuthPrincipal | undefined,
  ): Promise<void> {
    if (path === LEGACY_SSE_PATH && req.method === 'GET') {
      if (this.sessions.size >= this.maxSessions) {
        res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '5' }).end(writeError(null, ErrorCode.InternalError, 'Too many sessions; try again later'));
        return;
      }
      return this.open(res, auth);
    }
    if (path === LEGACY_MESSAGES_PATH && req.method === 'POST') {
      const id = new URL(url, 'http://x').searchParams.get('sessionId');
      const found = id === null ? undefined : this.sessions.get(id);
      const entry = found !== undefined && found.owner?.subject === auth?.subject ? found : undefined;
      if (entry === undefined) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end(writeError(null, ErrorCode.SessionNotFound, 'Session not found'));
        return;
      }
      const body = await readBody();
      if (body === null) return;
      res.writeHead(202).end('Accepted');
      this.process(entry.session, entry.stream, body, auth, req.socket.remoteAddress);
      return;
    }
    res.writeHead(405, { Allow: path === LEGACY_SSE_PATH ? 'GET' : 'POST' }).end();
  }

  private open(res: ServerResponse, owner: AuthPrincipal | undefined): void {
    const session = new Session({ requestTimeoutMs: this.server.clientRequestTimeoutMs });
    const stream = new SseStream(session.id, this.sse, null);
    stream.open(res);
    // The endpoint event is the one frame of this protocol that is not a JSON-RPC message.
    res.write(`event: endpoint\ndata: ${LEGACY_MESSAGES_PATH}?sessionId=${session.id}\n\n`);
    session.standalone = { send: (m) => stream.send(m), get open() { return stream.attached; } };
    const unlisten = this.server.addListener({
      listChanged: (kind) => {
        if (session.initialized) stream.send(`{"jsonrpc":"2.0","method":"notifications/${kind}/list_changed"}`);
      },
      resourceUpdated: (uri) => {
        if (session.subscriptions.has(uri)) stream.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri } }));
      },
    });
    this.sessions.set(session.id, { session, stream, unlisten, owner });
    res.on('close', () => {
      this.sessions.delete(session.id);
      unlisten();
      session.close('Stream closed');
    });
  }

  private process(session: Session, stream: SseStream, body: Buffer, auth: AuthPrincipal | undefined, remote: string | undefined): void {
    session.lastActive = Date.now();
    const env: RequestEnv = { session, channel: session.standalone!, auth, signal: undefined };
    const gate = gateFor(this.server.admission, this.router, clientKey(auth, remote), this.engine);
    for (const message of readMessages(this.engine, this.engine.scan(body), body, gate)) {
      if (message.kind === 'invalid') stream.send(message.reply);
      else if (message.kind === 'limited') stream.send(message.denial.reply);
      else if (message.kind === 'deferred') {
        const { request } = message;
        void message.admitted.then(async (denial) => {
          const reply = denial !== undefined ? denial.reply : (await handleRequest(this.server, env, request.idRaw, request.method, request.params)).json;
          if (reply !== null) stream.send(reply);
        });
      }
      else if (message.kind === 'request') {
        void Promise.resolve(handleRequest(this.server, env, message.idRaw, message.method, message.params)).then((reply) => {
          if (reply.json !== null) stream.send(reply.json);
        });
      } else if (message.kind === 'notification') handleNotification(env, message.method, message.params);
      else if (message.kind === 'response') session.resolveResponse(message.idRaw, message.message);
      else stream.send(writeError(null, ErrorCode.InvalidRequest, 'JSON-RPC batches are not supported on this transport'));
    }
  }

  close(): void {
    for (const { stream } of this.sessions.values()) stream.end();
  }
}
