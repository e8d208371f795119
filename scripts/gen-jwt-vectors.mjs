// Generates the shared JWT vectors (test/vectors/jwt/, docs/jwt.md section 7) with node:crypto only.
//   node scripts/gen-jwt-vectors.mjs              rewrite the vectors from the committed keys
//   node scripts/gen-jwt-vectors.mjs --new-keys   also make new keys (then commit keys.json and private-keys.json)
// The clock is fixed (NOW); HMAC, RS* and EdDSA signatures are deterministic, so those tokens come out
// byte for byte the same; PS* and ES* signatures are randomised by the algorithms themselves, so their
// tokens change on each run while every verdict stays the same.
//
// Files: keys.json (public keys as PEM, JWK and DER SPKI; HMAC secrets), private-keys.json (PEM, for this
// script and test/unit/jwt-differential.test.ts), keys-rejected.json (key material the verifier must refuse
// to import), and one file per token case, y_<name>.json (accepted) or n_<name>.json (refused):
//   { "name", "description", "token", "now", "keys": [key ids], "policy": {...}, "expect": {...} }
import { constants, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../test/vectors/jwt/', import.meta.url));
mkdirSync(dir, { recursive: true });
export const NOW = 1700000000;
const b64u = (buf) => Buffer.from(buf).toString('base64url');

// ---- keys -----------------------------------------------------------------------------------------------
const privPath = join(dir, 'private-keys.json');
let priv;
if (process.argv.includes('--new-keys') || !existsSync(privPath)) {
  const pem = (k) => k.export({ type: 'pkcs8', format: 'pem' });
  const rsa = () => pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  priv = {
    'hs': { secret: b64u(randomBytes(32)) },
    'hs-long': { secret: b64u(randomBytes(200)) },
    'hs-other': { secret: b64u(randomBytes(32)) },
    'rsa': { pem: rsa() },
    'rsa-other': { pem: rsa() },
    'rsa-1024': { pem: pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey) },
    'ec256': { pem: pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey) },
    'ec256-other': { pem: pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey) },
    'ec384': { pem: pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey) },
    'secp256k1': { pem: pem(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey) },
    'ed25519': { pem: pem(generateKeyPairSync('ed25519').privateKey) },
  };
  writeFileSync(privPath, JSON.stringify(priv, null, 2) + '\n');
} else {
  priv = JSON.parse(readFileSync(privPath, 'utf8'));
}
const privateKey = (id) => createPrivateKey(priv[id].pem);
const secret = (id) => Buffer.from(priv[id].secret, 'base64url');

// The key set the vectors reference: kid (null: the key has none), and the material.
const keyDefs = {
  'hs': { source: 'hs', kid: 'hs1' },
  'hs-nokid': { source: 'hs', kid: null },
  'hs-long': { source: 'hs-long', kid: 'hs-long' },
  'hs-other': { source: 'hs-other', kid: 'hs1' },
  'rsa': { source: 'rsa', kid: 'rsa1' },
  'rsa-nokid': { source: 'rsa', kid: null },
  'rsa-other': { source: 'rsa-other', kid: 'rsa2' },
  'ec256': { source: 'ec256', kid: 'ec1' },
  'ec256-other': { source: 'ec256-other', kid: 'ec2' },
  'ec384': { source: 'ec384', kid: 'ec384' },
  'ed25519': { source: 'ed25519', kid: 'ed1' },
};
const keys = {};
for (const [id, def] of Object.entries(keyDefs)) {
  const p = priv[def.source];
  if (p.secret) {
    keys[id] = { kind: 'hmac', kid: def.kid, secretBase64: secret(def.source).toString('base64') };
  } else {
    const pub = createPublicKey(createPrivateKey(p.pem));
    keys[id] = {
      kind: 'spki',
      kid: def.kid,
      pem: pub.export({ type: 'spki', format: 'pem' }),
      jwk: pub.export({ format: 'jwk' }),
      derBase64: pub.export({ type: 'spki', format: 'der' }).toString('base64'),
    };
  }
}
writeFileSync(join(dir, 'keys.json'), JSON.stringify(keys, null, 2) + '\n');

