// Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
// package.json) against `fastermcp serve --http` (the built-in demo set), for every server scenario
// of spec versions 2025-11-25 and 2026-07-28, with the native engine and with the pure-JS fallback.
//
//   node scripts/conformance.mjs [--engine native|js|both] [--version 2025-11-25|2026-07-28|both]
//                                [--extensions] [--out DIR]
//
// Failures are judged against conformance/expected-failures.yml (warnings count as failures there;
// an entry that starts passing fails the run too). --extensions also runs the extension scenarios
// (tasks-*), which the suite never selects by spec version. The suite needs Node >= 22: it runs on
// the node@24 devDependency's binary; the server runs on the node running this script.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const suite = join(root, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const node24 = join(root, 'node_modules', 'node24', 'bin', 'node');
const baseline = join(root, 'conformance', 'expected-failures.yml');

const VERSIONS = ['2025-11-25', '2026-07-28'];
const EXTENSION_SCENARIOS = JSON.parse(readFileSync(join(root, 'conformance', 'extension-scenarios.json'), 'utf8')).server;
/** Bound on one suite run, so a hang fails CI instead of eating it. */
const RUN_TIMEOUT_MS = 10 * 60_000;

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'both' },
    version: { type: 'string', default: 'both' },
    extensions: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

for (const [what, path, fix] of [
  ['dist/cli.js', cli, 'npm run build:ts'],
  ['the conformance suite', suite, 'npm ci'],
  ['the node@24 binary', node24, 'npm rebuild node24'],
]) {
  if (!existsSync(path)) {
    console.error(`conformance: ${what} is missing (${path}); run: ${fix}`);
    process.exit(2);
  }
}

const engines = values.engine === 'both' ? ['native', 'js'] : [values.engine];
const versions = values.version === 'both' ? VERSIONS : [values.version];
const out = values.out ?? mkdtempSync(join(tmpdir(), 'fastermcp-conformance-'));

/** Starts the demo server; resolves with its URL and the child. */
function startServer(engine) {
  const env = { ...process.env };
  delete env.FASTERMCP_FORCE_JS;
  delete env.FASTERMCP_REQUIRE_NATIVE;
  if (engine === 'js') env.FASTERMCP_FORCE_JS = '1';
  else env.FASTERMCP_REQUIRE_NATIVE = '1';
  const child = spawn(process.execPath, [cli, 'serve', '--http', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  return new Promise((resolveUrl, reject) => {
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      const m = /serving MCP on (http:\/\/\S+)/.exec(stdout);
      if (m) resolveUrl({ url: m[1], child, stderr: () => stderr });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${stderr}`)));
  });
}

/** Runs the suite with `args`; resolves with its exit code. Output goes straight through. */
function runSuite(args) {
  return new Promise((resolveCode) => {
    const child = spawn(node24, [suite, 'server', ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => {
      console.error(`conformance: run exceeded ${RUN_TIMEOUT_MS} ms, killing it`);
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolveCode(code ?? (signal ? 1 : 0));
    });
  });
}

const results = [];
for (const engine of engines) {
  const server = await startServer(engine);
  try {
    for (const version of versions) {
      console.log(`\n##### conformance: ${engine} engine, spec ${version} (${server.url})`);
      const code = await runSuite([
        '--url', server.url, '--suite', 'all', '--spec-version', version,
        '--expected-failures', baseline, '-o', join(out, `${engine}-${version}`),
      ]);
      results.push({ engine, run: `spec ${version}`, code });
    }
    if (values.extensions) {
      for (const scenario of EXTENSION_SCENARIOS) {
        console.log(`\n##### conformance: ${engine} engine, extension scenario ${scenario}`);
        const code = await runSuite(['--url', server.url, '--scenario', scenario, '--expected-failures', baseline, '-o', join(out, `${engine}-${scenario}`)]);
        results.push({ engine, run: scenario, code });
      }
    }
  } finally {
    server.child.kill('SIGTERM');
  }
  if (server.child.exitCode !== null && server.child.exitCode !== 0) {
    console.error(`conformance: the ${engine} server died:\n${server.stderr()}`);
    results.push({ engine, run: 'server', code: 1 });
  }
}

console.log(`\n##### conformance summary (checks.json files in ${out})`);
for (const r of results) console.log(`${r.code === 0 ? 'PASS' : 'FAIL'}  ${r.engine.padEnd(6)} ${r.run}`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
