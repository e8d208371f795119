// The JSON-RPC engine's public face: createRouter() and createEngine() check their arguments once,
// here, and pick the native engine when the addon loads, else the pure-JS twin (same records, same
// bytes; docs/jsonrpc-engine.md). After that every call takes only bytes.

import { loadNative } from '../native.js';
import type { NativeBinding } from '../native.js';
import { JsEngine, JsRouter } from './js.js';
import type { Engine, EngineLimits, NameTable, Router } from './js.js';
import { NativeEngine, NativeRouter } from './native.js';

export type { Engine, EngineLimits, NameTable, Router } from './js.js';
export { NAME_TABLE_PROMPTS, NAME_TABLE_RESOURCES, NAME_TABLE_TOOLS } from './js.js';
export {
  ARGS_END,
  ARGS_START,
  BODY_END,
  BODY_START,
  CODE,
  END,
  FLAGS,
  FLAG_BODY_IS_REPLY,
  FLAG_IN_BATCH,
  FLAG_METHOD_ESCAPED,
  FLAG_NAME_ESCAPED,
  FLAG_PARAMS_SPANNED,
  FLAG_META_REPEATED,
  FLAG_LIMITED,
  LIMITED_RESET,
  LIMITED_REMAINING,
  LIMITED_RETRY_AFTER,
  LIMITED_RULE,
  FLAG_SRC_CARRY,
  ID_END,
  ID_KIND_MASK,
  ID_KIND_NAMES,
  ID_KIND_SHIFT,
  ID_NONE,
  ID_NULL,
  ID_NUMBER,
  ID_START,
  ID_STRING,
  KIND,
  KIND_BATCH,
  KIND_ERROR_RESPONSE,
  KIND_INVALID,
  KIND_NAMES,
  KIND_NOTIFICATION,
  KIND_REQUEST,
  KIND_RESPONSE,
  META_END,
  META_START,
  METHOD_END,
  METHOD_START,
  NAME_END,
  NAME_SLOT,
  NAME_START,
  REASON,
  RECORD_STRIDE,
  SLOT,
  START,
  describeRecord,
  idKindOf,
} from './records.js';
export type { DescribedRecord, IdKindName, KindName, RecordSources } from './records.js';
export { MAX_READ_ARGUMENTS_BYTES, buildArguments } from './arguments.js';
export type { ArgumentsRead } from './arguments.js';
export {
  INVALID_REQUEST,
  PARSE_ERROR,
  REASON_MESSAGES,
  REASON_NAMES,
  REASON_WIRE_CODES,
  Reason,
  formatReasonMessage,
} from './errors.js';
export type { ReasonLimits, ReasonName } from './errors.js';
export { writeError, writeResult } from './response.js';
export type { RawId } from './response.js';

export interface EngineOptions {
  /** The router made by createRouter(); the engine sees its changes at each scan. */
  router: Router;
  /** Longest line (CR and BOM included) or scanned message; 1 .. 2^30, default 4 MiB. */
  maxMessageBytes?: number;
  /** Deepest nesting; the top-level object or array is depth 1; 1 .. 1024, default 128. */
  maxDepth?: number;
  /** Most elements in one batch; 1 .. 100000, default 1000. */
  maxBatch?: number;
  /** Whether a top-level array is a batch (else it is rejected); default true. */
  allowBatch?: boolean;
}

export const DEFAULT_LIMITS: Readonly<EngineLimits> = Object.freeze({
  maxMessageBytes: 4194304,
  maxDepth: 128,
  maxBatch: 1000,
  allowBatch: true,
});

const RANGES = {
  maxMessageBytes: [1, 2 ** 30],
  maxDepth: [1, 1024],
  maxBatch: [1, 100000],
} as const;

const native: NativeBinding | null = loadNative();

/** Which engine createEngine() builds in this thread. */
export const implementation: 'native' | 'js' = native === null ? 'js' : 'native';

function describe(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value)} of type string`;
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `${String(value)} of type ${typeof value}`;
}

function checkString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new TypeError(`Expected a string for ${name} but received ${describe(value)}`);
  // A lone surrogate has no UTF-8 form, so no message could ever match it.
  if (/[\uD800-\uDFFF]/u.test(value)) {
    throw new TypeError(`Expected a well-formed string for ${name} but received one with a lone surrogate`);
  }
  return value;
}

function checkSlot(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`Expected an integer for ${name} but received ${describe(value)}`);
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new RangeError(`Expected an integer between 0 and 2147483647 for ${name} but received ${value}`);
  }
  return value;
}

function checkTable(value: unknown): NameTable {
  if (value !== 0 && value !== 1 && value !== 2) {
    throw new RangeError(`Expected 0 (tools), 1 (resources) or 2 (prompts) for table but received ${describe(value)}`);
  }
  return value;
}

/** The router createRouter() returns: checks arguments, then calls the chosen implementation. */
class CheckedRouter implements Router {
  constructor(readonly inner: JsRouter | NativeRouter) {}

  setMethod(method: string, slot: number, table?: NameTable): void {
    checkString(method, 'method');
    checkSlot(slot, 'slot');
    this.inner.setMethod(method, slot, table === undefined ? undefined : checkTable(table));
  }

  deleteMethod(method: string): boolean {
    return this.inner.deleteMethod(checkString(method, 'method'));
  }

  setName(table: NameTable, name: string, slot: number): void {
    this.inner.setName(checkTable(table), checkString(name, 'name'), checkSlot(slot, 'slot'));
  }

  deleteName(table: NameTable, name: string): boolean {
    return this.inner.deleteName(checkTable(table), checkString(name, 'name'));
  }

  clear(): void {
    this.inner.clear();
  }
}

/** A routing table (method -> slot, name -> slot) for engines of this thread. */
export function createRouter(): Router {
  return new CheckedRouter(native === null ? new JsRouter() : new NativeRouter(native));
}

function checkLimit(options: EngineOptions, name: keyof typeof RANGES): number {
  const value: unknown = options[name];
  if (value === undefined) return DEFAULT_LIMITS[name];
  const [low, high] = RANGES[name];
  if (typeof value !== 'number') {
    throw new TypeError(`Expected an integer between ${low} and ${high} for ${name} but received ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new RangeError(`Expected an integer between ${low} and ${high} for ${name} but received ${value}`);
  }
  return value;
}

/** Checks `options` once and fills in the defaults. */
export function engineLimits(options: EngineOptions): EngineLimits {
  const allowBatch: unknown = options.allowBatch;
  if (allowBatch !== undefined && typeof allowBatch !== 'boolean') {
    throw new TypeError(`Expected a boolean for allowBatch but received ${describe(allowBatch)}`);
  }
  return {
    maxMessageBytes: checkLimit(options, 'maxMessageBytes'),
    maxDepth: checkLimit(options, 'maxDepth'),
    maxBatch: checkLimit(options, 'maxBatch'),
    allowBatch: allowBatch ?? DEFAULT_LIMITS.allowBatch,
  };
}

/** An engine (framer + scanner + output buffers) for one connection or request stream. */
export function createEngine(options: EngineOptions): Engine {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected an object for options but received ${describe(options)}`);
  }
  const router: unknown = options.router;
  if (!(router instanceof CheckedRouter)) {
    throw new TypeError(`Expected a router made by createRouter() for router but received ${describe(router)}`);
  }
  const limits = engineLimits(options);
  const inner = router.inner;
  if (inner instanceof NativeRouter) {
    if (native === null) throw new TypeError('Expected a router of the js implementation but received a native one');
    return new NativeEngine(native, inner, limits);
  }
  return new JsEngine(inner, limits);
}
