// Key import, once per key at construction (or per JWKS refresh), shared by the native verifier and the
// JS twin (docs/jwt.md section 3): every accepted form is normalised with node:crypto to either an HMAC
// secret or a DER SubjectPublicKeyInfo (plus, for the twin, the KeyObject).
//
// Refused: empty HMAC secrets; HMAC secrets that are a public key (PEM text of any kind, DER SPKI, a JWK:
// the key-confusion attack); RSA keys under 2048 bits; EC curves other than P-256/P-384; RSA-PSS-only,
// Ed448, X25519 and DSA keys; a key whose `alg` does not fit its type.
import { Buffer } from 'node:buffer';
import { KeyObject, createPublicKey, createSecretKey, type JsonWebKey } from 'node:crypto';
import { HMAC_ALGS, RSA_ALGS, algBit, isAlgorithm, optionError, type JwtAlgorithm } from './errors.js';

export type JwtKeyMaterial = string | Uint8Array | KeyObject | JsonWebKey;

/** One verification key: an HMAC `secret`, or a public `key` (PEM string, DER SPKI bytes, KeyObject or JWK). */
export type JwtKeyInput =
  | { kid?: string; alg?: JwtAlgorithm; secret: string | Uint8Array }
  | { kid?: string; alg?: JwtAlgorithm; key: JwtKeyMaterial };

export type KeyKind = 'hmac' | 'rsa' | 'ec256' | 'ec384' | 'ed25519';

export interface ImportedKey {
  kid: string | null;
  kind: KeyKind;
  hmac: boolean;
  /** HMAC secret bytes, or DER SPKI. */
  data: Buffer;
  /** Bit set of the algorithms this key checks. */
  algorithms: number;
  /** The public KeyObject (null for HMAC). */
  keyObject: KeyObject | null;
  /** RSA modulus length in bytes (0 otherwise). */
  modulusBytes: number;
}

const FAMILY: Record<KeyKind, number> = {
  hmac: HMAC_ALGS,
  rsa: RSA_ALGS,
  ec256: algBit('ES256'),
  ec384: algBit('ES384'),
  ed25519: algBit('EdDSA'),
};

const keyError = (message: string) => optionError(`Invalid JWT key: ${message}`, 'MCP_JWT_INVALID_KEY');

/** The same rule as native/core/jwt.cc looks_like_public_key(). */
export function looksLikePublicKey(bytes: Buffer): boolean {
  if (bytes.includes('-----BEGIN')) return true;
  try {
    createPublicKey({ key: bytes, format: 'der', type: 'spki' });
    return true;
  } catch {
    // not DER SPKI
  }
  const text = bytes.toString('latin1').replace(/^[ \t\r\n]+/, '');
  return text.startsWith('{') && text.includes('"kty"');
}

function hmacKey(kid: string | null, secret: Buffer, alg: JwtAlgorithm | undefined): ImportedKey {
  if (secret.length === 0) throw keyError('an HMAC secret must not be empty');
  if (looksLikePublicKey(secret)) {
    throw keyError('an HMAC secret must not be a public key (PEM, DER SPKI or JWK): that is the key-confusion attack');
  }
  return { kid, kind: 'hmac', hmac: true, data: secret, algorithms: restrict('hmac', alg), keyObject: null, modulusBytes: 0 };
}

function restrict(kind: KeyKind, alg: JwtAlgorithm | undefined): number {
  if (alg === undefined) return FAMILY[kind];
  const mask = FAMILY[kind] & algBit(alg);
  if (mask === 0) throw keyError(`alg ${alg} does not fit a ${kind} key`);
  return mask;
}

function publicKey(kid: string | null, object: KeyObject, alg: JwtAlgorithm | undefined): ImportedKey {
  const pub = object.type === 'private' ? createPublicKey(object) : object;
  const type = pub.asymmetricKeyType;
  const details = pub.asymmetricKeyDetails ?? {};
  let kind: KeyKind;
  let modulusBytes = 0;
  if (type === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < 2048) throw keyError('RSA keys must have at least 2048 bits');
    kind = 'rsa';
    modulusBytes = Math.ceil(bits / 8);
  } else if (type === 'ec') {
    if (details.namedCurve === 'prime256v1') kind = 'ec256';
    else if (details.namedCurve === 'secp384r1') kind = 'ec384';
    else throw keyError('EC keys must be on P-256 or P-384');
  } else if (type === 'ed25519') {
    kind = 'ed25519';
  } else {
    throw keyError('unsupported public key type (RSA, EC P-256/P-384 and Ed25519 are supported)');
  }
  const data = pub.export({ type: 'spki', format: 'der' });
  return { kid, kind, hmac: false, data, algorithms: restrict(kind, alg), keyObject: pub, modulusBytes };
}

