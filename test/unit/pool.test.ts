// src/pool: the pure parts of the worker pool, no threads. The fair queue (round-robin across callers,
// FIFO within one; O(1) removal; checked against a plain-array model on random operations), the caller
// key pool.tool() derives from a request context, the error table, and option checks (which throw
// before any thread starts). Real threads: test/integration/worker-pool.test.ts.
import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../src/pool/fair-queue.js';
import type { QueueNode } from '../../src/pool/fair-queue.js';
import { POOL_ERROR_CODES, POOL_FAILURES, PoolError, callerKey, createWorkerPool } from '../../src/pool/index.js';
import type { WorkerPoolOptions } from '../../src/pool/index.js';
import { mulberry32 } from './helpers/prng.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

describe('FairQueue', () => {
  it('is empty at first', () => {
    const q = new FairQueue<string>();
    expect(q.size).toBe(0);
    expect(q.callers).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(q.sizeOf('a')).toBe(0);
  });

  it('keeps one caller in FIFO order', () => {
    const q = new FairQueue<number>();
    for (let i = 0; i < 5; i++) q.push('a', i);
    expect(q.size).toBe(5);
    expect(q.drain()).toEqual([0, 1, 2, 3, 4]);
    expect(q.size).toBe(0);
    expect(q.callers).toBe(0);
  });

  it('serves callers round-robin, in order of arrival', () => {
    const q = new FairQueue<string>();
    q.push('a', 'a1');
    q.push('a', 'a2');
    q.push('a', 'a3');
    q.push('b', 'b1');
    q.push('c', 'c1');
    q.push('c', 'c2');
    expect(q.callers).toBe(3);
    expect(q.drain()).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
  });

  it('serves a caller arriving behind 200 calls of another one second', () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 200; i++) q.push('flood', `f${i}`);
    q.push('single', 'mine');
    const order = q.drain();
    expect(order.indexOf('mine')).toBe(1);
    expect(order.filter((v) => v !== 'mine')).toEqual(Array.from({ length: 200 }, (_, i) => `f${i}`));
  });

  it('puts a caller that comes back after running dry at the tail of the ring', () => {
    const q = new FairQueue<string>();
    q.push('a', 'a1');
    q.push('b', 'b1');
    q.push('b', 'b2');
    expect(q.shift()).toBe('a1'); // a is now empty and leaves the ring
    q.push('a', 'a2'); // ...and rejoins behind b
    expect(q.drain()).toEqual(['b1', 'a2', 'b2']);
  });

  it('removes waiting items from the head, middle and tail of a line', () => {
    const q = new FairQueue<string>();
    const nodes = ['x0', 'x1', 'x2', 'x3', 'x4'].map((v) => q.push('x', v));
    q.push('y', 'y0');
    expect(q.remove(nodes[2]!)).toBe(true);
    expect(q.remove(nodes[0]!)).toBe(true);
    expect(q.remove(nodes[4]!)).toBe(true);
    expect(q.size).toBe(3);
    expect(q.sizeOf('x')).toBe(2);
    expect(q.drain()).toEqual(['x1', 'y0', 'x3']);
  });

  it('refuses to remove an item twice or after it was shifted', () => {
    const q = new FairQueue<string>();
    const a = q.push('k', 'a');
    const b = q.push('k', 'b');
    expect(q.remove(a)).toBe(true);
    expect(q.remove(a)).toBe(false);
    expect(q.shift()).toBe('b');
    expect(q.remove(b)).toBe(false);
    expect(q.size).toBe(0);
  });

  it('drops a caller whose last item is removed, so it rejoins at the tail', () => {
    const q = new FairQueue<string>();
    const a1 = q.push('a', 'a1');
    q.push('b', 'b1');
    q.remove(a1);
    expect(q.callers).toBe(1);
    q.push('a', 'a2');
    expect(q.drain()).toEqual(['b1', 'a2']);
  });

  it('agrees with a plain-array model on random pushes, shifts and removes', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = mulberry32(seed);
      const q = new FairQueue<number>();
      // The model: a ring of keys in serving order, and a FIFO per key.
      const ring: string[] = [];
      const lines = new Map<string, number[]>();
      const handles = new Map<number, QueueNode<number>>();
      let next = 0;
      for (let step = 0; step < 2000; step++) {
        const op = rand() % 10;
        if (op < 5) {
          const key = `k${rand() % 6}`;
          const v = next++;
          handles.set(v, q.push(key, v));
          if (!lines.has(key)) {
            lines.set(key, []);
            ring.push(key);
          }
          lines.get(key)!.push(v);
        } else if (op < 8) {
          let expected: number | undefined;
          const key = ring.shift();
          if (key !== undefined) {
            const line = lines.get(key)!;
            expected = line.shift();
            if (line.length > 0) ring.push(key);
            else lines.delete(key);
          }
          const got = q.shift();
          expect(got, `seed ${seed} step ${step}`).toBe(expected);
          if (got !== undefined) handles.delete(got);
        } else if (handles.size > 0) {
          const values = [...handles.keys()];
          const v = values[rand() % values.length]!;
          expect(q.remove(handles.get(v)!)).toBe(true);
          handles.delete(v);
          for (const [key, line] of lines) {
            const i = line.indexOf(v);
            if (i < 0) continue;
            line.splice(i, 1);
            if (line.length === 0) {
              lines.delete(key);
              ring.splice(ring.indexOf(key), 1);
            }
          }
        }
        expect(q.size).toBe(handles.size);
        expect(q.callers).toBe(lines.size);
      }
    }
  });
});

