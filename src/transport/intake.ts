// From engine records to messages: the one place where transports turn the JSON-RPC engine's
// records (docs/jsonrpc-engine.md section 7) into what dispatch.ts takes. Everything a message
// needs is copied out here, synchronously, because the engine reuses its buffers on the next call.
import {
  BODY_END,
  BODY_START,
  END,
  FLAGS,
  FLAG_BODY_IS_REPLY,
  FLAG_IN_BATCH,
  FLAG_METHOD_ESCAPED,
  FLAG_SRC_CARRY,
  ID_END,
  ID_START,
  KIND,
  KIND_BATCH,
  KIND_ERROR_RESPONSE,
  KIND_INVALID,
  KIND_NOTIFICATION,
  KIND_REQUEST,
  KIND_RESPONSE,
  METHOD_END,
  METHOD_START,
  RECORD_STRIDE,
  SLOT,
  START,
  createRouter,
} from '../jsonrpc/index.js';
import type { Engine, Router } from '../jsonrpc/index.js';
import { LEGACY_METHODS, STATELESS_METHODS } from '../server/protocol.js';

export type Message =
  | { kind: 'request'; idRaw: string; method: string; params: unknown }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'response'; idRaw: string; message: Record<string, unknown> }
  /** The engine already wrote the whole error reply (parse error, invalid request, too large). */
  | { kind: 'invalid'; reply: string }
  | { kind: 'batch'; items: Message[] };

/** Every method the server knows, by router slot: the engine resolves them without a string. */
const METHODS: readonly string[] = [...new Set([...LEGACY_METHODS, ...STATELESS_METHODS])];

/** A router with every MCP method; one per transport (routers are per thread). */
export function methodRouter(): Router {
  const router = createRouter();
  METHODS.forEach((method, slot) => router.setMethod(method, slot));
  return router;
}

// Buffer's own UTF-8 slice: no view object per field, and a leading U+FEFF inside a value is kept
// (TextDecoder would drop it). The engine has already checked that the bytes are valid UTF-8.
const utf8Slice = Buffer.prototype.utf8Slice as (this: Uint8Array, start: number, end: number) => string;

function text(src: Uint8Array, start: number, end: number): string {
  return utf8Slice.call(src, start, end);
}

function parseBody(src: Uint8Array, rec: Int32Array, r: number): unknown {
  const start = rec[r + BODY_START]!;
  return start < 0 ? undefined : JSON.parse(text(src, start, rec[r + BODY_END]!));
}

function methodOf(src: Uint8Array, rec: Int32Array, r: number): string {
  const slot = rec[r + SLOT]!;
  if (slot >= 0 && slot < METHODS.length) return METHODS[slot]!;
  const raw = text(src, rec[r + METHOD_START]!, rec[r + METHOD_END]!);
  return (rec[r + FLAGS]! & FLAG_METHOD_ESCAPED) !== 0 ? (JSON.parse('"' + raw + '"') as string) : raw;
}

function one(engine: Engine, rec: Int32Array, r: number, chunk: Uint8Array): Message | null {
  const kind = rec[r + KIND]!;
  const flags = rec[r + FLAGS]!;
  if (kind === KIND_INVALID) {
    const replies = engine.replies();
    return { kind: 'invalid', reply: text(replies, rec[r + BODY_START]!, rec[r + BODY_END]!) };
  }
  const src = (flags & FLAG_BODY_IS_REPLY) === 0 && (flags & FLAG_SRC_CARRY) !== 0 ? engine.carried() : chunk;
  switch (kind) {
    case KIND_REQUEST:
      return {
        kind: 'request',
        idRaw: text(src, rec[r + ID_START]!, rec[r + ID_END]!),
        method: methodOf(src, rec, r),
        params: parseBody(src, rec, r),
      };
    case KIND_NOTIFICATION:
      return { kind: 'notification', method: methodOf(src, rec, r), params: parseBody(src, rec, r) };
    case KIND_RESPONSE:
    case KIND_ERROR_RESPONSE:
      return {
        kind: 'response',
        idRaw: rec[r + ID_START]! < 0 ? 'null' : text(src, rec[r + ID_START]!, rec[r + ID_END]!),
        message: JSON.parse(text(src, rec[r + START]!, rec[r + END]!)) as Record<string, unknown>,
      };
    default:
      return null;
  }
}

/** The messages of the last engine call (`count` records over `chunk`). */
export function readMessages(engine: Engine, count: number, chunk: Uint8Array): Message[] {
  const rec = engine.records;
  const out: Message[] = [];
  for (let i = 0; i < count; ) {
    const r = i * RECORD_STRIDE;
    if (rec[r + KIND] === KIND_BATCH) {
      const items: Message[] = [];
      let j = i + 1;
      for (; j < count && (rec[j * RECORD_STRIDE + FLAGS]! & FLAG_IN_BATCH) !== 0; j++) {
        const m = one(engine, rec, j * RECORD_STRIDE, chunk);
        if (m !== null) items.push(m);
      }
      out.push({ kind: 'batch', items });
      i = j;
      continue;
    }
    const m = one(engine, rec, r, chunk);
    if (m !== null) out.push(m);
    i++;
  }
  return out;
}
