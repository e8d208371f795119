// Differential test of the JWT verifier (docs/jwt.md section 7): thousands of tokens made from valid ones by
// seeded mutations (bit flips, re-encodings, header and claim edits, re-signing with wrong keys) are
// verified by the native verifier (cache on and off), the JS twin and jose. Rules:
//   * native and the twin give the same verdict and the same reason for every token;
//   * whatever we accept, jose accepts (we are never more lenient);
//   * where jose accepts and we refuse, the token breaks one of our documented stricter rules, checked here
//     independently of the verifier: non-canonical base64url (padding, whitespace, other characters, non-zero
//     unused bits: jose's decoder is lenient), invalid UTF-8 (jose decodes with replacement), a duplicate
//     member name (JSON.parse keeps the last), a registered claim of the wrong type (sub, scope, scp, aud
//     elements: jose reads only what its options ask for), nesting deeper than 64, a b64 header other than
//     true outside crit (jose ignores it), a kid or typ header that is not a string.
import { createHmac, createPrivateKey, createPublicKey, sign, constants, type KeyObject } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import { CachingCore, createJwtCore, jwtPolicy, type JwtAlgorithm, type JwtVerifierOptions } from '../../src/jwt/index.js';
import { checkJson } from '../../src/jwt/js.js';
import { importKey } from '../../src/jwt/keys.js';
import { uniform } from './helpers/prng.js';

