// Record layout of the JSON-RPC engine (docs/jsonrpc-engine.md section 7).
//
// Every engine call returns a record count and leaves that many records in an Int32Array, RECORD_STRIDE
// int32 per record, in message order. The native engine and the JS twin write the same numbers.

/** int32 slots per record. */
export const RECORD_STRIDE = 20;

// Field indexes inside one record.
export const KIND = 0; ///< RecordKind
export const FLAGS = 1; ///< Flag bits below
export const START = 2; ///< message (or batch array) without surrounding whitespace; -1 for too_large
export const END = 3;
export const ID_START = 4; ///< raw id token, quotes and escapes as written; -1 when absent
export const ID_END = 5;
export const METHOD_START = 6; ///< raw method content without the quotes; -1 when absent
export const METHOD_END = 7;
export const BODY_START = 8; ///< params / result / error value; for invalid records the reply in replies()
export const BODY_END = 9;
export const SLOT = 10; ///< route slot of the method (-1 unknown); for batch records the element count
export const NAME_SLOT = 11; ///< slot of the routed name (-1 none or unknown)
export const NAME_START = 12; ///< raw routed name content without the quotes; -1 when absent
export const NAME_END = 13;
export const CODE = 14; ///< invalid records: -32700 or -32600; else 0
export const REASON = 15; ///< Reason code (errors.ts); 0 for valid records
export const ARGS_START = 16; ///< value of params member "arguments" when it occurs once; -1 otherwise
export const ARGS_END = 17;
export const META_START = 18; ///< value of params member "_meta" when it occurs once; -1 otherwise
export const META_END = 19;

// Record kinds (field KIND).
export const KIND_REQUEST = 0;
export const KIND_NOTIFICATION = 1;
export const KIND_RESPONSE = 2;
export const KIND_ERROR_RESPONSE = 3;
export const KIND_INVALID = 4;
export const KIND_BATCH = 5;

/** Kind names by kind number, as the vectors spell them. */
export const KIND_NAMES = ['request', 'notification', 'response', 'error_response', 'invalid', 'batch'] as const;
export type KindName = (typeof KIND_NAMES)[number];

// Flag bits (field FLAGS).
export const FLAG_SRC_CARRY = 1 << 0; ///< spans index carried(), else the chunk / message given
export const FLAG_IN_BATCH = 1 << 1; ///< an element of the batch announced by the preceding batch record
export const ID_KIND_SHIFT = 2; ///< bits 2-3 hold the id kind
export const ID_KIND_MASK = 3 << ID_KIND_SHIFT;
export const FLAG_METHOD_ESCAPED = 1 << 4; ///< the method content contains a backslash escape
export const FLAG_NAME_ESCAPED = 1 << 5; ///< the routed name content contains a backslash escape
export const FLAG_BODY_IS_REPLY = 1 << 6; ///< BODY spans replies() (invalid records)
export const FLAG_PARAMS_SPANNED = 1 << 7; ///< params is exactly its NAME, ARGS and META spans (requests, notifications)
/** A request the native engine's fused admission refused (docs/ratelimit.md section 8): an invalid record with
 * BODY_IS_REPLY (the -32029 reply), SLOT and NAME_SLOT kept, the decision in LIMITED_* (fields 16-19). */
export const FLAG_LIMITED = 1 << 8;
/** A request or notification whose META holds the same bytes as the META of the closest earlier record of the
 * same call that has one: a reader that kept that value need not read this one (docs/jsonrpc-engine.md section 7). */
export const FLAG_META_REPEATED = 1 << 9;
export const LIMITED_RULE = 16; ///< the refusing rule's index
export const LIMITED_RETRY_AFTER = 17; ///< ms, or -1: never
export const LIMITED_REMAINING = 18;
export const LIMITED_RESET = 19; ///< ms until full again

// Id kinds (FLAGS bits 2-3).
export const ID_NONE = 0;
export const ID_NULL = 1;
export const ID_STRING = 2;
export const ID_NUMBER = 3;

