// `fastermcp serve --workers N`: the primary process of a multi-process server on one machine.
//
// The primary serves nothing itself. It forks N copies of the same command line as node:cluster
// workers; their HTTP servers share one listening socket, which the primary owns and hands out
// connection by connection (node:cluster's round-robin). It then supervises them:
//
//   * a worker that dies unexpectedly is replaced; one that keeps dying within CRASH_WINDOW_MS of its
//     start is a crash loop, and the primary gives up (exit 1) rather than fork forever;
//   * SIGHUP is a rolling restart: one worker at a time, a replacement is forked and must report
//     ready (listening) before the old one is told to drain and exit, so the port never goes unserved
//     and the requests in flight finish (new code on disk is picked up by the replacements);
//   * SIGTERM / SIGINT drain every worker (each finishes its requests in flight) and exit 0.
//
// Workers talk to the primary over the cluster IPC channel (messages in ./messages.ts).
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { isWorkerMessage } from './messages.js';
import type { PrimaryMessage, WorkerMessage } from './messages.js';

export interface PrimaryOptions {
  /** How many workers to run (>= 1). */
  workers: number;
  /** The worker's command line arguments (the serve command, without --workers). */
  args: string[];
  /** Where the primary's own lines go (default: stderr). */
  log?: (line: string) => void;
  /** How long a draining worker may take before it is killed (default 15 s). */
  drainTimeoutMs?: number;
  /**
   * What workers ask of the primary (the cluster-wide metrics) or hand it (audit entries), by message
   * type; a message with a requestId gets the service's value (or error) back.
   */
  services?: Record<string, (worker: Worker, message: WorkerMessage) => unknown>;
  /** Runs once every worker is gone, before the primary exits (closes the audit log). */
  onExit?: () => unknown;
}

/** A worker dying this soon after it started counts towards a crash loop. */
const CRASH_WINDOW_MS = 5_000;
/** This many quick deaths in a row is a crash loop. */
const MAX_QUICK_CRASHES = 5;

interface Slot {
  /** 1..N: a worker's replacement takes its slot (FASTERMCP_WORKER_SLOT). */
  index: number;
  worker: Worker;
  startedAt: number;
  ready: boolean;
  /** Set when the primary asked it to stop: its exit is expected. */
  retiring: boolean;
}

/**
 * Runs the primary until it is stopped. Emits 'ready' (url) once every worker listens, 'restarted'
 * after a rolling restart, 'exit' (code) at the end.
 */
export class Primary extends EventEmitter {
  private readonly slots = new Map<number, Slot>();
  private readonly log: (line: string) => void;
  private readonly drainTimeoutMs: number;
  private quickCrashes = 0;
  private stopping = false;
  private restarting: Promise<void> | undefined;
  private url: string | undefined;
  private announced = false;

  constructor(private readonly options: PrimaryOptions) {
    super();
    if (!Number.isSafeInteger(options.workers) || options.workers < 1) throw new RangeError(`workers must be a positive integer, got ${options.workers}`);
    this.log = options.log ?? ((line) => void process.stderr.write(`fastermcp: ${line}\n`));
    this.drainTimeoutMs = options.drainTimeoutMs ?? 15_000;
  }

  start(): void {
    cluster.setupPrimary({ args: this.options.args, silent: false });
    for (let i = 1; i <= this.options.workers; i++) this.fork(i);
  }

  /** Pids of the workers now running, by slot (tests, operators). */
  get pids(): number[] {
    return [...this.slots.values()].map((s) => s.worker.process.pid!).filter((p) => p !== undefined);
  }

