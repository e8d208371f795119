// src/server/registry.ts: the ordered registry behind tools, prompts, resources and templates. Adding,
// removing, enabling and disabling (and when the owner hears about it), then pages and cursors:
// page sizes, signed cursors bound to one registry kind, and page boundaries that hold while the
// list changes between two pages.
import { describe, expect, it } from 'vitest';
import { McpError } from '../../src/server/errors.js';
import { ErrorCode } from '../../src/server/protocol.js';
import { Registry } from '../../src/server/registry.js';
import type { Entry } from '../../src/server/registry.js';
import { StateSigner } from '../../src/server/request-state.js';

const signer = new StateSigner('r'.repeat(32));

interface Item extends Entry {
  key: string;
  enabled: boolean;
}

function item(key: string, enabled = true): Item {
  return { key, enabled };
}

function registry(kind = 'tool'): { reg: Registry<Item>; changes: () => number } {
  let count = 0;
  const reg = new Registry<Item>(kind, () => count++);
  return { reg, changes: () => count };
}

function fill(reg: Registry<Item>, keys: string): void {
  for (const k of keys) reg.add(item(k));
}

/** Every page from the first on, as strings of keys, with each page's size limited to `size`. */
function allPages(reg: Registry<Item>, size: number, visible?: (e: Item) => boolean): string[] {
  const pages: string[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const page = reg.page(cursor, size, signer, visible);
    pages.push(page.items.map((e) => e.key).join(''));
    if (page.nextCursor === undefined) return pages;
    cursor = page.nextCursor;
  }
  throw new Error('pagination does not end');
}

function keysOf(page: { items: Item[] }): string {
  return page.items.map((e) => e.key).join('');
}

function invalidCursor(fn: () => unknown): McpError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(McpError);
    expect((e as McpError).code).toBe(ErrorCode.InvalidParams);
    expect((e as McpError).httpStatus).toBe(400);
    expect((e as McpError).message).toBe('Invalid cursor');
    return e as McpError;
  }
  throw new Error('expected an invalid-cursor error');
}

describe('Registry entries', () => {
  it('keeps registration order and finds entries by key', () => {
    const { reg } = registry();
    fill(reg, 'cab');
    expect([...reg.enabled()].map((e) => e.key)).toEqual(['c', 'a', 'b']);
    expect(reg.size).toBe(3);
    expect(reg.get('a')).toEqual(item('a'));
    expect(reg.get('zz')).toBeUndefined();
    expect(reg.has('b')).toBe(true);
  });

  it('refuses a second entry under the same key, naming the kind and the key', () => {
    const { reg, changes } = registry('prompt');
    reg.add(item('greet'));
    expect(() => reg.add(item('greet'))).toThrow('prompt "greet" is already registered');
    expect(reg.size).toBe(1);
    expect(changes()).toBe(1);
  });

  it('accepts a key again once it was removed', () => {
    const { reg } = registry();
    fill(reg, 'ab');
    expect(reg.remove('a')).toBe(true);
    reg.add(item('a'));
    expect([...reg.enabled()].map((e) => e.key)).toEqual(['b', 'a']);
  });

  it('get() finds the entry registered now, not the one it found last, for a key removed and added again', () => {
    const { reg } = registry();
    fill(reg, 'ab');
    const first = reg.get('a'); // remembered as the last hit
    reg.remove('a');
    expect(reg.get('a')).toBeUndefined();
    const again = item('a');
    reg.add(again);
    expect(reg.get('a')).toBe(again);
    expect(reg.get('a')).not.toBe(first);
    expect(reg.get('b')?.key).toBe('b');
    expect(reg.get('a')).toBe(again);
  });

  it('hides disabled entries from get() and enabled() but still knows them', () => {
    const { reg } = registry();
    fill(reg, 'abc');
    reg.setEnabled('b', false);
    expect(reg.get('b')).toBeUndefined();
    expect(reg.has('b')).toBe(true);
    expect([...reg.enabled()].map((e) => e.key)).toEqual(['a', 'c']);
    reg.setEnabled('b', true);
    expect([...reg.enabled()].map((e) => e.key)).toEqual(['a', 'b', 'c']);
  });

  it('tells its owner once per visible change and bumps its version', () => {
    const { reg, changes } = registry();
    reg.add(item('a'));
    expect([changes(), reg.version]).toEqual([1, 1]);
    reg.add(item('hidden', false)); // not visible: nothing changed for clients
    expect(changes()).toBe(1);
    reg.setEnabled('a', false);
    expect(changes()).toBe(2);
    reg.setEnabled('a', false); // already disabled
    expect(changes()).toBe(2);
    reg.setEnabled('nope', true); // unknown key
    expect(changes()).toBe(2);
    reg.remove('a'); // removing a disabled entry changes nothing visible
    expect(changes()).toBe(2);
    reg.setEnabled('hidden', true);
    expect(changes()).toBe(3);
    expect(reg.remove('hidden')).toBe(true);
    expect(changes()).toBe(4);
    expect(reg.remove('hidden')).toBe(false);
    expect(changes()).toBe(4);
    reg.changed(); // an entry changed in place
    expect([changes(), reg.version]).toEqual([5, 5]);
  });
});

