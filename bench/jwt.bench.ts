// JWT verify micro-benchmark (docs/jwt.md section 8): median ns per verify, in one process and one run, for
//   native cold     createJwtVerifier (native), cache off: parse, signature, claim checks; the principal's
//                   claims are parsed when first read (a native verdict needs no JS object)
//   native cold + claims   the same, then reading principal.subject and .scopes (the claims parsed in JS)
//   native cached   the same token again with the cache on (a JS Map lookup and the kept result)
//   js twin         src/jwt/js.ts, cold and cached
//   jose            jwtVerify (async, no cache)
//   fast-jwt        createVerifier, without and with its cache
//   jsonwebtoken    jwt.verify
// and floors: node's createHmac (HS256), bare crypto.verify (RS256/ES256/EdDSA), and the native bare EVP verify
// (the addon's key check alone, one crossing) — for HS256, RS256, ES256 and EdDSA tokens with iss/aud checks.
// Every contender first verifies the token and must return the same subject, or the run stops.
//
//   npm run bench -- jwt                     table on this node; writes bench/results/jwt.md
//   npm run bench -- jwt --node node24       the same on Node 24 (node_modules/node24); bench/results/jwt-node24.md
import { constants, createHmac, createPrivateKey, createPublicKey, sign, verify as cryptoVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import * as jose from 'jose';
import { createVerifier } from 'fast-jwt';
import jsonwebtoken from 'jsonwebtoken';
import { median, resultsNameOrRerun, roundsOption, runIsolated } from './lib/isolated.js';
import { ROOT, machineLines, table, writeResults } from './lib/report.js';
import { createJwtVerifier, type JwtAlgorithm } from '../src/jwt/index.js';
import { JWT_ALGORITHMS } from '../src/jwt/errors.js';
import { jwtPolicy, createJwtCore } from '../src/jwt/index.js';
import { importKey } from '../src/jwt/keys.js';
import type { NativeJwtCore } from '../src/jwt/native.js';

// ---- --node: re-run this file under another node ----------------------------------------------------------
const args = process.argv.slice(2);
const resultName = resultsNameOrRerun('jwt', args);

// ---- tokens -------------------------------------------------------------------------------------------------
const priv = JSON.parse(readFileSync(join(ROOT, 'test/vectors/jwt/private-keys.json'), 'utf8')) as Record<string, { pem?: string; secret?: string }>;
const NOW = Math.floor(Date.now() / 1000);
const SECRET = Buffer.from(priv.hs!.secret!, 'base64url');
const ISS = 'https://issuer.example';
const AUD = 'https://mcp.example/mcp';
const claims = { iss: ISS, sub: 'user-1234', aud: AUD, iat: NOW - 10, exp: NOW + 3600, scope: 'tools:read tools:call', client_id: 'bench-client' };
const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

interface Case {
  alg: JwtAlgorithm;
  token: string;
  input: Buffer;
  sig: Buffer;
  verifyKey: ReturnType<typeof createPublicKey> | Buffer;
  keyForNode: Parameters<typeof cryptoVerify>[2] | null;
  md: string | null;
}
function makeCase(alg: JwtAlgorithm, keyId: string): Case {
  const input = `${b64u(JSON.stringify({ alg, typ: 'JWT' }))}.${b64u(JSON.stringify(claims))}`;
  const data = Buffer.from(input);
  let sig: Buffer;
  let verifyKey: Case['verifyKey'];
  let keyForNode: Case['keyForNode'] = null;
  let md: string | null = null;
  if (alg === 'HS256') {
    sig = createHmac('sha256', SECRET).update(data).digest();
    verifyKey = SECRET;
  } else {
    const key = createPrivateKey(priv[keyId]!.pem!);
    const pub = createPublicKey(key);
    verifyKey = pub;
    if (alg === 'RS256') ((md = 'sha256'), (sig = sign('sha256', data, key)), (keyForNode = pub));
    else if (alg === 'ES256') ((md = 'sha256'), (sig = sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })), (keyForNode = { key: pub, dsaEncoding: 'ieee-p1363' }));
    else ((sig = sign(null, data, key)), (keyForNode = pub));
  }
  return { alg, token: `${input}.${b64u(sig)}`, input: data, sig, verifyKey, keyForNode, md };
}
const cases = [makeCase('HS256', 'hs'), makeCase('RS256', 'rsa'), makeCase('ES256', 'ec256'), makeCase('EdDSA', 'ed25519')];

// ---- contenders -----------------------------------------------------------------------------------------------
type Fn = () => unknown;
interface Contender {
  name: string;
  fn: Fn;
  check: () => Promise<string | undefined>; // the subject it returns for the token
}