/** Id kind names by id kind number, as the vectors spell them. */
export const ID_KIND_NAMES = ['none', 'null', 'string', 'number'] as const;
export type IdKindName = (typeof ID_KIND_NAMES)[number];

/** The id kind stored in a FLAGS value. */
export function idKindOf(flags: number): number {
  return (flags & ID_KIND_MASK) >>> ID_KIND_SHIFT;
}

/** A record in the vector form of docs/jsonrpc-engine.md section 9 (span texts decoded as UTF-8). */
export interface DescribedRecord {
  kind: KindName | `unknown(${number})`;
  idKind: IdKindName;
  carry: boolean;
  inBatch: boolean;
  methodEscaped: boolean;
  nameEscaped: boolean;
  paramsSpanned: boolean;
  metaRepeated: boolean;
  start: number;
  end: number;
  message?: string;
  id?: string;
  method?: string;
  body?: string;
  reply?: string;
  name?: string;
  arguments?: string;
  meta?: string;
  slot: number;
  count?: number;
  nameSlot: number;
  code: number;
  reason: string;
}

/** Where the spans of a record point: the chunk or message given to the call, carried() and replies(). */
export interface RecordSources {
  input: Uint8Array;
  carried: Uint8Array;
  replies: Uint8Array;
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

function text(source: Uint8Array, start: number, end: number): string | undefined {
  if (start < 0 || end < start || end > source.length) return undefined;
  return decoder.decode(source.subarray(start, end));
}

/**
 * Turns record `index` of `records` into the vector form, for tests and debugging.
 * `reasonNames` maps reason codes to names (pass REASON_NAMES from errors.ts).
 */
export function describeRecord(
  records: Int32Array,
  index: number,
  sources: RecordSources,
  reasonNames: readonly string[],
): DescribedRecord {
  const at = index * RECORD_STRIDE;
  const kind = records[at + KIND];
  const flags = records[at + FLAGS];
  const span = (flags & FLAG_SRC_CARRY) !== 0 ? sources.carried : sources.input;
  const reason = records[at + REASON];
  const described: DescribedRecord = {
    kind: KIND_NAMES[kind] ?? `unknown(${kind})`,
    idKind: ID_KIND_NAMES[idKindOf(flags)],
    carry: (flags & FLAG_SRC_CARRY) !== 0,
    inBatch: (flags & FLAG_IN_BATCH) !== 0,
    methodEscaped: (flags & FLAG_METHOD_ESCAPED) !== 0,
    nameEscaped: (flags & FLAG_NAME_ESCAPED) !== 0,
    paramsSpanned: (flags & FLAG_PARAMS_SPANNED) !== 0,
    metaRepeated: (flags & FLAG_META_REPEATED) !== 0,
    start: records[at + START],
    end: records[at + END],
    slot: records[at + SLOT],
    nameSlot: records[at + NAME_SLOT],
    code: records[at + CODE],
    reason: reasonNames[reason] ?? `unknown(${reason})`,
  };
  const message = text(span, records[at + START], records[at + END]);
  if (message !== undefined) described.message = message;
  const id = text(span, records[at + ID_START], records[at + ID_END]);
  if (id !== undefined) described.id = id;
  const method = text(span, records[at + METHOD_START], records[at + METHOD_END]);
  if (method !== undefined) described.method = method;
  const bodySource = (flags & FLAG_BODY_IS_REPLY) !== 0 ? sources.replies : span;
  const body = text(bodySource, records[at + BODY_START], records[at + BODY_END]);
  if (body !== undefined) {
    if ((flags & FLAG_BODY_IS_REPLY) !== 0) described.reply = body;
    else described.body = body;
  }
  const name = text(span, records[at + NAME_START], records[at + NAME_END]);
  if (name !== undefined) described.name = name;
  const args = text(span, records[at + ARGS_START], records[at + ARGS_END]);
  if (args !== undefined) described.arguments = args;
  const meta = text(span, records[at + META_START], records[at + META_END]);
  if (meta !== undefined) described.meta = meta;
  if (kind === KIND_BATCH) described.count = records[at + SLOT];
  return described;
}
