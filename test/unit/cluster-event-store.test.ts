// The shared SSE event store (src/cluster/event-store.ts) on a real redis-server: retention by count and
// bytes per session, the per-stream high-water mark and end marker, TTLs, and the live channel format.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore, SharedEventLog, parseLiveEvent } from '../../src/cluster/event-store.js';
import { useRedisServer } from '../helpers/redis-server.js';

const redis = useRedisServer();
let client: Redis;
let sub: Redis;

beforeAll(() => {
  client = new Redis(redis().url);
  sub = new Redis(redis().url);
});
afterAll(() => {
  client.disconnect();
  sub.disconnect();
});

/** Appends are sent at the end of the turn, fire-and-forget; a PING sent after returns after all of them. */
const settled = async (): Promise<unknown> => {
  await new Promise((resolve) => setImmediate(resolve));
  return client.ping();
};

describe('EventStore', () => {
  it('keeps at most maxEvents per session, across its streams, oldest out first', async () => {
    const store = new EventStore(client, 'u1:', { maxEvents: 3, maxBytes: 1 << 20 }, 60_000);
    store.write('s', 'm', 'A', 2, '"a2"');
    store.write('s', 'm', 'B', 2, '"b2"');
    store.write('s', 'm', 'A', 3, '"a3"');
    store.write('s', 'm', 'A', 4, '"a4"');
    await settled();
    expect(await store.read('s', 'A')).toEqual({ last: 4, endedAt: undefined, events: [{ seq: 3, data: '"a3"' }, { seq: 4, data: '"a4"' }] });
    expect(await store.read('s', 'B')).toEqual({ last: 2, endedAt: undefined, events: [{ seq: 2, data: '"b2"' }] });
    // Another session has its own budget.
    expect((await store.read('other', 'A')).last).toBeUndefined();
  });

  it('keeps at most maxBytes of data per session', async () => {
    const store = new EventStore(client, 'u2:', { maxEvents: 100, maxBytes: 10 }, 60_000);
    for (let seq = 2; seq <= 6; seq++) store.write('s', 'm', 'A', seq, `"${seq}xx"`); // 5 bytes each
    await settled();
    expect((await store.read('s', 'A')).events.map((e) => e.seq)).toEqual([5, 6]);
    expect(await client.get('u2:e:s:b')).toBe('10');
  });

  it('records a stream at its priming event and its end, and sets the TTL on every key', async () => {
    const store = new EventStore(client, 'u3:', { maxEvents: 10, maxBytes: 1000 }, 60_000);
    store.write('s', 'o', 'A', 1, '');
    await settled();
    expect(await store.read('s', 'A')).toEqual({ last: 1, endedAt: undefined, events: [] });
    store.write('s', 'm', 'A', 2, '{}');
    store.write('s', 'e', 'A', 2, '');
    await settled();
    expect(await store.read('s', 'A')).toEqual({ last: 2, endedAt: 2, events: [{ seq: 2, data: '{}' }] });
    for (const key of store.keys('s')) {
      const ttl = await client.pttl(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(60_000);
    }
  });

  it('publishes every event and every end on the session channel, in order', async () => {
    const store = new EventStore(client, 'u4:', { maxEvents: 10, maxBytes: 1000 }, 60_000);
    const got: string[] = [];
    await sub.subscribe(store.channel('s'));
    const all = new Promise<void>((resolve) =>
      sub.on('message', (_c: string, m: string) => {
        got.push(m);
        if (got.length === 3) resolve();
      }),
    );
    store.write('s', 'o', 'A', 1, ''); // not published: nothing to relay
    store.write('s', 'm', 'A', 2, '{"x":"a b\\nc"}');
    store.write('s', 'm', 'A', 3, '{}');
    store.write('s', 'e', 'A', 3, '');
    await all;
    expect(got.map(parseLiveEvent)).toEqual([
      { kind: 'm', streamId: 'A', seq: 2, data: '{"x":"a b\\nc"}' },
      { kind: 'm', streamId: 'A', seq: 3, data: '{}' },
      { kind: 'e', streamId: 'A', seq: 3, data: '' },
    ]);
    await sub.unsubscribe(store.channel('s'));
  });

  it('counts failed appends instead of rejecting', async () => {
    const dead = new Redis(redis().url, { enableOfflineQueue: false, lazyConnect: true });
    const store = new EventStore(dead, 'u5:', { maxEvents: 10, maxBytes: 1000 }, 60_000);
    store.write('s', 'm', 'A', 2, '{}');
    await new Promise((r) => setTimeout(r, 20));
    expect(store.errors).toBe(1);
    dead.disconnect();
  });
});

describe('SharedEventLog', () => {
  it('keeps events locally and in the store', async () => {
    const store = new EventStore(client, 'u6:', { maxEvents: 10, maxBytes: 1000 }, 60_000);
    const log = new SharedEventLog(store, 's');
    log.opened('A', 1);
    log.append('A', 2, '{"n":2}');
    log.ended('A', 2);
    await settled();
    expect(log.after('A', 1)).toEqual([{ seq: 2, data: '{"n":2}' }]);
    expect(await store.read('s', 'A')).toEqual({ last: 2, endedAt: 2, events: [{ seq: 2, data: '{"n":2}' }] });
  });
});

describe('parseLiveEvent', () => {
  it('refuses what is not an event message', () => {
    for (const bad of ['', 'x1 A\n', 'm A\n', 'mNaN A\n{}', 'm1 A', 'm1\nA {}']) expect(parseLiveEvent(bad), bad).toBeNull();
  });
});
