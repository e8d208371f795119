// Legacy sessions in Redis: what a process needs to serve a session another one opened, and the ids
// of requests the server sends to the client (unique per session across processes, each registered
// with the process waiting for its answer).
//
// Keys (prefix P, session id S), all with a TTL of the session idle timeout, refreshed on use:
//   P s:S        JSON record (SessionRecord)
//   P s:S:rid    counter of server->client request ids (INCR)
//   P s:S:pend   hash: pending request id -> node id of the process waiting for it
//   P s:S:gone   set by DELETE: a process that missed the bus message must not store its copy again
import type { Redis } from 'ioredis';
import type { JsonObject } from '../server/types.js';

/** A session as stored: short field names, JSON. */
export interface SessionRecord {
  /** Negotiated protocol version. */
  v: string;
  /** Client capabilities and info from initialize. */
  c: JsonObject;
  i?: JsonObject;
  /** Subject of the authenticated caller that opened it (only that caller may use it). */
  o?: string;
  /** notifications/initialized seen. */
  n: boolean;
  /** Rank of the lowest log level the client wants. */
  l: number;
  /** Subscribed resource URIs. */
  s: string[];
}

// INCR the session's id counter and record which process waits for that id, in one step.
const NEXT_ID = `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], n, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return n`;

type Scripted = Redis & { fmcpNextId(counter: string, pending: string, node: string, ttlMs: number): Promise<number> };

export class SessionStore {
  private readonly client: Scripted;

  constructor(
    client: Redis,
    private readonly prefix: string,
    /** Session idle timeout: the TTL of every key. */
    readonly ttlMs: number,
  ) {
    if (typeof (client as unknown as Partial<Scripted>).fmcpNextId !== 'function') client.defineCommand('fmcpNextId', { numberOfKeys: 2, lua: NEXT_ID });
    this.client = client as unknown as Scripted;
  }

  key(id: string): string {
    return `${this.prefix}s:${id}`;
  }

  /** The record, or null when no process has the session (never opened, deleted or expired). */
  async load(id: string): Promise<SessionRecord | null> {
    return parse(await this.client.get(this.key(id)));
  }

  save(id: string, record: SessionRecord): Promise<unknown> {
    return this.client.set(this.key(id), JSON.stringify(record), 'PX', this.ttlMs);
  }

  /**
   * Keeps the session (and `extra` keys) alive and returns its current record; 'deleted' after a
   * DELETE, null when the store lost it (expired, or Redis restarted without its data).
   */
  async touch(id: string, extra: readonly string[] = []): Promise<SessionRecord | 'deleted' | null> {
    const k = this.key(id);
    const multi = this.client.multi().getex(k, 'PX', this.ttlMs).exists(k + ':gone').pexpire(k + ':rid', this.ttlMs).pexpire(k + ':pend', this.ttlMs);
    // The session's other keys (its events) live as long as it does.
    for (const key of extra) multi.pexpire(key, this.ttlMs);
    const replies = await multi.exec();
    if (replies === null) throw new Error('The session touch transaction was aborted');
    for (const [err] of replies) if (err) throw err;
    if (replies[1]![1] === 1) return 'deleted';
    return parse(replies[0]![1] as string | null);
  }

  /** Deletes every key of the session (the event keys too: `extra`) and leaves a tombstone. */
  async remove(id: string, extra: string[]): Promise<void> {
    const k = this.key(id);
    await this.client.multi().del(k, k + ':rid', k + ':pend', ...extra).set(k + ':gone', '1', 'PX', this.ttlMs).exec();
  }

  /** A session-unique id for a request to the client, registered as `node`'s. */
  nextRequestId(id: string, node: string): Promise<number> {
    const k = this.key(id);
    return this.client.fmcpNextId(k + ':rid', k + ':pend', node, this.ttlMs);
  }

  /** The request of `requestId` is settled (best effort: the hash expires anyway). */
  requestDone(id: string, requestId: number): void {
    void this.client.hdel(this.key(id) + ':pend', String(requestId)).catch(ignore);
  }

  /** The node waiting for the answer to `requestId` (JSON text of the id), if any. */
  async requestOwner(id: string, requestId: string): Promise<string | null> {
    return this.client.hget(this.key(id) + ':pend', requestId);
  }
}

function parse(text: string | null): SessionRecord | null {
  if (text === null) return null;
  const r = JSON.parse(text) as SessionRecord;
  if (typeof r !== 'object' || r === null || typeof r.v !== 'string' || !Array.isArray(r.s)) throw new Error('A shared session record is not in the expected shape');
  return r;
}

function ignore(): void {}
