// resultJson must write exactly what JSON.stringify writes, whatever the handler returned: the
// template is only a faster way to the same text.
import { describe, expect, it, vi } from 'vitest';
import { resultJson } from '../../src/server/result-json.js';

const cases: [string, unknown][] = [
  ['one text block', { content: [{ type: 'text', text: 'hello' }] }],
  ['several blocks', { content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }],
  ['empty content', { content: [] }],
  ['escapes and unicode', { content: [{ type: 'text', text: 'q"\\\n\u0000\u2028\ud800 é 😀' }] }],
  ['a long plain text', { content: [{ type: 'text', text: 'x'.repeat(200) }] }],
  ['a long text with a quote at the end', { content: [{ type: 'text', text: 'x'.repeat(200) + '"' }] }],
  ['control characters and DEL', { content: [{ type: 'text', text: '\u001f\u007f\u0080' }] }],
  ['a paired surrogate only', { content: [{ type: 'text', text: '😀' }] }],
  ['a lone low surrogate', { content: [{ type: 'text', text: 'a\udc00b' }] }],
  ['another type string', { content: [{ type: 'te"xt', text: 'x' }] }],
  ['keys in the other order', { content: [{ text: 'x', type: 'text' }] }],
  ['an extra key in the block', { content: [{ type: 'text', text: 'x', annotations: { a: 1 } }] }],
  ['a missing text', { content: [{ type: 'text' }] }],
  ['a number text', { content: [{ type: 'text', text: 1 }] }],
  ['isError beside content', { content: [{ type: 'text', text: 'x' }], isError: true }],
  ['structuredContent first', { structuredContent: { a: 1 }, content: [{ type: 'text', text: '{"a":1}' }] }],
  ['content undefined', { content: undefined }],
  ['content not an array', { content: { type: 'text', text: 'x' } }],
  ['a hole in content', { content: [, { type: 'text', text: 'x' }] }], // eslint-disable-line no-sparse-arrays
  ['an undefined block', { content: [undefined] }],
  ['a null block', { content: [null] }],
  ['an image block', { content: [{ type: 'image', data: 'AAA=', mimeType: 'image/png' }] }],
  ['a list result', { tools: [{ name: 'echo' }] }],
  ['empty object', {}],
  ['a block with a toJSON', { content: [{ type: 'text', text: 'x', toJSON: () => 'y' }] }],
  ['a block with a getter', { content: [{ type: 'text', get text() { return 'got'; } }] }],
  ['a class instance block', { content: [new (class { type = 'text'; text = 'x'; })()] }],
  ['a null-prototype block', { content: [Object.assign(Object.create(null), { type: 'text', text: 'x' })] }],
  ['an undefined text value', { content: [{ type: 'text', text: undefined }] }],
];

describe('resultJson', () => {
  it.each(cases)('%s: same text as JSON.stringify', (_name, value) => {
    expect(resultJson(value as Record<string, unknown>)).toBe(JSON.stringify(value));
  });

  it.each(cases)('%s: with members appended, same text as JSON.stringify of the result with them', (_name, value) => {
    const members = ',"ttlMs":0,"resultType":"complete"';
    expect(resultJson(value as Record<string, unknown>, members)).toBe(JSON.stringify({ ...(value as object), ttlMs: 0, resultType: 'complete' }));
  });

  it('writes text content from the template, not by stringifying the whole result', () => {
    const spy = vi.spyOn(JSON, 'stringify');
    try {
      const value = { content: [{ type: 'text', text: 'hello' }] };
      expect(resultJson(value)).toBe('{"content":[{"type":"text","text":"hello"}]}');
      // A short string with nothing to escape is not stringified either; one with a quote is.
      expect(spy.mock.calls.map((c) => c[0])).toEqual([]);
      expect(resultJson({ content: [{ type: 'text', text: 'say "hi"' }] })).toBe('{"content":[{"type":"text","text":"say \\"hi\\""}]}');
      expect(spy.mock.calls.map((c) => c[0])).toEqual(['say "hi"']);
      spy.mockClear();
      const other = { tools: [] };
      resultJson(other);
      expect(spy.mock.calls.map((c) => c[0])).toEqual([other]);
    } finally {
      spy.mockRestore();
    }
  });

  it('an Array subclass of content is written as JSON.stringify does', () => {
    class Blocks extends Array<unknown> {}
    const content = Blocks.from([{ type: 'text', text: 'x' }]);
    expect(resultJson({ content })).toBe(JSON.stringify({ content }));
  });

  it('a toJSON on Object.prototype is honoured', () => {
    const proto = Object.prototype as { toJSON?: unknown };
    proto.toJSON = function toJSON() {
      return 'replaced';
    };
    try {
      const value = { content: [{ type: 'text', text: 'x' }] };
      expect(resultJson(value)).toBe(JSON.stringify(value));
      expect(resultJson(value)).toBe('"replaced"');
    } finally {
      delete proto.toJSON;
    }
  });

  it('agrees with JSON.stringify on random text-content shapes', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = ['a', 'é', '"', '\\', '\n', '\u0001', '😀', '\ud800', ' ', 'text'];
    const str = (): string => Array.from({ length: rand(6) }, () => pieces[rand(pieces.length)]).join('');
    for (let i = 0; i < 2000; i++) {
      const blocks = Array.from({ length: rand(4) }, () => {
        const block: Record<string, unknown> = rand(5) === 0 ? { text: str(), type: 'text' } : { type: rand(4) === 0 ? str() : 'text', text: str() };
        if (rand(8) === 0) block['annotations'] = { priority: rand(3) };
        if (rand(10) === 0) block['text'] = rand(2);
        return block;
      });
      const value: Record<string, unknown> = { content: blocks };
      if (rand(6) === 0) value['isError'] = true;
      expect(resultJson(value)).toBe(JSON.stringify(value));
    }
  });
});
