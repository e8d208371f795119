// The only file that loads the native addon (mcp_native.node).
//
// Where it looks, in node-gyp-build's order, relative to the package root (this file is
// <root>/src/native.ts in the checkout and <root>/dist/native.js in the package):
//   1. build/Release/mcp_native.node        a from-source build (npm run build:native), so a fresh
//                                           local build is never shadowed by an older prebuild
//   2. prebuilds/<platform>-<arch>/*.node   prebuildify output shipped in the npm tarball, matched and
//                                           ordered by node-gyp-build's tag rules (libc, napi, ...)
// A candidate that fails to load, or loads but reports a different `version` than package.json or an
// `abi` other than NATIVE_ABI, is a load error; the next candidate is tried. When none loads,
// loadNative() returns null (the caller uses the pure-JS twin) after one process warning with code
// FASTERMCP_NATIVE_UNAVAILABLE listing every load error and the possible solutions.
//
// Environment:
//   FASTERMCP_FORCE_JS=1        do not load the addon; no warning (choose the JS twin on purpose)
//   FASTERMCP_REQUIRE_NATIVE=1  throw (code MCP_NATIVE_UNAVAILABLE) instead of falling back (CI)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostFeatures } from './sandbox/launcher/types.js';

/** Revision of the binding contract (docs/jsonrpc-engine.md section 10) this loader accepts. */
export const NATIVE_ABI = 9;

/** The warning code emitted (once) when the addon cannot be loaded. */
export const NATIVE_UNAVAILABLE_WARNING = 'FASTERMCP_NATIVE_UNAVAILABLE';

/** Limits passed to a native Engine (validated in TS before they cross). */
export interface NativeLimits {
  maxMessageBytes: number;
  maxDepth: number;
  maxBatch: number;
  allowBatch: boolean;
}

/** An instance of the addon's Router class. */
export interface NativeRouter {
  setMethod(method: string, slot: number, table: number /* -1: no name table */): void;
  deleteMethod(method: string): boolean;
  setName(table: number, name: string, slot: number): void;
  deleteName(table: number, name: string): boolean;
  clear(): void;
}

/** An instance of the addon's Engine class. */
export interface NativeEngine {
  feed(chunk: Uint8Array, out: Int32Array): number; // record count n; when n*16 > out.length only what fits
  end(out: Int32Array): number; //                     is copied: the caller grows `out` and calls copyRecords
  scan(message: Uint8Array, out: Int32Array): number;
  copyRecords(out: Int32Array): void;
  carried(): Buffer; //                                copy of the carried line (SRC_CARRY spans)
  replies(): Buffer; //                                copy of the reply bytes (BODY_IS_REPLY spans)
  reset(): void;
  setAdmission(ruleSet: object | null, replies: readonly (readonly string[])[]): void; // fused admission
  setClient(client: string): void; //                  the caller the next calls admit for
  readArguments(source: Uint8Array): [values: string, table: Int32Array, keyCount: number]; // section 11
  argumentKey(id: number): string; //                  a key id's member name
  idText(source: Uint8Array): string | null; //        the records' ids as one Latin-1 text, section 12
}

/** The policy a native JwtVerifier is built with (src/jwt/js.ts JwtPolicy, validated in TS). */
export interface NativeJwtPolicy {
  algorithms: number;
  issuers: string[];
  audiences: string[];
  required: string[];
  typ: string;
  clockTolerance: number;
  maxTokenAge: number;
  maxTokenBytes: number;
  requireExp: boolean;
  cacheSize: number;
}

/** An instance of the addon's JwtVerifier class (docs/jwt.md section 6). */
export interface NativeJwtVerifier {
  setKeys(keys: { kid: string | null; hmac: boolean; data: Uint8Array; algorithms: number }[]): void;
  verify(token: string, now: number): number | string; // -reason | cache slot | payload JSON (slot in out[0])
  clearCache(): void;
  cacheEntries(): number;
  bareVerify(alg: number, data: Uint8Array, signature: Uint8Array): boolean;
}

