// The server side of the sandbox: createSandbox() and the Sandbox it returns. A Sandbox owns one root
// folder (runner.mjs and a fresh cwd per process), the launcher and what the host offers, and one
// ToolPool per registered tool. sandbox.tool(modulePath) starts the tool's first process, which sends
// the module's definition: the server never imports an untrusted module itself.
//
//   const sandbox = createSandbox({ defaults: { wallMs: 2000 } });
//   const t = await sandbox.tool('/srv/tools/convert.mjs', { limits: { memoryMb: 128 } });
//   server.tool(t.name, t.definition, t.handler);
//   sandbox.on('call', (record) => ...); sandbox.on('process', ({tool, pid, event}) => ...);
//   sandbox.report().line; await sandbox.close();
import { EventEmitter } from 'node:events';
import { chmodSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { sweepStaleCgroups } from './cgroup.js';
import { staleNames } from './stale.js';
import { getLauncher } from './launcher/index.js';
import type { HostFeatures, Launcher } from './launcher/types.js';
import { checkAllow, DEFAULT_SANDBOX_LIMITS, resolveLimits, resolvePool, type SandboxLimits, type SandboxToolOptions } from './limits.js';
import { ToolPool, type CallRecord, type PoolStats } from './pool.js';
import { failureResult } from './causes.js';
import type { ReadyMessage } from './protocol.js';
import type { PoolSettings } from './limits.js';
import { NOBODY, type UidPool } from './process.js';
import { bwrapWorks } from './launcher/bwrap.js';
import { installRunner } from './runner-file.js';
import { nodeDataSlack } from './node-probe.js';
import { hostReport, type SandboxReport } from './report.js';
import type { McpServer, Registered, ToolDefinition, ToolHandler } from '../server/server.js';

export interface SandboxOptions {
  /** Limits every tool gets unless its options override them. */
  defaults?: Partial<SandboxLimits>;
  /** Default pool size of every tool (2). */
  pool?: number;
  /** The launcher (default: getLauncher(), native when the addon has it, else js). */
  launcher?: Launcher;
  /** Run every process in a new network namespace when the host allows it (default true). */
  networkNamespace?: boolean;
  /** Folder for the sandbox's root folder (default os.tmpdir()). */
  tmpDir?: string;
  /** How long a process may take to start and send its definition (default 15000 ms). */
  startupMs?: number;
  /**
   * When the server runs as root: give every sandbox process a uid (and gid) of its own from this
   * range instead of sharing `nobody`, so processes cannot signal or inspect each other even where
   * seccomp is missing. The range must hold no real users. At most `count` processes at once.
   */
  uidRange?: { first: number; count: number };
  /**
   * Run every process inside bubblewrap where it is installed and works here (default true): a
   * filesystem view built from nothing (node, its libraries, the runner, the module and allow.fs
   * read-only, its cwd read-write) and a pid namespace of its own.
   */
  bubblewrap?: boolean;
}

export interface SandboxedTool {
  /** definition.name (or options.name). */
  name: string;
  definition: ToolDefinition;
  handler: ToolHandler;
  limits: SandboxLimits;
  stats(): PoolStats;
}

export interface ToolMetrics extends PoolStats {
  calls: number;
  byCause: Record<string, number>;
  cpuUserMicros: number;
  cpuSystemMicros: number;
}

/** A tool module and its options, checked. */
interface PreparedTool {
  label: string;
  path: string;
  limits: SandboxLimits;
  settings: PoolSettings;
  allowFs: string[];
}

const ROOT_PREFIX = 'fastermcp-sandbox-';

/** Root folders a server that died left behind (their names carry its pid). */
function sweepStaleRoots(dir: string): void {
  for (const name of staleNames(dir, /^fastermcp-sandbox-(\d+)-[A-Za-z0-9]{6}$/)) rmSync(join(dir, name), { recursive: true, force: true });
}

/**
 * When the child runs as nobody, it must be able to reach `path`: every folder above it searchable
 * by others, and the path itself readable (a folder also searchable). Throws naming the first blocker.
 */
function checkReachable(path: string, what: string): void {
  const st = statSync(path);
  const needs = st.isDirectory() ? 0o005 : 0o004;
  if ((st.mode & needs) !== needs) throw new Error(`${what}: ${path} is not readable by others (mode ${(st.mode & 0o777).toString(8)}); the sandboxed process runs as nobody`);
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const m = statSync(dir).mode;
    if ((m & 0o001) === 0) throw new Error(`${what}: folder ${dir} is not searchable by others (mode ${(m & 0o777).toString(8)}); the sandboxed process runs as nobody and could not reach ${path}`);
    if (dir === '/') break;
  }
}

