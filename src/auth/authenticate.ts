// Authenticators: who is calling. Each reads the request's credentials and answers with a principal,
// a refusal naming why, or "not mine" (null) so that the next one in a chain may try. The transport
// turns a refusal or a missing credential into 401 with a challenge (resource-server.ts); handlers see
// only the principal (ctx.auth), never the token itself, so it cannot be passed on downstream.
import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { JwtPrincipal, JwtResult, JwtVerifier } from '../jwt/index.js';
import type { AuthPrincipal } from '../server/types.js';

/** The credentials a request carries, as the transport read them from its headers. */
export interface Credentials {
  /** The token of `Authorization: Bearer <token>`, when that header has the Bearer scheme. */
  readonly bearer: string | undefined;
  /** The `X-API-Key` header. */
  readonly apiKey: string | undefined;
}

/** Why a credential was refused: an OAuth error code (RFC 6750 section 3.1) and a short reason. */
export interface AuthRefusal {
  readonly ok: false;
  readonly error: 'invalid_token' | 'invalid_request';
  /** Safe to show: it never contains the token, a key or a claim value. */
  readonly description: string;
  /** A short machine-readable cause for operators' counters (a JWT failure reason, 'unknown_api_key', ...). */
  readonly reason?: string;
}

export type AuthDecision = { readonly ok: true; readonly principal: AuthPrincipal } | AuthRefusal;

export interface Authenticator {
  /** null when the request carries no credential of this authenticator's kind. */
  authenticate(credentials: Credentials): AuthDecision | null | Promise<AuthDecision | null>;
}

/**
 * The token of an Authorization header with the Bearer scheme (RFC 6750 section 2.1: the scheme is
 * case-insensitive, one space, then a token68), or undefined. A malformed Bearer value is returned as
 * the empty string, which every authenticator refuses.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.length < 7) return undefined;
  if (authorization.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = authorization.slice(7).trim();
  return TOKEN68.test(token) ? token : '';
}

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Bearer JWTs checked by a verifier (src/jwt): the principal is the token's subject and scopes. */
export function jwtAuthenticator(verifier: JwtVerifier): Authenticator {
  // A repeat caller's token comes back from the verifier's cache as the same result: its decision is
  // kept beside it, so that caller costs the cache lookup and nothing more.
  const decisions = new WeakMap<JwtPrincipal, AuthDecision>();
  return {
    authenticate(credentials) {
      const token = credentials.bearer;
      if (token === undefined) return null;
      if (token === '') return MALFORMED_BEARER;
      const decide = (r: JwtResult): AuthDecision => {
        if (!r.ok) return { ok: false, error: 'invalid_token', description: r.message, reason: r.reason };
        const p = r.principal;
        let decision = decisions.get(p);
        if (decision === undefined) {
          const principal: AuthPrincipal = { subject: p.subject ?? '', scopes: p.scopes, claims: p.claims as AuthPrincipal['claims'] };
          const clientId = p.claims['client_id'] ?? p.claims['azp'];
          if (typeof clientId === 'string') principal.clientId = clientId;
          decision = Object.freeze({ ok: true as const, principal: Object.freeze(principal) });
          decisions.set(p, decision);
        }
        return decision;
      };
      const first = verifier.verify(token);
      // A JWKS URL whose key set does not know the token's kid (yet): one refetch, cooldown permitting.
      if (!first.ok && (first.reason === 'unknown_kid' || first.reason === 'no_key')) return verifier.verifyAsync(token).then(decide);
      return decide(first);
    },
  };
}

const MALFORMED_BEARER: AuthRefusal = Object.freeze({ ok: false, error: 'invalid_request', description: 'Malformed Bearer credentials', reason: 'malformed_bearer' });
const UNKNOWN_API_KEY: AuthRefusal = Object.freeze({ ok: false, error: 'invalid_token', description: 'Unknown API key', reason: 'unknown_api_key' });

/** A static API key and who it stands for. */
export interface ApiKey {
  key: string;
  subject: string;
  scopes?: readonly string[];
}