/** A spec as a native RateLimiter / RuleSet takes it: the algorithm as its index in ALGORITHMS. */
export interface NativeLimitSpec {
  algorithm: number;
  limit: number;
  windowMs: number;
}

/** An instance of the addon's RateLimiter class (docs/ratelimit.md section 4). */
export interface NativeRateLimiter {
  check(key: string, cost: number, now: number): boolean; // out = [allowed, remaining, retryAfterMs, resetMs]
  peek(key: string, cost: number, now: number): boolean;
  size(): number;
  bytes(): number;
  clear(): void;
}

/** An instance of the addon's RuleSet class (docs/ratelimit.md section 3). */
export interface NativeRuleSet {
  setMatch(rule: number, methodIds: number[] | null, toolIds: number[] | null): void;
  setMethodCost(methodId: number, cost: number): void;
  setToolCost(toolId: number, cost: number): void;
  costOf(methodId: number, toolId: number): number;
  check(methodId: number, toolId: number, client: string, cost: number, now: number): number; // -1 | rule index
  peek(methodId: number, toolId: number, client: string, cost: number, now: number): number;
  size(rule: number): number;
  bytes(): number;
  clear(): void;
}

/** Replies as UTF-8 lines; line and textResult return the bytes waiting, take() hands them over. */
export interface NativeReplyBuffer {
  line(json: string): number;
  setMembers(members: string): void; // what the following text results write after their content ('' at first)
  textResult(idRaw: string, text: string): number;
  take(): Buffer;
  writeTo(fd: number): number; // one non-blocking write(2): bytes still waiting, or -errno (-EAGAIN: fd blocks)
}

/** A LaunchSpec as the addon's sandboxLaunch takes it (src/sandbox/launcher/native.ts builds it). */
export interface NativeLaunchSpec {
  file: string;
  argv: string[];
  env: string[]; //                   "NAME=value" entries, the child's whole environment
  cwd: string;
  rlimits: [string, number, number][]; // [prlimit name (cpu|data|nofile|fsize|nproc|core), soft, hard]
  uid: number; //                     -1: keep
  gid: number; //                     -1: keep
  denyNetwork: boolean;
  denySpawn: boolean;
  restrictKill: boolean;
  newNetNamespace: boolean;
  cgroupProcs: string[];
  useVfork?: boolean; //              clone(CLONE_VM | CLONE_VFORK) instead of fork (docs/sandbox-launcher.md)
  seccompFd?: number; //              4: hand the seccomp program on fd 4 (bwrap --seccomp 4) instead of installing it
}

/** The parent's ends of a launched child's fds (each owned by the caller from then on). */
export interface NativeLaunched {
  pid: number;
  control: number;
  stdout: number;
  stderr: number;
}

/** The host probe of native/core/sandbox.h: the fields of HostFeatures the addon finds. */
export type NativeSandboxProbe = Omit<HostFeatures, 'launcher' | 'permissionFlag'>;

