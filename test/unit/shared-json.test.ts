// src/server/shared-json.ts: JSON values kept once per text, deeply frozen, in a bounded table.
import { describe, expect, it } from 'vitest';
import { SharedJson, deepFreeze } from '../../src/server/shared-json.js';

describe('deepFreeze', () => {
  it('freezes an object, its arrays and their objects, and returns it', () => {
    const value = { a: { b: [1, { c: 'd' }] }, e: 'f' };
    expect(deepFreeze(value)).toBe(value);
    expect([value, value.a, value.a.b, value.a.b[1]].every((v) => Object.isFrozen(v))).toBe(true);
    expect(deepFreeze('text')).toBe('text');
    expect(deepFreeze(null)).toBe(null);
  });
});

describe('SharedJson', () => {
  it('gives the first value of a text to every later value with the same text, frozen', () => {
    const shared = new SharedJson(8, 1024);
    const first = { sampling: {}, roots: { listChanged: true } };
    expect(shared.share(first)).toBe(first);
    expect(Object.isFrozen(first.roots)).toBe(true);
    const again = { sampling: {}, roots: { listChanged: true } };
    expect(shared.share(again)).toBe(first);
    expect(Object.isFrozen(again)).toBe(false); // not kept, so left as it was
    // Another text (here: the members in another order) is another entry.
    const reordered = { roots: { listChanged: true }, sampling: {} };
    expect(shared.share(reordered)).toBe(reordered);
  });

  it('passes primitives and undefined through, and freezes a long text without keeping it', () => {
    const shared = new SharedJson(8, 20);
    expect(shared.share(undefined)).toBe(undefined);
    expect(shared.share(7)).toBe(7);
    const long = { name: 'a client with a long name', version: '1' };
    expect(shared.share(long)).toBe(long);
    expect(Object.isFrozen(long)).toBe(true);
    const same = { name: 'a client with a long name', version: '1' };
    expect(shared.share(same)).toBe(same); // over maxText: never shared
  });

  it('starts over when full, so it holds at most `entries` texts', () => {
    const shared = new SharedJson(2, 1024);
    const a = { v: 'a' };
    shared.share(a);
    shared.share({ v: 'b' });
    expect(shared.share({ v: 'a' })).toBe(a); // still there: two entries
    shared.share({ v: 'c' }); // the third text: the table starts over with it alone
    const a2 = { v: 'a' };
    expect(shared.share(a2)).toBe(a2);
  });

  it('keeps a parsed text for lookup (the reader\'s _meta values), frozen, and refuses a long one', () => {
    const shared = new SharedJson(2, 32);
    const text = '{"a":{"b":[1]}}';
    expect(shared.lookup(text)).toBe(undefined);
    const value = JSON.parse(text) as { a: { b: number[] } };
    expect(shared.keep(text, value)).toBe(true);
    expect(shared.lookup(text)).toBe(value);
    expect(Object.isFrozen(value.a.b)).toBe(true);
    // share() and lookup() are one table: an equal value shares the kept one.
    expect(shared.share({ a: { b: [1] } })).toBe(value);
    const long = '{"name":"a client with a long name"}';
    const own = JSON.parse(long) as object;
    expect(shared.keep(long, own)).toBe(false);
    expect(Object.isFrozen(own)).toBe(false);
    expect(shared.lookup(long)).toBe(undefined);
    // Bounded as share() is: a third text starts the table over.
    shared.keep('{"x":1}', { x: 1 });
    shared.keep('{"y":2}', { y: 2 });
    expect(shared.lookup(text)).toBe(undefined);
  });
});
