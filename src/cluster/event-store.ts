// SSE events of legacy sessions in Redis, for Last-Event-ID resumption on any process.
//
// Keys (prefix P, session id S), TTL = session idle timeout, refreshed by every append:
//   P e:S      Redis stream of the session's events, fields s (stream id), q (seq), d (JSON text),
//              oldest first; trimmed to maxEvents and maxBytes (of data) per session
//   P e:S:b    bytes of data the stream holds
//   P e:S:hw   hash: stream id -> highest seq sent on it (priming event included); "<id>:end" -> the
//              seq after which the stream finished
// Channel P ev:S carries every append as it happens ("m<seq> <stream>\n<data>", "e<seq> <stream>\n"),
// so a process relaying a resumed stream gets the events still being produced elsewhere. The script
// appends and publishes in one step: an event is in the stored stream, in a subscriber's feed, or
// both, never neither.
import type { Redis } from 'ioredis';
import { EventLog } from '../transport/sse.js';

// ARGV: maxEvents, maxBytes, ttlMs, channel, then (kind, stream id, seq, data) per event, in order.
const APPEND = `
local maxEvents, maxBytes, ttl, channel = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local n = redis.call('XLEN', KEYS[1])
local bytes = tonumber(redis.call('GET', KEYS[2]) or '0')
for i = 5, #ARGV, 4 do
  local kind, stream, seq, data = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if kind == 'm' then
    redis.call('XADD', KEYS[1], '*', 's', stream, 'q', seq, 'd', data)
    n = n + 1
    bytes = bytes + #data
    while n > 0 and (n > maxEvents or bytes > maxBytes) do
      local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
      redis.call('XDEL', KEYS[1], first[1])
      bytes = bytes - #first[2][6]
      n = n - 1
    end
    redis.call('HSET', KEYS[3], stream, seq)
  elseif kind == 'o' then
    redis.call('HSET', KEYS[3], stream, seq)
  else
    redis.call('HSET', KEYS[3], stream .. ':end', seq)
  end
  if kind ~= 'o' then redis.call('PUBLISH', channel, kind .. seq .. ' ' .. stream .. '\\n' .. data) end
end
redis.call('SET', KEYS[2], bytes, 'PX', ttl)
if n > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
redis.call('PEXPIRE', KEYS[3], ttl)
return n`;

type Scripted = Redis & {
  fmcpAppend(stream: string, bytes: string, hw: string, maxEvents: number, maxBytes: number, ttlMs: number, channel: string, ...events: string[]): Promise<number>;
  pipeline(): { exec(): Promise<[Error | null, unknown][] | null> };
};

export interface StoredStream {
  /** Highest seq sent on the stream (undefined: the store knows no such stream). */
  last: number | undefined;
  /** Seq after which the stream finished, if it did. */
  endedAt: number | undefined;
  /** Its events still kept, oldest first. */
  events: { seq: number; data: string }[];
}

/** A live event of a session, as its channel carries it. */
export interface LiveEvent {
  kind: 'm' | 'e';
  streamId: string;
  seq: number;
  data: string;
}

export class EventStore {
  private readonly client: Scripted;
  /** Appends that failed (Redis unreachable): those events are kept only in the local log. */
  errors = 0;
  /** Events written in this tick, per session: sent as one script call per session at the end of it. */
  private readonly pending = new Map<string, string[]>();
  private scheduled = false;

  constructor(
    client: Redis,
    private readonly prefix: string,
    readonly limits: { maxEvents: number; maxBytes: number },
    private readonly ttlMs: number,
  ) {
    if (typeof (client as unknown as Partial<Scripted>).fmcpAppend !== 'function') client.defineCommand('fmcpAppend', { numberOfKeys: 3, lua: APPEND });
    this.client = client as unknown as Scripted;
  }

  /** The channel of session `id`'s live events. */
  channel(id: string): string {
    return `${this.prefix}ev:${id}`;
  }

