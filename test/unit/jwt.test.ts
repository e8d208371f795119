// The JWT verifier (docs/jwt.md): every shared vector (test/vectors/jwt/) against the native verifier and
// the JS twin, key import rules, the cache, the public API and the JWKS URL source (local http server).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, createPrivateKey, createPublicKey, sign, type JsonWebKey } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native.js';
import { CachingCore, JWT_REASONS, createJwtCore, createJwtVerifier, jwtPolicy, type JwtAlgorithm, type JwtVerifierOptions } from '../../src/jwt/index.js';
import { importKey, type ImportedKey, type JwtKeyInput } from '../../src/jwt/keys.js';

const dir = fileURLToPath(new URL('../vectors/jwt/', import.meta.url));
type KeyDef = { kind: 'hmac' | 'spki'; kid: string | null; secretBase64?: string; pem?: string; jwk?: JsonWebKey; derBase64?: string };
const keys = JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8')) as Record<string, KeyDef>;
const priv = JSON.parse(readFileSync(join(dir, 'private-keys.json'), 'utf8')) as Record<string, { pem?: string; secret?: string }>;
interface Vector {
  name: string;
  description: string;
  token: string;
  now: number;
  keys: string[];
  policy: { algorithms: JwtAlgorithm[]; issuers?: string[]; audiences?: string[]; requiredClaims?: string[]; typ?: string; clockTolerance?: number; maxTokenAge?: number; maxTokenBytes?: number; requireExp?: boolean };
  expect: { ok: true; sub: string | null; scopes: string[]; exp: number | null } | { ok: false; reason: string };
}
const vectors: Vector[] = readdirSync(dir)
  .filter((f) => /^[yn]_.*\.json$/.test(f))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Vector);

const IMPLS = ['native', 'js'] as const;
const native = loadNative();

/** A vector key as a public-API key input; spki keys alternate between PEM, JWK and DER forms. */
function keyInput(id: string, form: number): JwtKeyInput {
  const k = keys[id]!;
  const kid = k.kid ?? undefined;
  if (k.kind === 'hmac') return { kid, secret: Buffer.from(k.secretBase64!, 'base64') };
  if (form % 3 === 0) return { kid, key: k.pem! };
  if (form % 3 === 1) return { kid, key: k.jwk! };
  return { kid, key: Buffer.from(k.derBase64!, 'base64') };
}

function optionsOf(v: Vector): JwtVerifierOptions {
  const p = v.policy;
  return {
    algorithms: p.algorithms,
    issuer: p.issuers,
    audience: p.audiences,
    requiredClaims: p.requiredClaims,
    typ: p.typ,
    clockTolerance: p.clockTolerance,
    maxTokenAge: p.maxTokenAge,
    maxTokenBytes: p.maxTokenBytes,
    requireExp: p.requireExp,
  };
}

function coreFor(v: Vector, impl: 'native' | 'js', cacheSize: number, form = 0) {
  const core = new CachingCore(createJwtCore(jwtPolicy(optionsOf(v)), impl), cacheSize);
  core.setKeys(v.keys.map((id, i): ImportedKey => importKey(keyInput(id, form + i))));
  return core;
}

describe('jwt: the native addon', () => {
  it('loads with the JwtVerifier class and the same reason table', () => {
    expect(native).not.toBeNull();
    expect(native!.jwtReasons).toEqual([...JWT_REASONS]);
  });
});