/** Everything mcp_native.node exports (docs/jsonrpc-engine.md section 10). */
export interface NativeBinding {
  version: string; //                 package.json version baked in at compile time (define FASTERMCP_VERSION)
  abi: number; //                     revision of this contract, 9 (5 + ReplyBuffer, 7: its setMembers, 8: Engine.readArguments, 9: Engine.idText); the loader refuses a mismatch
  simdjsonImplementation: string; //  simdjson's active kernel name
  opensslVersion: string; //          OpenSSL_version(OPENSSL_VERSION) as resolved from the running node
  reasons: string[]; //               reason names by code (section 8), for the pin test
  reasonMessages: string[]; //        message templates by code, placeholders as written in section 8
  Router: new () => NativeRouter;
  Engine: new (router: NativeRouter, limits: NativeLimits) => NativeEngine;
  JwtVerifier: new (policy: NativeJwtPolicy, out: Float64Array) => NativeJwtVerifier;
  jwtReasons: string[]; //            JWT reason names by code (src/jwt/errors.ts JWT_REASONS)
  RateLimiter: new (spec: NativeLimitSpec, maxKeys: number, out: Float64Array) => NativeRateLimiter;
  RuleSet: new (rules: (NativeLimitSpec & { scope: number; maxKeys: number })[], out: Float64Array) => NativeRuleSet;
  /** HTTP/1.1 request-head parser; writes src/http1/types.ts fields into `fields` (length HEAD_FIELDS_LENGTH). */
  HeadParser: new (fields: Int32Array, maxHeadBytes: number) => { parse(buf: Uint8Array, start: number, end: number): number };
  /** stdio's replies waiting for one write (src/transport/reply-buffer.ts; docs/jsonrpc-engine.md section 8). */
  ReplyBuffer: new () => NativeReplyBuffer;
  /** Forks and execs a sandboxed child (docs/sandbox-launcher.md); throws an Error with code/errno/step.
   * onExit runs once, on the JS thread, after the reaper thread has wait4'd the child: exitCode is
   * meaningful when signal is 0; rusage in microseconds and KiB. */
  sandboxLaunch(
    spec: NativeLaunchSpec,
    onExit: (pid: number, exitCode: number, signal: number, userMicros: number, systemMicros: number, maxRssKiB: number) => void,
  ): NativeLaunched;
  sandboxSetCpuLimit(pid: number, softSeconds: number): void; // prlimit(RLIMIT_CPU, soft, soft + 1)
  sandboxCpuMicros(pid: number): number; //                     -1 when /proc/<pid>/stat cannot be read
  sandboxKillGroup(pid: number, signal: number): void; //       kill(-pid, signal), ESRCH ignored
  sandboxProbe(): NativeSandboxProbe;
  pipeCapacity(fd: number): number; //                          bytes, or -errno (-EBADF: not a pipe)
  pipeGrow(fd: number, bytes: number): number; //               at least `bytes`, never shrinks; bytes after, or -errno
}

/** The package root: the directory holding package.json, build/ and prebuilds/. */
export const packageRoot: string = fileURLToPath(new URL('..', import.meta.url));

/** The version in package.json; a binary must report the same one. */
export const packageVersion: string = (
  JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }
).version;

interface LoadState {
  binding: NativeBinding | null;
  path: string | null;
  errors: string[];
}

let state: LoadState | undefined;
const requireNode = createRequire(import.meta.url);

const isOn = (name: string): boolean => {
  const v = process.env[name];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
};

interface Tags {
  file: string;
}
interface Tuple {
  name: string;
}
/** node-gyp-build's own prebuild matching (the functions it exposes for this), so the layout and the
 * tag rules (runtime, napi/abi, libc, armv, uv) are exactly the ones prebuildify writes for. */
interface NodeGypBuild {
  parseTuple(name: string): Tuple | undefined;
  matchTuple(platform: string, arch: string): (t: Tuple | undefined) => boolean;
  compareTuples(a: Tuple, b: Tuple): number;
  parseTags(file: string): Tags | undefined;
  matchTags(runtime: string, abi: string | undefined): (t: Tags | undefined) => boolean;
  compareTags(runtime: string): (a: Tags, b: Tags) => number;
}

function readdir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The files the loader tries, in order (existing or not). */
export function nativeCandidates(root: string = packageRoot): string[] {
  const out = [join(root, 'build', 'Release', 'mcp_native.node')];
  const ngb = requireNode('node-gyp-build/node-gyp-build.js') as NodeGypBuild;
  const prebuilds = join(root, 'prebuilds');
  const tuples = readdir(prebuilds)
    .map((d) => ngb.parseTuple(d))
    .filter(ngb.matchTuple(process.platform, process.arch)) as Tuple[];
  for (const tuple of tuples.sort(ngb.compareTuples)) {
    const dir = join(prebuilds, tuple.name);
    const files = readdir(dir)
      .map((f) => ngb.parseTags(f))
      .filter(ngb.matchTags('node', process.versions.modules)) as Tags[];
    for (const tags of files.sort(ngb.compareTags('node'))) out.push(join(dir, tags.file));
  }
  return out;
}