function contenders(c: Case): Contender[] {
  const keyInput = Buffer.isBuffer(c.verifyKey) ? { secret: c.verifyKey } : { key: c.verifyKey };
  const opts = { algorithms: [c.alg], keys: [keyInput], issuer: ISS, audience: AUD };
  const nativeCold = createJwtVerifier({ ...opts, cacheSize: 0, implementation: 'native' });
  const nativeCached = createJwtVerifier({ ...opts, implementation: 'native' });
  const jsCold = createJwtVerifier({ ...opts, cacheSize: 0, implementation: 'js' });
  const jsCached = createJwtVerifier({ ...opts, implementation: 'js' });
  const sub = (r: ReturnType<typeof nativeCold.verify>) => (r.ok ? r.principal.subject : `refused: ${r.reason}`);
  const t = c.token;
  const joseKey = c.verifyKey;
  const fastKey = Buffer.isBuffer(c.verifyKey) ? c.verifyKey : c.verifyKey.export({ type: 'spki', format: 'pem' }).toString();
  const fastOpts = { key: fastKey, algorithms: [c.alg], allowedIss: ISS, allowedAud: AUD };
  const fast = createVerifier({ ...fastOpts, cache: false });
  const fastCached = createVerifier({ ...fastOpts, cache: true });
  const jwtAlg = c.alg === 'EdDSA' ? null : c.alg; // jsonwebtoken 9 has no EdDSA
  const out: Contender[] = [
    { name: 'native cold', fn: () => nativeCold.verify(t, NOW), check: async () => sub(nativeCold.verify(t, NOW)) },
    {
      name: 'native cold + claims',
      fn: () => {
        const r = nativeCold.verify(t, NOW);
        return r.ok ? r.principal.scopes.length + (r.principal.subject?.length ?? 0) : 0;
      },
      check: async () => sub(nativeCold.verify(t, NOW)),
    },
    { name: 'native cached', fn: () => nativeCached.verify(t, NOW), check: async () => sub(nativeCached.verify(t, NOW)) },
    { name: 'js twin cold', fn: () => jsCold.verify(t, NOW), check: async () => sub(jsCold.verify(t, NOW)) },
    { name: 'js twin cached', fn: () => jsCached.verify(t, NOW), check: async () => sub(jsCached.verify(t, NOW)) },
    { name: 'jose', fn: () => jose.jwtVerify(t, joseKey, { algorithms: [c.alg], issuer: ISS, audience: AUD }), check: async () => (await jose.jwtVerify(t, joseKey, { algorithms: [c.alg], issuer: ISS, audience: AUD })).payload.sub },
    { name: 'fast-jwt', fn: () => fast(t), check: async () => (fast(t) as { sub: string }).sub },
    { name: 'fast-jwt cached', fn: () => fastCached(t), check: async () => (fastCached(t) as { sub: string }).sub },
  ];
  if (jwtAlg !== null) {
    const k = fastKey;
    out.push({ name: 'jsonwebtoken', fn: () => jsonwebtoken.verify(t, k, { algorithms: [jwtAlg], issuer: ISS, audience: AUD }), check: async () => (jsonwebtoken.verify(t, k, { algorithms: [jwtAlg], issuer: ISS, audience: AUD }) as { sub: string }).sub });
  }
  // Floors.
  const input = c.input;
  const expected = async () => 'user-1234';
  if (c.alg === 'HS256') {
    out.push({ name: 'floor: node createHmac', fn: () => createHmac('sha256', SECRET).update(input).digest(), check: expected });
  } else {
    const k = c.keyForNode!;
    out.push({ name: 'floor: bare crypto.verify', fn: () => cryptoVerify(c.md, input, k, c.sig), check: async () => (cryptoVerify(c.md, input, k, c.sig) ? 'user-1234' : 'bad') });
  }
  const core = createJwtCore(jwtPolicy({ algorithms: [c.alg] }), 'native') as NativeJwtCore;
  core.setKeys([importKey(keyInput)]);
  const a = JWT_ALGORITHMS.indexOf(c.alg);
  out.push({ name: 'floor: native bare EVP verify', fn: () => core.bareVerify(a, input, c.sig), check: async () => (core.bareVerify(a, input, c.sig) ? 'user-1234' : 'bad') });
  return out;
}

// ---- run ------------------------------------------------------------------------------------------------------
// Each (algorithm, contender) pair is timed in a process of its own, rounds interleaved across pairs.
// In one shared process every contender's calls go through the same call sites, the JIT's feedback
// turns megamorphic, and a sub-microsecond verify reads up to 1.5x slower than it costs in a server
// that holds one verifier; a fresh process gives every contender the same monomorphic start.
const ROUNDS = roundsOption(args, 5);
const only = process.env.FASTERMCP_JWT_PAIR; // "ALG\tcontender" in a child

