// `fastermcp serve --sandbox-dir DIR`: every *.mjs in DIR becomes a sandboxed tool. The startup
// report (which protections are active on this host) and each tool that cannot start go to `log`
// (stderr); a tool that fails is skipped and the others are served.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createSandbox, type Sandbox } from './parent.js';
import type { SandboxLimits } from './limits.js';
import type { McpServer } from '../server/server.js';

export interface SandboxFlags {
  cpuMs?: number | undefined;
  memoryMb?: number | undefined;
  wallMs?: number | undefined;
  pool?: number | undefined;
}

export async function registerSandboxDir(server: McpServer, dir: string, flags: SandboxFlags, log: (line: string) => void): Promise<Sandbox> {
  const folder = resolve(dir);
  let files: string[];
  try {
    files = readdirSync(folder, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.mjs'))
      .map((e) => e.name)
      .sort();
  } catch (e) {
    throw new Error(`--sandbox-dir ${dir}: ${(e as Error).message}`);
  }
  const defaults: Partial<SandboxLimits> = {};
  if (flags.cpuMs !== undefined) defaults.cpuMs = flags.cpuMs;
  if (flags.memoryMb !== undefined) defaults.memoryMb = flags.memoryMb;
  if (flags.wallMs !== undefined) defaults.wallMs = flags.wallMs;
  const sandbox = createSandbox({ defaults, ...(flags.pool === undefined ? {} : { pool: flags.pool }) });
  log(sandbox.report().line);
  const started = await Promise.allSettled(files.map((f) => sandbox.tool(join(folder, f))));
  let count = 0;
  for (const [i, r] of started.entries()) {
    if (r.status === 'rejected') {
      log(`sandbox: skipped ${files[i]}: ${(r.reason as Error).message}`);
      continue;
    }
    try {
      server.tool(r.value.name, r.value.definition, r.value.handler);
      count++;
    } catch (e) {
      log(`sandbox: skipped ${files[i]}: ${(e as Error).message}`);
    }
  }
  log(`sandbox: ${count} of ${files.length} tools from ${folder} registered`);
  return sandbox;
}