  /** Every key of session `id` (for DELETE). */
  keys(id: string): string[] {
    const k = `${this.prefix}e:${id}`;
    return [k, k + ':b', k + ':hw'];
  }

  /**
   * Records one event (`kind` m), a stream's priming event (o) or its end (e). Never rejects. Writes are
   * batched until the end of this turn of the event loop (setImmediate): one script call per session,
   * all of them in one pipeline, so a request answered at once costs one call, and the requests of
   * many connections read in one turn share one write to Redis.
   */
  write(id: string, kind: 'm' | 'o' | 'e', streamId: string, seq: number, data: string): void {
    let events = this.pending.get(id);
    if (events === undefined) this.pending.set(id, (events = []));
    events.push(kind, streamId, String(seq), data);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    // One connection, calls in order: Redis applies (and publishes) the events in the order written.
    if (this.pending.size === 1) {
      for (const [id, events] of this.pending) this.send(this.client, id, events).catch(() => void (this.errors += events.length / 4));
      this.pending.clear();
      return;
    }
    const batch = [...this.pending];
    this.pending.clear();
    const pipeline = this.client.pipeline();
    for (const [id, events] of batch) void this.send(pipeline as unknown as Scripted, id, events);
    const all = (): void => void (this.errors += batch.reduce((n, [, e]) => n + e.length, 0) / 4);
    pipeline.exec().then((replies) => {
      if (replies === null) return all();
      replies.forEach(([err], i) => err && (this.errors += batch[i]![1].length / 4));
    }, all);
  };

  private send(target: Scripted, id: string, events: string[]): Promise<number> {
    const k = `${this.prefix}e:${id}`;
    return target.fmcpAppend(k, k + ':b', k + ':hw', this.limits.maxEvents, this.limits.maxBytes, this.ttlMs, this.channel(id), ...events);
  }

  /** What the store keeps of one stream of session `id`. */
  async read(id: string, streamId: string): Promise<StoredStream> {
    const k = `${this.prefix}e:${id}`;
    const [hw, entries] = await Promise.all([this.client.hmget(k + ':hw', streamId, streamId + ':end'), this.client.xrange(k, '-', '+')]);
    const events: { seq: number; data: string }[] = [];
    for (const [, fields] of entries) {
      // Fields as written: s, <stream>, q, <seq>, d, <data>.
      if (fields[1] === streamId) events.push({ seq: Number(fields[3]), data: fields[5]! });
    }
    return { last: hw[0] == null ? undefined : Number(hw[0]), endedAt: hw[1] == null ? undefined : Number(hw[1]), events };
  }
}

/** Parses a message of a session's event channel; null if it is not one. */
export function parseLiveEvent(message: string): LiveEvent | null {
  const kind = message[0];
  const space = message.indexOf(' ');
  const nl = message.indexOf('\n');
  if ((kind !== 'm' && kind !== 'e') || space < 0 || nl < space) return null;
  const digits = message.slice(1, space);
  const seq = Number(digits);
  if (!/^\d{1,15}$/.test(digits)) return null;
  return { kind, seq, streamId: message.slice(space + 1, nl), data: message.slice(nl + 1) };
}

/** A session's event log that also writes every event to the shared store. */
export class SharedEventLog extends EventLog {
  constructor(
    private readonly store: EventStore,
    private readonly sessionId: string,
  ) {
    super(store.limits.maxEvents, store.limits.maxBytes);
  }

  override append(streamId: string, seq: number, data: string): void {
    super.append(streamId, seq, data);
    this.store.write(this.sessionId, 'm', streamId, seq, data);
  }

  override opened(streamId: string, seq: number): void {
    this.store.write(this.sessionId, 'o', streamId, seq, '');
  }

  override ended(streamId: string, seq: number): void {
    this.store.write(this.sessionId, 'e', streamId, seq, '');
  }
}