if (only !== undefined) {
  const [alg, name] = only.split('\t') as [string, string];
  const k = contenders(cases.find((c) => c.alg === alg)!).find((x) => x.name === name)!;
  const s = await k.check();
  if (s !== 'user-1234') throw new Error(`${alg} ${name}: returned ${String(s)}, expected user-1234`);
  // tinybench times each call on its own: p50 of single calls, its own cost per call included for all.
  const bench = new Bench({ time: 500, warmupTime: 300 });
  bench.add(name, k.fn);
  await bench.run();
  const res = bench.tasks[0]!.result as unknown as { latency: { p50: number } };
  process.stdout.write(`${JSON.stringify({ ns: res.latency.p50 * 1e6 })}\n`);
  process.exit(0);
}

const results: Record<string, Record<string, number>> = {};
const pairs = cases.flatMap((c) => contenders(c).map((k) => [c.alg, k.name] as const));
const rounds = runIsolated('FASTERMCP_JWT_PAIR', pairs, ROUNDS);
for (const c of cases) {
  results[c.alg] = Object.fromEntries(pairs.filter(([a]) => a === c.alg).map(([, n]) => [n, median(rounds.get(`${c.alg}\t${n}`)!)]));
  console.log(c.alg, Object.entries(results[c.alg]!).map(([k, v]) => `${k}=${v.toFixed(0)}ns`).join('  '));
}

// ---- report ---------------------------------------------------------------------------------------------------
const fmt = (ns: number | undefined) => (ns === undefined ? '—' : ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}x`);
const names = [...new Set(cases.flatMap((c) => Object.keys(results[c.alg]!)))];
const rows = names.map((n) => [n, ...cases.map((c) => fmt(results[c.alg]![n])), ...cases.map((c) => ratio(results[c.alg]![n], results[c.alg]!['native cold']))]);
const hs = results.HS256!;
// A ratio target is judged on the median of per-round ratios: the two contenders of a pair run back to back
// in each round, so a slow spell of the shared machine affects both sides of a ratio.
const pairedRatio = (alg: string, a: string, b: string) => {
  const xs = rounds.get(`${alg}\t${a}`)!;
  const ys = rounds.get(`${alg}\t${b}`)!;
  return median(xs.map((x, i) => x / ys[i]!));
};
const rsVsCrypto = pairedRatio('RS256', 'native cold', 'floor: bare crypto.verify');
const rsVsEvp = pairedRatio('RS256', 'native cold', 'floor: native bare EVP verify');
const targets = [
  ['HS256 cold verify (claim checks) <= 1 µs', fmt(hs['native cold']), hs['native cold']! <= 1000 ? 'met' : `missed by ${fmt(hs['native cold']! - 1000)}`],
  ['HS256 cold verify, then subject and scopes read (claims parsed in JS)', fmt(hs['native cold + claims']), 'reported beside the target'],
  ['HS256 cold verify below node createHmac', `${fmt(hs['native cold'])} vs ${fmt(hs['floor: node createHmac'])}`, hs['native cold']! < hs['floor: node createHmac']! ? 'met' : 'missed'],
  ['RS256 cold within 10% of bare crypto.verify (median of per-round ratios)', `${rsVsCrypto.toFixed(2)}x`, rsVsCrypto <= 1.1 ? 'met' : `missed (${rsVsCrypto.toFixed(2)}x)`],
  ['RS256 cold within 10% of native bare EVP verify (median of per-round ratios)', `${rsVsEvp.toFixed(2)}x`, rsVsEvp <= 1.1 ? 'met' : `missed (${rsVsEvp.toFixed(2)}x)`],
  ['cache hit <= 150 ns (HS256)', fmt(hs['native cached']), hs['native cached']! <= 150 ? 'met' : `missed by ${fmt(hs['native cached']! - 150)}`],
];
const version = (p: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
const md = [
  `# JWT verify: median time per verify (p50 of single calls; median of ${ROUNDS} rounds, each contender in its own process)`,
  '',
  ...machineLines(),
  `- jose ${version('jose')}, fast-jwt ${version('fast-jwt')}, jsonwebtoken ${version('jsonwebtoken')}, OpenSSL ${process.versions.openssl}`,
  `- tokens: ${cases[0]!.token.length}-${cases[1]!.token.length} bytes, claims iss/sub/aud/iat/exp/scope checked (issuer and audience); "cached" repeats one token`,
  `- reproduce: \`npm run bench -- jwt${resultName === 'jwt' ? '' : ` --node ${resultName.slice(4)}`}\``,
  '',
  table(['contender', ...cases.map((c) => c.alg), ...cases.map((c) => `${c.alg} / native cold`)], rows),
  '',
  '## Targets',
  '',
  table(['target', 'measured', 'verdict'], targets),
  '',
];
console.log(md.join('\n'));
console.log(`wrote ${writeResults(resultName, md.join('\n'), { node: process.version, results })}`);