export class Sandbox extends EventEmitter {
  readonly launcher: Launcher;
  readonly host: HostFeatures;
  readonly defaults: Readonly<SandboxLimits>;
  private readonly pools = new Map<string, ToolPool>();
  /** Pools whose first process is still starting (close() must end them too). */
  private readonly starting = new Set<ToolPool>();
  /** Tools registered by handler() whose first process has not started (or failed) yet. */
  private warmingUp = 0;
  private readonly metricsByTool = new Map<string, { calls: number; byCause: Record<string, number>; cpuUserMicros: number; cpuSystemMicros: number }>();
  private root: Promise<{ dir: string; runner: string; dataSlack: number }> | undefined;
  private closing: Promise<void> | undefined;
  private readonly uids: UidPool | undefined;

  constructor(private readonly options: SandboxOptions = {}) {
    super();
    this.launcher = options.launcher ?? getLauncher();
    this.host = this.launcher.probe();
    this.uids = options.uidRange === undefined ? undefined : uidPool(options.uidRange);
    this.defaults = Object.freeze(resolveLimits(DEFAULT_SANDBOX_LIMITS, options.defaults, 'sandbox defaults'));
    if (options.pool !== undefined) resolvePool({ pool: options.pool }, {}, 'sandbox defaults');
  }

  /** Path of bwrap when processes run inside it: asked for (default), installed, and working here. */
  get bubblewrap(): string | null {
    const path = this.host.bubblewrap;
    if (this.options.bubblewrap === false || path === null) return null;
    // The probe runs as the uid the processes get (nobody, or the first of uidRange).
    const uid = this.host.root ? (this.options.uidRange?.first ?? NOBODY) : undefined;
    return bwrapWorks(path, uid) ? path : null;
  }

  /** Whether processes get a network namespace: asked for and offered by the host. */
  get networkNamespace(): boolean {
    return this.options.networkNamespace !== false && this.host.netNamespace;
  }

  private ensureRoot(): Promise<{ dir: string; runner: string; dataSlack: number }> {
    this.root ??= (async () => {
      const base = this.options.tmpDir ?? tmpdir();
      sweepStaleRoots(base);
      sweepStaleCgroups([this.host.cgroupMemory, this.host.cgroupPids]);
      const dir = mkdtempSync(join(base, `${ROOT_PREFIX}${process.pid}-`));
      // 0711: the unprivileged child may reach its own cwd and runner.mjs, but not list the others.
      chmodSync(dir, 0o711);
      const runner = await installRunner(dir);
      if (this.host.root) checkReachable(runner, 'sandbox root');
      const dataSlack = await nodeDataSlack(this.launcher, dir);
      return { dir, runner, dataSlack };
    })();
    return this.root;
  }

  /**
   * Starts a tool module in the sandbox and returns what server.tool() needs. The module exports
   * `definition` ({name, description, inputSchema}) and a default handler `(args) => result`.
   */
  async tool(modulePath: string, options: SandboxToolOptions = {}): Promise<SandboxedTool> {
    const prepared = this.prepare(modulePath, options);
    const { pool, ready } = await this.startPool(prepared);
    const name = options.name ?? ready.definition.name;
    this.claim(name, pool);
    const d = ready.definition;
    const definition: ToolDefinition = {
      ...(d.title === undefined ? {} : { title: d.title }),
      ...(d.description === undefined ? {} : { description: d.description }),
      ...(d.inputSchema === undefined ? {} : { inputSchema: d.inputSchema }),
      ...(d.annotations === undefined ? {} : { annotations: d.annotations }),
      _meta: { sandbox: { mode: prepared.settings.mode, pool: prepared.settings.size } },
    };
    const handler: ToolHandler = (args, ctx) => pool.call(args ?? {}, ctx?.signal);
    return { name, definition, handler, limits: prepared.limits, stats: () => pool.stats() };
  }

  /**
   * A handler for a tool whose name and definition the server already has (`server.tool(name,
   * definition, { runIn: 'sandbox', module })`; the module's own definition is not used). The module
   * and options are checked now (throwing); its processes start in the background and calls wait for
   * the first one. When the module cannot start, every call answers `unavailable` with the reason.
   */
  handler(name: string, modulePath: string, options: SandboxToolOptions = {}): ToolHandler {
    const prepared = this.prepare(modulePath, options);
    const started = this.startPool(prepared).then(({ pool }) => {
      this.claim(name, pool);
      return pool;
    });
    started.catch((e: unknown) => this.emit('unavailable', { tool: name, error: e }));
    this.warmingUp++;
    const warm = (): void => void this.warmingUp--;
    started.then(warm, warm);
    return async (args, ctx) => {
      let pool: ToolPool;
      try {
        pool = await started;
      } catch (e) {
        return failureResult(name, 'unavailable', (e as Error).message);
      }
      return pool.call(args ?? {}, ctx?.signal);
    };
  }

  /** The checks of tool() and handler(), all synchronous, so a bad registration throws at once. */
  private prepare(modulePath: string, options: SandboxToolOptions): PreparedTool {
    if (this.closing !== undefined) throw new Error('sandbox: closed');
    const label = `tool module ${modulePath}`;
    if (typeof modulePath !== 'string' || modulePath === '') throw new TypeError('sandbox.tool needs the path of a tool module');
    const path = realpathSync(isAbsolute(modulePath) ? modulePath : resolve(modulePath));
    if (!statSync(path).isFile()) throw new Error(`${label}: not a file`);
    const limits = resolveLimits(this.defaults, options.limits, label);
    const settings = resolvePool(options, { pool: this.options.pool }, label);
    const allowFs = checkAllow(options.allow, label).map((p) => realpathSync(p));
    if (this.host.root) for (const p of [path, ...allowFs]) checkReachable(p, label);
    return { label, path, limits, settings, allowFs };
  }

