// resultReply must write exactly the response around what JSON.stringify writes for the result,
// whatever the handler returned: the template is only a faster way to the same text. So must a
// TextReply (the usual text result kept as its parts, which stdio's reply buffer writes) for exactly the
// results singleText accepts.
import { describe, expect, it, vi } from 'vitest';
import { TextReply, resultReply, singleText } from '../../src/server/result-json.js';

/** The response with the raw id `idRaw` and the result JSON.stringify writes for `value`. */
const responseOf = (idRaw: string, value: unknown): string => `{"jsonrpc":"2.0","id":${idRaw},"result":${JSON.stringify(value)}}`;

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
  ['a class instance result', new (class { content = [{ type: 'text', text: 'x' }]; })()],
  ['a null-prototype result', Object.assign(Object.create(null), { content: [{ type: 'text', text: 'x' }] })],
  ['a result with a content getter', { get content() { return [{ type: 'text', text: 'got' }]; } }],
  ['a Proxy result', new Proxy({ content: [{ type: 'text', text: 'p' }] }, {})],
  ['a string block', { content: ['text'] }],
  ['an array block', { content: [['text', 'x']] }],
  ['an Array-prototype block', { content: [Object.setPrototypeOf({ type: 'text', text: 'x' }, Array.prototype)] }],
];

describe('resultReply', () => {
  it.each(cases)('%s: the response around the text JSON.stringify writes', (_name, value) => {
    for (const idRaw of ['7', '"a\\u0062"', '1.50']) expect(resultReply(idRaw, value as Record<string, unknown>)).toBe(responseOf(idRaw, value));
  });

  it.each(cases)('%s: with members appended, the response around JSON.stringify of the result with them', (_name, value) => {
    const result = value as Record<string, unknown>;
    for (const idRaw of ['7', '"a\\u0062"', '1.50']) {
      expect(resultReply(idRaw, result, ',"resultType":"complete"')).toBe(responseOf(idRaw, { ...(value as object), resultType: 'complete' }));
      expect(resultReply(idRaw, result, ',"ttlMs":0,"resultType":"complete"')).toBe(
        responseOf(idRaw, { ...(value as object), ttlMs: 0, resultType: 'complete' }),
      );
    }
  });

  it('writes text content from the template, not by stringifying the whole result', () => {
    const spy = vi.spyOn(JSON, 'stringify');
    try {
      const value = { content: [{ type: 'text', text: 'hello' }] };
      expect(resultReply('1', value)).toBe('{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}');
      // A short string with nothing to escape is not stringified either; one with a quote is.
      expect(spy.mock.calls.map((c) => c[0])).toEqual([]);
      expect(resultReply('1', { content: [{ type: 'text', text: 'say "hi"' }] })).toBe('{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"say \\"hi\\""}]}}');
      expect(spy.mock.calls.map((c) => c[0])).toEqual(['say "hi"']);
      spy.mockClear();
      const other = { tools: [] };
      resultReply('1', other);
      expect(spy.mock.calls.map((c) => c[0])).toEqual([other]);
    } finally {
      spy.mockRestore();
    }
  });

  it('an Array subclass of content is written as JSON.stringify does', () => {
    class Blocks extends Array<unknown> {}
    const content = Blocks.from([{ type: 'text', text: 'x' }]);
    expect(resultReply('1', { content })).toBe(responseOf('1', { content }));
  });

  it('a toJSON on Object.prototype is honoured', () => {
    const proto = Object.prototype as { toJSON?: unknown };
    proto.toJSON = function toJSON() {
      return 'replaced';
    };
    try {
      const value = { content: [{ type: 'text', text: 'x' }] };
      expect(resultReply('1', value)).toBe(responseOf('1', value));
      expect(resultReply('1', value)).toBe('{"jsonrpc":"2.0","id":1,"result":"replaced"}');
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
      expect(resultReply(String(i), value)).toBe(responseOf(String(i), value));
    }
  });
});

describe('singleText and TextReply', () => {
  it('singleText accepts exactly one plain { type: "text", text } block in a plain { content } result', () => {
    const accepted = cases.filter(([, value]) => singleText(value as Record<string, unknown>) !== undefined).map(([name]) => name);
    expect(accepted).toEqual([
      'one text block',
      'escapes and unicode',
      'a long plain text',
      'a long text with a quote at the end',
      'control characters and DEL',
      'a paired surrogate only',
      'a lone low surrogate',
      // Plain by the template's rules too (resultReply's own tests above): a getter or a Proxy is read once.
      'a block with a getter',
      'a result with a content getter',
      'a Proxy result',
    ]);
  });

  it.each(cases)('%s: a TextReply writes what resultReply writes', (_name, value) => {
    const result = value as Record<string, unknown>;
    const text = singleText(result);
    if (text === undefined) return;
    expect(text).toBe((result['content'] as { text: string }[])[0]!.text);
    for (const idRaw of ['7', '"a\\u0062"', '1.50']) {
      for (const members of ['', ',"resultType":"complete"']) {
        const reply = new TextReply(idRaw, text, members);
        expect(reply.status).toBe(200);
        expect(reply.json).toBe(resultReply(idRaw, result, members));
        expect(reply.json).toBe(reply.json); // made once
      }
    }
  });

  it('a toJSON on Object.prototype turns singleText off', () => {
    const proto = Object.prototype as { toJSON?: unknown };
    proto.toJSON = () => 'replaced';
    try {
      expect(singleText({ content: [{ type: 'text', text: 'x' }] })).toBeUndefined();
    } finally {
      delete proto.toJSON;
    }
  });
});
