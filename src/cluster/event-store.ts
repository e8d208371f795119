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

const APPEND = `
local kind = ARGV[8]
if kind == 'm' then
  redis.call('XADD', KEYS[1], '*', 's', ARGV[1], 'q', ARGV[2], 'd', ARGV[3])
  local bytes = redis.call('INCRBY', KEYS[2], #ARGV[3])
  local n = redis.call('XLEN', KEYS[1])
  local maxEvents, maxBytes = tonumber(ARGV[4]), tonumber(ARGV[5])
  while n > 0 and (n > maxEvents or bytes > maxBytes) do
    local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
    redis.call('XDEL', KEYS[1], first[1])
    bytes = redis.call('DECRBY', KEYS[2], #first[2][6])
    n = n - 1
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
elseif kind == 'o' then
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
else
  redis.call('HSET', KEYS[3], ARGV[1] .. ':end', ARGV[2])
end
redis.call('PEXPIRE', KEYS[3], ARGV[6])
if kind ~= 'o' then redis.call('PUBLISH', ARGV[7], kind .. ARGV[2] .. ' ' .. ARGV[1] .. '\\n' .. ARGV[3]) end
return 1`;

type Scripted = Redis & {
  fmcpAppend(stream: string, bytes: string, hw: string, streamId: string, seq: number, data: string, maxEvents: number, maxBytes: number, ttlMs: number, channel: string, kind: string): Promise<number>;
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

  /** Records one event (`kind` m), a stream's priming event (o) or its end (e). Never rejects. */
  write(id: string, kind: 'm' | 'o' | 'e', streamId: string, seq: number, data: string): void {
    const k = `${this.prefix}e:${id}`;
    void this.client
      .fmcpAppend(k, k + ':b', k + ':hw', streamId, seq, data, this.limits.maxEvents, this.limits.maxBytes, this.ttlMs, this.channel(id), kind)
      .catch(() => void this.errors++);
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
