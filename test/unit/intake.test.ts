// intake.ts turns engine records into messages. A spanned params is rebuilt from its name, arguments
// and _meta spans instead of being parsed whole, ids come from the engine's id text (the chunk is decoded
// only once many spans are read from it), and repeated `_meta` texts share one frozen value: none of that
// may change what dispatch receives.
import { describe, expect, it } from 'vitest';
import { methodRouter, readMessages } from '../../src/transport/intake.js';
import type { Message } from '../../src/transport/intake.js';
import { IMPLS } from './helpers/impls.js';
import { Rng } from './helpers/traffic.js';

const META = '{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}';

for (const impl of IMPLS) {
  describe.skipIf(!impl.available)(`readMessages (${impl.name} engine)`, () => {
    const engine = impl.engine(methodRouter(impl.router()));
    const read = (text: string): Message[] => {
      const chunk = Buffer.from(text);
      return readMessages(engine, engine.scan(chunk), chunk);
    };
    const stream = (text: string): Message[] => {
      const chunk = Buffer.from(text + '\n');
      return readMessages(engine, engine.feed(chunk), chunk);
    };
    const request = (text: string): Extract<Message, { kind: 'request' }> => {
      const [m] = read(text);
      if (m?.kind !== 'request') throw new Error(`expected a request, got ${JSON.stringify(m)}`);
      return m;
    };

    it('gives params equal to JSON.parse of the message, spanned or not', () => {
      const messages = [
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":${META}}}`,
        '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":[1,{"a":null}],"name":"n\\u00e4me"}}',
        '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{},"task":{"ttl":5}}}',
        '{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"file:///ä","_meta":{"progressToken":7}}}',
        '{"jsonrpc":"2.0","id":5,"method":"prompts/get","params":{"name":"p","arguments":{"x":"y"}}}',
        '{"jsonrpc":"2.0","id":6,"method":"tools/list","params":{}}',
        '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"a":1},"arguments":{"a":2}}}',
        '{"jsonrpc":"2.0","id":8,"method":"ping","params":{"name":"x","_meta":{}}}',
        '{"jsonrpc":"2.0","id":"a-long-string-id-of-many-chars","method":"tools/call","params":{"name":"a_tool_with_a_long_name"}}',
      ];
      for (const text of messages) {
        const m = request(text);
        const parsed = JSON.parse(text) as { id: unknown; method: string; params: unknown };
        expect(m.params, text).toEqual(parsed.params);
        expect(JSON.parse(m.idRaw), text).toEqual(parsed.id);
        expect(m.method).toBe(parsed.method);
      }
    });

    it('gives each request its own tool name when one repeats the last: same length, other bytes, non-ASCII', () => {
      // A name equal to the one before is given as that same string; anything else must be read anew:
      // 'Ã©' and 'é' are two characters each, and the UTF-8 bytes of 'é' are the char codes of 'Ã©'.
      const names = ['search_repositories', 'search_repositories', 'search_repositorieZ', 'search_repositories', 'Ã©', 'é', 'é', 'Ã©', 'ab', 'a\\u0062', 'ab', 'ä', 'x', ''];
      const lines = names.map((name, i) => `{"jsonrpc":"2.0","id":${i},"method":"tools/call","params":{"name":"${name}"}}`);
      for (const split of [lines.join('\n'), ...lines]) {
        const got = stream(split).map((m) => (m.kind === 'request' ? (m.params as { name: string }).name : m.kind));
        const want = split.split('\n').map((line) => (JSON.parse(line) as { params: { name: string } }).params.name);
        expect(got).toEqual(want);
      }
    });

    it('agrees with JSON.parse on random tools/call params in ASCII and non-ASCII chunks', () => {
      const rng = new Rng(20261122);
      const words = ['a', 'ä', '"', '\\n', 'name', 'arguments', '_meta', 'uri', '😀', 'x y'];
      const value = (depth: number): unknown => {
        const roll = rng.int(6);
        if (depth > 2 || roll === 0) return rng.pick(words);
        if (roll === 1) return rng.int(1000) - 500;
        if (roll === 2) return [value(depth + 1), value(depth + 1)];
        if (roll === 3) return null;
        return Object.fromEntries([[rng.pick(words), value(depth + 1)], [rng.pick(words), value(depth + 1)]]);
      };
      const lines: string[] = [];
      const expected: unknown[] = [];
      for (let i = 0; i < 500; i++) {
        const params: Record<string, unknown> = {};
        for (const key of ['name', 'arguments', '_meta', 'task', 'uri']) {
          if (rng.chance(key === 'name' ? 0.9 : key === 'arguments' ? 0.7 : key === '_meta' ? 0.5 : 0.1)) {
            params[key] = key === 'name' ? rng.pick(words) : value(0);
          }
        }
        lines.push(JSON.stringify({ jsonrpc: '2.0', id: i, method: rng.chance(0.8) ? 'tools/call' : 'resources/read', params }));
        expected.push(params);
      }
      const half = lines.length / 2;
      // The first chunk is ASCII only (escaped), the second is not.
      const ascii = lines.slice(0, half).map((l) => l.replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')));
      const got = [...stream(ascii.join('\n')), ...stream(lines.slice(half).join('\n'))];
      expect(got.map((m) => (m.kind === 'request' ? m.params : m))).toEqual(expected);
    });

    it('gives every request and response its raw id as written: from one read, batches, invalid lines, a carried message', () => {
      // The native engine hands a read's ids over as one text (Engine.idText): each id must come from its
      // own place in it, whatever records (with ids or without) come between.
      const ids = ['1', '-0', '1.5e3', '"a"', '"\\"q\\""', '"a-long-string-id-of-many-chars"', '0', '"\\u00e4"', '2', '123456789012345'];
      const lines: string[] = [];
      const want: string[] = [];
      ids.forEach((id, i) => {
        lines.push(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"t${i}"}}}`);
        want.push(id);
        if (i % 3 === 0) lines.push('{"jsonrpc":"2.0","method":"notifications/initialized"}');
        // An invalid line that keeps its id for its error reply (an id in the records JS skips).
        if (i % 4 === 1) lines.push(`{"jsonrpc":"1.0","id":"bad${i}","method":"ping"}`);
      });
      lines.push('{"jsonrpc":"2.0","id":"r1","result":{}}', '{"jsonrpc":"2.0","id":77,"error":{"code":1,"message":"m"}}');
      want.push('"r1"', '77');
      lines.push('[{"jsonrpc":"2.0","id":"b1","method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":"b-2-long-enough-to-copy","method":"ping"}]');
      want.push('"b1"', '"b-2-long-enough-to-copy"');
      lines.push('{"jsonrpc":"2.0","id":"split","method":"ping"}', '{"jsonrpc":"2.0","id":3,"method":"ping"}');
      want.push('"split"', '3');
      const idsOf = (messages: Message[]): string[] =>
        messages
          .flatMap((m) => (m.kind === 'batch' ? m.items : [m]))
          .flatMap((m) => (m.kind === 'request' || m.kind === 'response' ? [m.idRaw] : []));
      const text = lines.join('\n') + '\n';
      // Whole, and cut inside the "split" message (its id then comes from the carried line); with a
      // non-ASCII id in the read and without one (ids as one text, or each from the chunk).
      for (const variant of [text, text.replace('"\\u00e4"', '"ä"'), text.replace('"\\u00e4"', '"ae"')]) {
        const cut = variant.indexOf('"split"') + 3;
        for (const parts of [[variant], [variant.slice(0, cut), variant.slice(cut)]]) {
          const got = parts.flatMap((part) => {
            const chunk = Buffer.from(part);
            return idsOf(readMessages(engine, engine.feed(chunk), chunk));
          });
          const expected = variant === text ? want : want.map((id) => (id === '"\\u00e4"' ? (variant.includes('"ä"') ? '"ä"' : '"ae"') : id));
          expect(got).toEqual(expected);
        }
      }
    });

    it('gives each request of a read its own arguments: batches, a message split over two reads, large and odd values', () => {
      const big = { text: 'x'.repeat(3000), list: Array.from({ length: 50 }, (_, i) => i) };
      const argsList: unknown[] = [{ a: 1 }, big, JSON.parse('{"__proto__":{"p":1},"constructor":2}'), [], 'str', 1.5e300, null, { n: -0 }, { d: 1, d2: 2 }];
      const line = (id: number, args: unknown): string => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 't', arguments: args } });
      const single = argsList.map((a, i) => line(i, a));
      const batch = '[' + line(100, { in: 'batch' }) + ',' + line(101, big) + ']';
      const text = single.join('\n') + '\n' + batch + '\n' + line(200, { split: 'across reads' }) + '\n';
      const cut = text.length - 20; // inside the last message: its source is carried to the second read
      const first = Buffer.from(text.slice(0, cut));
      const second = Buffer.from(text.slice(cut));
      const got = [...readMessages(engine, engine.feed(first), first), ...readMessages(engine, engine.feed(second), second)];
      const argsOf = (m: Message | undefined): unknown => (m?.kind === 'request' ? (m.params as { arguments: unknown }).arguments : m);
      const flat = got.flatMap((m) => (m.kind === 'batch' ? m.items : [m]));
      expect(flat.map(argsOf)).toEqual([...argsList.map((a) => JSON.parse(JSON.stringify(a))), { in: 'batch' }, big, { split: 'across reads' }]);
      // __proto__ stays an own member, as JSON.parse of the span alone leaves it.
      expect(Object.getPrototypeOf(argsOf(flat[2]))).toBe(Object.prototype);
      expect(Object.keys(argsOf(flat[2]) as object)).toEqual(['__proto__', 'constructor']);
    });

    it('shares one deeply frozen _meta value between requests that sent the same text', () => {
      const a = request(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"e","_meta":${META}}}`);
      const b = request(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"e","_meta":${META}}}`);
      const metaA = (a.params as { _meta: Record<string, unknown> })._meta;
      const metaB = (b.params as { _meta: Record<string, unknown> })._meta;
      expect(metaB).toBe(metaA);
      expect(Object.isFrozen(metaA)).toBe(true);
      expect(Object.isFrozen(metaA['io.modelcontextprotocol/clientCapabilities'])).toBe(true);
      // params itself is the request's own.
      expect(b.params).not.toBe(a.params);
      expect(Object.isFrozen(b.params)).toBe(false);
    });

    it('a _meta the engine marks as repeated in one read is the same frozen value, and never a stale one', () => {
      const OTHER = '{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}';
      const lines = [
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"e","arguments":{"n":1},"_meta":${META}}}`,
        `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"e","arguments":{"n":2},"_meta":${META}}}`,
        // Not spanned (params has `task`): its _meta comes from parsing params whole.
        `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"e","task":{},"_meta":${OTHER}}}`,
        // The engine says: the same bytes as id 3's _meta, which this read never took apart.
        `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"e","_meta":${OTHER}}}`,
        `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"e","_meta":{"progressToken":"t"}}}`,
        `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"e","_meta":{"progressToken":"t"}}}`,
      ];
      const messages = stream(lines.join('\n'));
      expect(messages.map((m) => (m.kind === 'request' ? m.params : m))).toEqual(lines.map((l) => (JSON.parse(l) as { params: unknown }).params));
      const metas = messages.map((m) => ((m as { params: { _meta: object } }).params._meta));
      expect(metas[1]).toBe(metas[0]);
      expect(Object.isFrozen(metas[0])).toBe(true);
      expect(metas[3]).toEqual(JSON.parse(OTHER));
      // A progress token's _meta is the request's own, repeated or not.
      expect(metas[5]).not.toBe(metas[4]);
      expect(Object.isFrozen(metas[5])).toBe(false);
    });

    it('does not keep a _meta with a progress token (new on every request)', () => {
      const text = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"e","_meta":{"progressToken":"t1"}}}';
      const a = request(text);
      const b = request(text.replace('"id":1', '"id":2'));
      const metaA = (a.params as { _meta: object })._meta;
      expect((b.params as { _meta: object })._meta).not.toBe(metaA);
      expect(Object.isFrozen(metaA)).toBe(false);
    });

    it('does not keep a _meta longer than 2048 characters: each request parses its own', () => {
      const long = `{"note":"${'n'.repeat(2100)}"}`;
      const text = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"e","_meta":${long}}}`;
      const a = request(text);
      const b = request(text.replace('"id":1', '"id":2'));
      const metaA = (a.params as { _meta: object })._meta;
      expect(metaA).toEqual(JSON.parse(long));
      expect((b.params as { _meta: object })._meta).not.toBe(metaA);
      expect(Object.isFrozen(metaA)).toBe(false);
    });

    it('keeps the cache bounded: distinct _meta texts beyond the bound still parse correctly', () => {
      for (let i = 0; i < 300; i++) {
        const m = request(`{"jsonrpc":"2.0","id":${i},"method":"tools/call","params":{"name":"e","_meta":{"n":${i}}}}`);
        expect((m.params as { _meta: { n: number } })._meta.n).toBe(i);
      }
    });

    it('refuses a tools/call that names two tools (the engine routes by the one name)', () => {
      const [m] = read('{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"a","name":"b"}}');
      expect(m?.kind).toBe('invalid');
      expect(JSON.parse((m as { reply: string }).reply)).toMatchObject({ id: 9, error: { code: -32600 } });
    });
  });
}
