// What a verification returns, shared by the native wrapper and the JS twin: the principal is built once
// per token and kept with the cache entry; failures are one frozen object per reason. The native verifier
// has checked every claim it decides on before JS sees the payload, so its principal parses the payload
// only when something reads it (most callers read subject and scopes once, and the cache keeps them).
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

/**
 * A principal over a verified payload's JSON text, parsed on first read (then kept). Immutable without
 * Object.freeze (which costs more than the rest of building it): no own properties, read-only getters.
 */
class PayloadPrincipal implements JwtPrincipal {
  #json: string;
  #claims: Record<string, unknown> | undefined;
  #scopes: readonly string[] | undefined;

  constructor(json: string) {
    this.#json = json;
  }

  get claims(): Readonly<Record<string, unknown>> {
    if (this.#claims === undefined) {
      const claims = JSON.parse(this.#json) as Record<string, unknown>;
      deepFreeze(claims);
      this.#claims = claims;
    }
    return this.#claims;
  }

  get subject(): string | undefined {
    const sub = this.claims.sub;
    return typeof sub === 'string' ? sub : undefined;
  }

  get scopes(): readonly string[] {
    if (this.#scopes === undefined) {
      const scopes: string[] = [];
      addScopes(scopes, this.claims.scope);
      addScopes(scopes, this.claims.scp);
      this.#scopes = Object.freeze(scopes);
    }
    return this.#scopes;
  }

  get expiresAt(): number | undefined {
    const exp = this.claims.exp;
    return typeof exp === 'number' ? exp : undefined;
  }

  toJSON(): object {
    return { subject: this.subject, scopes: this.scopes, expiresAt: this.expiresAt, claims: this.claims };
  }
}

/** A success over a payload the native verifier accepted; immutable as PayloadPrincipal is. */
class PayloadSuccess {
  readonly #principal: PayloadPrincipal;

  constructor(json: string) {
    this.#principal = new PayloadPrincipal(json);
  }

  get ok(): true {
    return true;
  }

  get principal(): JwtPrincipal {
    return this.#principal;
  }

  toJSON(): object {
    return { ok: true, principal: this.#principal };
  }
}

/** The success result for a payload the native verifier accepted (its claims' types were checked there). */
export function successFromPayload(json: string): JwtResult {
  return new PayloadSuccess(json);
}

/** One frozen failure result per reason code (index 0 unused). */
export const FAILURES: readonly JwtResult[] = JWT_REASONS.map((r) =>
  Object.freeze({ ok: false as const, reason: r as JwtReason, message: r === 'ok' ? '' : JWT_REASON_MESSAGES[r] }),
);
