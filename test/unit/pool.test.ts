// src/pool: the pure parts of the worker pool, no threads. The fair queue (round-robin across callers,
// FIFO within one; O(1) removal; checked against a plain-array model on random operations), the caller
// key pool.tool() derives from a request context, the error table, option checks (which throw
// before any thread starts), and the handler context's signal slot and argument checks (on this thread,
// with a slot of its own). Real threads: test/integration/worker-pool.test.ts.
import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../src/pool/fair-queue.js';
import { CallContext } from '../../src/pool/handler-context.js';
import { SLOT_GENERATION_SHIFT, SLOT_WATCHED, slotGeneration, slotReason } from '../../src/pool/protocol.js';
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

describe('handler context (worker side, on this thread)', () => {
  /** A slot holding generation `id`, and a context for call `id` on it. */
  function setup(id = 5): { slots: Int32Array; ctx: CallContext; abort(code: number): void } {
    const slots = new Int32Array(new SharedArrayBuffer(8));
    Atomics.store(slots, 1, id << SLOT_GENERATION_SHIFT);
    const ctx = new CallContext({ m: 'file:///x.mjs', x: 'default', i: id, k: 1 }, slots);
    // What the pool does: set the reason bits, then wake the waiter.
    const abort = (code: number): void => {
      Atomics.or(slots, 1, code << 1);
      Atomics.notify(slots, 1);
    };
    return { slots, ctx, abort };
  }

  it('marks the slot watched on the first read of ctx.signal, and only then', () => {
    const { slots, ctx } = setup();
    expect(Atomics.load(slots, 1) & SLOT_WATCHED).toBe(0);
    expect(ctx.signal.aborted).toBe(false);
    expect(Atomics.load(slots, 1) & SLOT_WATCHED).toBe(SLOT_WATCHED);
    expect(slotGeneration(Atomics.load(slots, 1))).toBe(5);
    expect(slotReason(Atomics.load(slots, 1))).toBe(0);
    ctx.finish();
  });

  it('aborts ctx.signal when the event loop turns after the pool wakes it (async handlers)', async () => {
    const { ctx, abort } = setup();
    const signal = ctx.signal;
    const aborted = new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
    abort(1);
    const reason = (await aborted) as DOMException;
    expect(reason.name).toBe('AbortError');
    expect(reason.message).toBe('The call was cancelled');
  });

  it('sees an abort at the next read of ctx.signal, without the event loop (loops that never yield)', () => {
    const { ctx, slots } = setup();
    expect(ctx.signal.aborted).toBe(false);
    Atomics.or(slots, 1, 2 << 1); // timeout, and no notify: only a read can see it
    const signal = ctx.signal;
    expect(signal.aborted).toBe(true);
    expect((signal.reason as DOMException).name).toBe('TimeoutError');
    ctx.finish(); // releases the waiter the first read left
  });

  it('is aborted at first read when the slot already carries a reason', () => {
    const { ctx, abort } = setup();
    abort(3);
    expect(ctx.signal.aborted).toBe(true);
    expect((ctx.signal.reason as DOMException).message).toBe('The worker pool is closing');
  });

  it('leaves a slot that belongs to a later call alone', () => {
    const { ctx, slots, abort } = setup(5);
    Atomics.store(slots, 1, 6 << SLOT_GENERATION_SHIFT); // the pool gave the slot to call 6
    expect(ctx.signal.aborted).toBe(false);
    expect(Atomics.load(slots, 1)).toBe(6 << SLOT_GENERATION_SHIFT); // not marked watched
    abort(1);
    expect(ctx.signal.aborted).toBe(false);
  });

  it('has a signal that never aborts without a slot (Piscina running the entry without the pool)', () => {
    const ctx = new CallContext({ m: 'file:///x.mjs', x: 'default' }, undefined);
    expect(ctx.signal.aborted).toBe(false);
    expect(ctx.requestId).toBeUndefined();
  });

  it('checks progress and log arguments, and posts nothing a call did not ask for', () => {
    // No parentPort on this thread: a post would throw, so passing calls prove nothing was posted.
    const ctx = new CallContext({ m: 'file:///x.mjs', x: 'default', i: 1, r: 'req-1', u: 'S', h: { subject: 'alice', scopes: ['a'] } }, undefined);
    ctx.progress(1, 2, 'half');
    ctx.log('info', { a: 1 });
    expect(ctx.notes).toBe(0);
    expect(() => ctx.progress(Number.NaN)).toThrow(/Expected progress to be a finite number but received NaN of type number/);
    expect(() => ctx.progress('1' as any)).toThrow(/of type string/);
    expect(() => ctx.progress(1, Infinity)).toThrow(/Expected total to be a finite number or undefined/);
    expect(() => ctx.progress(1, 2, 3 as any)).toThrow(/Expected message to be a string or undefined/);
    expect(() => ctx.log('loud' as any, 'x')).toThrow(/Unknown log level "loud"/);
    expect(() => ctx.log('info', 'x', 7 as any)).toThrow(/Expected logger to be a string or undefined/);
    expect([ctx.requestId, ctx.sessionId, ctx.auth]).toEqual(['req-1', 'S', { subject: 'alice', scopes: ['a'] }]);
  });

  it('rejects log data JSON cannot carry, and posts nothing after the handler returned', () => {
    const ctx = new CallContext({ m: 'file:///x.mjs', x: 'default', i: 1, p: 1, l: 0 }, undefined);
    expect(() => ctx.log('info', { n: 1n })).toThrow(/log data is not JSON-serializable/);
    expect(() => ctx.log('info', undefined)).toThrow(/log data is not JSON-serializable \(received undefined\)/);
    ctx.finish();
    ctx.progress(1);
    ctx.log('error', 'late');
    expect(ctx.notes).toBe(0);
  });
});
