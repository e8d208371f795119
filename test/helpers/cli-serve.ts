// `fastermcp serve --http 0 ...` (the built dist/cli.js) as a child process for integration tests:
// resolves with its URL once it serves, rejects with its stderr if it exits first. Every server a
// test file started is killed after each test (useCliServers registers the afterEach).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll } from 'vitest';

export const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** At the top of a test file: the serve() function, with the checks and clean-up around it. */
export function useCliServers(): (args: string[]) => Promise<string> {
  const children: ChildProcess[] = [];
  beforeAll(() => {
    if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run npm run build:ts');
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });
  return (args) => {
    const child = spawn(process.execPath, [cli, 'serve', '--http', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /serving MCP on (\S+)/.exec(out);
        if (m !== null) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`fastermcp serve exited ${code}: ${stderr}`)));
    });
  };
}
