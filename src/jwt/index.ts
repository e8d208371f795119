// The JWT verifier's public face (docs/jwt.md): createJwtVerifier() checks the options and imports the keys
// once, here, then picks the native verifier when the addon loads (and has the JwtVerifier class), else the
// pure-JS twin (src/jwt/js.ts; FASTERMCP_FORCE_JS=1 forces it). After that verify() takes only a token.
import { loadNative } from '../native.js';
import { JWT_ALGORITHMS, algBit, isAlgorithm, optionError, type JwtAlgorithm, type JwtReason } from './errors.js';
import { JsJwtCore, type JwtCore, type JwtPolicy } from './js.js';
import { JwksSource, type JwksUrlOptions } from './jwks.js';
import { importJwks, importKey, type ImportedKey, type JwtKeyInput } from './keys.js';
import { NativeJwtCore } from './native.js';
import { CachingCore } from './cache.js';
import type { JwtResult } from './result.js';

export { CachingCore } from './cache.js';
export { JWT_ALGORITHMS, JWT_ERROR_CODES, JWT_REASONS, JWT_REASON_MESSAGES } from './errors.js';
export type { JwtAlgorithm, JwtReason } from './errors.js';
export type { JwtKeyInput, JwtKeyMaterial } from './keys.js';
export type { JwksUrlOptions } from './jwks.js';
export type { JwtPrincipal, JwtResult } from './result.js';

export interface JwtVerifierOptions {
  /** Allowed algorithms (required; "none" is never accepted). */
  algorithms: readonly JwtAlgorithm[];
  /** An HMAC secret (shorthand for `keys: [{ secret }]`). */
  secret?: string | Uint8Array;
  /** Keys: HMAC secrets or public keys (PEM, DER SPKI, KeyObject, JWK). */
  keys?: readonly JwtKeyInput[];
  /** A local JWK Set. */
  jwks?: { keys: object[] };
  /** A JWK Set fetched from a URL (cannot be combined with the other key sources). */
  jwksUrl?: string | URL | JwksUrlOptions;
  /** Accepted `iss` values. */
  issuer?: string | readonly string[];
  /** Accepted `aud` values: pass the server's own resource URL (RFC 8707 resource binding). */
  audience?: string | readonly string[];
  /** Claim names that must be present. */
  requiredClaims?: readonly string[];
  /** Required `typ` header, e.g. "at+jwt" (RFC 9068); compared case-insensitively, "application/" optional. */
  typ?: string;
  /** Seconds of leeway for exp, nbf and iat (default 0). */
  clockTolerance?: number;
  /** Maximum age in seconds from `iat` (makes iat required). */
  maxTokenAge?: number;
  /** Maximum token length in bytes (default 8192). */
  maxTokenBytes?: number;
  /** Refuse tokens without `exp` (default true). */
  requireExp?: boolean;
  /** Verified-token cache entries (default 1024; 0 disables the cache). */
  cacheSize?: number;
  /** Force an implementation (default: native when the addon loads, else js). */
  implementation?: 'native' | 'js';
}

export interface JwtVerifier {
  readonly implementation: 'native' | 'js';
  /** Verifies with the current key set; `nowSeconds` defaults to the wall clock. */
  verify(token: string, nowSeconds?: number): JwtResult;
  /** As verify(); with a JWKS URL, waits for the first set and refetches once (cooldown permitting) when the kid is unknown. */
  verifyAsync(token: string, nowSeconds?: number): Promise<JwtResult>;
  /** Resolves when keys are available (at once for local keys; after the first JWKS fetch otherwise). */
  ready(): Promise<void>;
  /** Refetches the JWKS now (cooldown permitting); no-op for local keys. */
  refresh(): Promise<void>;
  clearCache(): void;
  cacheEntries(): number;
}

const list = (v: string | readonly string[] | undefined, name: string): string[] => {
  if (v === undefined) return [];
  const arr = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(arr) || arr.some((s) => typeof s !== 'string')) throw optionError(`${name} must be a string or an array of strings`);
  return [...arr];
};

const number = (v: unknown, name: string, fallback: number, integer = false, max = Number.MAX_SAFE_INTEGER): number => {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max || (integer && !Number.isInteger(v))) {
    throw optionError(`${name} must be a ${integer ? 'non-negative integer' : 'non-negative finite number'}${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}`);
  }
  return v;
};