const spkiOf = (id) => createPublicKey(createPrivateKey(priv[id].pem));
const rejected = [
  { name: 'empty HMAC secret', kind: 'hmac', secretBase64: '' },
  { name: 'HMAC secret that is a PEM public key', kind: 'hmac', secretBase64: Buffer.from(spkiOf('rsa').export({ type: 'spki', format: 'pem' })).toString('base64') },
  { name: 'HMAC secret that is a DER SPKI public key', kind: 'hmac', secretBase64: spkiOf('ec256').export({ type: 'spki', format: 'der' }).toString('base64') },
  { name: 'HMAC secret that is a JWK public key', kind: 'hmac', secretBase64: Buffer.from(JSON.stringify(spkiOf('ed25519').export({ format: 'jwk' }))).toString('base64') },
  { name: 'RSA key under 2048 bits', kind: 'spki', derBase64: spkiOf('rsa-1024').export({ type: 'spki', format: 'der' }).toString('base64') },
  { name: 'EC key on secp256k1', kind: 'spki', derBase64: spkiOf('secp256k1').export({ type: 'spki', format: 'der' }).toString('base64') },
  { name: 'bytes that are not DER SPKI', kind: 'spki', derBase64: Buffer.from('not a key').toString('base64') },
];
writeFileSync(join(dir, 'keys-rejected.json'), JSON.stringify(rejected, null, 2) + '\n');