/**
 * Static API keys, sent as `X-API-Key: <key>` or `Authorization: Bearer <key>`. Keys are kept only as
 * SHA-256 digests: a lookup compares digests, so its timing says nothing about the keys themselves.
 */
export function apiKeyAuthenticator(keys: readonly ApiKey[]): Authenticator {
  const byDigest = new Map<string, AuthPrincipal>();
  for (const k of keys) {
    if (typeof k?.key !== 'string' || k.key.length < 16) throw new TypeError('Every API key must be a string of at least 16 characters');
    if (typeof k.subject !== 'string' || k.subject === '') throw new TypeError('Every API key needs a subject (who the key stands for)');
    if (k.scopes !== undefined && (!Array.isArray(k.scopes) || k.scopes.some((s) => typeof s !== 'string'))) {
      throw new TypeError(`The scopes of API key ${JSON.stringify(k.subject)} must be an array of strings`);
    }
    byDigest.set(digest(k.key), Object.freeze({ subject: k.subject, scopes: Object.freeze([...(k.scopes ?? [])]) }));
  }
  // Keys that matched, by their text: a repeat caller costs a Map lookup instead of a SHA-256 (under load
  // the digest cost ~1.9 us a request). Only keys of this authenticator are ever kept, so the cache holds no
  // more than the key file does; a miss (any other text) is decided by its digest, as before. Bounded in
  // case the key set is large.
  const seen = new Map<string, AuthPrincipal>();
  return {
    authenticate(credentials) {
      const key = credentials.apiKey ?? credentials.bearer;
      if (key === undefined) return null;
      const known = seen.get(key);
      if (known !== undefined) return { ok: true, principal: known };
      const principal = key === '' ? undefined : byDigest.get(digest(key));
      if (principal !== undefined) {
        if (seen.size >= SEEN_KEYS) seen.delete(seen.keys().next().value!);
        seen.set(key, principal);
      }
      // A Bearer value that is no key of ours may be a token for the next authenticator.
      if (principal === undefined) return credentials.apiKey === undefined ? null : UNKNOWN_API_KEY;
      return { ok: true, principal };
    },
  };
}

// One-shot crypto.hash (node >= 20.12) costs ~0.27 us a key against ~0.7 us for a Hash object; a request with
// an API key pays one digest.
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;

/** Most API keys whose text is kept for the fast path. */
const SEEN_KEYS = 1024;

function digest(key: string): string {
  return typeof oneShot === 'function' ? oneShot('sha256', key, 'base64') : createHash('sha256').update(key).digest('base64');
}

/**
 * API keys from a JSON file: `[{ "key": "...", "subject": "ci-bot", "scopes": ["tools:call"] }, ...]`
 * (or `{ "keys": [...] }`).
 */
export function readApiKeysFile(path: string): ApiKey[] {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  const keys = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new TypeError(`${path}: expected a JSON array of { key, subject, scopes } (or { "keys": [...] })`);
  return keys as ApiKey[];
}

/**
 * Authenticators tried in order: the first that accepts wins. When none accepts, the first refusal is
 * the answer (or null when no authenticator found a credential of its kind).
 */
export function chainAuthenticators(authenticators: readonly Authenticator[]): Authenticator {
  if (authenticators.length === 1) return authenticators[0]!;
  return {
    authenticate(credentials) {
      // Synchronous as long as every authenticator tried is; from the first promise on, asynchronous.
      const from = (start: number, refusal: AuthRefusal | null): AuthDecision | null | Promise<AuthDecision | null> => {
        for (let i = start; i < authenticators.length; i++) {
          const decision = authenticators[i]!.authenticate(credentials);
          if (decision instanceof Promise) {
            return decision.then((d) => (d?.ok === true ? d : from(i + 1, refusal ?? d)));
          }
          if (decision?.ok === true) return decision;
          refusal ??= decision;
        }
        return refusal;
      };
      return from(0, null);
    },
  };
}
