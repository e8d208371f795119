// Arguments read for JS (docs/jsonrpc-engine.md section 11): the shared vectors (test/vectors/arguments.json)
// through both engines, the same tables and values from the native engine and its JS twin, the key tables'
// bounds, and readMessages giving arguments equal to JSON.parse of their text (members, order, prototype)
// for random arguments in many-request reads, whatever path each takes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_KEYS, buildArguments } from '../../src/jsonrpc/arguments.js';
import type { ArgumentsRead } from '../../src/jsonrpc/arguments.js';
import { methodRouter, readMessages } from '../../src/transport/intake.js';
import type { Engine } from '../../src/jsonrpc/js.js';
import { IMPLS, JS, NATIVE, NATIVE_BINDING } from './helpers/impls.js';
import { Rng } from './helpers/traffic.js';

interface Vector {
  name: string;
  arguments: string;
  entry: 'members' | 'whole' | 'none';
  members?: [string, string][];
}
const vectors = (JSON.parse(readFileSync(new URL('../vectors/arguments.json', import.meta.url), 'utf8')) as { cases: Vector[] }).cases;

const call = (args: string, id = 1): string =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":${args}}}`;

/** The values array split into each value's text (top-level commas). */
function valueTexts(values: string): string[] {
  const body = values.slice(1, -1);
  if (body === '') return [];
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      out.push(body.slice(start, i));
      start = i + 1;
    }
  }
  out.push(body.slice(start));
  return out;
}

/** Same members in the same order, same values, plain prototypes all the way down. */
function expectSameValue(got: unknown, want: unknown): void {
  expect(JSON.stringify(got)).toBe(JSON.stringify(want));
  if (typeof want === 'object' && want !== null) {
    expect(Object.getPrototypeOf(got)).toBe(Object.getPrototypeOf(want));
    expect(Object.keys(got as object)).toEqual(Object.keys(want));
  }
}

for (const impl of IMPLS) {
  describe.skipIf(!impl.available)(`Engine.readArguments (${impl.name} engine)`, () => {
    const engine = impl.engine(methodRouter(impl.router()));
    const scanOne = (text: string): ArgumentsRead => {
      const message = Buffer.from(text);
      expect(engine.scan(message)).toBe(1);
      return engine.readArguments(message);
    };

    for (const v of vectors) {
      it(`arguments.json: ${v.name}`, () => {
        const read = scanOne(call(v.arguments));
        const at = read.table[0]!;
        if (v.entry === 'none') {
          expect(at).toBe(-1);
          expect(read.values).toBe('[]');
          return;
        }
        expect(read.table[at + 1]).toBe(0);
        const texts = valueTexts(read.values);
        if (v.entry === 'whole') {
          expect(read.table[at]).toBe(-1);
          expect(texts).toEqual([v.arguments]);
        } else {
          const count = read.table[at]!;
          expect(count).toBe(v.members!.length);
          const names = Array.from(read.table.subarray(at + 2, at + 2 + count), (id) => read.keys[id]);
          expect(names).toEqual(v.members!.map(([name]) => name));
          expect(texts).toEqual(v.members!.map(([, value]) => value));
        }
        // Built from the parsed values: what JSON.parse of the arguments gives.
        expectSameValue(buildArguments(read, JSON.parse(read.values) as unknown[], 0), JSON.parse(v.arguments));
      });
    }

    it('keeps key ids for the engine life and bounds its table (new names beyond it: taken whole)', () => {
      const own = impl.engine(methodRouter(impl.router()));
      const read = (args: string): ArgumentsRead => {
        const message = Buffer.from(call(args));
        own.scan(message);
        return own.readArguments(message);
      };
      for (let i = 0; i < MAX_KEYS; i++) {
        const r = read(`{"k${i}":${i}}`);
        expect(Array.from(r.table)).toEqual([1, 1, 0, i]);
        expect(r.keys[i]).toBe(`k${i}`);
      }
      expect(Array.from(read('{"k7":1,"k200":2}').table)).toEqual([1, 2, 0, 7, 200]);
      const full = read('{"k7":1,"fresh":2}');
      expect(Array.from(full.table)).toEqual([1, -1, 0]);
      expect(full.values).toBe('[{"k7":1,"fresh":2}]');
      expect(full.keys.length).toBe(MAX_KEYS);
    });

    it('gives no id to a name of an object taken whole for an escaped name', () => {
      const own = impl.engine(methodRouter(impl.router()));
      const message = Buffer.from(call('{"fresh":1,"a\\"b":2}'));
      own.scan(message);
      const r = own.readArguments(message);
      expect(Array.from(r.table)).toEqual([1, -1, 0]);
      expect(r.keys).toEqual([]);
    });
  });
}

/** Random arguments: objects of names JSON.parse and assignment might read differently, and other values. */
function randomArguments(rng: Rng): string {
  const names = ['text', 'a', 'b', '', '0', '17', '__proto__', 'constructor', 'toString', 'grüße', '日本', 'a\\u0062', 'q\\"t', 'x'.repeat(64), 'y'.repeat(65)];
  const scalars = ['1', '-0.5e-3', 'true', 'false', 'null', '"plain"', '"é ✓ 𝄞"', '"esc \\" \\\\ \\n \\u0041"', '""', '"' + 'z'.repeat(40) + '"'];
  const value = (depth: number): string => {
    const roll = rng.int(10);
    if (depth < 2 && roll === 0) return '[' + Array.from({ length: rng.int(3) }, () => value(depth + 1)).join(',') + ']';
    if (depth < 2 && roll === 1) return object(depth + 1);
    return rng.pick(scalars);
  };
  const space = (): string => (rng.chance(0.2) ? rng.pick([' ', '\t ', '\r', '  ']) : ''); // no LF: lines are framed
  const object = (depth: number): string => {
    const count = rng.chance(0.05) ? 33 + rng.int(3) : rng.int(5);
    const members = Array.from({ length: count }, () => `${space()}"${rng.pick(names)}"${space()}:${space()}${value(depth)}${space()}`);
    return '{' + members.join(',') + (count === 0 ? space() : '') + '}';
  };
  const roll = rng.int(20);
  if (roll === 0) return '[1,{"a":2}]';
  if (roll === 1) return rng.pick(scalars);
  if (roll === 2) return '{"big":"' + 'w'.repeat(1100) + '"}';
  return object(0);
}