// ---- token making ---------------------------------------------------------------------------------------
const HASH = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };
export function signWith(alg, keyId, input) {
  const data = Buffer.from(input);
  const bits = alg.slice(2);
  if (alg.startsWith('HS')) return createHmac(HASH[bits], secret(keyId)).update(data).digest();
  const key = privateKey(keyId);
  if (alg.startsWith('RS')) return sign(HASH[bits], data, key);
  if (alg.startsWith('PS')) return sign(HASH[bits], data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  if (alg.startsWith('ES')) return sign(HASH[bits], data, { key, dsaEncoding: 'ieee-p1363' });
  if (alg === 'EdDSA') return sign(null, data, key);
  throw new Error(`no signer for ${alg}`);
}
const enc = (part) => (typeof part === 'string' ? b64u(Buffer.from(part, 'utf8')) : Buffer.isBuffer(part) ? b64u(part) : b64u(Buffer.from(JSON.stringify(part))));
/** header/payload: object (JSON.stringify), string (raw JSON text) or Buffer (raw bytes). */
function token({ header, payload, alg = header.alg, signer }) {
  const input = `${enc(header)}.${enc(payload)}`;
  const sig = alg === 'none' ? Buffer.alloc(0) : signWith(alg, signer, input);
  return `${input}.${b64u(sig)}`;
}
const claims = (extra = {}) => ({ iss: 'https://issuer.example', sub: 'user-1', aud: 'https://mcp.example/mcp', iat: NOW - 60, exp: NOW + 3600, scope: 'tools:read tools:call', ...extra });
const basePolicy = { algorithms: ['HS256'] };

const cases = [];
function add(name, description, { token: t, keys: k = ['hs'], policy = basePolicy, now = NOW, expect }) {
  cases.push({ name, description, token: t, now, keys: k, policy, expect });
}
const ok = (payload, scopes = ['tools:read', 'tools:call']) => ({ ok: true, sub: payload.sub ?? null, scopes, exp: payload.exp ?? null });
const no = (reason) => ({ ok: false, reason });

// ---- accepted: one per algorithm, then policy features ----
const algKey = { HS256: 'hs', HS384: 'hs', HS512: 'hs', RS256: 'rsa', RS384: 'rsa', RS512: 'rsa', PS256: 'rsa', PS384: 'rsa', PS512: 'rsa', ES256: 'ec256', ES384: 'ec384', EdDSA: 'ed25519' };
for (const [alg, keyId] of Object.entries(algKey)) {
  const p = claims();
  add(`y_${alg.toLowerCase()}`, `a valid ${alg} token`, { token: token({ header: { alg, typ: 'JWT', kid: keyDefs[keyId].kid }, payload: p, signer: keyDefs[keyId].source }), keys: [keyId], policy: { algorithms: [alg] }, expect: ok(p) });
}
{
  const p = claims();
  add('y_hs512_long_secret', 'HS512 with a 200-byte secret (longer than the block: hashed first)', { token: token({ header: { alg: 'HS512', kid: 'hs-long' }, payload: p, signer: 'hs-long' }), keys: ['hs-long'], policy: { algorithms: ['HS512'] }, expect: ok(p) });
  add('y_hs256_long_secret', 'HS256 with a 200-byte secret', { token: token({ header: { alg: 'HS256', kid: 'hs-long' }, payload: p, signer: 'hs-long' }), keys: ['hs-long'], policy: { algorithms: ['HS256'] }, expect: ok(p) });
  const all = ['HS256', 'RS256', 'ES256', 'EdDSA', 'PS256'];
  add('y_jwks_kid_selects', 'a key set of every type; the kid picks the EC key', { token: token({ header: { alg: 'ES256', kid: 'ec2' }, payload: p, signer: 'ec256-other' }), keys: ['rsa', 'ec256', 'ec256-other', 'ed25519', 'hs'], policy: { algorithms: all }, expect: ok(p) });
  add('y_no_kid_tries_family', 'no kid: every key of the family is tried (the second RSA key verifies)', { token: token({ header: { alg: 'RS256' }, payload: p, signer: 'rsa-other' }), keys: ['rsa', 'rsa-other', 'hs'], policy: { algorithms: ['RS256', 'HS256'] }, expect: ok(p) });
  add('y_kid_with_unnamed_key', 'the token has a kid, the only key has none: the key is used', { token: token({ header: { alg: 'RS256', kid: 'whatever' }, payload: p, signer: 'rsa' }), keys: ['rsa-nokid'], policy: { algorithms: ['RS256'] }, expect: ok(p) });
  add('y_policy_issuer_audience', 'issuer and audience (RFC 8707 resource) both match', { token: token({ header: { alg: 'HS256' }, payload: p, signer: 'hs' }), policy: { algorithms: ['HS256'], issuers: ['https://other.example', 'https://issuer.example'], audiences: ['https://mcp.example/mcp'] }, expect: ok(p) });
  const pa = claims({ aud: ['https://a.example', 'https://mcp.example/mcp'] });
  add('y_audience_array', 'aud is an array holding the resource', { token: token({ header: { alg: 'HS256' }, payload: pa, signer: 'hs' }), policy: { algorithms: ['HS256'], audiences: ['https://mcp.example/mcp'] }, expect: ok(pa) });
  add('y_typ_at_jwt', 'typ at+jwt (RFC 9068) required and present', { token: token({ header: { alg: 'HS256', typ: 'at+jwt' }, payload: p, signer: 'hs' }), policy: { algorithms: ['HS256'], typ: 'at+jwt' }, expect: ok(p) });
  add('y_typ_application_prefix', 'typ application/AT+JWT matches at+jwt (case-insensitive, prefix optional)', { token: token({ header: { alg: 'HS256', typ: 'application/AT+JWT' }, payload: p, signer: 'hs' }), policy: { algorithms: ['HS256'], typ: 'at+jwt' }, expect: ok(p) });
  const pe = claims({ exp: NOW - 5 });
  add('y_clock_tolerance', 'expired 5 s ago, tolerance 10 s', { token: token({ header: { alg: 'HS256' }, payload: pe, signer: 'hs' }), policy: { algorithms: ['HS256'], clockTolerance: 10 }, expect: ok(pe) });
  const pn = claims();
  delete pn.exp;
  add('y_no_exp_allowed', 'no exp, and the policy allows that', { token: token({ header: { alg: 'HS256' }, payload: pn, signer: 'hs' }), policy: { algorithms: ['HS256'], requireExp: false }, expect: ok(pn) });
  add('y_max_token_age', 'iat 60 s ago, max age 120 s', { token: token({ header: { alg: 'HS256' }, payload: p, signer: 'hs' }), policy: { algorithms: ['HS256'], maxTokenAge: 120 }, expect: ok(p) });
  const ps = claims({ scope: 'a b', scp: ['c', 'a'] });
  add('y_scope_and_scp', 'scopes from scope (string) and scp (array), de-duplicated in order', { token: token({ header: { alg: 'HS256' }, payload: ps, signer: 'hs' }), expect: ok(ps, ['a', 'b', 'c']) });
  const px = claims({ scope: undefined, scp: 'x  y' });
  add('y_scp_string', 'scp as a space-separated string (as some issuers send it)', { token: token({ header: { alg: 'HS256' }, payload: px, signer: 'hs' }), expect: ok(px, ['x', 'y']) });
  const pu = claims({ sub: 'üser-☃-𝄞', nested: { a: [1, { b: null }], c: 'd' }, 'x\u0000y': 1 });
  add('y_unicode_and_nested', 'non-ASCII strings, nested objects, an escaped NUL in a name', { token: token({ header: { alg: 'HS256' }, payload: pu, signer: 'hs' }), expect: ok(pu) });
  add('y_same_name_in_sibling_objects', 'the same name in two different objects is not a duplicate', { token: token({ header: { alg: 'HS256' }, payload: `{"sub":"u","exp":${NOW + 60},"a":{"k":1},"b":{"k":2}}`, signer: 'hs' }), expect: { ok: true, sub: 'u', scopes: [], exp: NOW + 60 } });
  add('y_json_whitespace', 'insignificant JSON whitespace in header and payload', { token: token({ header: ' {\n "alg" : "HS256" \t} ', payload: `{ "sub" : "u" , "exp" : ${NOW + 60} }\r\n`, alg: 'HS256', signer: 'hs' }), expect: { ok: true, sub: 'u', scopes: [], exp: NOW + 60 } });
  add('y_exp_float', 'exp as a fraction and in exponent form', { token: token({ header: { alg: 'HS256' }, payload: `{"exp":1.7000036e9,"nbf":1699999999.5}`, signer: 'hs' }), expect: { ok: true, sub: null, scopes: [], exp: 1700003600 } });
  add('y_required_claims', 'required claims present', { token: token({ header: { alg: 'HS256' }, payload: claims({ jti: 'id-1' }), signer: 'hs' }), policy: { algorithms: ['HS256'], requiredClaims: ['jti', 'sub'] }, expect: ok(claims()) });
  add('y_b64_true', 'b64: true (the default) is accepted', { token: token({ header: { alg: 'HS256', b64: true }, payload: p, signer: 'hs' }), expect: ok(p) });
}

// ---- refused ----
{
  const p = claims();
  const good = token({ header: { alg: 'HS256' }, payload: p, signer: 'hs' });
  const [h, pl, s] = good.split('.');
  add('n_too_large', 'a token longer than maxTokenBytes (default 8192)', { token: token({ header: { alg: 'HS256' }, payload: claims({ pad: 'x'.repeat(8200) }), signer: 'hs' }), expect: no('too_large') });
  add('n_too_large_small_limit', 'maxTokenBytes 100', { token: good, policy: { algorithms: ['HS256'], maxTokenBytes: 100 }, expect: no('too_large') });
  add('n_empty', 'an empty token', { token: '', expect: no('malformed') });
  add('n_two_segments', 'two segments', { token: `${h}.${pl}`, expect: no('malformed') });
  add('n_four_segments', 'four segments', { token: `${good}.${s}`, expect: no('malformed') });
  add('n_jwe_five_segments', 'a JWE-shaped token', { token: `${h}..${pl}.${s}.${s}`, expect: no('malformed') });
  add('n_padding_payload', '= padding in the payload segment', { token: `${h}.${pl}${'='.repeat((4 - (pl.length % 4)) % 4 || 1)}.${s}`, expect: no('malformed') });
  add('n_padding_signature', '= padding in the signature segment', { token: `${h}.${pl}.${s}=`, expect: no('malformed') });
  add('n_whitespace_in_segment', 'a space inside the payload segment', { token: `${h}.${pl.slice(0, 10)} ${pl.slice(10)}.${s}`, expect: no('malformed') });
  add('n_newline_in_segment', 'a newline inside the signature segment', { token: `${h}.${pl}.${s.slice(0, 5)}\n${s.slice(5)}`, expect: no('malformed') });
  add('n_leading_space', 'a space before the token', { token: ` ${good}`, expect: no('malformed') });
  add('n_standard_base64_chars', '+ and / (standard base64) in a segment', { token: `${h}.${pl}.${s.replace(/-|_/g, '+').replace(/^./, '/')}`, expect: no('malformed') });
  // Non-canonical: flip the unused low bits of the last character of the signature (43 chars: 2 unused bits).
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(s[s.length - 1]);
  add('n_noncanonical_base64', 'non-zero unused bits in the last base64url character', { token: `${h}.${pl}.${s.slice(0, -1)}${alphabet[last | 1]}`, expect: no('malformed') });
  add('n_segment_length_4n_plus_1', 'a segment of length 4n+1', { token: `${h}.${pl}.${s}AA`, expect: no('malformed') });
  add('n_header_not_json', 'the header is not JSON', { token: token({ header: 'alg=HS256', payload: p, alg: 'HS256', signer: 'hs' }), expect: no('malformed') });
  add('n_header_array', 'the header is a JSON array', { token: token({ header: '["alg","HS256"]', payload: p, alg: 'HS256', signer: 'hs' }), expect: no('malformed') });
  add('n_header_trailing_comma', 'a trailing comma in the header', { token: token({ header: '{"alg":"HS256",}', payload: p, alg: 'HS256', signer: 'hs' }), expect: no('malformed') });
  add('n_header_invalid_utf8', 'invalid UTF-8 in the header', { token: token({ header: Buffer.from('{"alg":"HS256","x":"\xff"}', 'latin1'), payload: p, alg: 'HS256', signer: 'hs' }), expect: no('malformed') });
  add('n_header_alg_missing', 'no alg', { token: token({ header: { typ: 'JWT' }, payload: p, alg: 'HS256', signer: 'hs' }), expect: no('malformed') });
  add('n_header_alg_not_string', 'alg is a number', { token: token({ header: { alg: 256 }, payload: p, alg: 'HS256', signer: 'hs' }), expect: no('malformed') });
  add('n_header_kid_not_string', 'kid is a number', { token: token({ header: { alg: 'HS256', kid: 1 }, payload: p, signer: 'hs' }), expect: no('malformed') });
  add('n_header_typ_not_string', 'typ is null', { token: token({ header: { alg: 'HS256', typ: null }, payload: p, signer: 'hs' }), expect: no('malformed') });
  add('n_payload_array', 'a validly signed non-object payload (array)', { token: token({ header: { alg: 'HS256' }, payload: '[1,2]', signer: 'hs' }), expect: no('malformed') });
  add('n_payload_string', 'a validly signed non-object payload (string)', { token: token({ header: { alg: 'HS256' }, payload: '"hello"', signer: 'hs' }), expect: no('malformed') });
  add('n_payload_not_json', 'a validly signed payload that is not JSON', { token: token({ header: { alg: 'HS256' }, payload: 'hello', signer: 'hs' }), expect: no('malformed') });
  add('n_payload_invalid_utf8', 'a validly signed payload with invalid UTF-8', { token: token({ header: { alg: 'HS256' }, payload: Buffer.concat([Buffer.from(`{"exp":${NOW + 60},"sub":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), signer: 'hs' }), expect: no('malformed') });
  add('n_payload_surrogate_utf8', 'UTF-8-encoded surrogate (ED A0 80) in the payload', { token: token({ header: { alg: 'HS256' }, payload: Buffer.concat([Buffer.from(`{"exp":${NOW + 60},"sub":"`), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), signer: 'hs' }), expect: no('malformed') });
  add('n_payload_too_deep', '65 nested arrays in a claim', { token: token({ header: { alg: 'HS256' }, payload: `{"exp":${NOW + 60},"x":${'['.repeat(64)}${']'.repeat(64)}}`, signer: 'hs' }), expect: no('malformed') });
  add('y_payload_depth_64', '64 nesting levels (the object and 63 arrays) are allowed', { token: token({ header: { alg: 'HS256' }, payload: `{"exp":${NOW + 60},"x":${'['.repeat(63)}${']'.repeat(63)}}`, signer: 'hs' }), expect: { ok: true, sub: null, scopes: [], exp: NOW + 60 } });
  add('n_payload_leading_zero', 'a number with a leading zero', { token: token({ header: { alg: 'HS256' }, payload: `{"exp":0${NOW + 60}}`, signer: 'hs' }), expect: no('malformed') });
  add('n_payload_control_char', 'a raw control character inside a string', { token: token({ header: { alg: 'HS256' }, payload: `{"exp":${NOW + 60},"sub":"a\tb"}`, signer: 'hs' }), expect: no('malformed') });
  add('n_alg_none', 'alg none with an empty signature', { token: token({ header: { alg: 'none' }, payload: p, alg: 'none' }), expect: no('alg_not_allowed') });
  add('n_alg_none_policy_attempt', 'alg none, even with every algorithm allowed', { token: token({ header: { alg: 'none' }, payload: p, alg: 'none' }), policy: { algorithms: Object.keys(algKey) }, keys: ['hs', 'rsa'], expect: no('alg_not_allowed') });
  add('n_alg_not_in_policy', 'HS256 token, policy RS256 only', { token: good, keys: ['rsa'], policy: { algorithms: ['RS256'] }, expect: no('alg_not_allowed') });
  add('n_alg_unknown', 'an unknown alg (ES512 is not supported)', { token: token({ header: { alg: 'ES512' }, payload: p, alg: 'HS256', signer: 'hs' }), expect: no('alg_not_allowed') });
  add('n_alg_wrong_case', 'alg hs256 (names are case-sensitive)', { token: token({ header: { alg: 'hs256' }, payload: p, alg: 'HS256', signer: 'hs' }), expect: no('alg_not_allowed') });
  add('n_crit_unknown', 'crit names an extension', { token: token({ header: { alg: 'HS256', crit: ['exp'], exp: 1 }, payload: p, signer: 'hs' }), expect: no('crit_unsupported') });
  add('n_crit_malformed', 'crit is a string', { token: token({ header: { alg: 'HS256', crit: 'x' }, payload: p, signer: 'hs' }), expect: no('crit_unsupported') });
  add('n_crit_empty', 'crit is an empty array', { token: token({ header: { alg: 'HS256', crit: [] }, payload: p, signer: 'hs' }), expect: no('crit_unsupported') });
  add('n_b64_false_with_crit', 'b64:false listed in crit (RFC 7797)', { token: token({ header: { alg: 'HS256', b64: false, crit: ['b64'] }, payload: p, signer: 'hs' }), expect: no('crit_unsupported') });
  add('n_b64_false', 'b64:false without crit', { token: token({ header: { alg: 'HS256', b64: false }, payload: p, signer: 'hs' }), expect: no('b64_unsupported') });
  add('n_wrong_typ', 'typ JWT where at+jwt is required', { token: token({ header: { alg: 'HS256', typ: 'JWT' }, payload: p, signer: 'hs' }), policy: { algorithms: ['HS256'], typ: 'at+jwt' }, expect: no('wrong_typ') });
  add('n_typ_missing', 'no typ where at+jwt is required', { token: good, policy: { algorithms: ['HS256'], typ: 'at+jwt' }, expect: no('wrong_typ') });
  add('n_unknown_kid', 'a kid no key carries', { token: token({ header: { alg: 'RS256', kid: 'nope' }, payload: p, signer: 'rsa' }), keys: ['rsa', 'rsa-other'], policy: { algorithms: ['RS256'] }, expect: no('unknown_kid') });
  add('n_no_key_for_family', 'an ES256 token where only RSA keys are held', { token: token({ header: { alg: 'ES256' }, payload: p, signer: 'ec256' }), keys: ['rsa'], policy: { algorithms: ['RS256', 'ES256'] }, expect: no('no_key') });
  add('n_no_key_empty_set', 'an empty key set', { token: good, keys: [], expect: no('no_key') });
  add('n_kid_family_mismatch', 'the kid names an RSA key but the token is HS256', { token: token({ header: { alg: 'HS256', kid: 'rsa1' }, payload: p, signer: 'hs' }), keys: ['rsa', 'hs'], policy: { algorithms: ['HS256', 'RS256'] }, expect: no('no_key') });
  // Key confusion: HS256 signed with the RSA public key's PEM text as the HMAC secret.
  {
    const input = `${enc({ alg: 'HS256' })}.${enc(p)}`;
    const forged = `${input}.${b64u(createHmac('sha256', keys.rsa.pem).update(input).digest())}`;
    add('n_key_confusion_pem', 'HS256 signed with the RSA public key (PEM) as secret, only the RSA key held', { token: forged, keys: ['rsa-nokid'], policy: { algorithms: ['HS256', 'RS256'] }, expect: no('no_key') });
    const forged2 = `${input}.${b64u(createHmac('sha256', Buffer.from(keys.rsa.derBase64, 'base64')).update(input).digest())}`;
    add('n_key_confusion_der', 'HS256 signed with the RSA public key (DER) as secret, HMAC key also held', { token: forged2, keys: ['rsa-nokid', 'hs'], policy: { algorithms: ['HS256', 'RS256'] }, expect: no('bad_signature') });
  }
  add('n_bad_signature_wrong_secret', 'HS256 with another secret', { token: token({ header: { alg: 'HS256' }, payload: p, signer: 'hs-other' }), expect: no('bad_signature') });
  const flipped = Buffer.from(s, 'base64url');
  flipped[5] ^= 1;
  add('n_bad_signature_bit_flip', 'one bit of the MAC flipped', { token: `${h}.${pl}.${b64u(flipped)}`, expect: no('bad_signature') });
  add('n_bad_signature_truncated', 'the MAC cut to 31 bytes', { token: `${h}.${pl}.${b64u(Buffer.from(s, 'base64url').subarray(0, 31))}`, expect: no('bad_signature') });
  add('n_bad_signature_empty', 'an empty signature segment', { token: `${h}.${pl}.`, expect: no('bad_signature') });
  add('n_bad_signature_payload_swapped', 'the signature of another payload', { token: `${h}.${enc(claims({ sub: 'admin' }))}.${s}`, expect: no('bad_signature') });
  add('n_bad_signature_rsa_other_key', 'RS256 signed by another RSA key', { token: token({ header: { alg: 'RS256', kid: 'rsa1' }, payload: p, signer: 'rsa-other' }), keys: ['rsa'], policy: { algorithms: ['RS256'] }, expect: no('bad_signature') });
  add('n_bad_signature_ps_as_rs', 'a PS256 signature labelled RS256', { token: (() => { const t = token({ header: { alg: 'RS256' }, payload: p, signer: 'rsa', alg: 'PS256' }); return t; })(), keys: ['rsa'], policy: { algorithms: ['RS256'] }, expect: no('bad_signature') });
  {
    const input = `${enc({ alg: 'ES256' })}.${enc(p)}`;
    const der = sign('sha256', Buffer.from(input), privateKey('ec256'));
    add('n_ecdsa_der_signature', 'an ES256 signature in DER instead of raw R||S', { token: `${input}.${b64u(der)}`, keys: ['ec256'], policy: { algorithms: ['ES256'] }, expect: no('bad_signature') });
    add('n_ecdsa_zero_signature', 'an ES256 signature of 64 zero bytes', { token: `${input}.${b64u(Buffer.alloc(64))}`, keys: ['ec256'], policy: { algorithms: ['ES256'] }, expect: no('bad_signature') });
  }
  add('n_eddsa_wrong_key', 'EdDSA checked against an unrelated EC key set', { token: token({ header: { alg: 'EdDSA' }, payload: p, signer: 'ed25519' }), keys: ['ec256'], policy: { algorithms: ['EdDSA', 'ES256'] }, expect: no('no_key') });
  add('n_duplicate_header_alg', 'alg twice in the header', { token: token({ header: '{"alg":"HS256","alg":"none"}', payload: p, alg: 'HS256', signer: 'hs' }), expect: no('duplicate_key') });
  add('n_duplicate_payload_sub', 'sub twice in a validly signed payload', { token: token({ header: { alg: 'HS256' }, payload: `{"sub":"user","exp":${NOW + 60},"sub":"admin"}`, signer: 'hs' }), expect: no('duplicate_key') });
  add('n_duplicate_escaped', 'sub and \\u0073ub are the same name', { token: token({ header: { alg: 'HS256' }, payload: `{"sub":"user","exp":${NOW + 60},"\\u0073ub":"admin"}`, signer: 'hs' }), expect: no('duplicate_key') });
  add('n_duplicate_nested', 'a duplicate inside a nested object', { token: token({ header: { alg: 'HS256' }, payload: `{"exp":${NOW + 60},"cnf":{"jkt":"a","jkt":"b"}}`, signer: 'hs' }), expect: no('duplicate_key') });
  const many = Array.from({ length: 20 }, (_, i) => `"k${i}":${i}`).join(',');
  add('n_duplicate_after_16', 'a duplicate among 21 members (past the linear check)', { token: token({ header: { alg: 'HS256' }, payload: `{"exp":${NOW + 60},${many},"k3":0}`, signer: 'hs' }), expect: no('duplicate_key') });
  add('n_exp_string', 'exp is a string', { token: token({ header: { alg: 'HS256' }, payload: claims({ exp: String(NOW + 60) }), signer: 'hs' }), expect: no('invalid_claim') });
  add('n_nbf_boolean', 'nbf is a boolean', { token: token({ header: { alg: 'HS256' }, payload: claims({ nbf: true }), signer: 'hs' }), expect: no('invalid_claim') });
  add('n_iat_null', 'iat is null', { token: token({ header: { alg: 'HS256' }, payload: claims({ iat: null }), signer: 'hs' }), expect: no('invalid_claim') });
  add('n_aud_number', 'aud is a number', { token: token({ header: { alg: 'HS256' }, payload: claims({ aud: 5 }), signer: 'hs' }), expect: no('invalid_claim') });
  add('n_aud_array_number', 'aud array holding a number', { token: token({ header: { alg: 'HS256' }, payload: claims({ aud: ['https://mcp.example/mcp', 5] }), signer: 'hs' }), expect: no('invalid_claim') });
  add('n_sub_number', 'sub is a number', { token: token({ header: { alg: 'HS256' }, payload: claims({ sub: 42 }), signer: 'hs' }), expect: no('invalid_claim') });
  add('n_iss_number', 'iss is a number', { token: token({ header: { alg: 'HS256' }, payload: claims({ iss: 1 }), signer: 'hs' }), expect: no('invalid_claim') });
  add('n_scope_array', 'scope is an array', { token: token({ header: { alg: 'HS256' }, payload: claims({ scope: ['a'] }), signer: 'hs' }), expect: no('invalid_claim') });
  add('n_scp_number', 'scp is a number', { token: token({ header: { alg: 'HS256' }, payload: claims({ scp: 1 }), signer: 'hs' }), expect: no('invalid_claim') });
  const noExp = claims();
  delete noExp.exp;
  add('n_exp_missing', 'no exp (required by default)', { token: token({ header: { alg: 'HS256' }, payload: noExp, signer: 'hs' }), expect: no('missing_claim') });
  add('n_required_claim_missing', 'jti required and absent', { token: good, policy: { algorithms: ['HS256'], requiredClaims: ['jti'] }, expect: no('missing_claim') });
  const noIss = claims();
  delete noIss.iss;
  add('n_iss_missing', 'no iss where an issuer is required', { token: token({ header: { alg: 'HS256' }, payload: noIss, signer: 'hs' }), policy: { algorithms: ['HS256'], issuers: ['https://issuer.example'] }, expect: no('missing_claim') });
  const noAud = claims();
  delete noAud.aud;
  add('n_aud_missing', 'no aud where the resource is the audience', { token: token({ header: { alg: 'HS256' }, payload: noAud, signer: 'hs' }), policy: { algorithms: ['HS256'], audiences: ['https://mcp.example/mcp'] }, expect: no('missing_claim') });
  const noIat = claims();
  delete noIat.iat;
  add('n_iat_missing_with_max_age', 'no iat where maxTokenAge is set', { token: token({ header: { alg: 'HS256' }, payload: noIat, signer: 'hs' }), policy: { algorithms: ['HS256'], maxTokenAge: 600 }, expect: no('missing_claim') });
  add('n_expired', 'exp in the past', { token: token({ header: { alg: 'HS256' }, payload: claims({ exp: NOW - 1 }), signer: 'hs' }), expect: no('expired') });
  add('n_expired_exactly_now', 'exp equal to now (exp is exclusive)', { token: token({ header: { alg: 'HS256' }, payload: claims({ exp: NOW }), signer: 'hs' }), expect: no('expired') });
  add('n_expired_beyond_tolerance', 'expired 11 s ago, tolerance 10 s', { token: token({ header: { alg: 'HS256' }, payload: claims({ exp: NOW - 11 }), signer: 'hs' }), policy: { algorithms: ['HS256'], clockTolerance: 10 }, expect: no('expired') });
  add('n_nbf_future', 'nbf in the future', { token: token({ header: { alg: 'HS256' }, payload: claims({ nbf: NOW + 30 }), signer: 'hs' }), expect: no('not_yet_valid') });
  add('n_iat_future_with_max_age', 'iat in the future where maxTokenAge is set', { token: token({ header: { alg: 'HS256' }, payload: claims({ iat: NOW + 30 }), signer: 'hs' }), policy: { algorithms: ['HS256'], maxTokenAge: 600 }, expect: no('not_yet_valid') });
  add('n_too_old', 'iat 60 s ago, max age 30 s', { token: good, policy: { algorithms: ['HS256'], maxTokenAge: 30 }, expect: no('too_old') });
  add('n_wrong_issuer', 'iss not among the issuers', { token: good, policy: { algorithms: ['HS256'], issuers: ['https://evil.example'] }, expect: no('wrong_issuer') });
  add('n_wrong_audience', 'aud is another resource (RFC 8707)', { token: good, policy: { algorithms: ['HS256'], audiences: ['https://other.example/mcp'] }, expect: no('wrong_audience') });
  add('n_wrong_audience_array', 'aud array without the resource', { token: token({ header: { alg: 'HS256' }, payload: claims({ aud: ['https://a.example', 'https://b.example'] }), signer: 'hs' }), policy: { algorithms: ['HS256'], audiences: ['https://mcp.example/mcp'] }, expect: no('wrong_audience') });
}

for (const f of readdirSync(dir)) if (/^[yn]_.*\.json$/.test(f)) unlinkSync(join(dir, f));
const names = new Set();
for (const c of cases) {
  if (names.has(c.name)) throw new Error(`duplicate case ${c.name}`);
  names.add(c.name);
  writeFileSync(join(dir, `${c.name}.json`), JSON.stringify(c, null, 2) + '\n');
}
// Replay inputs for test/fuzz/fuzz_jwt.cc (ctest runs them; scripts/native-ci.sh seeds libFuzzer with them):
// every vector token, and the same tokens re-signed with the fuzz target's HMAC key ("fuzz-secret"), each
// behind a policy byte.
const corpus = fileURLToPath(new URL('../test/fuzz/corpus-jwt/', import.meta.url));
mkdirSync(corpus, { recursive: true });
for (const f of readdirSync(corpus)) unlinkSync(join(corpus, f));
const resign = (t) => {
  const parts = t.split('.');
  if (parts.length !== 3) return t;
  const input = `${parts[0]}.${parts[1]}`;
  return `${input}.${b64u(createHmac('sha256', 'fuzz-secret').update(input).digest())}`;
};
let seeds = 0;
for (const c of cases) {
  if (c.token.length > 2048) continue;
  for (const [mode, t] of [[1, c.token], [9, resign(c.token)], [3, resign(c.token)]]) {
    writeFileSync(join(corpus, `${c.name}-${mode}`), Buffer.concat([Buffer.from([mode]), Buffer.from(t, 'latin1')]));
    seeds++;
  }
}
console.log(`wrote ${cases.length} cases, keys.json, keys-rejected.json to ${dir}; ${seeds} fuzz seeds to ${corpus}`);
