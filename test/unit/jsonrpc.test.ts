// The public face of src/jsonrpc (option checks, implementation choice) and engine behaviour that the
// vector format cannot express (per-call outputs, router changes at run time, growth, reuse), once per
// implementation.
import { describe, expect, it } from 'vitest';
import {
  FLAG_SRC_CARRY,
  FLAGS,
  KIND,
  KIND_INVALID,
  KIND_REQUEST,
  REASON,
  RECORD_STRIDE,
  Reason,
  SLOT,
  NAME_SLOT,
  createEngine,
  createRouter,
  implementation,
} from '../../src/jsonrpc/index.js';
import type { Engine, Router } from '../../src/jsonrpc/index.js';
import { IMPLS, NATIVE_BINDING, REQUIRE_NATIVE, applyRoutes } from './helpers/impls.js';
import { DEFAULT_ROUTES } from './helpers/vectors.js';

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { ignoreBOM: true });
const PING = '{"jsonrpc":"2.0","id":1,"method":"ping"}';

function field(engine: Engine, record: number, index: number): number {
  return engine.records[record * RECORD_STRIDE + index];
}

describe('createEngine / createRouter', () => {
  it('uses the native engine exactly when the addon loads', () => {
    expect(implementation).toBe(NATIVE_BINDING === null ? 'js' : 'native');
  });

  it('rejects bad options with the option name, the expectation and what it got', () => {
    const router = createRouter();
    expect(() => createEngine({ router, maxMessageBytes: 0 })).toThrow(
      new RangeError('Expected an integer between 1 and 1073741824 for maxMessageBytes but received 0'),
    );
    expect(() => createEngine({ router, maxMessageBytes: 2 ** 30 + 1 })).toThrow(RangeError);
    expect(() => createEngine({ router, maxDepth: 1025 })).toThrow(/between 1 and 1024 for maxDepth but received 1025/);
    expect(() => createEngine({ router, maxDepth: 1.5 })).toThrow(RangeError);
    expect(() => createEngine({ router, maxBatch: 100001 })).toThrow(/between 1 and 100000 for maxBatch/);
    expect(() => createEngine({ router, maxBatch: '5' as unknown as number })).toThrow(
      new TypeError('Expected an integer between 1 and 100000 for maxBatch but received "5" of type string'),
    );
    expect(() => createEngine({ router, allowBatch: 1 as unknown as boolean })).toThrow(
      new TypeError('Expected a boolean for allowBatch but received 1 of type number'),
    );
    expect(() => createEngine({ router: {} as Router })).toThrow(/router made by createRouter\(\) for router/);
    expect(() => createEngine(null as never)).toThrow(TypeError);
  });

  it('accepts the extremes of every range', () => {
    const router = createRouter();
    for (const limits of [
      { maxMessageBytes: 1, maxDepth: 1, maxBatch: 1, allowBatch: false },
      { maxMessageBytes: 2 ** 30, maxDepth: 1024, maxBatch: 100000, allowBatch: true },
    ]) {
      const engine = createEngine({ router, ...limits });
      expect(engine.scan(enc.encode('{}'))).toBe(1);
    }
  });

  it('rejects bad router arguments', () => {
    const router = createRouter();
    expect(() => router.setMethod(1 as unknown as string, 0)).toThrow(new TypeError('Expected a string for method but received 1 of type number'));
    expect(() => router.setMethod('a', -1)).toThrow(new RangeError('Expected an integer between 0 and 2147483647 for slot but received -1'));
    expect(() => router.setMethod('a', 2 ** 31)).toThrow(RangeError);
    expect(() => router.setMethod('a', 0, 3 as never)).toThrow(/for table but received 3 of type number/);
    expect(() => router.setName(0, '\ud800', 0)).toThrow(/well-formed string for name/);
    expect(() => router.deleteName(-1 as never, 'a')).toThrow(RangeError);
  });

  it('routes through the public API', () => {
    const router = createRouter();
    router.setMethod('tools/call', 7, 0);
    router.setName(0, 'echo', 3);
    const engine = createEngine({ router });
    expect(engine.scan(enc.encode('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}'))).toBe(1);
    expect(field(engine, 0, SLOT)).toBe(7);
    expect(field(engine, 0, NAME_SLOT)).toBe(3);
  });
});

