// The pure-JS twin of the native JWT verifier (native/core/jwt.cc): the same checks in the same order with
// the same reasons (docs/jwt.md). It is the fallback when the addon does not load, the oracle of
// test/unit/jwt-differential.test.ts and the "JS twin" row of bench/jwt.bench.ts.
//
// Order: size -> segments and base64url -> header JSON -> header fields (alg, crit, b64, kid, typ) -> key
// selection -> signature -> payload JSON -> claim types -> required claims -> time -> iss -> aud.
// The verified-token cache is not here: src/jwt/index.ts keeps it in front of either implementation.
import { Buffer, isUtf8 } from 'node:buffer';
import { constants, createHmac, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import { JWT_ALGORITHMS, JWT_REASONS, type JwtReason } from './errors.js';
import type { ImportedKey } from './keys.js';
import { FAILURES, successFromClaims, type JwtResult } from './result.js';

/** The verifier's policy, validated and normalised by createJwtVerifier (same fields as the native one). */
export interface JwtPolicy {
  algorithms: number; //   bit set over JWT_ALGORITHMS
  issuers: string[];
  audiences: string[];
  required: string[];
  typ: string; //          normalised (lower case, no "application/"); '' = not checked
  clockTolerance: number;
  maxTokenAge: number; //  < 0: no limit
  maxTokenBytes: number;
  requireExp: boolean;
  cacheSize: number;
}

/** What both implementations offer to src/jwt/index.ts. */
export interface JwtCore {
  readonly implementation: 'native' | 'js';
  setKeys(keys: readonly ImportedKey[]): void;
  /** Verifies with no cache; after a success `from` and `until` bound the `now` values at which it holds. */
  verify(token: string, now: number): JwtResult;
  /** [from, until) of the last successful verify(): until is at most exp (plus tolerance). */
  readonly from: number;
  readonly until: number;
}

const R = Object.fromEntries(JWT_REASONS.map((r, i) => [r, i])) as Record<(typeof JWT_REASONS)[number], number>;
const fail = (reason: JwtReason): JwtResult => FAILURES[R[reason]]!;
const hasOwn = Object.hasOwn as (o: object, k: string) => boolean;

// ---- base64url --------------------------------------------------------------------------------------------
const B64 = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('').forEach((c, i) => (B64[c.charCodeAt(0)] = i));

/** Canonical unpadded base64url: the alphabet only, length not 4n+1, zero unused bits. */
export function isBase64url(s: string): boolean {
  const n = s.length;
  if (n % 4 === 1) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || B64[c]! < 0) return false;
  }
  if (n % 4 === 2) return (B64[s.charCodeAt(n - 1)]! & 0x0f) === 0;
  if (n % 4 === 3) return (B64[s.charCodeAt(n - 1)]! & 0x03) === 0;
  return true;
}

// ---- strict JSON --------------------------------------------------------------------------------------------
const MAX_DEPTH = 64;

/**
 * Validates RFC 8259 JSON text (already known to be valid UTF-8): the grammar, container depth < 64 below the
 * root, and no member name twice in one object (names compared after unescaping). Same rules as the native
 * reader (jwt.cc class Reader).
 */
export function checkJson(text: string): 'ok' | 'malformed' | 'duplicate_key' {
  let i = 0;
  const n = text.length;
  let dup = false;
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
  // A string at text[i] === '"'; returns the body's end (index of the closing quote) or -1.
  const str = (): number => {
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return i++;
      if (c < 0x20) return -1;
      if (c === 0x5c) {
        const e = text.charCodeAt(i + 1);
        if (e === 0x75) {
          if (i + 5 >= n) return -1;
          for (let k = 2; k <= 5; k++) if (!isHex(text.charCodeAt(i + k))) return -1;
          i += 6;
          continue;
        }
        if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
        i += 2;
        continue;
      }
      i++;
    }
    return -1;
  };
  const digits = (): boolean => {
    const s = i;
    while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    return i > s;
  };
  const num = (): boolean => {
    if (text.charCodeAt(i) === 0x2d) i++;
    if (i >= n) return false;
    if (text.charCodeAt(i) === 0x30) i++;
    else if (!digits()) return false;
    if (text.charCodeAt(i) === 0x2e) {
      i++;
      if (!digits()) return false;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const s = text.charCodeAt(i);
      if (s === 0x2b || s === 0x2d) i++;
      if (!digits()) return false;
    }
    return true;
  };
  const lit = (w: string): boolean => {
    if (text.startsWith(w, i)) {
      i += w.length;
      return true;
    }
    return false;
  };
  const value = (depth: number): boolean => {
    if (i >= n) return false;
    const c = text.charCodeAt(i);
    if (c === 0x7b) return object(depth);
    if (c === 0x5b) return array(depth);
    if (c === 0x22) return str() >= 0;
    if (c === 0x74) return lit('true');
    if (c === 0x66) return lit('false');
    if (c === 0x6e) return lit('null');
    if (c === 0x2d || (c >= 48 && c <= 57)) return num();
    return false;
  };
  const array = (depth: number): boolean => {
    if (depth >= MAX_DEPTH) return false;
    i++;
    ws();
    if (text.charCodeAt(i) === 0x5d) {
      i++;
      return true;
    }
    for (;;) {
      ws();
      if (!value(depth + 1)) return false;
      ws();
      const c = text.charCodeAt(i);
      if (c === 0x2c) {
        i++;
        continue;
      }
      if (c === 0x5d) {
        i++;
        return true;
      }
      return false;
    }
  };
  const object = (depth: number): boolean => {
    if (depth >= MAX_DEPTH) return false;
    i++;
    ws();
    if (text.charCodeAt(i) === 0x7d) {
      i++;
      return true;
    }
    const names: string[] = [];
    let set: Set<string> | null = null;
    for (;;) {
      ws();
      if (text.charCodeAt(i) !== 0x22) return false;
      const start = i + 1;
      const end = str();
      if (end < 0) return false;
      const body = text.slice(start, end);
      const name = body.includes('\\') ? (JSON.parse(`"${body}"`) as string) : body;
      if (set !== null) {
        if (set.has(name)) return ((dup = true), false);
        set.add(name);
      } else {
        if (names.includes(name)) return ((dup = true), false);
        names.push(name);
        if (names.length > 16) set = new Set(names);
      }
      ws();
      if (text.charCodeAt(i) !== 0x3a) return false;
      i++;
      ws();
      if (!value(depth + 1)) return false;
      ws();
      const c = text.charCodeAt(i);
      if (c === 0x2c) {
        i++;
        continue;
      }
      if (c === 0x7d) {
        i++;
        return true;
      }
      return false;
    }
  };
  ws();
  if (i >= n) return 'malformed';
  if (!value(0)) return dup ? 'duplicate_key' : 'malformed';
  ws();
  return i === n ? 'ok' : 'malformed';
}