for (const impl of IMPLS) {
  describe(`jwt vectors (${impl})`, () => {
    it('has vectors for every reason and every algorithm', () => {
      const reasons = new Set(vectors.filter((v) => !v.expect.ok).map((v) => (v.expect as { reason: string }).reason));
      expect([...reasons].sort()).toEqual(JWT_REASONS.filter((r) => r !== 'ok').sort());
      const algs = new Set(vectors.filter((v) => v.expect.ok).map((v) => JSON.parse(Buffer.from(v.token.split('.')[0]!, 'base64url').toString()).alg));
      expect([...algs].sort()).toEqual(['ES256', 'ES384', 'EdDSA', 'HS256', 'HS384', 'HS512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512']);
    });
    for (const v of vectors) {
      it(`${v.name}: ${v.description}`, () => {
        for (const [cacheSize, form] of [[16, 0], [0, 1], [16, 2]] as const) {
          const core = coreFor(v, impl, cacheSize, form);
          for (let run = 0; run < (v.expect.ok ? 2 : 1); run++) {
            const r = core.verify(v.token, v.now);
            if (v.expect.ok) {
              expect(r.ok ? 'ok' : r.reason).toBe('ok');
              if (!r.ok) return;
              expect(r.principal.subject ?? null).toBe(v.expect.sub);
              expect(r.principal.scopes).toEqual(v.expect.scopes);
              expect(r.principal.expiresAt ?? null).toBe(v.expect.exp);
              expect(Object.isFrozen(r.principal.claims)).toBe(true);
            } else {
              expect(r.ok ? 'ok' : r.reason).toBe(v.expect.reason);
              if (!r.ok) {
                expect(r.message).not.toContain(v.token.slice(0, 20) || '\u0000');
                expect(r.message.length).toBeGreaterThan(10);
              }
            }
          }
        }
      });
    }
  });
}

