// The worker entry Piscina loads in each thread of a worker pool (src/pool/index.ts). It receives a
// PoolTask, loads the handler module once per thread (cached by URL and export), calls the handler
// with the decoded arguments and its context (handler-context.ts) and answers with the encoded
// result. A handler's error is reported as a HandlerFailure value, so that a rejection of the
// Piscina task always means the thread itself failed (exit, heap limit, termination) and never a
// handler's throw.
import { workerData } from 'node:worker_threads';
import { move } from 'piscina';
import { CallContext } from './handler-context.js';
import type { ClonedAnswer, HandlerFailure, PoolAnswer, PoolTask } from './protocol.js';

type Handler = (args: unknown, ctx: CallContext) => unknown;

/** The pool's slots (protocol.ts); absent when Piscina runs this entry without the pool (bench). */
const shared = (workerData as { poolSlots?: unknown } | null | undefined)?.poolSlots;
const slots = shared instanceof SharedArrayBuffer ? new Int32Array(shared) : undefined;

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const handlers = new Map<string, Handler>();

async function load(url: string, name: string): Promise<Handler> {
  const key = name + '\0' + url;
  const cached = handlers.get(key);
  if (cached !== undefined) return cached;
  const mod = (await import(url)) as Record<string, unknown>;
  const fn = mod[name];
  if (typeof fn !== 'function') {
    throw new TypeError(`Handler module ${url} has no function export ${JSON.stringify(name)} (found ${typeof fn})`);
  }
  handlers.set(key, fn as Handler);
  return fn as Handler;
}

function parse(json: string): unknown {
  return json === '' ? undefined : JSON.parse(json);
}

function failure(e: unknown): HandlerFailure {
  return e instanceof Error ? { error: e.message, name: e.name } : { error: String(e), name: 'Error' };
}

function answer(task: PoolTask, value: unknown): ClonedAnswer | HandlerFailure | string | Uint8Array {
  if (task.s === undefined && task.a === undefined) return { v: value } satisfies ClonedAnswer;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (e) {
    return { error: `The tool result is not JSON-serializable: ${e instanceof Error ? e.message : String(e)}`, name: 'TypeError' };
  }
  if (task.s !== undefined) return json ?? '';
  return json === undefined ? new Uint8Array(0) : encoder.encode(json);
}

export default async function run(task: PoolTask): Promise<PoolAnswer> {
  const ctx = new CallContext(task, slots);
  let out: ReturnType<typeof answer>;
  try {
    const handler = handlers.get(task.x + '\0' + task.m) ?? (await load(task.m, task.x));
    const args = task.s !== undefined ? parse(task.s) : task.a !== undefined ? parse(decoder.decode(task.a)) : task.v;
    const value = await handler(args, ctx);
    ctx.finish();
    out = answer(task, value);
  } catch (e) {
    ctx.finish();
    out = failure(e);
  }
  // A call that posted notes says how many, so the main thread delivers them all before the result.
  // (Wrapped, a 'bytes' answer is copied rather than transferred: Piscina moves only a top-level value.)
  if (ctx.notes > 0) return { n: ctx.notes, r: out };
  // Piscina transfers what move() marks instead of copying it.
  return out instanceof Uint8Array ? (move(out) as Uint8Array) : out;
}
