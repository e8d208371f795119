// The shared session store (src/cluster/session-store.ts) and the shared state key
// (src/cluster/state-key.ts) on a real redis-server: records with a TTL, touch, DELETE's tombstone, and
// server->client request ids unique per session across connections, each with its owner.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/cluster/session-store.js';
import type { SessionRecord } from '../../src/cluster/session-store.js';
import { sharedStateKey } from '../../src/cluster/state-key.js';
import { useRedisServer } from '../helpers/redis-server.js';

const redis = useRedisServer();
let one: Redis;
let two: Redis;

beforeAll(() => {
  one = new Redis(redis().url);
  two = new Redis(redis().url);
});
afterAll(() => {
  one.disconnect();
  two.disconnect();
});

const record: SessionRecord = { v: '2025-06-18', c: { sampling: {} }, i: { name: 'c', version: '1' }, o: 'alice', n: true, l: 3, s: ['mem://a'] };

describe('SessionStore', () => {
  it('stores a record with the idle timeout as TTL; touch refreshes it and returns it', async () => {
    const store = new SessionStore(one, 's1:', 60_000);
    expect(await store.load('x')).toBeNull();
    await store.save('x', record);
    expect(await store.load('x')).toEqual(record);
    await one.pexpire('s1:s:x', 1000);
    expect(await new SessionStore(two, 's1:', 60_000).touch('x')).toEqual(record);
    expect(await one.pttl('s1:s:x')).toBeGreaterThan(1000);
  });

  it('after remove: load finds nothing and touch says deleted; a lost record is null', async () => {
    const store = new SessionStore(one, 's2:', 60_000);
    await store.save('x', record);
    await store.remove('x', ['s2:e:x']);
    expect(await store.load('x')).toBeNull();
    expect(await store.touch('x')).toBe('deleted');
    await store.save('y', record);
    await one.del('s2:s:y'); // as after a Redis restart without persistence
    expect(await store.touch('y')).toBeNull();
  });

  it('refuses a record that is not in the stored shape', async () => {
    await one.set('s3:s:bad', '{"v":1}');
    await expect(new SessionStore(one, 's3:', 60_000).load('bad')).rejects.toThrow(/not in the expected shape/);
  });

  it('request ids are unique per session across connections, and each names its owner until done', async () => {
    const a = new SessionStore(one, 's4:', 60_000);
    const b = new SessionStore(two, 's4:', 60_000);
    const ids = await Promise.all([a.nextRequestId('x', 'node-a'), b.nextRequestId('x', 'node-b'), a.nextRequestId('x', 'node-a'), b.nextRequestId('x', 'node-b')]);
    expect([...ids].sort()).toEqual([1, 2, 3, 4]);
    expect(await b.requestOwner('x', String(ids[0]))).toBe('node-a');
    expect(await a.requestOwner('x', String(ids[1]))).toBe('node-b');
    a.requestDone('x', ids[0]!);
    expect(await a.requestOwner('x', String(ids[0]))).toBeNull();
    // Another session counts from 1.
    expect(await a.nextRequestId('y', 'node-a')).toBe(1);
    expect(await one.pttl('s4:s:x:rid')).toBeGreaterThan(0);
  });
});

describe('sharedStateKey', () => {
  it('is created once: every connection gets the same key of at least 32 bytes', async () => {
    const keys = await Promise.all([sharedStateKey(one, 'k1:state-key'), sharedStateKey(two, 'k1:state-key'), sharedStateKey(one, 'k1:state-key')]);
    expect(keys[0]!.length).toBeGreaterThanOrEqual(32);
    expect(keys[1]!.equals(keys[0]!)).toBe(true);
    expect(keys[2]!.equals(keys[0]!)).toBe(true);
    expect((await sharedStateKey(one, 'k2:state-key')).equals(keys[0]!)).toBe(false);
  });

  it('refuses a stored key that is too short', async () => {
    await one.set('k3:state-key', Buffer.alloc(8).toString('base64'));
    await expect(sharedStateKey(one, 'k3:state-key')).rejects.toThrow(/holds 8 bytes/);
  });
});
