// Signed opaque tokens: MCP 2026-07-28 `requestState` (the state of a multi-round-trip tool call) and
// pagination cursors. The client carries the token and sends it back; the server trusts it again only
// if its HMAC verifies. Every server instance of a deployment shares the key, so any of them can accept
// a token another one issued.
//
// Token: base64url(JSON body) "." base64url(HMAC-SHA256(key, the first part as ASCII)), where the body
// is {"v":1,"pur":purpose,"iat":ms,"exp":ms,"p":payload}. The purpose binds a token to one use, so a
// cursor cannot be replayed as a requestState. Tokens are signed, not encrypted: the client can read
// the payload, so keep secrets out of it.
//
// verify() checks in this order, and says which check failed:
//   malformed      not a string, over 65536 characters (refused before any hashing), not two
//                  base64url parts, or a body that is not the shape above (only possible with the key)
//   bad_signature  the MAC does not match (compared in constant time, as base64url text, so a
//                  signature is accepted in one spelling only)
//   wrong_purpose  signed for another purpose
//   expired        now >= exp (iat is not checked: instances' clocks may differ)

import { Buffer } from 'node:buffer';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const MIN_KEY_BYTES = 32;
const MAX_TOKEN_LENGTH = 65_536;
const DEFAULT_TTL_MS = 3_600_000; // one hour
const FORMAT_VERSION = 1;
const SIGNATURE_LENGTH = 43; // base64url of the 32 bytes of HMAC-SHA256, unpadded

export interface SignOptions {
  /** Lifetime in milliseconds (default one hour). */
  ttlMs?: number;
  /** What the token is for; verify() must name the same purpose (default ""). */
  purpose?: string;
  /** Issue time in milliseconds since the epoch (default Date.now()); for tests. */
  now?: number;
}

export interface VerifyOptions {
  /** The purpose the token must have been signed for (default ""). */
  purpose?: string;
  /** The current time in milliseconds since the epoch (default Date.now()). */
  now?: number;
}

export type VerifyFailure = 'malformed' | 'bad_signature' | 'expired' | 'wrong_purpose';
export type VerifyResult = { ok: true; payload: unknown } | { ok: false; reason: VerifyFailure };

interface Body {
  v: number;
  pur: string;
  iat: number;
  exp: number;
  p?: unknown;
}

export class StateSigner {
  // Private, so neither util.inspect nor JSON.stringify of a signer shows the key.
  readonly #key: Buffer;

  constructor(key: string | Uint8Array) {
    let bytes: Buffer;
    if (typeof key === 'string') bytes = Buffer.from(key, 'utf8');
    else if (key instanceof Uint8Array) bytes = Buffer.from(key); // a copy: later writes to `key` do not reach it
    else throw new TypeError(`Expected the state key to be a string or a Uint8Array, received ${describeType(key)}.`);
    if (bytes.length < MIN_KEY_BYTES) {
      throw new RangeError(
        `Expected a state key of at least ${MIN_KEY_BYTES} bytes but received ${bytes.length}; ` +
          'use randomStateKey() or 32 random bytes shared by every instance.',
      );
    }
    this.#key = bytes;
  }

  /** A token carrying `payload` (anything JSON.stringify accepts) for `purpose`, valid for `ttlMs`. */
  sign(payload: unknown, options: SignOptions = {}): string {
    const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new RangeError(`Expected ttlMs to be a positive finite number of milliseconds, received ${String(ttlMs)}.`);
    }
    const purpose = checkPurpose(options.purpose);
    const now = checkNow(options.now);
    const body: Body = { v: FORMAT_VERSION, pur: purpose, iat: now, exp: now + ttlMs, p: payload };
    let json: string;
    try {
      json = JSON.stringify(body);
    } catch (error) {
      throw new TypeError(`Expected a JSON-serializable payload: ${(error as Error).message}`);
    }
    const encoded = Buffer.from(json, 'utf8').toString('base64url');
    const token = `${encoded}.${this.#mac(encoded)}`;
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new RangeError(
        `The token would be ${token.length} characters, over the ${MAX_TOKEN_LENGTH} that verify() accepts; ` +
          'store less in the payload.',
      );
    }
    return token;
  }

  /** The payload of a token this key signed for `purpose` and that has not expired, or why not. */
  verify(token: unknown, options: VerifyOptions = {}): VerifyResult {
    const purpose = checkPurpose(options.purpose);
    const now = checkNow(options.now);
    // Shape and length first, so an oversized or garbled token costs no hashing.
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return failure('malformed');
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length - dot - 1 !== SIGNATURE_LENGTH) return failure('malformed');
    const encoded = token.slice(0, dot);
    const signature = token.slice(dot + 1);
    if (!isBase64url(encoded) || !isBase64url(signature)) return failure('malformed');
    const expected = Buffer.from(this.#mac(encoded), 'latin1');
    if (!timingSafeEqual(Buffer.from(signature, 'latin1'), expected)) return failure('bad_signature');
    // Authentic from here on: the body is what sign() wrote, unless the key leaked.
    const body = parseBody(encoded);
    if (body === undefined) return failure('malformed');
    if (body.pur !== purpose) return failure('wrong_purpose');
    if (now >= body.exp) return failure('expired');
    return { ok: true, payload: body.p };
  }

  #mac(encoded: string): string {
    return createHmac('sha256', this.#key).update(encoded, 'latin1').digest('base64url');
  }
}

/** 32 random bytes, for a server given no key: its tokens then verify on this instance only. */
export function randomStateKey(): Uint8Array {
  return new Uint8Array(randomBytes(MIN_KEY_BYTES));
}

function failure(reason: VerifyFailure): VerifyResult {
  return { ok: false, reason };
}

function checkPurpose(purpose: unknown): string {
  if (purpose === undefined) return '';
  if (typeof purpose !== 'string') {
    throw new TypeError(`Expected the purpose to be a string but received ${describeType(purpose)}.`);
  }
  return purpose;
}

function checkNow(now: unknown): number {
  if (now === undefined) return Date.now();
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new TypeError(`Expected now to be a finite number of milliseconds but received ${String(now)}.`);
  }
  return now;
}

function isBase64url(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
    if (!ok) return false;
  }
  return true;
}

function parseBody(encoded: string): Body | undefined {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { v, pur, iat, exp } = body as Record<string, unknown>;
  if (v !== FORMAT_VERSION || typeof pur !== 'string' || typeof iat !== 'number' || typeof exp !== 'number') {
    return undefined;
  }
  return body as Body;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