for (const impl of IMPLS) {
  const skip = !impl.available && !REQUIRE_NATIVE;
  describe.skipIf(skip)(`${impl.name} engine behaviour${skip ? ` (SKIPPED: ${impl.problem})` : ''}`, () => {
    const make = (limits = {}): { router: Router; engine: Engine } => {
      const router = impl.router();
      applyRoutes(router, DEFAULT_ROUTES);
      return { router, engine: impl.engine(router, limits) };
    };

    it('sees router changes at the next scan', () => {
      const { router, engine } = make();
      const call = enc.encode('{"jsonrpc":"2.0","id":1,"method":"x/y","params":{"name":"n"}}');
      engine.scan(call);
      expect(field(engine, 0, SLOT)).toBe(-1);
      router.setMethod('x/y', 11, 2);
      engine.scan(call);
      expect([field(engine, 0, SLOT), field(engine, 0, NAME_SLOT)]).toEqual([11, -1]);
      router.setName(2, 'n', 4);
      engine.scan(call);
      expect(field(engine, 0, NAME_SLOT)).toBe(4);
      expect(router.deleteName(2, 'n')).toBe(true);
      expect(router.deleteName(2, 'n')).toBe(false);
      engine.scan(call);
      expect(field(engine, 0, NAME_SLOT)).toBe(-1);
      router.setMethod('x/y', 12); // replaced, now without a name table
      router.setName(2, 'n', 4);
      engine.scan(call);
      expect([field(engine, 0, SLOT), field(engine, 0, NAME_SLOT)]).toEqual([12, -1]);
      expect(router.deleteMethod('x/y')).toBe(true);
      expect(router.deleteMethod('x/y')).toBe(false);
      engine.scan(call);
      expect(field(engine, 0, SLOT)).toBe(-1);
      router.clear();
      engine.scan(enc.encode(PING));
      expect(field(engine, 0, SLOT)).toBe(-1);
    });

    it('routes non-ASCII names set from JS strings', () => {
      const { router, engine } = make();
      router.setMethod('wörk/😀', 9, 0);
      router.setName(0, '名前', 1);
      engine.scan(enc.encode('{"jsonrpc":"2.0","method":"w\\u00f6rk/\\ud83d\\ude00","params":{"name":"名\\u524d"}}'));
      expect([field(engine, 0, SLOT), field(engine, 0, NAME_SLOT)]).toEqual([9, 1]);
    });

    it('grows its records array for a big batch and keeps every record', () => {
      const { engine } = make();
      const n = 700;
      const batch = `[${Array.from({ length: n }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"ping"}`).join(',')}]`;
      expect(engine.scan(enc.encode(batch))).toBe(n + 1);
      expect(engine.records.length).toBeGreaterThanOrEqual((n + 1) * RECORD_STRIDE);
      expect(field(engine, n, KIND)).toBe(KIND_REQUEST);
      expect(field(engine, n, SLOT)).toBe(1);
      // Many lines in one chunk, many of them invalid (replies grow too).
      const lines = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? PING : `{"id":${i}}`)).join('\n') + '\n';
      expect(engine.feed(enc.encode(lines))).toBe(n);
      expect(field(engine, n - 1, REASON)).toBe(Reason.bad_version);
      const replies = dec.decode(engine.replies());
      expect(replies.startsWith('{"jsonrpc":"2.0","id":1,"error"')).toBe(true);
      expect(replies.split('{"jsonrpc"').length - 1).toBe(n / 2);
    });

    it('gives each call its own replies() and carried()', () => {
      const { engine } = make();
      expect(engine.feed(enc.encode('{"id":1}\n{"jsonrpc":"2.0","id":2,'))).toBe(1);
      expect(dec.decode(engine.replies())).toContain('"id":1');
      expect(engine.carried().length).toBe(0);
      expect(engine.feed(enc.encode('"method":"ping"}\n'))).toBe(1);
      expect(engine.replies().length).toBe(0);
      expect(dec.decode(engine.carried())).toBe('{"jsonrpc":"2.0","id":2,"method":"ping"}');
      expect(field(engine, 0, FLAGS) & FLAG_SRC_CARRY).toBe(FLAG_SRC_CARRY);
      expect(engine.feed(enc.encode(PING + '\n'))).toBe(1);
      expect(engine.carried().length).toBe(0);
    });

    it('reports a too-large line in the call where the excess is first seen', () => {
      const { engine } = make({ maxMessageBytes: 50 });
      expect(engine.feed(enc.encode('{"jsonrpc":"2.0","method":"'))).toBe(0);
      expect(engine.feed(enc.encode('x'.repeat(30)))).toBe(1);
      expect(field(engine, 0, REASON)).toBe(Reason.too_large);
      expect(engine.feed(enc.encode('y'.repeat(100)))).toBe(0);
      expect(engine.feed(enc.encode('"}\n' + PING + '\n'))).toBe(1);
      expect(field(engine, 0, KIND)).toBe(KIND_REQUEST);
    });

    it('copies carried bytes: reusing a chunk after feed() changes nothing', () => {
      const { engine } = make();
      const chunk = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"pi');
      engine.feed(chunk);
      chunk.fill(0x41);
      expect(engine.feed(enc.encode('ng"}\n'))).toBe(1);
      expect(dec.decode(engine.carried())).toBe(PING);
      expect(field(engine, 0, SLOT)).toBe(1);
    });

    it('takes plain Uint8Array views with an offset; spans are relative to the view', () => {
      const { engine } = make();
      const backing = enc.encode('xxxx' + PING + 'yyyy');
      const view = new Uint8Array(backing.buffer, 4, PING.length);
      expect(engine.scan(view)).toBe(1);
      expect(field(engine, 0, 2)).toBe(0);
      expect(field(engine, 0, 3)).toBe(PING.length);
      expect(engine.feed(new Uint8Array(backing.buffer, 4, PING.length))).toBe(0);
      expect(engine.feed(new Uint8Array([0x0a]))).toBe(1);
      expect(field(engine, 0, SLOT)).toBe(1);
    });

    it('end() and reset() start a new stream (BOM rule included)', () => {
      const { engine } = make();
      const bomLine = enc.encode('\ufeff' + PING + '\n');
      expect(engine.feed(bomLine)).toBe(1);
      expect(field(engine, 0, KIND)).toBe(KIND_REQUEST);
      expect(engine.feed(bomLine)).toBe(1);
      expect(field(engine, 0, REASON)).toBe(Reason.invalid_json);
      expect(engine.end()).toBe(0);
      expect(engine.feed(bomLine)).toBe(1);
      expect(field(engine, 0, KIND)).toBe(KIND_REQUEST);
      engine.feed(enc.encode('{"jsonrpc":"2.0","id":1,'));
      engine.reset();
      expect(engine.end()).toBe(0);
      expect(engine.feed(bomLine)).toBe(1);
      expect(field(engine, 0, KIND)).toBe(KIND_REQUEST);
    });

    it('scan() leaves the stream alone', () => {
      const { engine } = make();
      engine.feed(enc.encode('{"jsonrpc":"2.0",'));
      expect(engine.scan(enc.encode('[]'))).toBe(1);
      expect(engine.feed(enc.encode('"id":1,"method":"ping"}\n'))).toBe(1);
      expect(field(engine, 0, SLOT)).toBe(1);
    });

    it('walks deep and wide input without running out of stack', () => {
      const deep = make({ maxDepth: 1024 }).engine;
      const nested = (n: number): string => `{"jsonrpc":"2.0","id":0,"method":"ping","params":${'['.repeat(n)}${']'.repeat(n)}}`;
      expect(deep.scan(enc.encode(nested(1023)))).toBe(1);
      expect(field(deep, 0, KIND)).toBe(KIND_REQUEST);
      expect(deep.scan(enc.encode(nested(1024)))).toBe(1);
      expect(field(deep, 0, REASON)).toBe(Reason.too_deep);
      expect(deep.scan(enc.encode('['.repeat(100000)))).toBe(1);
      expect(field(deep, 0, REASON)).toBe(Reason.too_deep);
      const wide = make().engine;
      const params = `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
      expect(wide.scan(enc.encode(`{"jsonrpc":"2.0","id":"w","method":"tools/call","params":${params}}`))).toBe(1);
      expect(field(wide, 0, KIND)).toBe(KIND_REQUEST);
      const dupes = `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`).join(',')},"k4999":0,"jsonrpc":"2.0","method":"a"}`;
      expect(wide.scan(enc.encode(dupes))).toBe(1);
      expect([field(wide, 0, KIND), field(wide, 0, REASON)]).toEqual([KIND_INVALID, Reason.duplicate_key]);
    });

    it('handles a 2 MB message split into 4 KB chunks', () => {
      const { engine } = make();
      const text = 'é'.repeat(1 << 20);
      const line = enc.encode(`{"jsonrpc":"2.0","id":5,"result":"${text}"}\n`);
      let count = 0;
      for (let at = 0; at < line.length; at += 4096) count += engine.feed(line.subarray(at, at + 4096));
      expect(count).toBe(1);
      const body = dec.decode(engine.carried().subarray(field(engine, 0, 8), field(engine, 0, 9)));
      expect(body).toBe(`"${text}"`);
    });
  });
}
