// A resumed stream whose events are produced by another process: the client reconnected here with
// Last-Event-ID for a stream this process does not hold. It gets what the store kept after that id,
// then every event the other process still appends, live, until the stream ends.
//
// Subscribe first, read the store second: an event appended before the subscription is in the store,
// one appended after reaches the subscription (the store script appends and publishes atomically).
// Both may carry the same event; the seq drops the second copy and reveals a gap (a message lost
// while the subscriber was down), on which the response ends so the client resumes again.
import type { ResponseSink } from '../transport/http-message.js';
import { MAX_UNREAD_BYTES } from '../transport/sse.js';
import type { SseOptions } from '../transport/sse.js';
import type { EventStore, LiveEvent } from './event-store.js';
import { parseLiveEvent } from './event-store.js';
import type { SharedState } from './redis-state.js';

/** relayed: the response is the stream now; gone: events after the id are no longer kept (409); unknown: no such stream. */
export type ResumeOutcome = 'relayed' | 'gone' | 'unknown' | 'unreachable';

export async function relayStream(
  shared: SharedState,
  events: EventStore,
  sessionId: string,
  streamId: string,
  afterSeq: number,
  res: ResponseSink,
  sse: SseOptions,
  /** Ends the relay (transport closing); the function returned by `track` forgets it. */
  track: (stop: () => void) => () => void,
): Promise<ResumeOutcome> {
  const channel = events.channel(sessionId);
  let last = afterSeq;
  let buffered: LiveEvent[] | null = [];
  let done = false;
  let keepAlive: NodeJS.Timeout | undefined;
  let untrack: (() => void) | undefined;

  const write = (frame: string): void => {
    if (res.destroyed || res.writableEnded) return finish();
    res.write(frame);
    if (res.writableLength > MAX_UNREAD_BYTES) res.destroy();
  };
  const finish = (): void => {
    if (done) return;
    done = true;
    clearInterval(keepAlive);
    untrack?.();
    shared.bus.off(channel, onMessage);
    if (!res.writableEnded) res.end();
  };
  const live = (e: LiveEvent): void => {
    if (done) return;
    if (e.kind === 'e') {
      // The stream ended after e.seq: everything up to it was relayed, else a message was lost.
      return finish();
    }
    if (e.seq <= last) return;
    if (e.seq !== last + 1) return finish();
    last = e.seq;
    shared.eventsRelayed++;
    write(`id: ${streamId}:${e.seq}\nevent: message\ndata: ${e.data}\n\n`);
  };
  function onMessage(message: string): void {
    const e = parseLiveEvent(message);
    if (e === null || e.streamId !== streamId) return;
    if (buffered !== null) buffered.push(e);
    else live(e);
  }

  try {
    await shared.bus.on(channel, onMessage);
  } catch {
    shared.storeErrors++;
    return 'unreachable';
  }
  let stored;
  try {
    stored = await events.read(sessionId, streamId);
  } catch {
    shared.storeErrors++;
    shared.bus.off(channel, onMessage);
    return 'unreachable';
  }
  const missed = stored.events.filter((e) => e.seq > afterSeq);
  const outcome: ResumeOutcome =
    stored.last === undefined ? 'unknown' : afterSeq < stored.last && missed[0]?.seq !== afterSeq + 1 ? 'gone' : 'relayed';
  if (outcome !== 'relayed' || res.destroyed) {
    shared.bus.off(channel, onMessage);
    return outcome;
  }
  untrack = track(finish);
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive' });
  res.flushHeaders();
  res.on('close', finish);
  for (const e of missed) {
    last = e.seq;
    write(`id: ${streamId}:${e.seq}\nevent: message\ndata: ${e.data}\n\n`);
  }
  shared.eventsReplayed += missed.length;
  const early = buffered;
  buffered = null;
  for (const e of early) live(e);
  if (stored.endedAt !== undefined && stored.endedAt <= last) finish();
  if (!done && sse.keepAliveMs > 0) {
    keepAlive = setInterval(() => write(': keepalive\n\n'), sse.keepAliveMs);
    keepAlive.unref();
  }
  return 'relayed';
}
