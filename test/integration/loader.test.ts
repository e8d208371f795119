// src/native.ts, the addon loader, exercised through the built package (dist/, from `npm run build:ts`)
// in child processes, since the loader decides once per process. Package roots are laid out in temp
// directories: no binary, a corrupt prebuild, a binary of another version, and the real one.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const tuple = `${process.platform}-${process.arch}`;
const builtBinary = [join(root, 'build', 'Release', 'mcp_native.node'), join(root, 'prebuilds', tuple, 'fastermcp.glibc.node')].find(
  (f) => existsSync(f),
);
const requireNative = process.env.FASTERMCP_REQUIRE_NATIVE === '1';

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A package root with dist/ and package.json (version overridable), plus the given files. */
function fakeRoot(files: Record<string, Buffer | string> = {}, version = pkg.version): string {
  const dir = mkdtempSync(join(tmpdir(), 'fastermcp-loader-'));
  temps.push(dir);
  cpSync(dist, join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fastermcp', version, type: 'module' }));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules')); // node-gyp-build
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

const PROBE = `
const m = await import(process.argv[1]);
createEngineTwice: {
  const router = m.createRouter();
  m.createEngine({ router }); m.createEngine({ router });
}
const info = m.runtimeInfo(); m.runtimeInfo();
console.log(JSON.stringify(info));
`;

function probe(dir: string, env: Record<string, string> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('FASTERMCP_REQUIRE_NATIVE' in env)) delete childEnv.FASTERMCP_REQUIRE_NATIVE;
  if (!('FASTERMCP_FORCE_JS' in env)) delete childEnv.FASTERMCP_FORCE_JS;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, join(dir, 'dist', 'index.js')], {
    env: childEnv,
    encoding: 'utf8',
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  const info = r.status === 0 ? (JSON.parse(last) as { implementation: string; loadErrors: string[]; binaryPath?: string; version: string; opensslVersion?: string }) : null;
  const warnings = r.stderr.split('[FASTERMCP_NATIVE_UNAVAILABLE]').length - 1;
  return { status: r.status, stderr: r.stderr, info, warnings };
}

describe('native loader (src/native.ts)', () => {
  it('is built', () => {
    expect(existsSync(join(dist, 'index.js')), 'dist/ is missing: run npm run build:ts').toBe(true);
  });

  it('falls back to js with exactly one coded warning when no binary exists', () => {
    const dir = fakeRoot();
    const r = probe(dir);
    expect(r.status).toBe(0);
    expect(r.info?.implementation).toBe('js');
    expect(r.warnings).toBe(1);
    expect(r.stderr).toContain('Possible solutions');
    expect(r.stderr).toContain('npm run build:native');
    expect(r.stderr).toContain('FASTERMCP_FORCE_JS=1');
    expect(r.info?.loadErrors.join('\n')).toContain('no binary found');
  });

  it('FASTERMCP_FORCE_JS=1 picks js without a warning', () => {
    const r = probe(fakeRoot(), { FASTERMCP_FORCE_JS: '1' });
    expect(r.status).toBe(0);
    expect(r.info?.implementation).toBe('js');
    expect(r.warnings).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('FASTERMCP_REQUIRE_NATIVE=1 turns the fallback into an error', () => {
    const r = probe(fakeRoot(), { FASTERMCP_REQUIRE_NATIVE: '1' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('MCP_NATIVE_UNAVAILABLE');
    expect(r.stderr).toContain('no binary found');
  });

  it('lists every load error: a corrupt prebuild', () => {
    const dir = fakeRoot({ [`prebuilds/${tuple}/fastermcp.glibc.node`]: 'not an ELF file' });
    const r = probe(dir);
    expect(r.info?.implementation).toBe('js');
    expect(r.warnings).toBe(1);
    expect(r.info?.loadErrors).toHaveLength(1);
    expect(r.info?.loadErrors[0]).toContain(join('prebuilds', tuple, 'fastermcp.glibc.node'));
  });

  it.skipIf(builtBinary === undefined)('refuses a binary built for another version, then tries the next one', () => {
    const binary = readFileSync(builtBinary!);
    const dir = fakeRoot(
      { 'build/Release/mcp_native.node': binary, [`prebuilds/${tuple}/fastermcp.glibc.node`]: 'corrupt' },
      '9.9.9-other',
    );
    const r = probe(dir);
    expect(r.info?.implementation).toBe('js');
    expect(r.warnings).toBe(1);
    expect(r.info?.loadErrors).toHaveLength(2);
    expect(r.info?.loadErrors[0]).toMatch(/mcp_native\.node: refused: .*9\.9\.9-other \(stale binary\)/);
    expect(r.info?.loadErrors[1]).toContain('fastermcp.glibc.node');
  });

  it.skipIf(builtBinary === undefined)('loads a prebuild shipped in prebuilds/<platform>-<arch>/', () => {
    const dir = fakeRoot({ [`prebuilds/${tuple}/fastermcp.glibc.node`]: readFileSync(builtBinary!) });
    const r = probe(dir);
    expect(r.status).toBe(0);
    expect(r.info?.implementation).toBe('native');
    expect(r.info?.binaryPath).toBe(join(dir, 'prebuilds', tuple, 'fastermcp.glibc.node'));
    expect(r.info?.loadErrors).toEqual([]);
    expect(r.info?.opensslVersion).toMatch(/^OpenSSL \d+\.\d+\.\d+/);
    expect(r.warnings).toBe(0);
  });

  it('this checkout loads native when a binary is built (required under FASTERMCP_REQUIRE_NATIVE=1)', () => {
    const r = probe(root, requireNative ? { FASTERMCP_REQUIRE_NATIVE: '1' } : {});
    expect(r.status).toBe(0);
    if (builtBinary !== undefined || requireNative) {
      expect(r.info?.implementation, r.info?.loadErrors.join('\n')).toBe('native');
      expect(r.info?.version).toBe(pkg.version);
      // OpenSSL comes from the running node: the addon reports the version node itself carries.
      expect(r.info?.opensslVersion).toContain(`OpenSSL ${process.versions.openssl.replace(/\+.*$/, '')}`);
    }
  });

  it.skipIf(builtBinary === undefined)('loads in four worker threads at once (instance data, not statics)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastermcp-workers-'));
    temps.push(dir);
    const index = JSON.stringify(join(root, 'dist', 'index.js'));
    writeFileSync(
      join(dir, 'worker.mjs'),
      `import { parentPort } from 'node:worker_threads';
       const m = await import(${index});
       const e = m.createEngine({ router: m.createRouter() });
       const n = e.scan(new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"ping"}'));
       parentPort.postMessage([m.implementation, n, e.records[0]]);`,
    );
    writeFileSync(
      join(dir, 'main.mjs'),
      `import { Worker } from 'node:worker_threads';
       const results = await Promise.all([0, 1, 2, 3].map(() => new Promise((res, rej) => {
         const w = new Worker(new URL('./worker.mjs', import.meta.url));
         w.once('message', res); w.once('error', rej);
       })));
       console.log(JSON.stringify(results));`,
    );
    // This run is about the addon, also when the suite itself runs forced to js (npm run test:js).
    const env = { ...process.env };
    delete env.FASTERMCP_FORCE_JS;
    const r = spawnSync(process.execPath, [join(dir, 'main.mjs')], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual([0, 1, 2, 3].map(() => ['native', 1, 0]));
  });
});