  /** Replaces every worker, one at a time; resolves when the last replacement is ready. */
  rollingRestart(): Promise<void> {
    if (this.restarting !== undefined) return this.restarting;
    this.restarting = (async () => {
      this.log(`rolling restart of ${this.slots.size} workers`);
      for (const index of [...this.slots.keys()]) {
        if (this.stopping) return;
        const old = this.slots.get(index);
        if (old === undefined) continue;
        const fresh = this.fork(index);
        // Until the replacement listens, the old worker keeps serving.
        const ok = await this.whenReady(fresh);
        if (!ok) {
          this.log(`worker ${index}: the replacement did not start; keeping the old one and stopping the restart`);
          return;
        }
        await this.retire(old);
      }
      this.log('rolling restart done');
      this.emit('restarted');
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  /** Drains every worker and resolves once all have exited. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log(`stopping ${this.slots.size} workers (draining requests in flight)`);
    await Promise.all([...this.slots.values(), ...this.retiringSlots].map((s) => this.retire(s)));
    this.emit('exit', 0);
  }

  private fork(index: number): Slot {
    const worker = cluster.fork({ FASTERMCP_WORKER_SLOT: String(index) });
    const slot: Slot = { index, worker, startedAt: Date.now(), ready: false, retiring: false };
    worker.on('message', (message: unknown) => void this.onMessage(slot, message));
    worker.on('exit', (code, signal) => this.onExit(slot, code, signal));
    // The slot belongs to the newest worker; an old one being replaced drains outside it.
    const previous = this.slots.get(index);
    this.slots.set(index, slot);
    if (previous !== undefined) this.retiringSlots.add(previous);
    return slot;
  }

  /** Workers replaced in their slot but still draining. */
  private readonly retiringSlots = new Set<Slot>();

  private async onMessage(slot: Slot, message: unknown): Promise<void> {
    if (!isWorkerMessage(message)) return; // prom-client's and node's own messages share the channel
    if (message.type === 'fastermcp:ready') {
      slot.ready = true;
      this.quickCrashes = 0;
      this.url ??= String(message.url);
      slot.worker.emit('fastermcp:ready');
      if (!this.announced && [...this.slots.values()].every((s) => s.ready)) {
        this.announced = true;
        process.stdout.write(`fastermcp: serving MCP on ${this.url} (${this.slots.size} worker processes, primary pid ${process.pid})\n`);
        this.emit('ready', this.url);
      }
      return;
    }
    if (message.type === 'fastermcp:leaving') {
      // node:cluster took this worker off the listening socket when its 'close' came, which was
      // before this message on the same channel; this reply follows every connection handed to it.
      if (slot.worker.isConnected()) slot.worker.send({ type: 'fastermcp:reply', requestId: message.requestId!, ok: true, value: null } satisfies PrimaryMessage);
      return;
    }
    const service = this.options.services?.[message.type];
    if (service === undefined) return;
    if (message.requestId === undefined) {
      try {
        service(slot.worker, message);
      } catch (e) {
        this.log(`worker ${slot.index}: ${message.type} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      return;
    }
    let reply: PrimaryMessage;
    try {
      reply = { type: 'fastermcp:reply', requestId: message.requestId, ok: true, value: await service(slot.worker, message) };
    } catch (e) {
      reply = { type: 'fastermcp:reply', requestId: message.requestId, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    if (slot.worker.isConnected()) slot.worker.send(reply);
  }

  private onExit(slot: Slot, code: number | null, signal: string | null): void {
    this.retiringSlots.delete(slot);
    const current = this.slots.get(slot.index) === slot;
    if (slot.retiring || this.stopping) {
      if (current) this.slots.delete(slot.index);
      return;
    }
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    const quick = Date.now() - slot.startedAt < CRASH_WINDOW_MS;
    if (quick) this.quickCrashes++;
    if (this.quickCrashes >= MAX_QUICK_CRASHES) {
      this.log(`worker ${slot.index} exited with ${how}; ${MAX_QUICK_CRASHES} workers in a row died within ${CRASH_WINDOW_MS} ms of starting, giving up`);
      this.stopping = true;
      for (const s of this.slots.values()) if (s !== slot) s.worker.process.kill('SIGTERM');
      this.slots.clear();
      this.emit('exit', 1);
      return;
    }
    this.log(`worker ${slot.index} (pid ${slot.worker.process.pid}) exited with ${how}; starting a new one`);
    if (current) {
      this.slots.delete(slot.index);
      this.fork(slot.index);
    }
  }

  /** Resolves true once `slot` listens, false if it exits first. */
  private whenReady(slot: Slot): Promise<boolean> {
    if (slot.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onReady = (): void => {
        slot.worker.off('exit', onExit);
        resolve(true);
      };
      const onExit = (): void => {
        slot.worker.off('fastermcp:ready', onReady);
        resolve(false);
      };
      slot.worker.once('fastermcp:ready', onReady);
      slot.worker.once('exit', onExit);
    });
  }

  /**
   * Asks a worker to drain and exit; kills it after drainTimeoutMs. The worker stops taking new
   * connections at once (disconnect closes its share of the listening socket); requests already on
   * its connections get the transport's drain (finish, or 503 with Connection: close).
   */
  private retire(slot: Slot): Promise<void> {
    slot.retiring = true;
    const worker = slot.worker;
    if (worker.isDead()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.log(`worker ${slot.index} (pid ${worker.process.pid}) did not drain within ${this.drainTimeoutMs} ms; killing it`);
        worker.process.kill('SIGKILL');
      }, this.drainTimeoutMs);
      timer.unref();
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (worker.isConnected()) {
        worker.send({ type: 'fastermcp:drain' } satisfies PrimaryMessage);
      } else {
        worker.process.kill('SIGTERM');
      }
    });
  }
}

/** The primary as the CLI runs it: signals wired, exit code from the supervisor. */
export function runPrimary(options: PrimaryOptions): Primary {
  const primary = new Primary(options);
  primary.on('exit', (code: number) => {
    void Promise.resolve()
      .then(() => options.onExit?.())
      .finally(() => process.exit(code));
  });
  process.on('SIGHUP', () => void primary.rollingRestart());
  const stop = (): void => void primary.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  primary.start();
  return primary;
}