describe('jwt key import', () => {
  const rejected = JSON.parse(readFileSync(join(dir, 'keys-rejected.json'), 'utf8')) as { name: string; kind: string; secretBase64?: string; derBase64?: string }[];
  for (const r of rejected) {
    it(`refuses: ${r.name}`, () => {
      const input: JwtKeyInput = r.kind === 'hmac' ? { secret: Buffer.from(r.secretBase64!, 'base64') } : { key: Buffer.from(r.derBase64!, 'base64') };
      expect(() => importKey(input)).toThrow(/Invalid JWT key/);
      if (native !== null) {
        // The native core applies the same rules when handed the bytes directly.
        const core = createJwtCore(jwtPolicy({ algorithms: ['HS256'] }), 'native');
        const data = Buffer.from((r.secretBase64 ?? r.derBase64)!, 'base64');
        expect(() => core.setKeys([{ kid: null, kind: 'hmac', hmac: r.kind === 'hmac', data, algorithms: r.kind === 'hmac' ? 7 : 0, keyObject: null, modulusBytes: 0 }])).toThrow(/Invalid JWT key/);
      }
    });
  }
  it('refuses a PEM public key given as an HMAC string secret, and "none" as an algorithm', () => {
    expect(() => createJwtVerifier({ algorithms: ['HS256'], secret: keys.rsa!.pem! })).toThrow(/key-confusion/);
    expect(() => createJwtVerifier({ algorithms: ['none' as JwtAlgorithm], secret: 'x'.repeat(32) })).toThrow(/never accepted/);
    expect(() => createJwtVerifier({ algorithms: [], secret: 'x'.repeat(32) })).toThrow(/algorithms is required/);
    expect(() => importKey({ key: keys.rsa!.pem!, alg: 'ES256' })).toThrow(/does not fit/);
  });
  it('accepts a private key PEM (uses its public half) and a JWKS with skipped encryption keys', () => {
    const k = importKey({ key: priv.ec256!.pem! });
    expect(k.kind).toBe('ec256');
    const v = createJwtVerifier({ algorithms: ['EdDSA'], jwks: { keys: [{ ...keys.ed25519!.jwk, kid: 'ed1' }, { ...keys.rsa!.jwk, use: 'enc', kid: 'x' }] } });
    expect(v.cacheEntries()).toBe(0);
  });
});

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');
function hs256(payload: object, secret: string, header: object = { alg: 'HS256' }): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${b64u(createHmac('sha256', secret).update(input).digest())}`;
}
function signToken(alg: 'ES256' | 'RS256', keyId: string, payload: object, kid?: string): string {
  const input = `${b64u(JSON.stringify({ alg, kid }))}.${b64u(JSON.stringify(payload))}`;
  const key = createPrivateKey(priv[keyId]!.pem!);
  const sig = alg === 'ES256' ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(input), key);
  return `${input}.${b64u(sig)}`;
}
const SECRET = 'a-test-secret-of-32-bytes-length!';

for (const impl of IMPLS) {
  describe(`jwt public API (${impl})`, () => {
    it('returns the same frozen result for a cached token, and a new one after clearCache', () => {
      const v = createJwtVerifier({ algorithms: ['HS256'], secret: SECRET, implementation: impl, audience: 'https://mcp.example/mcp' });
      expect(v.implementation).toBe(impl);
      const t = hs256({ sub: 'u', exp: 2000, aud: 'https://mcp.example/mcp', scope: 'a b' }, SECRET);
      const a = v.verify(t, 1000);
      const b = v.verify(t, 1001);
      expect(a.ok && b.ok).toBe(true);
      expect(b).toBe(a);
      expect(v.cacheEntries()).toBe(1);
      expect(v.verify(t, 2000)).toMatchObject({ ok: false, reason: 'expired' });
      v.clearCache();
      const c = v.verify(t, 1000);
      expect(c).not.toBe(a);
      // Read through the getters (a native principal parses its payload on first read).
      const view = (r: typeof a) => (r.ok ? { ...r.principal, claims: r.principal.claims, subject: r.principal.subject, scopes: r.principal.scopes, expiresAt: r.principal.expiresAt } : r);
      expect(view(c)).toEqual(view(a));
      expect(view(a)).toMatchObject({ subject: 'u', scopes: ['a', 'b'], expiresAt: 2000 });
      expect(() => v.verify(t, Number.NaN)).toThrow(/nowSeconds/);
    });
    it('evicts the least recently used entry', () => {
      const v = createJwtVerifier({ algorithms: ['HS256'], secret: SECRET, implementation: impl, cacheSize: 2 });
      const t = [1, 2, 3].map((i) => hs256({ sub: `u${i}`, exp: 2000 }, SECRET));
      const r1 = v.verify(t[0]!, 1000);
      v.verify(t[1]!, 1000);
      expect(v.verify(t[0]!, 1000)).toBe(r1);
      v.verify(t[2]!, 1000); // evicts t[1]
      expect(v.cacheEntries()).toBe(2);
      expect(v.verify(t[0]!, 1000)).toBe(r1);
    });
    it('uses the wall clock when no time is given', () => {
      const v = createJwtVerifier({ algorithms: ['HS256'], secret: SECRET, implementation: impl });
      const now = Math.floor(Date.now() / 1000);
      expect(v.verify(hs256({ exp: now + 60 }, SECRET)).ok).toBe(true);
      expect(v.verify(hs256({ exp: now - 60 }, SECRET))).toMatchObject({ ok: false, reason: 'expired' });
    });
    it('refuses non-string tokens as malformed and oversized ones before parsing', () => {
      const v = createJwtVerifier({ algorithms: ['HS256'], secret: SECRET, implementation: impl, maxTokenBytes: 64 });
      expect(v.verify('x'.repeat(65), 1)).toMatchObject({ reason: 'too_large' });
      expect(v.verify('é'.repeat(40), 1)).toMatchObject({ reason: 'too_large' }); // 80 bytes in UTF-8
      expect(v.verify('é.é.é', 1)).toMatchObject({ reason: 'malformed' });
    });

    describe('JWKS URL', () => {
      let server: Server;
      let url = '';
      let body = '';
      let status = 200;
      let hits = 0;
      beforeAll(async () => {
        server = createServer((_req, res) => {
          hits++;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(body);
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
      });
      afterAll(() => new Promise<void>((r) => server.close(() => r())));
      const jwk = (id: string, kid: string) => ({ ...keys[id]!.jwk, kid, alg: id.startsWith('ec') ? 'ES256' : 'RS256' });

      it('fetches, selects by kid, refetches an unknown kid after the cooldown, keeps the set on failure until it expires', async () => {
        let clock = 0;
        hits = 0;
        status = 200;
        body = JSON.stringify({ keys: [jwk('ec256', 'ec1'), jwk('rsa', 'rsa1'), { kty: 'oct', k: 'c2VjcmV0', kid: 'leak' }] });
        const v = createJwtVerifier({ algorithms: ['ES256', 'RS256', 'HS256'], implementation: impl, jwksUrl: { url, now: () => clock, maxAge: 100_000, cooldown: 10_000 } });
        await v.ready();
        expect(hits).toBe(1);
        expect(v.verify(signToken('ES256', 'ec256', { sub: 's', exp: 2000 }, 'ec1'), 1000).ok).toBe(true);
        expect(v.verify(signToken('RS256', 'rsa', { sub: 's', exp: 2000 }, 'rsa1'), 1000).ok).toBe(true);
        // oct keys from a URL are never used (a public JWKS must not carry secrets).
        expect(v.verify(hs256({ exp: 2000 }, 'secret', { alg: 'HS256', kid: 'leak' }), 1000)).toMatchObject({ reason: 'unknown_kid' });
        // Rotation: the issuer adds ec2. Within the cooldown, no refetch.
        body = JSON.stringify({ keys: [jwk('ec256', 'ec1'), jwk('ec256-other', 'ec2')] });
        const rotated = signToken('ES256', 'ec256-other', { exp: 2000 }, 'ec2');
        clock = 5_000;
        expect(await v.verifyAsync(rotated, 1000)).toMatchObject({ reason: 'unknown_kid' });
        expect(hits).toBe(1);
        clock = 20_000;
        expect((await v.verifyAsync(rotated, 1000)).ok).toBe(true);
        expect(hits).toBe(2);
        // The issuer fails: the last good set stays until it expires (maxAge after the last success).
        status = 500;
        clock = 80_000; // past maxAge/2: a background refresh is attempted and fails
        expect(v.verify(rotated, 1000).ok).toBe(true);
        await new Promise((r) => setTimeout(r, 50));
        expect(hits).toBe(3);
        clock = 119_000;
        expect(v.verify(rotated, 1000).ok).toBe(true);
        clock = 121_000; // expired: the set is dropped
        expect(v.verify(signToken('ES256', 'ec256', { exp: 2000 }, 'ec1'), 1000)).toMatchObject({ ok: false, reason: 'unknown_kid' });
      });
      it('uses an injected fetch', async () => {
        let calls = 0;
        const v = createJwtVerifier({
          algorithms: ['ES256'],
          implementation: impl,
          jwksUrl: { url: 'https://issuer.example/jwks', fetch: async () => (calls++, { ok: true, status: 200, text: async () => JSON.stringify({ keys: [jwk('ec256', 'ec1')] }) }) },
        });
        expect((await v.verifyAsync(signToken('ES256', 'ec256', { exp: 2000 }, 'ec1'), 1000)).ok).toBe(true);
        expect(calls).toBe(1);
      });
    });
  });
}

describe('jwt public key shapes', () => {
  it('DER SPKI and KeyObject inputs verify like PEM', () => {
    const t = signToken('RS256', 'rsa', { exp: 2000 });
    for (const key of [keys.rsa!.pem!, Buffer.from(keys.rsa!.derBase64!, 'base64'), createPublicKey(keys.rsa!.pem!), keys.rsa!.jwk!]) {
      for (const impl of IMPLS) expect(createJwtVerifier({ algorithms: ['RS256'], keys: [{ key }], implementation: impl }).verify(t, 1000).ok).toBe(true);
    }
  });
});