/** A segment's JSON object, or the reason it is not one. */
function decodeObject(segment: string): Record<string, unknown> | JwtReason {
  const bytes = Buffer.from(segment, 'base64url');
  if (!isUtf8(bytes)) return 'malformed';
  const text = bytes.toString('utf8');
  const check = checkJson(text);
  if (check !== 'ok') return check;
  const value = JSON.parse(text) as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'malformed';
  return value as Record<string, unknown>;
}

const normalizeTyp = (typ: string): string => {
  const lower = typ.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return lower.startsWith('application/') ? lower.slice(12) : lower;
};

const isStringArray = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');

// ---- signatures ---------------------------------------------------------------------------------------------
const HASH = ['sha256', 'sha384', 'sha512'] as const;
const HMAC_LENGTH = [32, 48, 64];

function verifySignature(alg: number, key: ImportedKey, input: string, sig: Buffer): boolean {
  if ((key.algorithms & (1 << alg)) === 0) return false;
  try {
    if (alg <= 2) {
      if (sig.length !== HMAC_LENGTH[alg]) return false;
      const mac = createHmac(HASH[alg]!, key.data).update(input, 'latin1').digest();
      return timingSafeEqual(mac, sig);
    }
    const data = Buffer.from(input, 'latin1');
    const object = key.keyObject!;
    if (alg <= 8) {
      if (sig.length !== key.modulusBytes) return false;
      const md = HASH[(alg - 3) % 3]!;
      if (alg <= 5) return cryptoVerify(md, data, object, sig);
      return cryptoVerify(md, data, { key: object, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, sig);
    }
    if (alg === 9 || alg === 10) {
      if (sig.length !== (alg === 9 ? 64 : 96)) return false;
      return cryptoVerify(alg === 9 ? 'sha256' : 'sha384', data, { key: object, dsaEncoding: 'ieee-p1363' }, sig);
    }
    if (sig.length !== 64) return false;
    return cryptoVerify(null, data, object, sig);
  } catch {
    return false;
  }
}

// ---- the verifier -------------------------------------------------------------------------------------------
type Uncached = { claims: Record<string, unknown>; from: number; until: number } | JwtReason;

export class JsJwtCore implements JwtCore {
  readonly implementation = 'js' as const;
  private keys: readonly ImportedKey[] = [];
  from = 0;
  until = 0;

  constructor(private readonly policy: JwtPolicy) {}

  setKeys(keys: readonly ImportedKey[]): void {
    this.keys = [...keys];
  }

  verify(token: string, now: number): JwtResult {
    const p = this.policy;
    if (typeof token !== 'string') return fail('malformed');
    if (token.length > p.maxTokenBytes || (token.length * 3 > p.maxTokenBytes && Buffer.byteLength(token) > p.maxTokenBytes)) {
      return fail('too_large');
    }
    const r = this.verifyUncached(token, now);
    if (typeof r === 'string') return fail(r);
    this.from = r.from;
    this.until = r.until;
    return successFromClaims(r.claims);
  }

  private verifyUncached(token: string, now: number): Uncached {
    const p = this.policy;
    // Segments and base64url.
    const d1 = token.indexOf('.');
    const d2 = d1 < 0 ? -1 : token.indexOf('.', d1 + 1);
    if (d2 < 0 || token.indexOf('.', d2 + 1) >= 0) return 'malformed';
    const h = token.slice(0, d1);
    const pl = token.slice(d1 + 1, d2);
    const s = token.slice(d2 + 1);
    if (!isBase64url(h) || !isBase64url(pl) || !isBase64url(s)) return 'malformed';
    // Header JSON and fields.
    const header = decodeObject(h);
    if (typeof header === 'string') return header;
    const alg = hasOwn(header, 'alg') ? header.alg : undefined;
    const kid = hasOwn(header, 'kid') ? header.kid : undefined;
    const typ = hasOwn(header, 'typ') ? header.typ : undefined;
    if (typeof alg !== 'string') return 'malformed';
    if (kid !== undefined && typeof kid !== 'string') return 'malformed';
    if (typ !== undefined && typeof typ !== 'string') return 'malformed';
    const a = (JWT_ALGORITHMS as readonly string[]).indexOf(alg);
    if (a < 0 || (p.algorithms & (1 << a)) === 0) return 'alg_not_allowed';
    if (hasOwn(header, 'crit')) return 'crit_unsupported';
    if (hasOwn(header, 'b64') && header.b64 !== true) return 'b64_unsupported';
    if (p.typ !== '' && (typ === undefined || normalizeTyp(typ) !== p.typ)) return 'wrong_typ';
    // Key selection: by kid when a key carries the token's kid, else the keys without a kid; then the
    // algorithm's family only (an HS* token never meets a public key).
    const hasKid = typeof kid === 'string';
    const byKid = hasKid && this.keys.some((k) => k.kid === kid);
    let poolEmpty = true;
    const candidates: ImportedKey[] = [];
    for (const k of this.keys) {
      const inPool = byKid ? k.kid === kid : !hasKid || k.kid === null;
      if (!inPool) continue;
      poolEmpty = false;
      if ((k.algorithms & (1 << a)) === 0) continue;
      if (candidates.length < 16) candidates.push(k);
    }
    if (poolEmpty) return hasKid ? 'unknown_kid' : 'no_key';
    if (candidates.length === 0) return 'no_key';
    const sig = Buffer.from(s, 'base64url');
    const input = token.slice(0, d2);
    if (!candidates.some((k) => verifySignature(a, k, input, sig))) return 'bad_signature';
    // Payload JSON and claim types.
    const claims = decodeObject(pl);
    if (typeof claims === 'string') return claims;
    const exp = hasOwn(claims, 'exp') ? claims.exp : undefined;
    const nbf = hasOwn(claims, 'nbf') ? claims.nbf : undefined;
    const iat = hasOwn(claims, 'iat') ? claims.iat : undefined;
    const iss = hasOwn(claims, 'iss') ? claims.iss : undefined;
    const aud = hasOwn(claims, 'aud') ? claims.aud : undefined;
    for (const t of [exp, nbf, iat]) if (t !== undefined && typeof t !== 'number') return 'invalid_claim';
    if (iss !== undefined && typeof iss !== 'string') return 'invalid_claim';
    if (hasOwn(claims, 'sub') && typeof claims.sub !== 'string') return 'invalid_claim';
    if (hasOwn(claims, 'scope') && typeof claims.scope !== 'string') return 'invalid_claim';
    if (aud !== undefined && typeof aud !== 'string' && !isStringArray(aud)) return 'invalid_claim';
    if (hasOwn(claims, 'scp') && typeof claims.scp !== 'string' && !isStringArray(claims.scp)) return 'invalid_claim';
    // Required claims.
    if (exp === undefined && p.requireExp) return 'missing_claim';
    if (iss === undefined && p.issuers.length > 0) return 'missing_claim';
    if (aud === undefined && p.audiences.length > 0) return 'missing_claim';
    if (iat === undefined && p.maxTokenAge >= 0) return 'missing_claim';
    for (const name of p.required) if (!hasOwn(claims, name)) return 'missing_claim';
    // Time; [from, until) is where this verdict holds for the cache (until <= exp).
    const tol = p.clockTolerance;
    let from = -Infinity;
    let until = Infinity;
    if (exp !== undefined) {
      if (now - tol >= (exp as number)) return 'expired';
      until = exp as number;
    }
    if (nbf !== undefined) {
      if ((nbf as number) > now + tol) return 'not_yet_valid';
      from = Math.max(from, (nbf as number) - tol);
    }
    if (p.maxTokenAge >= 0) {
      const t = iat as number;
      if (t > now + tol) return 'not_yet_valid';
      if (now - t - tol > p.maxTokenAge) return 'too_old';
      from = Math.max(from, t - tol);
      until = Math.min(until, t + p.maxTokenAge + tol);
    }
    if (p.issuers.length > 0 && !p.issuers.includes(iss as string)) return 'wrong_issuer';
    if (p.audiences.length > 0) {
      const list = typeof aud === 'string' ? [aud] : (aud as string[]);
      if (!list.some((x) => p.audiences.includes(x))) return 'wrong_audience';
    }
    return { claims, from, until };
  }
}
