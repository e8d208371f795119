// One requestState / cursor key for every process sharing a Redis (issue 8): the first process to
// ask creates it (SET NX, 48 random bytes), every later one reads the same value. It never expires;
// rotating it means deleting the key and restarting every process.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

const KEY_BYTES = 48;

/** The deployment's shared state key, created once. */
export async function sharedStateKey(client: Redis, redisKey: string): Promise<Buffer> {
  await client.set(redisKey, randomBytes(KEY_BYTES).toString('base64'), 'NX');
  const stored = await client.get(redisKey);
  if (stored === null) throw new Error(`The shared state key ${redisKey} vanished right after SET NX (deleted concurrently?)`);
  const key = Buffer.from(stored, 'base64');
  if (key.length < 32) throw new Error(`The shared state key ${redisKey} holds ${key.length} bytes; expected at least 32 (base64)`);
  return key;
}