function kidOf(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw keyError('kid must be a string');
  return v;
}

function algOf(v: unknown): JwtAlgorithm | undefined {
  if (v === undefined) return undefined;
  if (!isAlgorithm(v)) throw keyError(`unsupported alg ${typeof v === 'string' ? JSON.stringify(v) : typeof v}`);
  return v;
}

/** A JWK (RFC 7517): oct -> HMAC; RSA, EC, OKP -> public key. `kid` and `alg` come from the JWK unless given. */
export function importJwk(jwk: JsonWebKey, kid?: string | null, alg?: JwtAlgorithm): ImportedKey {
  if (jwk === null || typeof jwk !== 'object') throw keyError('a JWK must be an object');
  const id = kid !== undefined ? kid : kidOf(jwk.kid);
  const a = alg ?? algOf(jwk.alg);
  if (jwk.kty === 'oct') {
    if (typeof jwk.k !== 'string') throw keyError('an oct JWK needs "k"');
    return hmacKey(id, Buffer.from(jwk.k, 'base64url'), a);
  }
  let object: KeyObject;
  try {
    object = createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw keyError('the JWK is not a usable public key');
  }
  return publicKey(id, object, a);
}

/** One key input (see JwtKeyInput). */
export function importKey(input: JwtKeyInput): ImportedKey {
  if (input === null || typeof input !== 'object') throw keyError('expected an object with `secret` or `key`');
  const kid = kidOf(input.kid);
  const alg = algOf(input.alg);
  if ('secret' in input) {
    const s = input.secret;
    if (typeof s === 'string') return hmacKey(kid, Buffer.from(s, 'utf8'), alg);
    if (s instanceof Uint8Array) return hmacKey(kid, Buffer.from(s), alg);
    throw keyError('secret must be a string or a Uint8Array');
  }
  const k = input.key;
  if (k instanceof KeyObject) {
    if (k.type === 'secret') return hmacKey(kid, k.export(), alg);
    return publicKey(kid, k, alg);
  }
  if (typeof k === 'string') {
    let object: KeyObject;
    try {
      object = createPublicKey(k);
    } catch {
      throw keyError('the PEM text is not a public key');
    }
    return publicKey(kid, object, alg);
  }
  if (k instanceof Uint8Array) {
    let object: KeyObject;
    try {
      object = createPublicKey({ key: Buffer.from(k), format: 'der', type: 'spki' });
    } catch {
      throw keyError('the bytes are not a DER SubjectPublicKeyInfo');
    }
    return publicKey(kid, object, alg);
  }
  if (k !== null && typeof k === 'object') return importJwk(k, input.kid === undefined ? undefined : kid, alg);
  throw keyError('key must be a PEM string, DER bytes, a KeyObject or a JWK');
}

/**
 * The usable keys of a JWK Set: keys for encryption (`use: "enc"`), of other types, or with an alg this
 * verifier does not support are skipped, as RFC 7517 section 5 allows. `allowSecrets`: keep oct keys (a
 * local set may hold HMAC secrets; a set fetched from a URL may not).
 */
export function importJwks(jwks: { keys: JsonWebKey[] }, allowSecrets: boolean): ImportedKey[] {
  if (jwks === null || typeof jwks !== 'object' || !Array.isArray(jwks.keys)) throw keyError('a JWK Set needs a "keys" array');
  const out: ImportedKey[] = [];
  for (const jwk of jwks.keys) {
    if (jwk === null || typeof jwk !== 'object' || jwk.use === 'enc') continue;
    if (jwk.kty === 'oct' && !allowSecrets) continue;
    try {
      out.push(importJwk(jwk));
    } catch {
      // an unusable key is skipped
    }
  }
  return out;
}

/** Wraps a secret KeyObject for the twin's HMAC (node:crypto createHmac accepts a KeyObject). */
export const secretKeyObject = (key: ImportedKey): KeyObject => createSecretKey(key.data);
