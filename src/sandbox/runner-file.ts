// Puts the runner (child.ts) into a sandbox's root folder as runner.mjs. From the package it copies
// the compiled dist/sandbox/child.js; from a source checkout (tests, tsx) it compiles child.ts with
// TypeScript once per process. A copy in the root folder (mode 0644 in a 0711 folder) is readable by
// the unprivileged uid whatever the permissions of the folders the server was installed in.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let source: string | undefined;

async function runnerSource(): Promise<string> {
  if (source !== undefined) return source;
  const here = dirname(fileURLToPath(import.meta.url));
  const compiled = join(here, 'child.js');
  if (existsSync(compiled)) {
    source = readFileSync(compiled, 'utf8');
    return source;
  }
  const ts = join(here, 'child.ts');
  if (!existsSync(ts)) throw new Error(`sandbox: the runner is missing (neither ${compiled} nor ${ts} exists)`);
  let typescript: typeof import('typescript');
  try {
    typescript = (await import('typescript')).default;
  } catch (e) {
    throw new Error(`sandbox: running from source needs the typescript package to compile ${ts} (${(e as Error).message})`);
  }
  const out = typescript.transpileModule(readFileSync(ts, 'utf8'), {
    compilerOptions: { module: typescript.ModuleKind.ES2022, target: typescript.ScriptTarget.ES2022 },
    fileName: ts,
  });
  source = out.outputText;
  return source;
}

/** Writes runner.mjs into root and returns its path. */
export async function installRunner(root: string): Promise<string> {
  const path = join(root, 'runner.mjs');
  writeFileSync(path, await runnerSource(), { mode: 0o644 });
  return path;
}