describe('callerKey', () => {
  it('is the authenticated subject, else the session, else one shared key', () => {
    const auth = { subject: 'alice', scopes: [] };
    expect(callerKey({ auth, sessionId: 'S1' })).toBe('a:alice');
    expect(callerKey({ auth: undefined, sessionId: 'S1' })).toBe('s:S1');
    expect(callerKey({ auth: undefined, sessionId: undefined })).toBe('');
  });

  it('keeps subjects and session ids apart even when their text is the same', () => {
    expect(callerKey({ auth: { subject: 'x', scopes: [] }, sessionId: undefined })).not.toBe(callerKey({ auth: undefined, sessionId: 'x' }));
  });
});

describe('pool errors', () => {
  it('has one MCP_POOL_* code per failure cause', () => {
    expect(Object.keys(POOL_ERROR_CODES).sort()).toEqual([...POOL_FAILURES].sort());
    const codes = Object.values(POOL_ERROR_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^MCP_POOL_[A-Z_]+$/);
    expect(POOL_ERROR_CODES.overloaded).toBe('MCP_POOL_QUEUE_FULL');
  });

  it('carries its cause and code', () => {
    const e = new PoolError('timeout', 'took too long');
    expect(e).toBeInstanceOf(Error);
    expect(e.failure).toBe('timeout');
    expect(e.code).toBe('MCP_POOL_TIMEOUT');
    expect(e.message).toBe('took too long');
  });
});

describe('createWorkerPool option checks (before any thread starts)', () => {
  const bad: [string, WorkerPoolOptions | any, RegExp][] = [
    ['maxThreads 0', { maxThreads: 0 }, /maxThreads to be an integer >= 1/],
    ['maxThreads 1.5', { maxThreads: 1.5 }, /maxThreads/],
    ['minThreads -1', { minThreads: -1 }, /minThreads to be an integer >= 0/],
    ['minThreads above maxThreads', { minThreads: 3, maxThreads: 2 }, /minThreads \(3\) to be at most maxThreads \(2\)/],
    ['maxQueue NaN', { maxQueue: Number.NaN }, /maxQueue/],
    ['maxQueue Infinity', { maxQueue: Infinity }, /maxQueue/],
    ['maxQueuePerCaller "5"', { maxQueuePerCaller: '5' }, /maxQueuePerCaller .* of type string/],
    ['idleTimeoutMs -5', { idleTimeoutMs: -5 }, /idleTimeoutMs/],
    ['taskTimeoutMs 0', { taskTimeoutMs: 0 }, /taskTimeoutMs/],
    ['taskTimeoutMs -Infinity', { taskTimeoutMs: -Infinity }, /taskTimeoutMs/],
    ['resourceLimits null', { resourceLimits: null }, /resourceLimits to be an object/],
    ['transfer text', { transfer: 'text' }, /transfer to be 'json', 'bytes' or 'clone'/],
    ['abortGraceMs -1', { abortGraceMs: -1 }, /abortGraceMs to be an integer >= 0/],
    ['abortGraceMs 2.5', { abortGraceMs: 2.5 }, /abortGraceMs/],
    ['options null', null, /options object/],
  ];
  it.each(bad)('refuses %s', (_name, options, message) => {
    expect(() => createWorkerPool(options)).toThrow(message);
  });
});
