// The processes of one sandboxed tool. Warm mode keeps `size` processes started and gives each call
// an idle one (one call at a time per process); a process is replaced after recycleAfter calls or on
// any fault, in the background. Fresh mode uses every process for one call, keeping `size` spares
// started (none with pool 0: a process starts when the call arrives). Calls beyond the free processes
// wait in a bounded queue. Processes that keep failing before they are ready stop the restarts: the
// tool then answers `unavailable` with the reason (as Piscina stops respawning failing workers).
import { failureResult, type Cause } from './causes.js';
import type { PoolSettings } from './limits.js';
import { SandboxProcess, type CallMetrics, type CallOutcome, type ProcessConfig } from './process.js';
import type { ReadyMessage } from './protocol.js';
import type { CallToolResult, JsonObject } from '../server/types.js';

/** Consecutive startup failures after which a tool is marked unavailable. */
export const MAX_STARTUP_FAILURES = 3;
/** Fresh mode: processes alive beyond the spares, for calls that arrive together. */
const ON_DEMAND_PROCESSES = 4;

export interface CallRecord extends CallMetrics {
  tool: string;
  cause: 'ok' | Cause;
  pid: number;
}

/** A sandbox process started or ended (reaped, its cwd and cgroup removed). */
export interface ProcessEvent {
  tool: string;
  pid: number;
  event: 'start' | 'exit';
}

interface Waiter {
  resolve: (proc: SandboxProcess | CallToolResult) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export interface PoolStats {
  live: number;
  idle: number;
  busy: number;
  queued: number;
  started: number;
  startupFailures: number;
  unavailable: string | null;
}

export class ToolPool {
  name: string;
  private readonly procs = new Set<SandboxProcess>();
  /** Retired processes not yet reaped and cleaned up (close() waits for them too). */
  private readonly retiring = new Set<SandboxProcess>();
  private readonly idle: SandboxProcess[] = [];
  private readonly queue: Waiter[] = [];
  private started = 0;
  private failuresInARow = 0;
  private broken: string | null = null;
  private closed = false;
  private readonly maxProcs: number;

  constructor(
    private readonly config: ProcessConfig,
    private readonly settings: PoolSettings,
    private readonly onCall: (record: CallRecord) => void,
    private readonly onProcess: (event: ProcessEvent) => void = () => {},
  ) {
    this.name = config.label;
    this.maxProcs = settings.size + ON_DEMAND_PROCESSES;
  }

  /** Starts the first process and returns the tool's definition (rejects when it cannot start). */
  async start(): Promise<ReadyMessage> {
    const first = this.spawn();
    if (first === null) throw new Error(this.broken ?? `sandbox: ${this.config.label}: cannot start`);
    const ready = await first.ready;
    this.name = ready.definition.name;
    this.fill();
    return ready;
  }

  /** Runs one call in a free process and turns its outcome into a tool result. */
  async call(args: unknown, signal?: AbortSignal): Promise<CallToolResult> {
    const got = await this.acquire(signal);
    if (!(got instanceof SandboxProcess)) return got;
    const outcome = await got.call(args, signal);
    this.release(got, outcome);
    this.onCall({ tool: this.name, cause: outcome.ok ? 'ok' : outcome.cause, pid: got.pid, ...outcome.metrics });
    return this.toResult(outcome, got.pid);
  }

  stats(): PoolStats {
    let busy = 0;
    for (const p of this.procs) if (p.state === 'busy') busy++;
    return {
      live: this.procs.size,
      idle: this.idle.length,
      busy,
      queued: this.queue.length,
      started: this.started,
      startupFailures: this.failuresInARow,
      unavailable: this.broken,
    };
  }

