// The worker entry Piscina loads in each thread of a worker pool (src/pool/index.ts). It receives a
// PoolTask, loads the handler module once per thread (cached by URL and export), calls the handler
// with the decoded arguments and answers with the encoded result. A handler's error is reported as a
// HandlerFailure value, so that a rejection of the Piscina task always means the thread itself failed
// (exit, heap limit, termination) and never a handler's throw.
import { move } from 'piscina';
import type { ClonedAnswer, HandlerFailure, PoolAnswer, PoolTask } from './protocol.js';

type Handler = (args: unknown) => unknown;

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

function answer(task: PoolTask, value: unknown): PoolAnswer {
  if (task.s === undefined && task.a === undefined) return { v: value } satisfies ClonedAnswer;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (e) {
    return { error: `The tool result is not JSON-serializable: ${e instanceof Error ? e.message : String(e)}`, name: 'TypeError' };
  }
  if (task.s !== undefined) return json ?? '';
  // Piscina transfers what move() marks instead of copying it.
  return move(json === undefined ? new Uint8Array(0) : encoder.encode(json)) as Uint8Array;
}

export default async function run(task: PoolTask): Promise<PoolAnswer> {
  try {
    const handler = handlers.get(task.x + '\0' + task.m) ?? (await load(task.m, task.x));
    const args = task.s !== undefined ? parse(task.s) : task.a !== undefined ? parse(decoder.decode(task.a)) : task.v;
    return answer(task, await handler(args));
  } catch (e) {
    return failure(e);
  }
}
