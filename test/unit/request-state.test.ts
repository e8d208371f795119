// src/server/request-state.ts: signed requestState tokens and cursors. Round trips, each failure
// reason, single-character tampering, key handling (length, copy, never shown) and expiry with an
// injected clock.
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { StateSigner, randomStateKey } from '../../src/server/request-state.js';

const KEY = 'k'.repeat(32);
const T0 = 1_800_000_000_000;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A token whose body is `json`, correctly signed with `key`, as a forger with the key would make. */
function forge(key: string, json: string): string {
  const encoded = Buffer.from(json, 'utf8').toString('base64url');
  return `${encoded}.${createHmac('sha256', key).update(encoded).digest('base64url')}`;
}

describe('StateSigner round trip', () => {
  const signer = new StateSigner(KEY);

  it.each<[string, unknown]>([
    ['an object', { m: 'tools/call', t: 'search', r: { q: { action: 'accept' } }, s: [1, 2] }],
    ['a string with non-ASCII', 'héllo 😀 "quoted" \\ \u2028'],
    ['a number', 42],
    ['null', null],
    ['false', false],
    ['an empty array', []],
    ['undefined', undefined],
  ])('carries %s', (_name, payload) => {
    const token = signer.sign(payload);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(signer.verify(token)).toEqual({ ok: true, payload });
  });

  it('is verified by another signer holding the same key (another instance of the deployment)', () => {
    const token = signer.sign({ page: 2 }, { purpose: 'cursor:tools' });
    expect(new StateSigner(KEY).verify(token, { purpose: 'cursor:tools' })).toEqual({ ok: true, payload: { page: 2 } });
    expect(new StateSigner(Buffer.from(KEY)).verify(token, { purpose: 'cursor:tools' })).toMatchObject({ ok: true });
  });

  it('writes base64url JSON with version, purpose, issue and expiry times', () => {
    const token = signer.sign({ a: 1 }, { purpose: 'requestState', ttlMs: 5000, now: T0 });
    const [body, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))).toEqual({
      v: 1,
      pur: 'requestState',
      iat: T0,
      exp: T0 + 5000,
      p: { a: 1 },
    });
    expect(signature).toBe(createHmac('sha256', KEY).update(body).digest('base64url'));
  });

  it('defaults to a one-hour lifetime and the empty purpose', () => {
    const token = signer.sign('x', { now: T0 });
    expect(signer.verify(token, { now: T0 + 3_599_999 })).toEqual({ ok: true, payload: 'x' });
    expect(signer.verify(token, { now: T0 + 3_600_000 })).toEqual({ ok: false, reason: 'expired' });
    expect(signer.verify(token, { purpose: '', now: T0 })).toMatchObject({ ok: true });
    expect(signer.sign('x', { ttlMs: undefined, purpose: undefined, now: T0 })).toBe(token);
  });
});