/** Validates the options into the policy both implementations take. */
export function jwtPolicy(options: JwtVerifierOptions): JwtPolicy {
  if (options === null || typeof options !== 'object') throw optionError('createJwtVerifier needs an options object');
  const algs = options.algorithms;
  if (!Array.isArray(algs) || algs.length === 0) throw optionError('algorithms is required: a non-empty array such as ["RS256"]');
  let mask = 0;
  for (const a of algs) {
    if (!isAlgorithm(a)) {
      throw optionError(`unsupported algorithm ${JSON.stringify(a)}${a === 'none' ? ' (unsigned tokens are never accepted)' : ''}; supported: ${JWT_ALGORITHMS.join(', ')}`);
    }
    mask |= algBit(a);
  }
  let typ = '';
  if (options.typ !== undefined) {
    if (typeof options.typ !== 'string' || options.typ === '') throw optionError('typ must be a non-empty string');
    typ = options.typ.replace(/[A-Z]/g, (c) => c.toLowerCase());
    if (typ.startsWith('application/')) typ = typ.slice(12);
  }
  return {
    algorithms: mask,
    issuers: list(options.issuer, 'issuer'),
    audiences: list(options.audience, 'audience'),
    required: list(options.requiredClaims, 'requiredClaims'),
    typ,
    clockTolerance: number(options.clockTolerance, 'clockTolerance', 0),
    maxTokenAge: options.maxTokenAge === undefined ? -1 : number(options.maxTokenAge, 'maxTokenAge', -1),
    maxTokenBytes: number(options.maxTokenBytes, 'maxTokenBytes', 8192, true, 1 << 24) || 8192,
    requireExp: options.requireExp ?? true,
    cacheSize: number(options.cacheSize, 'cacheSize', 1024, true, 1 << 24),
  };
}

/** The verifier core for `policy`: native unless `implementation` says js or the addon is missing. */
export function createJwtCore(policy: JwtPolicy, implementation?: 'native' | 'js'): JwtCore {
  if (implementation !== 'js') {
    const binding = loadNative();
    if (binding !== null && typeof binding.JwtVerifier === 'function') return new NativeJwtCore(binding, policy);
    if (implementation === 'native') throw optionError('the native JWT verifier is not available', 'MCP_NATIVE_UNAVAILABLE');
  }
  return new JsJwtCore(policy);
}

const RETRY: ReadonlySet<JwtReason> = new Set(['unknown_kid', 'no_key']);

export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const policy = jwtPolicy(options);
  const core = new CachingCore(createJwtCore(policy, options.implementation), policy.cacheSize);
  let jwks: JwksSource | null = null;
  if (options.jwksUrl !== undefined) {
    if (options.secret !== undefined || options.keys !== undefined || options.jwks !== undefined) {
      throw optionError('jwksUrl cannot be combined with secret, keys or jwks');
    }
    const o = typeof options.jwksUrl === 'object' && !(options.jwksUrl instanceof URL) ? options.jwksUrl : { url: options.jwksUrl };
    jwks = new JwksSource(o, (keys) => core.setKeys(keys));
    core.setKeys([]);
  } else {
    const keys: ImportedKey[] = [];
    if (options.secret !== undefined) keys.push(importKey({ secret: options.secret }));
    for (const k of options.keys ?? []) keys.push(importKey(k));
    if (options.jwks !== undefined) keys.push(...importJwks(options.jwks as { keys: [] }, true));
    if (keys.length === 0) throw optionError('no key: pass secret, keys, jwks or jwksUrl');
    core.setKeys(keys);
  }
  const clock = (now: number | undefined): number => {
    if (now === undefined) return Math.floor(Date.now() / 1000);
    if (typeof now !== 'number' || now !== now) throw optionError('nowSeconds must be a number');
    return now;
  };
  const source = jwks;
  const firstFetch = source === null ? Promise.resolve() : source.refresh();
  firstFetch.catch(() => {
    // reported through ready() and verify's no_key
  });
  return {
    implementation: core.implementation,
    verify:
      source === null
        ? (token, nowSeconds) => core.verify(token, clock(nowSeconds))
        : (token, nowSeconds) => {
            source.tick();
            return core.verify(token, clock(nowSeconds));
          },
    async verifyAsync(token, nowSeconds) {
      if (source === null) return core.verify(token, clock(nowSeconds));
      if (!source.loaded) await source.refresh().catch(() => undefined);
      source.tick();
      const first = core.verify(token, clock(nowSeconds));
      if (first.ok || !RETRY.has(first.reason) || !source.canFetch()) return first;
      await source.refresh().catch(() => undefined);
      return core.verify(token, clock(nowSeconds));
    },
    ready: () => (source === null ? Promise.resolve() : source.loaded ? Promise.resolve() : firstFetch.then(() => undefined, () => source.refresh())),
    refresh: () => (source === null ? Promise.resolve() : source.refresh()),
    clearCache: () => core.clearCache(),
    cacheEntries: () => core.cacheEntries(),
  };
}
