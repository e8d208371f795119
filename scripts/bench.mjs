// `npm run bench`: run every bench/*.bench.ts with tsx, one process each, in name order.
//   npm run bench -- jsonrpc            only files whose name contains "jsonrpc"
//   npm run bench -- jsonrpc --update   arguments starting with "-" are passed to each bench file
//   npm run bench -- e2e --node node24  (--node and --rounds take the next argument with them)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dir = join(root, 'bench');
const args = process.argv.slice(2);
// Options that take a value as the next argument (e.g. `--node node24`) keep it with them.
const VALUED = new Set(['--node', '--rounds']);
const only = [];
const passThrough = [];
for (let i = 0; i < args.length; i++) {
  if (VALUED.has(args[i]) && i + 1 < args.length) passThrough.push(args[i], args[++i]);
  else (args[i].startsWith('-') ? passThrough : only).push(args[i]);
}
const files = (existsSync(dir) ? readdirSync(dir) : [])
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

if (files.length === 0) {
  console.log(`bench: no bench/*.bench.ts${only.length ? ` matching ${only.join(', ')}` : ''}; nothing to run`);
  process.exit(0);
}
let failed = 0;
for (const f of files) {
  console.log(`\n=== bench/${f} (node ${process.version}) ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, f), ...passThrough], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench: bench/${f} exited with ${r.status ?? r.signal}`);
    failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