describe('StateSigner.verify failure reasons', () => {
  const signer = new StateSigner(KEY);
  const token = signer.sign({ n: 1 }, { purpose: 'requestState', ttlMs: 60_000, now: T0 });
  const ok = { purpose: 'requestState', now: T0 };

  it('accepts the untouched token', () => {
    expect(signer.verify(token, ok)).toEqual({ ok: true, payload: { n: 1 } });
  });

  it.each<[string, unknown]>([
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['an object', { token }],
    ['an empty string', ''],
    ['no dot', token.replace('.', '')],
    ['an empty body', token.slice(token.indexOf('.'))],
    ['an empty signature', token.slice(0, token.indexOf('.') + 1)],
    ['a short signature', token.slice(0, -1)],
    ['a long signature', `${token}A`],
    ['three parts', `${token}.x`],
    ['padding', `${token}=`],
    ['a space', ` ${token}`],
    ['standard base64 characters', token.replace(/[-_]/g, '+').replace(/^[^+]*$/, '+$&')],
    ['over 64 KiB', `${'A'.repeat(65_537 - 44)}.${'A'.repeat(43)}`],
  ])('%s is malformed', (_name, value) => {
    expect(signer.verify(value, ok)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses an over-long token before hashing: same shape as a real token, yet malformed, not bad_signature', () => {
    const body = 'A'.repeat(65_536 - 44);
    expect(signer.verify(`${body}.${'A'.repeat(43)}`, ok)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(signer.verify(`${body}A.${'A'.repeat(43)}`, ok)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('bad_signature: another key, a swapped body, a re-signed body', () => {
    const other = new StateSigner('o'.repeat(32));
    expect(other.verify(token, ok)).toEqual({ ok: false, reason: 'bad_signature' });
    const second = signer.sign({ n: 2 }, { purpose: 'requestState', ttlMs: 60_000, now: T0 });
    const swapped = `${token.split('.')[0]}.${second.split('.')[1]}`;
    expect(signer.verify(swapped, ok)).toEqual({ ok: false, reason: 'bad_signature' });
    const forged = forge('o'.repeat(32), JSON.stringify({ v: 1, pur: 'requestState', iat: T0, exp: T0 + 1e9, p: 'x' }));
    expect(signer.verify(forged, ok)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects every single-character change anywhere in the token', () => {
    let checked = 0;
    for (let i = 0; i < token.length; i++) {
      const at = BASE64URL.indexOf(token[i]);
      const others = [BASE64URL[(at + 1) % 64], BASE64URL[(at + 33) % 64]];
      for (const c of [...others, '.', '=', '+', '/', ' ', 'é']) {
        if (c === token[i]) continue;
        const tampered = token.slice(0, i) + c + token.slice(i + 1);
        const result = signer.verify(tampered, ok);
        expect(result.ok, `position ${i} -> ${JSON.stringify(c)}`).toBe(false);
        checked++;
      }
    }
    // Every base64url change at every position, for the last signature character (whose low bits
    // carry no data in base64url: a lenient decoder would accept several spellings).
    const last = token.length - 1;
    for (const c of BASE64URL) {
      if (c === token[last]) continue;
      expect(signer.verify(token.slice(0, last) + c, ok)).toEqual({ ok: false, reason: 'bad_signature' });
      checked++;
    }
    expect(checked).toBeGreaterThan(token.length * 7);
  });

  it('rejects a dropped or an added character anywhere in the token', () => {
    for (let i = 0; i < token.length; i++) {
      expect(signer.verify(token.slice(0, i) + token.slice(i + 1), ok).ok).toBe(false);
      expect(signer.verify(`${token.slice(0, i)}A${token.slice(i)}`, ok).ok).toBe(false);
    }
  });

  it('wrong_purpose: a cursor cannot be replayed as a requestState, nor the other way', () => {
    const cursor = signer.sign({ i: 10 }, { purpose: 'cursor:tools', now: T0 });
    expect(signer.verify(cursor, { purpose: 'requestState', now: T0 })).toEqual({ ok: false, reason: 'wrong_purpose' });
    expect(signer.verify(cursor, { purpose: 'cursor:prompts', now: T0 })).toEqual({
      ok: false,
      reason: 'wrong_purpose',
    });
    expect(signer.verify(cursor, { now: T0 })).toEqual({ ok: false, reason: 'wrong_purpose' });
    expect(signer.verify(token, { purpose: 'cursor:tools', now: T0 })).toEqual({ ok: false, reason: 'wrong_purpose' });
    expect(signer.verify(signer.sign(1, { now: T0 }), { purpose: 'requestState', now: T0 })).toEqual({
      ok: false,
      reason: 'wrong_purpose',
    });
    expect(signer.verify(cursor, { purpose: 'cursor:tools', now: T0 })).toEqual({ ok: true, payload: { i: 10 } });
  });

  it('expired: valid until just before exp, expired from exp on', () => {
    expect(signer.verify(token, { ...ok, now: T0 + 59_999 })).toMatchObject({ ok: true });
    expect(signer.verify(token, { ...ok, now: T0 + 60_000 })).toEqual({ ok: false, reason: 'expired' });
    expect(signer.verify(token, { ...ok, now: T0 + 1e12 })).toEqual({ ok: false, reason: 'expired' });
    // Issued "in the future" by an instance whose clock runs ahead: accepted.
    expect(signer.verify(token, { ...ok, now: T0 - 5000 })).toMatchObject({ ok: true });
  });

  it('checks the purpose before the expiry, and the signature before both', () => {
    expect(signer.verify(token, { purpose: 'cursor', now: T0 + 1e9 })).toEqual({ ok: false, reason: 'wrong_purpose' });
    const other = new StateSigner('o'.repeat(32));
    expect(other.verify(token, { purpose: 'cursor', now: T0 + 1e9 })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each<[string, string]>([
    ['not JSON', '{"v":1,'],
    ['not an object', '"text"'],
    ['null', 'null'],
    ['another version', `{"v":2,"pur":"requestState","iat":${T0},"exp":${T0 + 1e6},"p":1}`],
    ['no purpose', `{"v":1,"iat":${T0},"exp":${T0 + 1e6},"p":1}`],
    ['a string expiry', `{"v":1,"pur":"requestState","iat":${T0},"exp":"later","p":1}`],
    ['no issue time', `{"v":1,"pur":"requestState","exp":${T0 + 1e6},"p":1}`],
  ])('a correctly signed body that is %s is malformed', (_name, json) => {
    expect(signer.verify(forge(KEY, json), ok)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('StateSigner key and options', () => {
  it('refuses keys under 32 bytes with a RangeError that does not show the key', () => {
    const short = 'secret-short-key-0123456789abcd'; // 31 bytes
    let error: unknown;
    try {
      new StateSigner(short);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe(
      'Expected a state key of at least 32 bytes but received 31; ' +
        'use randomStateKey() or 32 random bytes shared by every instance.',
    );
    expect((error as Error).message).not.toContain(short);
    expect(() => new StateSigner(new Uint8Array(31))).toThrow(RangeError);
    expect(() => new StateSigner('')).toThrow(RangeError);
  });

  it('counts a string key in UTF-8 bytes', () => {
    expect(() => new StateSigner('é'.repeat(16))).not.toThrow(); // 16 characters, 32 bytes
    expect(() => new StateSigner('é'.repeat(15) + 'x')).toThrow('but received 31;');
  });

  it('refuses keys of other types', () => {
    expect(() => new StateSigner(42 as unknown as string)).toThrow(
      new TypeError('Expected the state key to be a string or a Uint8Array, received a number.'),
    );
    expect(() => new StateSigner(new ArrayBuffer(32) as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('copies the key: changing the caller\'s bytes later changes nothing', () => {
    const key = new Uint8Array(32).fill(7);
    const signer = new StateSigner(key);
    const token = signer.sign('payload');
    key.fill(0);
    expect(signer.verify(token)).toEqual({ ok: true, payload: 'payload' });
    expect(new StateSigner(new Uint8Array(32).fill(7)).verify(token)).toMatchObject({ ok: true });
  });

  it('never shows the key when inspected or serialized', () => {
    const key = 'this-is-the-secret-key-material!!';
    const signer = new StateSigner(key);
    expect(inspect(signer, { showHidden: true, depth: 5 })).not.toContain('secret');
    expect(JSON.stringify(signer)).toBe('{}');
    expect(Object.keys(signer)).toEqual([]);
  });

  it('checks sign and verify options', () => {
    const signer = new StateSigner(KEY);
    for (const ttlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      expect(() => signer.sign(1, { ttlMs })).toThrow(RangeError);
    }
    expect(() => signer.sign(1, { ttlMs: 0 })).toThrow(
      'Expected ttlMs to be a positive finite number of milliseconds, received 0.',
    );
    expect(() => signer.sign(1, { purpose: 7 as unknown as string })).toThrow(
      new TypeError('Expected the purpose to be a string but received a number.'),
    );
    expect(() => signer.verify('x', { purpose: null as unknown as string })).toThrow(TypeError);
    expect(() => signer.verify('x', { now: Number.NaN })).toThrow('Expected now to be a finite number');
    expect(() => signer.sign(1, { now: '1' as unknown as number })).toThrow(TypeError);
  });

  it('refuses payloads JSON cannot carry, and payloads too large to verify', () => {
    const signer = new StateSigner(KEY);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => signer.sign(cyclic)).toThrow(/^Expected a JSON-serializable payload: /);
    expect(() => signer.sign({ n: 1n })).toThrow(TypeError);
    expect(() => signer.sign('x'.repeat(60_000))).toThrow(/^The token would be \d+ characters, over the 65536/);
    const big = signer.sign('x'.repeat(40_000));
    expect(signer.verify(big)).toEqual({ ok: true, payload: 'x'.repeat(40_000) });
  });
});

describe('randomStateKey', () => {
  it('gives 32 fresh random bytes that make a working signer', () => {
    const a = randomStateKey();
    const b = randomStateKey();
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a.length).toBe(32);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    const signer = new StateSigner(a);
    expect(signer.verify(signer.sign({ x: 1 }))).toEqual({ ok: true, payload: { x: 1 } });
    expect(new StateSigner(b).verify(signer.sign({ x: 1 }))).toEqual({ ok: false, reason: 'bad_signature' });
  });
});
