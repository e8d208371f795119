// JWT reasons, messages and error codes (docs/jwt.md section 4). The order is the native core's
// (native/core/jwt.h, enum Reason); test/unit/jwt.test.ts pins it against the addon's `jwtReasons`.

/** Why a token is refused; index = the native reason code. */
export const JWT_REASONS = [
  'ok',
  'malformed',
  'too_large',
  'alg_not_allowed',
  'crit_unsupported',
  'b64_unsupported',
  'wrong_typ',
  'unknown_kid',
  'no_key',
  'bad_signature',
  'duplicate_key',
  'invalid_claim',
  'missing_claim',
  'expired',
  'not_yet_valid',
  'too_old',
  'wrong_issuer',
  'wrong_audience',
] as const;

export type JwtReason = Exclude<(typeof JWT_REASONS)[number], 'ok'>;

/** One sentence per reason; never the token, a key or a claim value. */
export const JWT_REASON_MESSAGES: Readonly<Record<JwtReason, string>> = {
  malformed: 'The token is not a compact JWS of three canonical base64url segments with JSON object header and payload.',
  too_large: 'The token is longer than the maximum token size.',
  alg_not_allowed: 'The token is signed with an algorithm this verifier does not allow.',
  crit_unsupported: 'The token header has a "crit" parameter; no JWS extension is supported.',
  b64_unsupported: 'The token header asks for an unencoded payload (b64), which is not supported.',
  wrong_typ: 'The token "typ" header is not the expected type.',
  unknown_kid: 'The token names a key id ("kid") that is not in the key set.',
  no_key: 'No key of the token\'s algorithm family is in the key set.',
  bad_signature: 'The token signature is invalid.',
  duplicate_key: 'The token header or payload has a member name twice in one object.',
  invalid_claim: 'A registered claim of the token has the wrong type.',
  missing_claim: 'The token lacks a required claim.',
  expired: 'The token is expired.',
  not_yet_valid: 'The token is not valid yet.',
  too_old: 'The token was issued longer ago than the maximum token age.',
  wrong_issuer: 'The token issuer is not accepted.',
  wrong_audience: 'The token audience does not include this resource.',
};

/** MCP_JWT_* error codes (STYLE.md section 5) for each reason; the HTTP layer maps them to 401. */
export const JWT_ERROR_CODES: Readonly<Record<JwtReason, string>> = Object.fromEntries(
  JWT_REASONS.slice(1).map((r) => [r, `MCP_JWT_${r.toUpperCase()}`]),
) as Record<JwtReason, string>;

/** Supported algorithms; index = bit position in the native policy's algorithm mask. */
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export const HMAC_ALGS = 0b111;
export const RSA_ALGS = 0b111111000;
export const algBit = (alg: JwtAlgorithm): number => 1 << JWT_ALGORITHMS.indexOf(alg);
export const isAlgorithm = (v: unknown): v is JwtAlgorithm => typeof v === 'string' && (JWT_ALGORITHMS as readonly string[]).includes(v);

/** A refused option or key at construction (code MCP_JWT_INVALID_OPTIONS / MCP_JWT_INVALID_KEY). */
export function optionError(message: string, code = 'MCP_JWT_INVALID_OPTIONS'): TypeError & { code: string } {
  const err = new TypeError(message) as TypeError & { code: string };
  err.code = code;
  return err;
}