describe('readMessages builds what JSON.parse gives', () => {
  for (const impl of IMPLS) {
    it.skipIf(!impl.available)(`random arguments in many-request reads (${impl.name} engine)`, () => {
      const engine: Engine = impl.engine(methodRouter(impl.router()));
      const rng = new Rng(20261123);
      for (let round = 0; round < 150; round++) {
        const args = Array.from({ length: 1 + rng.int(40) }, () => randomArguments(rng));
        const chunk = Buffer.from(args.map((a, i) => call(a, i)).join('\n') + '\n');
        const messages = readMessages(engine, engine.feed(chunk), chunk);
        expect(messages.length).toBe(args.length);
        messages.forEach((m, i) => {
          if (m.kind !== 'request') throw new Error(`expected a request, got ${m.kind}`);
          expectSameValue((m.params as Record<string, unknown>)['arguments'], JSON.parse(args[i]!));
        });
      }
    });
  }

  it.skipIf(!NATIVE.available)('the native engine and the JS twin give the same tables and values', () => {
    const engines = [NATIVE, JS].map((impl) => impl.engine(methodRouter(impl.router())));
    const rng = new Rng(7);
    for (let round = 0; round < 200; round++) {
      const lines = Array.from({ length: 1 + rng.int(20) }, (_, i) => call(randomArguments(rng), i));
      // A line split across two chunks: its spans index the carried line.
      const text = lines.join('\n') + '\n';
      const cut = rng.int(text.length);
      const [first, second] = [Buffer.from(text.slice(0, cut)), Buffer.from(text.slice(cut))];
      const reads = engines.map((e) => {
        e.feed(first);
        const a = e.readArguments(first);
        const one = { values: a.values, table: Array.from(a.table) };
        e.feed(second);
        const b = e.readArguments(second);
        return { one, two: { values: b.values, table: Array.from(b.table) }, keys: [...b.keys] };
      });
      expect(reads[0]).toEqual(reads[1]);
    }
  });
});

describe.skipIf(!NATIVE.available)('the binding checks its arguments', () => {
  it('readArguments takes bytes; argumentKey a known key id', () => {
    const binding = NATIVE_BINDING!;
    const router = new binding.Router();
    router.setMethod('tools/call', 3, 0);
    const engine = new binding.Engine(router, { maxMessageBytes: 4194304, maxDepth: 128, maxBatch: 1000, allowBatch: true });
    expect(() => engine.argumentKey(0)).toThrow(RangeError);
    expect(() => engine.readArguments('text' as unknown as Uint8Array)).toThrow(TypeError);
    const message = Buffer.from(call('{"only":1}'));
    engine.scan(message, new Int32Array(20));
    const [values, table, keyCount] = engine.readArguments(message);
    expect([values, Array.from(table), keyCount]).toEqual(['[1]', [1, 1, 0, 0], 1]);
    expect(engine.argumentKey(0)).toBe('only');
    for (const bad of [1, -1, 0.5, '0', undefined]) expect(() => engine.argumentKey(bad as number)).toThrow(/id/);
  });
});

describe('members named like properties of Object.prototype', () => {
  // A setter there would be called by assignment, and a read-only one (frozen intrinsics) would make it throw:
  // such members are defined, as JSON.parse makes them.
  for (const impl of IMPLS) {
    it.skipIf(!impl.available)(`are own members whatever Object.prototype holds (${impl.name} engine)`, () => {
      const calls: unknown[] = [];
      Object.defineProperty(Object.prototype, 'fmSetter', { set: (v: unknown) => calls.push(v), configurable: true });
      Object.defineProperty(Object.prototype, 'fmReadOnly', { value: 'proto', writable: false, configurable: true });
      try {
        const engine = impl.engine(methodRouter(impl.router()));
        const args = ['{"fmSetter":1,"text":"a"}', '{"fmReadOnly":2,"toString":3,"valueOf":4,"text":"b"}', '{"text":"c"}'];
        const chunk = Buffer.from(args.map((a, i) => call(a, i)).join('\n') + '\n');
        const messages = readMessages(engine, engine.feed(chunk), chunk);
        messages.forEach((m, i) => {
          if (m.kind !== 'request') throw new Error(`expected a request, got ${m.kind}`);
          const got = (m.params as Record<string, unknown>)['arguments'] as Record<string, unknown>;
          const want = JSON.parse(args[i]!) as Record<string, unknown>;
          expect(Object.keys(got)).toEqual(Object.keys(want));
          for (const key of Object.keys(want)) expect(Object.getOwnPropertyDescriptor(got, key)).toEqual(Object.getOwnPropertyDescriptor(want, key));
        });
        expect(calls).toEqual([]);
      } finally {
        delete (Object.prototype as Record<string, unknown>)['fmSetter'];
        delete (Object.prototype as Record<string, unknown>)['fmReadOnly'];
      }
    });
  }
});
