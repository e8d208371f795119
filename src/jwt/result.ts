// What a verification returns, shared by the native wrapper and the JS twin: the principal is built once
// per token from the payload JSON and kept with the cache entry; failures are one frozen object per reason.
import { JWT_REASON_MESSAGES, JWT_REASONS, type JwtReason } from './errors.js';

export interface JwtPrincipal {
  /** The `sub` claim, when present. */
  readonly subject: string | undefined;
  /** From `scope` (space-separated) then `scp` (array or space-separated string), de-duplicated in order. */
  readonly scopes: readonly string[];
  /** The `exp` claim (seconds), when present. */
  readonly expiresAt: number | undefined;
  /** Every claim of the payload (deeply frozen). */
  readonly claims: Readonly<Record<string, unknown>>;
}

export type JwtResult =
  | { readonly ok: true; readonly principal: JwtPrincipal }
  | { readonly ok: false; readonly reason: JwtReason; readonly message: string };

function deepFreeze(value: unknown): void {
  if (value !== null && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value)) if (v !== null && typeof v === 'object') deepFreeze(v);
  }
}

function addScopes(out: string[], value: unknown): void {
  if (typeof value === 'string') {
    for (const s of value.split(' ')) if (s !== '' && !out.includes(s)) out.push(s);
  } else if (Array.isArray(value)) {
    for (const s of value) if (typeof s === 'string' && s !== '' && !out.includes(s)) out.push(s);
  }
}

/** The success result for a verified payload's claims (their types were checked by the verifier). */
export function successFromClaims(claims: Record<string, unknown>): JwtResult {
  deepFreeze(claims);
  const scopes: string[] = [];
  addScopes(scopes, claims.scope);
  addScopes(scopes, claims.scp);
  const principal: JwtPrincipal = Object.freeze({
    subject: typeof claims.sub === 'string' ? claims.sub : undefined,
    scopes: Object.freeze(scopes),
    expiresAt: typeof claims.exp === 'number' ? claims.exp : undefined,
    claims,
  });
  return Object.freeze({ ok: true as const, principal });
}

/** One frozen failure result per reason code (index 0 unused). */
export const FAILURES: readonly JwtResult[] = JWT_REASONS.map((r) =>
  Object.freeze({ ok: false as const, reason: r as JwtReason, message: r === 'ok' ? '' : JWT_REASON_MESSAGES[r] }),
);