  /** Kills every process and refuses what waits; resolves once all are reaped and cleaned up. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.queue.splice(0)) this.answer(w, failureResult(this.name, 'unavailable', 'the sandbox is closed'));
    const all = [...this.procs, ...this.retiring];
    for (const p of all) p.shutdown();
    await Promise.all(all.map((p) => p.gone));
  }

  private acquire(signal: AbortSignal | undefined): Promise<SandboxProcess | CallToolResult> {
    if (this.closed) return Promise.resolve(failureResult(this.name, 'unavailable', 'the sandbox is closed'));
    if (this.broken !== null) return Promise.resolve(failureResult(this.name, 'unavailable', this.broken));
    if (signal?.aborted === true) return Promise.resolve(failureResult(this.name, 'cancelled', 'the caller cancelled the call'));
    const free = this.idle.pop();
    if (free !== undefined) {
      // Fresh mode: the spare just taken is replaced now, while its call runs.
      if (this.settings.mode === 'fresh') this.fill();
      return Promise.resolve(free);
    }
    if (this.queue.length >= this.settings.maxQueue) {
      return Promise.resolve(failureResult(this.name, 'overloaded', `${this.queue.length} calls already wait for a free process (maxQueue ${this.settings.maxQueue})`));
    }
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const at = this.queue.indexOf(waiter);
          if (at >= 0) this.queue.splice(at, 1);
          resolve(failureResult(this.name, 'cancelled', 'the caller cancelled the call while it waited for a process'));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.fill();
    });
  }

  private answer(w: Waiter, value: SandboxProcess | CallToolResult): void {
    if (w.onAbort !== undefined) w.signal?.removeEventListener('abort', w.onAbort);
    w.resolve(value);
  }

  private release(proc: SandboxProcess, outcome: CallOutcome): void {
    if (proc.state === 'idle' && !outcome.retire && proc.calls < this.settings.recycleAfter && proc.canServe() && !this.closed) {
      this.handOut(proc);
      return;
    }
    // Retired: it leaves the pool now; its replacement starts at once.
    this.procs.delete(proc);
    if (!proc.reaped) this.retiring.add(proc); // else its cleanup already ran (and onDead with it)
    proc.kill('retired');
    this.fill();
  }

  private handOut(proc: SandboxProcess): void {
    const w = this.queue.shift();
    if (w !== undefined) this.answer(w, proc);
    else this.idle.push(proc);
  }

  /**
   * Starts processes up to what the mode wants. Warm: `size` members. Fresh: `size` spares (starting
   * or idle) plus one for each waiting call, with at most size + ON_DEMAND_PROCESSES alive at once.
   */
  private fill(): void {
    if (this.closed || this.broken !== null) return;
    if (this.settings.mode === 'warm') {
      while (this.procs.size < this.settings.size) if (this.spawn() === null) return;
      return;
    }
    let spare = this.idle.length;
    for (const p of this.procs) if (p.state === 'starting') spare++;
    while (spare < this.settings.size + this.queue.length && this.procs.size < this.maxProcs) {
      if (this.spawn() === null) return;
      spare++;
    }
  }

  private spawn(): SandboxProcess | null {
    let proc: SandboxProcess;
    try {
      proc = new SandboxProcess(this.config, (p) => this.onDead(p));
    } catch (e) {
      this.startupFailed(`the launcher could not start a process: ${(e as Error).message}`, false);
      return null;
    }
    this.started++;
    this.procs.add(proc);
    this.onProcess({ tool: this.name, pid: proc.pid, event: 'start' });
    proc.ready.then(
      () => {
        this.failuresInARow = 0;
        if (this.closed) proc.kill('the sandbox is closing');
        else if (this.procs.has(proc)) this.handOut(proc);
      },
      (e: Error) => {
        this.startupFailed(e.message, proc.loadError);
      },
    );
    return proc;
  }

  private startupFailed(why: string, final: boolean): void {
    this.failuresInARow++;
    if (!final && this.failuresInARow < MAX_STARTUP_FAILURES) return;
    this.broken = `${this.config.label} failed to start ${final ? '' : `${this.failuresInARow} times in a row `}(${why}); no more processes are started for it`;
    for (const w of this.queue.splice(0)) this.answer(w, failureResult(this.name, 'unavailable', this.broken));
  }

  private onDead(proc: SandboxProcess): void {
    this.onProcess({ tool: this.name, pid: proc.pid, event: 'exit' });
    this.retiring.delete(proc);
    const wasMember = this.procs.delete(proc);
    const at = this.idle.indexOf(proc);
    if (at >= 0) this.idle.splice(at, 1);
    if (wasMember) this.fill();
  }

  private toResult(outcome: CallOutcome, pid: number): CallToolResult {
    const m = outcome.metrics;
    const metrics: JsonObject = { pid, cpuUserMicros: m.cpuUserMicros, cpuSystemMicros: m.cpuSystemMicros, maxRssKiB: m.maxRssKiB, wallMicros: Math.round(m.wallMicros) };
    if (!outcome.ok) {
      const extra: JsonObject = { metrics };
      if (outcome.stderr !== '') extra.stderr = outcome.stderr;
      return failureResult(this.name, outcome.cause, outcome.cause === 'error' ? `thrown by the tool: ${outcome.detail}` : outcome.detail, extra);
    }
    return toolResult(outcome.result);
  }
}

/** A runner's result as a CallToolResult: a string, a content array, a CallToolResult, or any JSON value. */
export function toolResult(value: unknown): CallToolResult {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
  if (Array.isArray(value)) return { content: value as CallToolResult['content'] };
  if (typeof value === 'object' && value !== null && Array.isArray((value as CallToolResult).content)) {
    const r = value as CallToolResult;
    const out: CallToolResult = { content: r.content };
    if (typeof r.structuredContent === 'object' && r.structuredContent !== null && !Array.isArray(r.structuredContent)) out.structuredContent = r.structuredContent;
    if (r.isError === true) out.isError = true;
    if (typeof r._meta === 'object' && r._meta !== null && !Array.isArray(r._meta)) out._meta = r._meta;
    return out;
  }
  const text = JSON.stringify(value ?? null);
  if (typeof value === 'object' && value !== null) return { content: [{ type: 'text', text }], structuredContent: value as JsonObject };
  return { content: [{ type: 'text', text }] };
}