describe('Registry pages', () => {
  it('lists everything in one page without a cursor when it fits', () => {
    const { reg } = registry();
    fill(reg, 'abc');
    expect(reg.page(undefined, 3, signer)).toEqual({ items: [item('a'), item('b'), item('c')] });
    expect(reg.page(undefined, 10, signer).nextCursor).toBeUndefined();
  });

  it('lists nothing, without a cursor, when empty', () => {
    const { reg } = registry();
    expect(reg.page(undefined, 2, signer)).toEqual({ items: [] });
  });

  it('splits five entries into pages of 2, 2 and 1', () => {
    const { reg } = registry();
    fill(reg, 'abcde');
    expect(allPages(reg, 2)).toEqual(['ab', 'cd', 'e']);
    expect(allPages(reg, 1)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(allPages(reg, 5)).toEqual(['abcde']);
  });

  it('gives no cursor when only hidden entries remain after the page', () => {
    const { reg } = registry();
    fill(reg, 'ab');
    reg.add(item('x', false));
    reg.add(item('y'));
    reg.setEnabled('y', false);
    expect(reg.page(undefined, 2, signer)).toEqual({ items: [item('a'), item('b')] });
  });

  it('skips disabled entries and those the visibility filter rejects', () => {
    const { reg } = registry();
    fill(reg, 'abcdefg');
    reg.setEnabled('b', false);
    expect(allPages(reg, 2, (e) => e.key !== 'e')).toEqual(['ac', 'df', 'g']);
  });

  it('reads cursors made by another registry with the same key and kind (another instance)', () => {
    const one = registry().reg;
    const two = registry().reg;
    fill(one, 'abcde');
    fill(two, 'abcde');
    const cursor = one.page(undefined, 2, signer).nextCursor;
    expect(keysOf(two.page(cursor, 2, new StateSigner('r'.repeat(32))))).toBe('cd');
  });

  it('refuses a cursor that is not a string', () => {
    const { reg } = registry();
    fill(reg, 'abc');
    for (const bad of [null, 2, {}, ['x'], true]) invalidCursor(() => reg.page(bad, 2, signer));
  });

  it('refuses a tampered cursor', () => {
    const { reg } = registry();
    fill(reg, 'abcde');
    const cursor = reg.page(undefined, 2, signer).nextCursor!;
    const flipped = cursor.slice(0, 3) + (cursor[3] === 'A' ? 'B' : 'A') + cursor.slice(4);
    invalidCursor(() => reg.page(flipped, 2, signer));
    invalidCursor(() => reg.page(cursor + 'x', 2, signer));
    invalidCursor(() => reg.page('', 2, signer));
    invalidCursor(() => reg.page('not-a-cursor', 2, signer));
  });

  it('refuses a cursor signed with another key (a foreign server)', () => {
    const { reg } = registry();
    fill(reg, 'abcde');
    const foreign = new StateSigner('f'.repeat(32)).sign({ n: 1 }, { purpose: 'cursor:tool' });
    invalidCursor(() => reg.page(foreign, 2, signer));
  });

  it('refuses a cursor made for another kind of list', () => {
    const tools = registry('tool').reg;
    const prompts = registry('prompt').reg;
    fill(tools, 'abcde');
    fill(prompts, 'abcde');
    const promptCursor = prompts.page(undefined, 2, signer).nextCursor!;
    invalidCursor(() => tools.page(promptCursor, 2, signer));
    // And other tokens of the same signer: a requestState, a token without a purpose.
    invalidCursor(() => tools.page(signer.sign({ n: 1 }, { purpose: 'requestState' }), 2, signer));
    invalidCursor(() => tools.page(signer.sign({ n: 1 }), 2, signer));
  });

  it('refuses a correctly signed cursor whose payload is not a position', () => {
    const { reg } = registry();
    fill(reg, 'abc');
    for (const payload of [null, 'x', {}, { n: '1' }, { n: 1.5 }, { n: Number.MAX_VALUE }]) {
      invalidCursor(() => reg.page(signer.sign(payload, { purpose: 'cursor:tool' }), 2, signer));
    }
  });

  it('refuses an expired cursor', () => {
    const { reg } = registry();
    fill(reg, 'abc');
    const old = signer.sign({ n: 0 }, { purpose: 'cursor:tool', now: Date.now() - 7_200_000 });
    invalidCursor(() => reg.page(old, 2, signer));
  });
});

describe('Registry page boundaries while the list changes', () => {
  function setup(): { reg: Registry<Item>; cursor: string } {
    const { reg } = registry();
    fill(reg, 'abcde');
    const first = reg.page(undefined, 2, signer);
    expect(keysOf(first)).toBe('ab');
    return { reg, cursor: first.nextCursor! };
  }

  /** The rest of the list after `cursor`, as one string of keys. */
  function rest(reg: Registry<Item>, cursor: string): string {
    let out = '';
    let next: string | undefined = cursor;
    while (next !== undefined) {
      const page: { items: Item[]; nextCursor?: string } = reg.page(next, 2, signer);
      out += keysOf(page);
      next = page.nextCursor;
    }
    return out;
  }

  it('continues after the boundary entry when nothing changed', () => {
    const { reg, cursor } = setup();
    expect(rest(reg, cursor)).toBe('cde');
  });

  it('neither skips nor repeats when the boundary entry is removed', () => {
    const { reg, cursor } = setup();
    reg.remove('b');
    expect(rest(reg, cursor)).toBe('cde');
  });

  it('neither skips nor repeats when the boundary entry and an entry before it are removed', () => {
    const { reg, cursor } = setup();
    reg.remove('b');
    reg.remove('a');
    expect(rest(reg, cursor)).toBe('cde');
  });

  it('neither skips nor repeats when the entry after the boundary is removed', () => {
    const { reg, cursor } = setup();
    reg.remove('c');
    expect(rest(reg, cursor)).toBe('de');
  });

  it('neither skips nor repeats when entries before the boundary are removed', () => {
    const { reg, cursor } = setup();
    reg.remove('a');
    expect(rest(reg, cursor)).toBe('cde');
  });

  it('shows a re-registered boundary entry at its new place, the end, and skips nothing', () => {
    const { reg, cursor } = setup();
    reg.remove('b');
    reg.add(item('b'));
    expect(rest(reg, cursor)).toBe('cdeb');
  });

  it('shows entries added since at the end', () => {
    const { reg, cursor } = setup();
    reg.add(item('f'));
    expect(rest(reg, cursor)).toBe('cdef');
  });

  it('keeps its place when the boundary entry is disabled', () => {
    const { reg, cursor } = setup();
    reg.setEnabled('b', false);
    expect(rest(reg, cursor)).toBe('cde');
  });

  it('ends with an empty page when everything after the boundary was removed', () => {
    const { reg, cursor } = setup();
    for (const k of 'cde') reg.remove(k);
    expect(reg.page(cursor, 2, signer)).toEqual({ items: [] });
  });

  it('keeps its place when the boundary was a hidden entry that is then removed', () => {
    const { reg } = registry();
    fill(reg, 'ab');
    reg.add(item('x', false));
    fill(reg, 'cd');
    // The first page scans a, b; the second page ends on c after scanning the hidden x.
    const first = reg.page(undefined, 2, signer);
    const second = reg.page(first.nextCursor, 1, signer);
    expect(keysOf(second)).toBe('c');
    reg.remove('c');
    expect(keysOf(reg.page(second.nextCursor, 2, signer))).toBe('d');
  });
});
