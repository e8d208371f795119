// Tools that run somewhere other than the event loop: `server.tool(name, definition, { runIn, module })`.
//   runIn: 'worker'   a trusted CPU-heavy handler on the server's Piscina pool (src/pool/)
//   runIn: 'sandbox'  an untrusted module in the server's fork-based sandbox (src/sandbox/)
// The pool and the sandbox are made on first use: a server that registers no such tool starts no
// thread and no process.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWorkerPool } from '../pool/index.js';
import type { WorkerPool, WorkerPoolOptions } from '../pool/index.js';
import { Sandbox, createSandbox } from '../sandbox/parent.js';
import type { SandboxOptions } from '../sandbox/parent.js';
import type { SandboxAllow, SandboxLimits, SandboxToolOptions } from '../sandbox/limits.js';
import type { ToolHandler } from './server.js';

export interface WorkerToolSpec {
  runIn: 'worker';
  /** Path (absolute, or relative to the working directory) or file: URL of the handler module. */
  module: string | URL;
  /** The module's export that handles calls (default 'default'). */
  export?: string;
}

export interface SandboxToolSpec extends Omit<SandboxToolOptions, 'name' | 'limits' | 'allow'> {
  runIn: 'sandbox';
  /** Path of the untrusted tool module (its default export handles calls). */
  module: string;
  /** Overrides of the sandbox's default limits for this tool. */
  limits?: Partial<SandboxLimits>;
  /** What the tool may reach beyond its own empty folder. */
  allow?: SandboxAllow;
}

export type RunSpec = WorkerToolSpec | SandboxToolSpec;

export function isRunSpec(value: unknown): value is RunSpec {
  return typeof value === 'object' && value !== null && 'runIn' in value;
}

/** A module path that must name an existing file (checked at registration, so a typo throws there). */
function modulePath(tool: string, module: unknown): string {
  if (!(module instanceof URL) && (typeof module !== 'string' || module === '')) throw new TypeError(`Tool ${JSON.stringify(tool)}: runIn needs a module path`);
  const path = module instanceof URL || module.startsWith('file:') ? fileURLToPath(module) : isAbsolute(module) ? module : resolve(module);
  if (!existsSync(path) || !statSync(path).isFile()) throw new Error(`Tool ${JSON.stringify(tool)}: module ${module} is not a file`);
  return path;
}

/** The server's worker pool and sandbox, each made when a tool first needs it. */
export class Runners {
  private pool: WorkerPool | undefined;
  private sandbox: Sandbox | undefined;

  constructor(
    private readonly poolOption: WorkerPoolOptions | WorkerPool | undefined,
    private readonly sandboxOption: SandboxOptions | Sandbox | undefined,
  ) {}

  /** The handler that runs `spec` (throws on a bad spec, before anything is registered). */
  handler(tool: string, spec: RunSpec): ToolHandler {
    if (spec.runIn === 'worker') return this.workerHandler(tool, spec);
    if (spec.runIn === 'sandbox') return this.sandboxHandler(tool, spec);
    throw new TypeError(`Tool ${JSON.stringify(tool)}: runIn must be 'worker' or 'sandbox', got ${JSON.stringify((spec as { runIn: unknown }).runIn)}`);
  }

  private workerHandler(tool: string, spec: WorkerToolSpec): ToolHandler {
    const module = modulePath(tool, spec.module);
    const exportName = spec.export ?? 'default';
    if (typeof exportName !== 'string' || exportName === '') throw new TypeError(`Tool ${JSON.stringify(tool)}: export must be a non-empty string`);
    const option = this.poolOption;
    this.pool ??= option !== undefined && typeof (option as WorkerPool).tool === 'function' ? (option as WorkerPool) : createWorkerPool(option as WorkerPoolOptions | undefined);
    return this.pool.tool(module, exportName);
  }

  private sandboxHandler(tool: string, spec: SandboxToolSpec): ToolHandler {
    const { runIn: _runIn, module, ...options } = spec;
    const option = this.sandboxOption;
    this.sandbox ??= option instanceof Sandbox ? option : createSandbox(option);
    return this.sandbox.handler(tool, modulePath(tool, module), options);
  }

  /** The worker pool and the sandbox, once a tool made them (for stats, report and metrics). */
  get workerPool(): WorkerPool | undefined {
    return this.pool;
  }
  get sandboxInUse(): Sandbox | undefined {
    return this.sandbox;
  }

  /** Closes what was made here (a pool or sandbox passed in by the user is theirs to close). */
  async close(): Promise<void> {
    const own: Promise<void>[] = [];
    if (this.pool !== undefined && this.pool !== this.poolOption) own.push(this.pool.close());
    if (this.sandbox !== undefined && this.sandbox !== this.sandboxOption) own.push(this.sandbox.close());
    await Promise.all(own);
  }
}

