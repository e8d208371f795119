// The glue between the Streamable HTTP transport and the shared state: the transport calls these at
// the few points where a legacy session crosses processes (docs/scale-out.md).
//
//   request naming a session not held here -> load(): one GET; found -> a local copy, else 404
//   request on a held session              -> touch(): at most every refreshMs, GETEX (TTL + re-read)
//   initialize, initialized, setLevel,     -> save(): SET + publish "changed" before the reply, so the
//   (un)subscribe                             next request may land anywhere and see it
//   DELETE                                 -> remove(): DEL + tombstone + publish "deleted"
//   response to a request another process  -> routeResponse(): HGET the pending id's owner, publish to it
//   made; notifications/cancelled for a       cancelElsewhere(): publish; the process running it aborts it
//   request not running here
//   list_changed / resources/updated       -> published once per dedupe window, delivered by every
//                                             process to the GET streams it holds
//   GET with Last-Event-ID of a stream     -> resume(): replay from the store, relay the rest live
//   held elsewhere
//
// Staleness of a local copy: changes made elsewhere arrive as a bus message (milliseconds); a copy
// that missed one (the subscriber was reconnecting) is re-read at its next use after the reconnect,
// and in any case by the next touch, at most refreshMs after a use.
import { handleNotification } from '../server/dispatch.js';
import type { McpServer } from '../server/server.js';
import type { RequestIds, Session } from '../server/session.js';
import type { JsonObject } from '../server/types.js';
import type { ResponseSink } from '../transport/http-message.js';
import type { EventLog, SseOptions } from '../transport/sse.js';
import { EventStore, SharedEventLog } from './event-store.js';
import type { SharedState } from './redis-state.js';
import { relayStream } from './relay.js';
import type { ResumeOutcome } from './relay.js';
import { clientDeclarations } from '../server/shared-json.js';
import { SessionStore } from './session-store.js';
import type { SessionRecord } from './session-store.js';

/** A session as the transport holds it. */
export interface HostSession {
  readonly session: Session;
  readonly owner: string | undefined;
}

/** What the transport does for the glue. */
export interface SessionHost {
  /** The local copy of session `id`, if held. */
  find(id: string): HostSession | undefined;
  /** Makes and keeps a local copy of a session opened elsewhere. */
  adopt(id: string, owner: string | undefined): HostSession;
  /** Drops the local copy (its streams end, its handlers are aborted); the store is not touched. */
  drop(id: string, reason: string): void;
  /** A resume elsewhere took stream `streamId` over: its response here (if still open) ends, the stream stays. */
  detach(id: string, streamId: string): void;
  /** Delivers to the GET streams held here. */
  listChanged(kind: 'tools' | 'prompts' | 'resources'): void;
  resourceUpdated(uri: string): void;
}

export const UNREACHABLE = 'unreachable' as const;

const KINDS = new Set(['tools', 'prompts', 'resources']);
const CLOSED = { send: () => {}, open: false };

export class SharedSessions {
  private readonly store: SessionStore;
  readonly events: EventStore;
  /** When each held session was last touched in the store. */
  private readonly touched = new Map<string, number>();
  private readonly loading = new Map<string, Promise<SessionRecord | null>>();
  private readonly relays = new Set<() => void>();
  private readonly refreshMs: number;
  private readonly cleanup: (() => void)[] = [];

  constructor(
    private readonly shared: SharedState,
    private readonly host: SessionHost,
    server: McpServer,
    options: { ttlMs: number; limits: { maxEvents: number; maxBytes: number } },
  ) {
    this.store = new SessionStore(shared.client, shared.prefix, options.ttlMs);
    this.events = new EventStore(shared.client, shared.prefix, options.limits, options.ttlMs);
    this.refreshMs = Math.max(1, Math.min(options.ttlMs / 4, 30_000));
    this.cleanup.push(
      shared.bind({ broadcast: (m) => this.onBroadcast(m), direct: (m) => this.onDirect(m) }),
      // Messages may have been lost while the subscriber was away: re-read every copy at its next use.
      shared.bus.onResync(() => this.touched.clear()),
      server.addListener({
        listChanged: (kind) => this.emit({ t: 'l', k: kind }, `l:${kind}`, () => host.listChanged(kind)),
        resourceUpdated: (uri) => this.emit({ t: 'u', u: uri }, `u:${uri}`, () => host.resourceUpdated(uri)),
      }),
    );
  }

  /** A session opened here, or adopted: ids of requests to the client come from the store. */
  track(session: Session): void {
    session.ids = this.requestIds(session.id);
    this.touched.set(session.id, Date.now());
  }

