// Server-sent event streams for Streamable HTTP, with resumability.
//
// A stream has an id; its events are numbered `<streamId>:<seq>`. In the legacy era every event of a
// session's streams is also kept in the session's EventLog (bounded by count and bytes), so a client
// that lost the connection can GET with `Last-Event-ID` and receive what it missed, then the rest
// live, on the new response. A priming event (an id, a `retry` hint and empty data) opens each
// resumable stream so the client has an id to resume from before any message arrives.
//
// Idle streams get a keepalive comment so proxies do not cut them.
import type { ResponseSink } from './http-message.js';

export interface SseOptions {
  /** Interval of `: keepalive` comments (default 15 s; 0 disables). */
  keepAliveMs: number;
  /** `retry:` hint in priming events (ms). */
  retryMs: number;
}

/** Bytes a response may hold unread by its client before it is cut off. */
export const MAX_UNREAD_BYTES = 8 * 1024 * 1024;

interface StoredEvent {
  seq: number;
  data: string;
}

/** Events of one session's streams, oldest first, bounded. */
export class EventLog {
  private readonly streams = new Map<string, StoredEvent[]>();
  private bytes = 0;
  private count = 0;

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes: number,
  ) {}

  append(streamId: string, seq: number, data: string): void {
    let list = this.streams.get(streamId);
    if (list === undefined) this.streams.set(streamId, (list = []));
    list.push({ seq, data });
    this.bytes += data.length;
    this.count++;
    // Drop the oldest events across the session's streams until within bounds.
    while ((this.count > this.maxEvents || this.bytes > this.maxBytes) && this.count > 0) {
      for (const [id, events] of this.streams) {
        const dropped = events.shift();
        if (dropped !== undefined) {
          this.bytes -= dropped.data.length;
          this.count--;
        }
        if (events.length === 0) this.streams.delete(id);
        break;
      }
    }
  }

  /** A resumable stream began with its priming event `seq` (a shared log records it: src/cluster). */
  opened(_streamId: string, _seq: number): void {}

  /** A stream finished after its event `seq` (a shared log records it: src/cluster). */
  ended(_streamId: string, _seq: number): void {}

  /** Events of `streamId` after `seq`; null when they are no longer all kept. */
  after(streamId: string, seq: number): StoredEvent[] | null {
    const list = this.streams.get(streamId) ?? [];
    const first = list[0];
    if (first !== undefined && first.seq > seq + 1) return null;
    return list.filter((e) => e.seq > seq);
  }
}

/** Parses `<streamId>:<seq>`. */
export function parseEventId(id: string): { streamId: string; seq: number } | null {
  const i = id.lastIndexOf(':');
  if (i <= 0) return null;
  const seq = Number(id.slice(i + 1));
  if (!Number.isSafeInteger(seq) || seq < 0) return null;
  return { streamId: id.slice(0, i), seq };
}

/** One SSE stream; survives the loss of its HTTP response when it has a log. */
export class SseStream {
  private res: ResponseSink | null = null;
  private seq = 0;
  private keepAlive: NodeJS.Timeout | undefined;
  /** Set when the stream is finished (the response it belonged to is complete). */
  ended = false;

  constructor(
    readonly id: string,
    private readonly options: SseOptions,
    private readonly log: EventLog | null,
  ) {}

  get attached(): boolean {
    return this.res !== null && !this.res.destroyed && !this.res.writableEnded;
  }

  /** Takes over `res`: writes the SSE headers and, when resumable, a priming event. */
  open(res: ResponseSink, status = 200, headers: Record<string, string> = {}): void {
    res.writeHead(status, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      ...headers,
    });
    res.flushHeaders();
    this.attach(res);
    if (this.log !== null) {
      this.seq++;
      this.log.opened(this.id, this.seq);
      this.write(`id: ${this.id}:${this.seq}\nretry: ${this.options.retryMs}\ndata: \n\n`);
    }
  }

  /** Re-attaches after a reconnect: replays events after `afterSeq`; false if some were lost. */
  resume(res: ResponseSink, afterSeq: number, headers: Record<string, string> = {}): boolean {
    const missed = this.log?.after(this.id, afterSeq) ?? null;
    if (missed === null) return false;
    // The log may have dropped every event of this stream (then `after` finds none at all): what
    // was sent after afterSeq must all be there, starting right after it.
    if (afterSeq < this.seq && missed[0]?.seq !== afterSeq + 1) return false;
    // The response the stream was on (a connection the client gave up on) ends here.
    const previous = this.res;
    this.detach();
    if (previous !== null && !previous.writableEnded) previous.end();
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', ...headers });
    res.flushHeaders();
    this.attach(res);
    for (const e of missed) this.write(`id: ${this.id}:${e.seq}\nevent: message\ndata: ${e.data}\n\n`);
    if (this.ended) this.end();
    return true;
  }

  /** Sends one JSON-RPC message; kept in the log for a later resume when there is one. */
  send(message: string): void {
    if (this.ended) return;
    this.seq++;
    this.log?.append(this.id, this.seq, message);
    const frame = this.log === null ? `event: message\ndata: ${message}\n\n` : `id: ${this.id}:${this.seq}\nevent: message\ndata: ${message}\n\n`;
    this.write(frame);
  }

  /** Closes the HTTP response but keeps the stream resumable (SEP-1699 polling). */
  disconnect(): void {
    const res = this.res;
    this.detach();
    res?.end();
  }

  /** Finishes the stream: no more events; the response ends. */
  end(): void {
    if (!this.ended) this.log?.ended(this.id, this.seq);
    this.ended = true;
    const res = this.res;
    this.detach();
    if (res !== null && !res.writableEnded) res.end();
  }

  private attach(res: ResponseSink): void {
    this.res = res;
    res.on('close', () => {
      if (this.res === res) this.detach();
    });
    if (this.options.keepAliveMs > 0) {
      this.keepAlive = setInterval(() => this.write(': keepalive\n\n'), this.options.keepAliveMs);
      this.keepAlive.unref();
    }
  }

  private detach(): void {
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    this.res = null;
  }

  private write(frame: string): void {
    const res = this.res;
    if (res === null || res.destroyed || res.writableEnded) return;
    res.write(frame);
    // A client that stopped reading is cut off rather than buffered for without bound; with a log
    // it can reconnect and resume from its last event id.
    if (res.writableLength > MAX_UNREAD_BYTES) {
      this.detach();
      res.destroy();
    }
  }
}
