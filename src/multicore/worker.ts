// The worker side of `fastermcp serve --workers N` (the primary is ./primary.ts): tells the primary
// when it listens, drains when asked, and asks the primary for what only it has (the cluster-wide
// metrics, the single audit log writer).
import cluster from 'node:cluster';
import type { PrimaryMessage, WorkerMessage } from './messages.js';

/** True in a process the primary forked. */
export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env['FASTERMCP_WORKER_SLOT'] !== undefined;
}

/** This worker's slot (1..N; a replacement takes its predecessor's), or undefined outside a cluster. */
export function workerSlot(): number | undefined {
  const slot = process.env['FASTERMCP_WORKER_SLOT'];
  return slot === undefined ? undefined : Number(slot);
}

let nextRequestId = 1;
const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }>();
let listening = false;

function listen(): void {
  if (listening) return;
  listening = true;
  process.on('message', (message: unknown) => {
    const m = message as PrimaryMessage;
    if (typeof m !== 'object' || m === null || m.type !== 'fastermcp:reply') return;
    const w = waiting.get(m.requestId);
    if (w === undefined) return;
    waiting.delete(m.requestId);
    clearTimeout(w.timer);
    if (m.ok) w.resolve(m.value);
    else w.reject(new Error(m.error));
  });
}

/** Tells the primary this worker listens on `url`. */
export function reportReady(url: string): void {
  process.send?.({ type: 'fastermcp:ready', url } satisfies WorkerMessage);
}

/** Runs `drain` when the primary asks this worker to stop (rolling restart, shutdown). */
export function onDrain(drain: () => void): void {
  process.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && (message as PrimaryMessage).type === 'fastermcp:drain') drain();
  });
}

/**
 * Call after this worker's server stopped listening, before it exits. node:cluster's primary hands each
 * connection to a worker over IPC and keeps it until the worker says whether it took it; a handover
 * still in the channel when the worker exits is never answered, and its client waits forever. The
 * primary's answer to the first question comes after every handover (the worker refuses them: it no
 * longer listens, so the primary gives them to a sibling); the second proves it has read those refusals.
 */
export async function leaveCluster(): Promise<void> {
  for (let i = 0; i < 2; i++) await askPrimary('fastermcp:leaving').catch(() => undefined);
}

/** Asks the primary's `type` service; rejects after `timeoutMs` or if the primary answers with an error. */
export function askPrimary<T>(type: `fastermcp:${string}`, payload: Record<string, unknown> = {}, timeoutMs = 5000): Promise<T> {
  listen();
  const requestId = nextRequestId++;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(requestId);
      reject(new Error(`The primary did not answer ${type} within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    waiting.set(requestId, { resolve: resolve as (v: unknown) => void, reject, timer });
    process.send!({ ...payload, type, requestId });
  });
}

/** Sends the primary a message that needs no answer (audit records). */
export function tellPrimary(type: `fastermcp:${string}`, payload: Record<string, unknown>): void {
  process.send?.({ ...payload, type });
}