function checkBinding(b: Partial<NativeBinding> | null | undefined): string | null {
  if (b === null || typeof b !== 'object') return 'it exports no object';
  if (b.version !== packageVersion) {
    return `it was built for fastermcp ${String(b.version)} but this package is ${packageVersion} (stale binary)`;
  }
  if (b.abi !== NATIVE_ABI) return `it implements binding abi ${String(b.abi)} but this loader needs abi ${NATIVE_ABI}`;
  if (typeof b.Engine !== 'function' || typeof b.Router !== 'function') return 'it lacks the Engine or Router class';
  return null;
}

function errorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}

function load(): LoadState {
  const errors: string[] = [];
  let candidates: string[];
  try {
    candidates = nativeCandidates();
  } catch (err) {
    errors.push(`prebuilds/ not searched: ${errorMessage(err)}`);
    candidates = [join(packageRoot, 'build', 'Release', 'mcp_native.node')];
  }
  let tried = 0;
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    tried++;
    try {
      const b = requireNode(file) as NativeBinding;
      const problem = checkBinding(b);
      if (problem === null) return { binding: b, path: file, errors };
      errors.push(`${file}: refused: ${problem}`);
    } catch (err) {
      errors.push(`${file}: ${errorMessage(err)}`);
    }
  }
  if (tried === 0) {
    errors.push(
      `no binary found: looked for ${join(packageRoot, 'build', 'Release', 'mcp_native.node')} and ` +
        `${join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`)}/*.node`,
    );
  }
  return { binding: null, path: null, errors };
}

function unavailableMessage(errors: string[]): string {
  return [
    `fastermcp: the native addon could not be loaded (node ${process.version}, ${process.platform}-${process.arch}); ` +
      'using the pure-JS engine.',
    'Load errors:',
    ...errors.map((e) => `  - ${e}`),
    'Possible solutions:',
    '  - Build it from source: `npm run build:native` (in an installed copy: `npm explore fastermcp -- npm run build:native`).',
    `  - Check that prebuilds/${process.platform}-${process.arch}/ has a binary for this platform (${process.platform}-${process.arch}` +
      `${process.platform === 'linux' ? (existsSync('/etc/alpine-release') ? ', musl' : ', glibc') : ''}).`,
    '  - Set FASTERMCP_FORCE_JS=1 to choose the pure-JS engine and silence this warning.',
  ].join('\n');
}

/**
 * The addon's exports, or null when the pure-JS twin must be used. Loads at most once per thread;
 * on failure emits one FASTERMCP_NATIVE_UNAVAILABLE warning (not when FASTERMCP_FORCE_JS=1).
 */
export function loadNative(): NativeBinding | null {
  if (state === undefined) {
    if (isOn('FASTERMCP_FORCE_JS')) {
      state = { binding: null, path: null, errors: ['FASTERMCP_FORCE_JS is set: the native addon was not loaded'] };
    } else {
      state = load();
      if (state.binding === null && !isOn('FASTERMCP_REQUIRE_NATIVE')) {
        process.emitWarning(unavailableMessage(state.errors), { code: NATIVE_UNAVAILABLE_WARNING });
      }
    }
  }
  if (state.binding === null && isOn('FASTERMCP_REQUIRE_NATIVE')) {
    const err = new Error(
      `FASTERMCP_REQUIRE_NATIVE is set but ${unavailableMessage(state.errors).replace(/^fastermcp: /, '')}`,
    ) as Error & { code: string };
    err.code = 'MCP_NATIVE_UNAVAILABLE';
    throw err;
  }
  return state.binding;
}

/** Every error met while loading the addon (empty when it loaded at the first try). */
export function nativeLoadErrors(): string[] {
  if (state === undefined) {
    try {
      loadNative();
    } catch {
      // FASTERMCP_REQUIRE_NATIVE: the errors are still recorded below
    }
  }
  return [...(state?.errors ?? [])];
}

/** The .node file that loaded, or null. */
export function nativeBinaryPath(): string | null {
  if (state === undefined) nativeLoadErrors();
  return state?.path ?? null;
}
