// Where benchmark results go: one markdown table per run (with versions and machine) and the raw
// numbers as JSON, both in bench/results/, plus what a run says about the machine it ran on.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The commit, marked when src/ or native/ differ from it (dist/ and the addon may then hold uncommitted code). */
function git(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'native'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty === '' ? head : `${head} + uncommitted changes in src/ or native/`;
  } catch {
    return 'unknown';
  }
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