const priv = JSON.parse(readFileSync(fileURLToPath(new URL('../vectors/jwt/private-keys.json', import.meta.url)), 'utf8')) as Record<string, { pem?: string; secret?: string }>;
const SECRET = Buffer.from(priv.hs!.secret!, 'base64url');
const pk = (id: string) => createPrivateKey(priv[id]!.pem!);
const pub = (id: string) => createPublicKey(pk(id));
const NOW = 1700000000;

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
function signInput(alg: string, input: string, keyId?: string): Buffer {
  const data = Buffer.from(input, 'latin1');
  const bits = alg.slice(2);
  if (alg.startsWith('HS')) return createHmac(HASH[bits]!, keyId === 'hs-other' ? Buffer.from(priv['hs-other']!.secret!, 'base64url') : SECRET).update(data).digest();
  if (alg.startsWith('RS')) return sign(HASH[bits]!, data, pk(keyId ?? 'rsa'));
  if (alg.startsWith('PS')) return sign(HASH[bits]!, data, { key: pk(keyId ?? 'rsa'), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  if (alg === 'ES256') return sign('sha256', data, { key: pk(keyId ?? 'ec256'), dsaEncoding: 'ieee-p1363' });
  if (alg === 'ES384') return sign('sha384', data, { key: pk(keyId ?? 'ec384'), dsaEncoding: 'ieee-p1363' });
  return sign(null, data, pk(keyId ?? 'ed25519'));
}
const make = (header: object | string, payload: object | string, alg: string, keyId?: string): string => {
  const enc = (p: object | string) => b64u(typeof p === 'string' ? p : JSON.stringify(p));
  const input = `${enc(header)}.${enc(payload)}`;
  return `${input}.${b64u(signInput(alg, input, keyId))}`;
};

const ALGS: JwtAlgorithm[] = ['HS256', 'HS384', 'HS512', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
const options: JwtVerifierOptions = { algorithms: ALGS, audience: 'https://mcp.example/mcp', issuer: 'https://issuer.example' };
const keys = [
  importKey({ secret: SECRET }),
  importKey({ key: pub('rsa') }),
  importKey({ key: pub('ec256') }),
  importKey({ key: pub('ec384') }),
  importKey({ key: pub('ed25519') }),
];
const joseKey = (alg: string): KeyObject | Uint8Array =>
  alg.startsWith('HS') ? SECRET : alg.startsWith('RS') || alg.startsWith('PS') ? pub('rsa') : alg === 'ES256' ? pub('ec256') : alg === 'ES384' ? pub('ec384') : pub('ed25519');

async function joseVerdict(token: string): Promise<boolean> {
  try {
    await jose.jwtVerify(token, async (header) => joseKey(String(header.alg)), {
      algorithms: ALGS,
      audience: 'https://mcp.example/mcp',
      issuer: 'https://issuer.example',
      requiredClaims: ['exp'],
      currentDate: new Date(NOW * 1000),
    });
    return true;
  } catch {
    return false;
  }
}

/** The stricter rules of ours that jose does not apply, evaluated on the token itself. */
function stricter(token: string): Set<string> {
  const out = new Set<string>();
  const parts = token.split('.');
  if (parts.length !== 3) return out;
  for (const s of parts) {
    if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) out.add('malformed');
    else if (b64u(Buffer.from(s, 'base64url')) !== s) out.add('malformed'); // non-canonical unused bits
  }
  for (const s of parts.slice(0, 2)) {
    const bytes = Buffer.from(s.replace(/[^A-Za-z0-9_-]/g, ''), 'base64url');
    if (!isUtf8(bytes)) {
      out.add('malformed');
      continue;
    }
    const check = checkJson(bytes.toString('utf8'));
    if (check === 'duplicate_key') out.add('duplicate_key');
    if (check === 'malformed') out.add('malformed'); // deeper than 64 (JSON.parse has no depth limit)
  }
  try {
    // b64 other than true without crit: jose ignores it (RFC 7797 says b64 must be listed in crit); we refuse
    // a header that asks for an unencoded payload in any form.
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    if ('b64' in header && header.b64 !== true) out.add('b64_unsupported');
    // kid and typ must be strings when present (jose reads typ only when asked to check it).
    if (('typ' in header && typeof header.typ !== 'string') || ('kid' in header && typeof header.kid !== 'string')) out.add('malformed');
  } catch {
    // not JSON: covered above
  }
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const isStrArr = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
    if (('sub' in claims && typeof claims.sub !== 'string') || ('scope' in claims && typeof claims.scope !== 'string') ||
      ('scp' in claims && typeof claims.scp !== 'string' && !isStrArr(claims.scp)) || ('aud' in claims && typeof claims.aud !== 'string' && !isStrArr(claims.aud))) {
      out.add('invalid_claim');
    }
  } catch {
    // not JSON: covered above
  }
  return out;
}

// ---- token generation -----------------------------------------------------------------------------------
function baseClaims(rand: () => number): Record<string, unknown> {
  return {
    iss: 'https://issuer.example',
    sub: `user-${Math.floor(rand() * 1000)}`,
    aud: rand() < 0.5 ? 'https://mcp.example/mcp' : ['https://x.example', 'https://mcp.example/mcp'],
    iat: NOW - Math.floor(rand() * 100),
    exp: NOW + 1 + Math.floor(rand() * 3600),
    scope: 'tools:read tools:call',
  };
}

function mutate(rand: () => number, alg: string, claims: Record<string, unknown>): string {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const valid = make({ alg, typ: 'JWT' }, claims, alg);
  const [h, p, s] = valid.split('.') as [string, string, string];
  switch (Math.floor(rand() * 16)) {
    case 0:
      return valid;
    case 1: {
      // flip one bit of one character
      const i = Math.floor(rand() * valid.length);
      return valid.slice(0, i) + String.fromCharCode(valid.charCodeAt(i) ^ (1 << Math.floor(rand() * 7))) + valid.slice(i + 1);
    }
    case 2: {
      // flip one bit of the decoded payload and re-encode (unsigned change)
      const bytes = Buffer.from(p, 'base64url');
      bytes[Math.floor(rand() * bytes.length)]! ^= 1 << Math.floor(rand() * 8);
      return `${h}.${b64u(bytes)}.${s}`;
    }
    case 3: // standard base64 / padding re-encodings
      return pick([`${h}.${Buffer.from(p, 'base64url').toString('base64')}.${s}`, `${h}.${p}=.${s}`, `${h}.${p}.${s}==`, `${h}. ${p}.${s}`, `${h}.${p}\n.${s}`, `${h}.${p}.${Buffer.from(s, 'base64url').toString('base64')}`]);
    case 4: // header edits, re-signed
      return make(pick([{ alg, crit: ['exp'] }, { alg, b64: false }, { alg, b64: true }, { alg, kid: 'k' }, { alg: 'none' }, { alg: alg.toLowerCase() }, { alg, typ: 7 }, { typ: 'JWT' }]), claims, alg);
    case 5: // duplicate names, raw JSON
      return make(pick([`{"alg":"${alg}","alg":"${alg}"}`, `{"alg":"${alg}","\\u0061lg":"${alg}"}`, `{"alg":"${alg}"}`]), pick([`{"exp":${NOW + 60},"iss":"https://issuer.example","aud":"https://mcp.example/mcp","exp":${NOW + 61}}`, `{"exp":${NOW + 60},"iss":"https://issuer.example","aud":"https://mcp.example/mcp","x":{"a":1,"a":2}}`, JSON.stringify(claims)]), alg);
    case 6: // claim edits, re-signed
      return make({ alg }, { ...claims, ...pick([{ exp: NOW - 1 }, { exp: NOW }, { exp: String(NOW + 60) }, { nbf: NOW + 10 }, { nbf: NOW - 10 }, { aud: 'https://other.example' }, { aud: ['a', 1] }, { iss: 'https://evil.example' }, { sub: 5 }, { scope: ['a'] }, { scp: ['a', 'b'] }, { scp: 3 }, { exp: undefined }, { iat: 'x' }, { exp: 1e400 }]) }, alg);
    case 7: // re-signed with a wrong key of the same family
      return make({ alg }, claims, alg, alg.startsWith('HS') ? 'hs-other' : alg.startsWith('RS') || alg.startsWith('PS') ? 'rsa-other' : alg === 'ES256' ? 'ec256-other' : alg === 'ES384' ? 'ec256-other' : 'rsa');
    case 8: {
      // key confusion: HS256 over the public key bytes
      const input = `${b64u(JSON.stringify({ alg: 'HS256' }))}.${b64u(JSON.stringify(claims))}`;
      const mat = pick([pub('rsa').export({ type: 'spki', format: 'pem' }) as string, pub('ec256').export({ type: 'spki', format: 'der' })]);
      return `${input}.${b64u(createHmac('sha256', mat).update(input).digest())}`;
    }
    case 9: // ECDSA DER signature / truncated signature
      return alg.startsWith('ES') ? `${h}.${p}.${b64u(sign(alg === 'ES256' ? 'sha256' : 'sha384', Buffer.from(`${h}.${p}`), pk(alg === 'ES256' ? 'ec256' : 'ec384')))}` : `${h}.${p}.${s.slice(0, -4)}`;
    case 10: // structure
      return pick([`${h}.${p}`, `${valid}.${s}`, `${h}..${s}`, `.${p}.${s}`, '', `${p}.${h}.${s}`]);
    case 11: // non-object or odd payloads, signed
      return make({ alg }, pick(['[1]', '"x"', '42', 'null', '{"exp":1e999}', `{"exp":${NOW + 60}}`, `{"exp":${NOW + 60},"aud":"https://mcp.example/mcp","iss":"https://issuer.example","d":${'['.repeat(70)}${']'.repeat(70)}}`]), alg);
    case 12: // invalid UTF-8 in a signed payload
      return (() => {
        const bad = Buffer.concat([Buffer.from(`{"exp":${NOW + 60},"aud":"https://mcp.example/mcp","iss":"https://issuer.example","x":"`), Buffer.from([pick([0xff, 0xc3, 0xed]), 0x80]), Buffer.from('"}')]);
        const input = `${b64u(JSON.stringify({ alg }))}.${b64u(bad)}`;
        return `${input}.${b64u(signInput(alg, input))}`;
      })();
    case 13: // unused-bit tweak of the last character
      return (() => {
        const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = a.indexOf(s[s.length - 1]!);
        return `${h}.${p}.${s.slice(0, -1)}${a[last ^ 1]}`;
      })();
    case 14: // a different algorithm label on a valid signature
      return make({ alg: pick(ALGS) }, claims, alg);
    default: // whitespace in JSON and escaped names (valid, re-signed)
      return make(` { "alg" : "${alg}" } `, `{ "exp" : ${NOW + 60}, "iss":"https:\\/\\/issuer.example", "aud" : "https://mcp.example/mcp" }`, alg);
  }
}

describe('jwt differential: native vs twin vs jose', () => {
  it('agrees on thousands of mutated tokens', async () => {
    const rand = uniform(0x5eed1234);
    const policy = jwtPolicy(options);
    const nativeCached = new CachingCore(createJwtCore(policy, 'native'), policy.cacheSize);
    const nativeCold = createJwtCore(policy, 'native');
    const twin = createJwtCore(policy, 'js');
    for (const c of [nativeCached, nativeCold, twin]) c.setKeys(keys);
    const tally = { total: 0, accepted: 0, stricter: 0 };
    const algWeights = ['HS256', 'HS256', 'HS256', 'HS384', 'HS512', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
    for (let i = 0; i < 3000; i++) {
      const alg = algWeights[Math.floor(rand() * algWeights.length)]!;
      const token = mutate(rand, alg, baseClaims(rand));
      const a = nativeCached.verify(token, NOW);
      const a2 = nativeCached.verify(token, NOW);
      const b = nativeCold.verify(token, NOW);
      const c = twin.verify(token, NOW);
      const verdict = (r: typeof a) => (r.ok ? 'ok' : r.reason);
      const ctx = `token #${i} ${JSON.stringify(token.slice(0, 200))}`;
      expect(verdict(a), ctx).toBe(verdict(c));
      expect(verdict(a2), ctx).toBe(verdict(c));
      expect(verdict(b), ctx).toBe(verdict(c));
      // Read through the getters: a native principal parses its payload on first read.
      const view = (r: typeof a) => (r.ok ? { subject: r.principal.subject, scopes: r.principal.scopes, expiresAt: r.principal.expiresAt, claims: r.principal.claims } : r);
      if (a.ok && c.ok) expect(view(a), ctx).toEqual(view(c));
      const j = await joseVerdict(token);
      tally.total++;
      if (a.ok) {
        tally.accepted++;
        expect(j, `we accept what jose refuses: ${ctx}`).toBe(true);
      } else if (j) {
        tally.stricter++;
        // Our stricter rule, stated: the refusal must be one of the documented differences.
        expect([...stricter(token)], `jose accepts, we refuse with ${a.reason}: ${ctx}`).toContain(a.reason);
      }
    }
    expect(tally.total).toBe(3000);
    expect(tally.accepted).toBeGreaterThan(200);
    expect(tally.stricter).toBeGreaterThan(10);
  }, 60_000);
});