  /** The local copy went away. */
  forget(id: string): void {
    this.touched.delete(id);
  }

  /** The event log of a held session: local, and every event in the store too. */
  newLog(sessionId: string): EventLog {
    return new SharedEventLog(this.events, sessionId);
  }

  /** A session not held here: one read of the store. undefined when it does not exist for `subject`. */
  async load(id: string, subject: string | undefined): Promise<HostSession | undefined | typeof UNREACHABLE> {
    let read = this.loading.get(id);
    if (read === undefined) {
      read = this.store.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, read);
    }
    let record: SessionRecord | null;
    try {
      record = await read;
    } catch {
      this.shared.storeErrors++;
      return UNREACHABLE;
    }
    if (record === null || record.o !== subject) return undefined;
    const held = this.host.find(id);
    if (held !== undefined) return held.owner === subject ? held : undefined;
    const hs = this.host.adopt(id, record.o);
    apply(hs.session, record);
    this.track(hs.session);
    this.shared.sessionsLoaded++;
    return hs;
  }

  /** A held session was used: refresh its TTL (and re-read it) at most every refreshMs. */
  touch(hs: HostSession): void {
    const id = hs.session.id;
    const now = Date.now();
    if (now - (this.touched.get(id) ?? 0) < this.refreshMs) return;
    this.touched.set(id, now);
    this.store.touch(id, this.events.keys(id)).then(
      (record) => {
        if (this.host.find(id) !== hs) return;
        if (record === 'deleted') return this.host.drop(id, 'Session ended');
        // The store lost it (Redis restarted empty): this copy is the session; store it again.
        if (record === null) return void this.save(hs, false);
        apply(hs.session, record);
      },
      () => {
        this.shared.storeErrors++;
        this.touched.set(id, 0); // retried at the next use
      },
    );
  }

  /** Stores the session and tells the others; false when Redis is unreachable. */
  async save(hs: HostSession, announce = true): Promise<boolean> {
    const id = hs.session.id;
    const record = recordOf(hs);
    try {
      await this.store.save(id, record);
      // The record travels with the announcement: a copy is updated when the message is handled, in the
      // order of the bus (before a later resources/updated, say), not after a read of its own.
      if (announce) await this.shared.publish({ t: 's', s: id, n: this.shared.nodeId, r: record });
      this.touched.set(id, Date.now());
      return true;
    } catch {
      this.shared.storeErrors++;
      return false;
    }
  }

  /** DELETE: the session ends everywhere; false when Redis is unreachable. */
  async remove(id: string): Promise<boolean> {
    try {
      await this.store.remove(id, this.events.keys(id));
      await this.shared.publish({ t: 'd', s: id, n: this.shared.nodeId });
      return true;
    } catch {
      this.shared.storeErrors++;
      return false;
    }
  }

  /** A client response no request of this process waits for: to the process whose request it answers. */
  routeResponse(session: Session, idRaw: string, message: JsonObject): void {
    // A string id was made while the store was unreachable: it names its process ("<node>.<n>").
    let owner: Promise<string | null>;
    if (idRaw.startsWith('"')) {
      const text = JSON.parse(idRaw) as string;
      owner = Promise.resolve(text.slice(0, Math.max(0, text.lastIndexOf('.'))) || null);
    } else {
      owner = this.store.requestOwner(session.id, idRaw);
    }
    owner
      .then((node) => {
        if (node === null || node === this.shared.nodeId) return; // nobody waits for it (any more)
        this.shared.messagesRouted++;
        return this.shared.publish({ t: 'r', s: session.id, i: idRaw, m: message }, node);
      })
      .catch(() => void this.shared.storeErrors++);
  }

  /** notifications/cancelled for a request not running here: whoever runs it aborts it. */
  cancelElsewhere(session: Session, params: unknown): void {
    if (typeof params !== 'object' || params === null) return;
    const id = (params as JsonObject)['requestId'];
    if ((typeof id !== 'string' && typeof id !== 'number') || session.inflight.has(JSON.stringify(id))) return;
    this.shared.messagesRouted++;
    this.shared.publish({ t: 'c', s: session.id, p: params, n: this.shared.nodeId }).catch(() => void this.shared.storeErrors++);
  }

  /** GET with Last-Event-ID naming a stream this process does not hold. */
  async resume(sessionId: string, streamId: string, afterSeq: number, res: ResponseSink, sse: SseOptions): Promise<ResumeOutcome> {
    const outcome = await relayStream(this.shared, this.events, sessionId, streamId, afterSeq, res, sse, (stop) => {
      this.relays.add(stop);
      return () => this.relays.delete(stop);
    });
    // As on one process, a resume takes the stream over: a response still open elsewhere ends.
    if (outcome === 'relayed') this.shared.publish({ t: 't', s: sessionId, st: streamId, n: this.shared.nodeId }).catch(() => void this.shared.storeErrors++);
    return outcome;
  }

  /** Ends every relayed stream (the transport is closing: open-ended responses end first). */
  endRelays(): void {
    for (const stop of [...this.relays]) stop();
  }

  /** The transport is closed: relays end, bus messages are no longer handled. */
  close(): void {
    this.endRelays();
    for (const f of this.cleanup.splice(0)) f();
    this.touched.clear();
  }

  /** Publishes a server-wide event unless another process just did; delivered here directly when Redis is down. */
  private emit(message: Record<string, unknown>, dedupeKey: string, local: () => void): void {
    const fail = (): void => {
      this.shared.storeErrors++;
      local();
    };
    const publish = (): void => void this.shared.publish(message).catch(fail);
    if (this.shared.dedupeMs === 0) return publish();
    this.shared.claimEvent(dedupeKey).then((mine) => {
      if (mine) publish();
    }, fail);
  }

  private onBroadcast(m: Record<string, unknown>): void {
    const id = typeof m['s'] === 'string' ? m['s'] : undefined;
    const mine = m['n'] === this.shared.nodeId;
    switch (m['t']) {
      case 'l':
        if (typeof m['k'] === 'string' && KINDS.has(m['k'])) this.host.listChanged(m['k'] as 'tools');
        return;
      case 'u':
        if (typeof m['u'] === 'string') this.host.resourceUpdated(m['u']);
        return;
      case 's': {
        const hs = id === undefined || mine ? undefined : this.host.find(id);
        if (hs === undefined) return;
        if (isRecord(m['r'])) apply(hs.session, m['r']);
        else this.refresh(id!);
        return;
      }
      case 'd':
        if (id !== undefined && !mine) this.host.drop(id, 'Session ended');
        return;
      case 't':
        if (id !== undefined && !mine && typeof m['st'] === 'string') this.host.detach(id, m['st']);
        return;
      case 'c': {
        const hs = id === undefined || mine ? undefined : this.host.find(id);
        if (hs !== undefined) handleNotification({ session: hs.session, channel: CLOSED, auth: undefined, signal: undefined }, 'notifications/cancelled', m['p']);
        return;
      }
    }
  }

  private onDirect(m: Record<string, unknown>): void {
    if (m['t'] !== 'r' || typeof m['s'] !== 'string' || typeof m['i'] !== 'string' || typeof m['m'] !== 'object' || m['m'] === null) return;
    this.host.find(m['s'])?.session.resolveResponse(m['i'], m['m'] as JsonObject);
  }

  private refresh(id: string): void {
    this.store.load(id).then(
      (record) => {
        const hs = this.host.find(id);
        if (hs !== undefined && record !== null) apply(hs.session, record);
      },
      () => {
        this.shared.storeErrors++;
        this.touched.set(id, 0);
      },
    );
  }

  private requestIds(sessionId: string): RequestIds {
    let local = 0;
    return {
      next: () =>
        this.store.nextRequestId(sessionId, this.shared.nodeId).catch(() => {
          // The store is unreachable: an id no other process can make, naming this one.
          this.shared.storeErrors++;
          return `${this.shared.nodeId}.${++local}`;
        }),
      done: (id) => {
        if (typeof id === 'number') this.store.requestDone(sessionId, id);
      },
    };
  }
}

function isRecord(r: unknown): r is SessionRecord {
  return typeof r === 'object' && r !== null && typeof (r as SessionRecord).v === 'string' && Array.isArray((r as SessionRecord).s);
}

function recordOf(hs: HostSession): SessionRecord {
  const s = hs.session;
  const record: SessionRecord = { v: s.protocolVersion!, c: s.clientCapabilities, n: s.initialized, l: s.minLogRank, s: [...s.subscriptions] };
  if (s.clientInfo !== undefined) record.i = s.clientInfo;
  if (hs.owner !== undefined) record.o = hs.owner;
  return record;
}

/** Brings a local copy up to the stored record. */
function apply(session: Session, r: SessionRecord): void {
  session.protocolVersion = r.v;
  session.clientCapabilities = clientDeclarations.share(r.c ?? {});
  session.clientInfo = clientDeclarations.share(r.i);
  session.initialized = r.n === true;
  if (Number.isInteger(r.l)) session.minLogRank = r.l;
  const want = new Set(r.s);
  for (const uri of [...session.subscriptions]) if (!want.has(uri)) session.unsubscribe(uri);
  for (const uri of want) session.subscribe(uri);
}
