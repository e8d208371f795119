// The pub/sub bookkeeping of shared state (src/cluster/bus.ts) on a real redis-server: a channel is
// subscribed once however many handlers it has and unsubscribed with the last one, and a reconnect of
// the subscriber (messages may have been lost) runs the resync hooks.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/cluster/bus.js';
import { useRedisServer } from '../helpers/redis-server.js';

const redis = useRedisServer();
let pub: Redis;

beforeAll(() => {
  pub = new Redis(redis().url);
});
afterAll(() => {
  pub.disconnect();
});

const subscribers = async (channel: string): Promise<number> => Number(((await pub.pubsub('NUMSUB', channel)) as [string, number])[1]);

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Bus', () => {
  it('subscribes a channel once, delivers to every handler, unsubscribes with the last', async () => {
    const sub = new Redis(redis().url);
    const bus = new Bus(sub);
    const got: string[] = [];
    const h1 = (m: string): void => void got.push(`1:${m}`);
    const h2 = (m: string): void => void got.push(`2:${m}`);
    await bus.on('b1', h1);
    await bus.on('b1', h2);
    expect(await subscribers('b1')).toBe(1);
    expect(bus.channels).toBe(1);
    await pub.publish('b1', 'x');
    await until('both deliveries', () => got.length === 2);
    expect(got.sort()).toEqual(['1:x', '2:x']);
    bus.off('b1', h1);
    expect(await subscribers('b1')).toBe(1);
    bus.off('b1', h2);
    expect(bus.channels).toBe(0);
    await until('the unsubscription', async () => (await subscribers('b1')) === 0);
    sub.disconnect();
  });

  it('runs the resync hooks when the subscriber comes back, subscribed again', async () => {
    const sub = new Redis(redis().url);
    const bus = new Bus(sub);
    await until('the connection', () => sub.status === 'ready');
    let resyncs = 0;
    const stop = bus.onResync(() => void resyncs++);
    const got: string[] = [];
    await bus.on('b2', (m) => void got.push(m));
    sub.disconnect(true); // drop the connection; ioredis reconnects
    await until('a resync', () => resyncs === 1);
    await until('the subscription again', async () => (await subscribers('b2')) === 1);
    await pub.publish('b2', 'after');
    await until('the message after the reconnect', () => got.includes('after'));
    stop();
    sub.disconnect(true);
    await until('the connection again', () => sub.status === 'ready');
    expect(resyncs).toBe(1);
    sub.disconnect();
  });

  it('a failed subscription leaves no handler behind', async () => {
    const sub = new Redis(redis().url, { enableOfflineQueue: false, lazyConnect: true });
    const bus = new Bus(sub);
    await expect(bus.on('b3', () => {})).rejects.toThrow();
    expect(bus.channels).toBe(0);
    sub.disconnect();
  });
});
