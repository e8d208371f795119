// Where benchmark results go: one markdown table per run (with versions and machine) and the raw
// numbers as JSON, both in bench/results/, plus what a run says about the machine it ran on.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const RESULTS = join(ROOT, 'bench', 'results');

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'missing';
  }
}

/**
 * The commit, marked when src/ or native/ differ from it (dist/ and the addon may then hold uncommitted
 * code), or when dist/ or the addon is older than its sources: the servers then ran other code than the
 * tree holds (a change tried, then reverted without a rebuild).
 */
function git(): string {
  let head: string;
  let dirty: string;
  try {
    head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'native'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
  const stale = staleBuilds();
  if (stale.length > 0 && !warnedStale) {
    warnedStale = true;
    console.warn(`bench: STALE BUILD, rebuild first (npm run build): ${stale.join('; ')}`);
  }
  return [head, ...(dirty === '' ? [] : ['uncommitted changes in src/ or native/']), ...stale.map((s) => `STALE BUILD: ${s}`)].join(' + ');
}

let warnedStale = false;

/** The builds older than a source they are made from (by modification time). */
export function staleBuilds(root: string = ROOT): string[] {
  const stale: string[] = [];
  const dist = newestUnder(join(root, 'dist'), ['.js']);
  if (dist > 0 && newestUnder(join(root, 'src'), ['.ts']) > dist) stale.push('dist/ is older than src/');
  const addon = join(root, 'build', 'Release', 'mcp_native.node');
  if (existsSync(addon) && newestUnder(join(root, 'native'), ['.cc', '.h']) > statSync(addon).mtimeMs) {
    stale.push('build/Release/mcp_native.node is older than native/');
  }
  return stale;
}

/** The newest modification time (ms) of the files under `dir` whose names end with one of `ends`; 0 for none. */
function newestUnder(dir: string, ends: readonly string[]): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestUnder(path, ends));
    else if (ends.some((e) => entry.name.endsWith(e))) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** The "what ran where" lines every results file starts with. */
export function machineLines(node: string = process.version): string[] {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return [
    `- fastermcp ${pkg.version} (git ${git()}), @modelcontextprotocol/sdk ${version('@modelcontextprotocol/sdk')}`,
    `- node ${node} for the servers; harness on node ${process.version}`,
    `- ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform} ${process.arch}`,
    `- run at ${new Date().toISOString()}`,
  ];
}

/** Writes bench/results/<name>.md and <name>.json. */
export function writeResults(name: string, markdown: string, data: unknown): string {
  mkdirSync(RESULTS, { recursive: true });
  const md = join(RESULTS, `${name}.md`);
  writeFileSync(md, markdown.endsWith('\n') ? markdown : markdown + '\n');
  writeFileSync(join(RESULTS, `${name}.json`), JSON.stringify(data, null, 2) + '\n');
  return md;
}

/** A markdown table. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