  /** Starts the pool's first process; resolves with the pool and the module's definition. */
  private async startPool({ label, path, limits, settings, allowFs }: PreparedTool): Promise<{ pool: ToolPool; ready: ReadyMessage }> {
    const { dir, runner, dataSlack } = await this.ensureRoot();
    if (this.closing !== undefined) throw new Error(`sandbox: closed while ${label} was starting`);
    const pool = new ToolPool(
      {
        label,
        modulePath: path,
        limits,
        allowFs,
        launcher: this.launcher,
        host: this.host,
        root: dir,
        runnerPath: runner,
        newNetNamespace: this.networkNamespace,
        bubblewrap: this.bubblewrap ?? undefined,
        startupMs: this.options.startupMs ?? 15_000,
        dataSlackBytes: dataSlack,
        uids: this.uids,
      },
      settings,
      (record) => this.record(record),
      (event) => this.emit('process', event),
    );
    let ready;
    this.starting.add(pool);
    try {
      ready = await pool.start();
    } catch (e) {
      await pool.close();
      throw e;
    } finally {
      this.starting.delete(pool);
    }
    if (this.closing !== undefined) {
      await pool.close();
      throw new Error(`sandbox: closed while ${label} was starting`);
    }
    return { pool, ready };
  }

  /** Files a started pool under its tool name (closing it when the name is taken). */
  private claim(name: string, pool: ToolPool): void {
    if (this.pools.has(name)) {
      void pool.close();
      throw new Error(`sandbox: a tool named ${JSON.stringify(name)} is already registered`);
    }
    pool.name = name;
    this.pools.set(name, pool);
  }

  /** sandbox.tool() then server.tool() with its name, definition and handler. */
  async register(server: McpServer, modulePath: string, options: SandboxToolOptions = {}): Promise<Registered> {
    const t = await this.tool(modulePath, options);
    return server.tool(t.name, t.definition, t.handler);
  }

  private record(record: CallRecord): void {
    let m = this.metricsByTool.get(record.tool);
    if (m === undefined) {
      m = { calls: 0, byCause: {}, cpuUserMicros: 0, cpuSystemMicros: 0 };
      this.metricsByTool.set(record.tool, m);
    }
    m.calls++;
    m.byCause[record.cause] = (m.byCause[record.cause] ?? 0) + 1;
    m.cpuUserMicros += record.cpuUserMicros;
    m.cpuSystemMicros += record.cpuSystemMicros;
    this.emit('call', record);
  }

  /** Tools whose first process is still starting (readiness: src/ops/health.ts). */
  get warming(): number {
    return this.warmingUp;
  }

  /** Totals per tool: calls by cause, CPU, and the pool's processes right now. */
  metrics(): Record<string, ToolMetrics> {
    const out: Record<string, ToolMetrics> = {};
    for (const [name, pool] of this.pools) {
      const m = this.metricsByTool.get(name) ?? { calls: 0, byCause: {}, cpuUserMicros: 0, cpuSystemMicros: 0 };
      out[name] = { ...m, byCause: { ...m.byCause }, ...pool.stats() };
    }
    return out;
  }

  /** What the host offers and which protections are active, with a one-line summary. */
  report(): SandboxReport {
    return hostReport(this.host, { networkNamespace: this.networkNamespace, bubblewrap: this.bubblewrap !== null, bubblewrapAsked: this.options.bubblewrap !== false });
  }

  /** Kills every sandbox process, waits for their cleanup and removes the root folder. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.pools.values(), ...this.starting].map((p) => p.close()));
      this.pools.clear();
      const root = this.root === undefined ? undefined : await this.root.catch(() => undefined);
      if (root !== undefined) rmSync(root.dir, { recursive: true, force: true });
    })();
    return this.closing;
  }
}

function uidPool(range: { first: number; count: number }): UidPool {
  const { first, count } = range;
  if (!Number.isInteger(first) || !Number.isInteger(count) || first < 1 || count < 1 || first + count > 0xfffffffe) {
    throw new RangeError(`sandbox uidRange: first and count must be positive integers with first + count <= 4294967294, got ${JSON.stringify(range)}`);
  }
  const free: number[] = [];
  for (let i = count - 1; i >= 0; i--) free.push(first + i);
  return {
    take(): number {
      const uid = free.pop();
      if (uid === undefined) throw new Error(`sandbox: all ${count} uids of uidRange are in use`);
      return uid;
    },
    give(uid: number): void {
      free.unshift(uid); // reused last, so a uid rests as long as possible between processes
    },
  };
}

export function createSandbox(options: SandboxOptions = {}): Sandbox {
  return new Sandbox(options);
}
