// npm "prepare" for this checkout (runs after `npm install` / `npm ci` without arguments, and before
// `npm pack`; never for consumers installing the tarball from a registry). `--unlink-only` (pretest)
// does step 1 only.
//
// 1. The devDependencies node22/node24/node26 (npm packages `node@N`) each declare a bin named `node`,
//    so npm links node_modules/.bin/node to one of them, and every npm script would then run on that
//    Node instead of the system one. Remove that link: scripts run on the system Node, and the other
//    runtimes are called by path (scripts/run-under.mjs).
// 2. Build the TypeScript (strict: a broken dist must not be packed).
// 3. Build the addon with node-gyp. A failure here is only a warning: the JS twin still works, and
//    `npm test` rebuilds the addon strictly (pretest) so a broken build cannot pass unnoticed.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const runtimes = ['node22', 'node24', 'node26'];

const binLink = join(root, 'node_modules', '.bin', 'node');
try {
  if (lstatSync(binLink).isSymbolicLink()) {
    const target = readlinkSync(binLink);
    if (runtimes.some((r) => target.includes(`${r}/`)) || target.includes('node-linux-')) {
      unlinkSync(binLink);
      console.log(`prepare: removed node_modules/.bin/node (-> ${target}) so that npm scripts run on the system node`);
    }
  }
} catch (err) {
  if (err.code !== 'ENOENT') throw err;
}

if (process.argv.includes('--unlink-only')) process.exit(0); // pretest: `npm rebuild` may relink it

// This script itself may have started on the runtime the link pointed to; `npm` from PATH (whose
// `#!/usr/bin/env node` now finds the system node) runs the builds.
const run = (args) => spawnSync('npm', args, { cwd: root, stdio: 'inherit' }).status ?? 1;

if (!existsSync(join(root, 'node_modules', 'typescript'))) {
  console.log('prepare: typescript is not installed (devDependencies omitted); skipping the build');
  process.exit(0);
}
if (run(['run', 'build:ts']) !== 0) {
  console.error('prepare: the TypeScript build failed');
  process.exit(1);
}
if (run(['run', 'build:native']) !== 0) {
  console.warn(
    'prepare: WARNING: the native addon did not build (see above); fastermcp will use its pure-JS engine.\n' +
      'prepare: `npm test` rebuilds it and fails on a broken build.',
  );
}
