// The pure-JS twin of the native JSON-RPC engine: NDJSON framing, a validating JSON scanner and the
// JSON-RPC classification, per docs/jsonrpc-engine.md (sections 3 to 7 are quoted below by number).
// It is the reference implementation: the fallback when no addon loads, the oracle of the
// differential test and the "pure JS" column of the benchmarks. It writes the same records, carried
// bytes and reply bytes as the native engine.
//
// One message goes through these steps (spec section 4):
//   isUtf8 (step 1, once per chunk when the chunk's lines are all valid) -> walk() validates in
//   document order and captures the members the classifier needs (step 3) -> only when walk() says
//   too_deep, stage1Error() looks for the lexical errors of step 2, which simdjson would have reported
//   first -> classifyMessage() (section 5) -> records.
//
// How it stays fast without changing what it computes (bench/jsonrpc.bench.ts):
//   * no allocation per message: captures, records and replies live in reused typed arrays; a message
//     makes no strings (router keys are looked up as bytes, see ByteTable; only the duplicate check of
//     a message with more than 16 other member names uses a Set of strings);
//   * the walk captures only what sections 5 and 6 read (per message object: count, type and span of
//     each envelope member; per params object: "name" and "uri"; per error object: "code" and
//     "message"; the names of other members, for the duplicate check);
//   * string bodies: short ones byte by byte; long ones find their closing quote and the next backslash
//     with memchr (Buffer.indexOf) and check for control bytes four at a time (see hasControlByte);
//   * UTF-8 is checked once for all the complete lines of a chunk (a line boundary is an LF, which never
//     sits inside a multi-byte sequence, so the lines of a valid region are each valid); only when that
//     check fails is each line checked on its own.

import { Buffer, isUtf8 as bufferIsUtf8 } from 'node:buffer';
import { Reason, REASON_WIRE_CODES, formatReasonMessage } from './errors.js';
import {
  FLAG_BODY_IS_REPLY,
  FLAG_PARAMS_SPANNED,
  FLAG_META_REPEATED,
  FLAG_IN_BATCH,
  FLAG_METHOD_ESCAPED,
  FLAG_NAME_ESCAPED,
  FLAG_SRC_CARRY,
  ID_KIND_SHIFT,
  ID_NONE,
  ID_NULL,
  ID_NUMBER,
  ID_STRING,
  KIND_BATCH,
  KIND_ERROR_RESPONSE,
  KIND_INVALID,
  KIND_NOTIFICATION,
  KIND_REQUEST,
  KIND_RESPONSE,
  RECORD_STRIDE,
} from './records.js';
import { REPLY_HEAD, REPLY_NULL_ID, errorReplyTail } from './response.js';
import { KeyTable, readArguments } from './arguments.js';
import { idText } from './id-text.js';
import type { ArgumentsRead } from './arguments.js';

/** Name tables of the router (spec section 6): 0 tools (`name`), 1 resources (`uri`), 2 prompts (`name`). */
export type NameTable = 0 | 1 | 2;
export const NAME_TABLE_TOOLS = 0;
export const NAME_TABLE_RESOURCES = 1;
export const NAME_TABLE_PROMPTS = 2;

/** Engine limits (spec section 2), already validated by index.ts. */
export interface EngineLimits {
  maxMessageBytes: number;
  maxDepth: number;
  maxBatch: number;
  allowBatch: boolean;
}

/** What both implementations expose (index.ts re-exports these). */
export interface Router {
  setMethod(method: string, slot: number, table?: NameTable): void;
  deleteMethod(method: string): boolean;
  setName(table: NameTable, name: string, slot: number): void;
  deleteName(table: NameTable, name: string): boolean;
  clear(): void;
}

export interface Engine {
  /** Frames and scans one chunk of an NDJSON stream; returns the record count. */
  feed(chunk: Uint8Array): number;
  /** Scans the unterminated last line, if any, then starts a new stream. */
  end(): number;
  /** Scans one whole message (an HTTP body), no framing. */
  scan(message: Uint8Array): number;
  /** Records of the last call, RECORD_STRIDE int32 each; may be longer than count * RECORD_STRIDE. */
  readonly records: Int32Array;
  /** The line that completed from the carry buffer in the last call (SRC_CARRY spans). */
  carried(): Uint8Array;
  /** Reply bytes of the last call's invalid records (BODY_IS_REPLY spans). */
  replies(): Uint8Array;
  /** Drops the carry buffer and starts a new stream. */
  reset(): void;
  /**
   * The `arguments` of the last call's records read for JS (docs/jsonrpc-engine.md section 11; `source` is
   * the chunk or message that call was given). Member names keep their key ids for the engine's life.
   */
  readArguments(source: Uint8Array): ArgumentsRead;
  /**
   * Whether readArguments is the cheaper way to many requests' arguments: true for the native engine. The
   * JS twin's reading is slower than one JSON.parse of the spans joined (bench/results/arguments.md), so
   * transports join them for it.
   */
  readonly readsArguments: boolean;
  /**
   * The ids of the last call's records as one text (docs/jsonrpc-engine.md section 12; `source` as for
   * readArguments): each record with an ID span contributes its raw id, in record order, nothing between.
   * null when an id is not ASCII.
   */
  idText(source: Uint8Array): string | null;
  /**
   * Whether idText is cheaper than decoding a read's whole chunk for its ids: true for the native engine.
   * The JS twin makes its text a character at a time, so transports decode the chunk for it.
   */
  readonly readsIds: boolean;
  /**
   * Native engines only: fused admission (docs/ratelimit.md section 8). Requests of the following calls are
   * checked against `ruleSet` (a native RuleSet's raw handle; null: none) in the same crossing; a refused one
   * becomes an invalid record with FLAG_LIMITED and its reply from `replies` (per rule: head, middle, tail,
   * never).
   */
  setAdmission?(ruleSet: object | null, replies: readonly (readonly string[])[]): void;
  /** Native engines only: the client the following calls admit requests for. */
  setClient?(client: string): void;
}

// Imported bindings copied into module constants: the hot path reads these, and some loaders (tsx,
// bundlers emitting CommonJS) turn every read of an imported binding into a getter call.
const isUtf8 = bufferIsUtf8;
const K_REQUEST = KIND_REQUEST;
const K_NOTIFICATION = KIND_NOTIFICATION;
const K_RESPONSE = KIND_RESPONSE;
const K_ERROR_RESPONSE = KIND_ERROR_RESPONSE;
const K_INVALID = KIND_INVALID;
const K_BATCH = KIND_BATCH;
const F_SRC_CARRY = FLAG_SRC_CARRY;
const F_IN_BATCH = FLAG_IN_BATCH;
const F_METHOD_ESCAPED = FLAG_METHOD_ESCAPED;
const F_NAME_ESCAPED = FLAG_NAME_ESCAPED;
const F_BODY_IS_REPLY = FLAG_BODY_IS_REPLY;
const F_PARAMS_SPANNED = FLAG_PARAMS_SPANNED;
const F_META_REPEATED = FLAG_META_REPEATED;
const ID_SHIFT = ID_KIND_SHIFT;
const IDK_NONE = ID_NONE;
const IDK_NULL = ID_NULL;
const IDK_STRING = ID_STRING;
const IDK_NUMBER = ID_NUMBER;
const STRIDE = RECORD_STRIDE;
const WIRE_CODES: readonly number[] = REASON_WIRE_CODES;
const R_OK: number = Reason.ok;
const R_INVALID_UTF8: number = Reason.invalid_utf8;
const R_INVALID_JSON: number = Reason.invalid_json;
const R_TOO_DEEP: number = Reason.too_deep;
const R_TOO_LARGE: number = Reason.too_large;
const R_NOT_OBJECT: number = Reason.not_object;
const R_DUPLICATE_KEY: number = Reason.duplicate_key;
const R_BAD_VERSION: number = Reason.bad_version;
const R_BAD_ID: number = Reason.bad_id;
const R_BAD_SHAPE: number = Reason.bad_shape;
const R_BAD_METHOD: number = Reason.bad_method;
const R_BAD_PARAMS: number = Reason.bad_params;
const R_BAD_ERROR: number = Reason.bad_error;
const R_EMPTY_BATCH: number = Reason.empty_batch;
const R_BATCH_NOT_ALLOWED: number = Reason.batch_not_allowed;
const R_BATCH_TOO_LARGE: number = Reason.batch_too_large;

// ---------------------------------------------------------------------------------------------------
// Router

/**
 * Router keys are the UTF-8 bytes of a name held one byte per char (latin1), so that the maps below
 * hold exactly the bytes a message is compared with.
 */
function routerKey(name: string): string {
  return Buffer.from(name, 'utf8').toString('latin1');
}

/** FNV-1a over bytes[start..end). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h;
}

/**
 * A map from byte strings to (slot, table), looked up with a span of any byte array, so a scan makes
 * no string to find a route. The Map is the truth; the open-addressing index over it is rebuilt at the
 * first lookup after a change (a scan sees the table as it is when it runs).
 */
class ByteTable {
  private readonly entries = new Map<string, { slot: number; table: number }>();
  private dirty = true;
  private keys: Buffer = Buffer.alloc(0); // every key's bytes, back to back
  private buckets: Int32Array = new Int32Array(0); // BUCKET ints per bucket; KEY_START -1: empty
  private mask = 0;
  private last = -1; // the bucket find() returned last, or -1

  set(key: string, slot: number, table: number): void {
    this.entries.set(key, { slot, table });
    this.dirty = true;
  }

  delete(key: string): boolean {
    const had = this.entries.delete(key);
    if (had) this.dirty = true;
    return had;
  }

  clear(): void {
    this.entries.clear();
    this.dirty = true;
  }

  /** The bucket of bytes[start..end) (its SLOT and TABLE follow), or -1 when the key is absent. */
  find(bytes: Uint8Array, start: number, end: number): number {
    if (this.dirty) this.rebuild();
    const buckets = this.buckets;
    const keys = this.keys;
    const length = end - start;
    // A stream mostly repeats a few methods and names: try the last key found before hashing.
    const last = this.last;
    if (last >= 0 && buckets[last + B_KEY_END] - buckets[last + B_KEY_START] === length) {
      const keyStart = buckets[last + B_KEY_START];
      let k = 0;
      while (k < length && keys[keyStart + k] === bytes[start + k]) k++;
      if (k === length) return last;
    }
    const hash = hashBytes(bytes, start, end);
    for (let b = hash & this.mask; ; b = (b + 1) & this.mask) {
      const at = b * BUCKET;
      const keyStart = buckets[at + B_KEY_START];
      if (keyStart < 0) return -1;
      if (buckets[at + B_HASH] !== hash || buckets[at + B_KEY_END] - keyStart !== length) continue;
      let k = 0;
      while (k < length && keys[keyStart + k] === bytes[start + k]) k++;
      if (k === length) {
        this.last = at;
        return at;
      }
    }
  }

  /** The slot stored for bytes[start..end), or -1. */
  slot(bytes: Uint8Array, start: number, end: number): number {
    const at = this.find(bytes, start, end);
    return at < 0 ? -1 : this.buckets[at + B_SLOT];
  }

  /** The SLOT of a bucket find() returned. */
  slotAt(at: number): number {
    return this.buckets[at + B_SLOT];
  }

  /** The TABLE of a bucket find() returned. */
  tableAt(at: number): number {
    return this.buckets[at + B_TABLE];
  }

  private rebuild(): void {
    this.dirty = false;
    this.last = -1;
    let size = 8;
    while (size < this.entries.size * 2) size *= 2;
    this.mask = size - 1;
    this.buckets = new Int32Array(size * BUCKET).fill(-1);
    const keys: Buffer[] = [];
    let offset = 0;
    for (const [key, { slot, table }] of this.entries) {
      const bytes = Buffer.from(key, 'latin1');
      const hash = hashBytes(bytes, 0, bytes.length);
      let b = hash & this.mask;
      while (this.buckets[b * BUCKET + B_KEY_START] >= 0) b = (b + 1) & this.mask;
      const at = b * BUCKET;
      this.buckets[at + B_HASH] = hash;
      this.buckets[at + B_KEY_START] = offset;
      this.buckets[at + B_KEY_END] = offset + bytes.length;
      this.buckets[at + B_SLOT] = slot;
      this.buckets[at + B_TABLE] = table;
      keys.push(bytes);
      offset += bytes.length;
    }
    this.keys = Buffer.concat(keys, offset);
  }
}

// ByteTable bucket layout.
const B_HASH = 0;
const B_KEY_START = 1;
const B_KEY_END = 2;
const B_SLOT = 3;
const B_TABLE = 4;
const BUCKET = 5;

/** Method -> slot (and name table), and name -> slot per table. Changes are seen by the next scan. */
export class JsRouter implements Router {
  readonly methods = new ByteTable();
  readonly names: readonly [ByteTable, ByteTable, ByteTable] = [new ByteTable(), new ByteTable(), new ByteTable()];

  setMethod(method: string, slot: number, table?: NameTable): void {
    this.methods.set(routerKey(method), slot, table ?? -1);
  }

  deleteMethod(method: string): boolean {
    return this.methods.delete(routerKey(method));
  }

  setName(table: NameTable, name: string, slot: number): void {
    this.names[table].set(routerKey(name), slot, table);
  }

  deleteName(table: NameTable, name: string): boolean {
    return this.names[table].delete(routerKey(name));
  }

  clear(): void {
    this.methods.clear();
    for (const table of this.names) table.clear();
  }
}

// ---------------------------------------------------------------------------------------------------
// Bytes

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const EMPTY = Buffer.alloc(0);

/** Strings longer than this are read with memchr and word-wide checks instead of byte by byte. */
const SHORT_STRING = 48;

function isWs(b: number): boolean {
  return b === SPACE || b === LF || b === CR || b === TAB;
}

function isDigit(b: number): boolean {
  return b >= DIGIT_0 && b <= DIGIT_9;
}

/** The value of hex digit `b`, or -1. */
function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const lower = b | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** The code unit of the 4 hex digits at buf[at..at+4) (all before `end`), or -1. */
function hex4(buf: Uint8Array, at: number, end: number): number {
  if (at + 4 > end) return -1;
  const a = hexValue(buf[at]);
  const b = hexValue(buf[at + 1]);
  const c = hexValue(buf[at + 2]);
  const d = hexValue(buf[at + 3]);
  if ((a | b | c | d) < 0) return -1;
  return (a << 12) | (b << 8) | (c << 4) | d;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Spec section 4 step 2, as simdjson's first stage sees it: a backslash escapes the next byte wherever
 * it is, every other `"` opens or closes a string, and a byte below 0x20 inside a string (escaped or
 * not) is an error, as is a string still open at the end. Consulted only when walk() reports too_deep:
 * on any other outcome the walk has already met the same problem or there is none.
 */
function stage1Error(buf: Uint8Array, start: number, end: number): boolean {
  let inString = false;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b === BACKSLASH) {
      i++;
      if (inString && i < end && buf[i] < 0x20) return true;
    } else if (b === QUOTE) {
      inString = !inString;
    } else if (inString && b < 0x20) {
      return true;
    }
  }
  return inString;
}

/**
 * Reads the escape at buf[i] (a backslash) inside a string: an RFC escape, and a \uD800-\uDBFF escape
 * must be followed by a \uDC00-\uDFFF escape while a low one must not stand alone. Returns the index
 * after the escape (the pair), or -1.
 */
function escapeEnd(buf: Uint8Array, i: number, end: number): number {
  if (i + 1 >= end) return -1;
  switch (buf[i + 1]) {
    case QUOTE:
    case BACKSLASH:
    case 0x2f: // /
    case 0x62: // b
    case 0x66: // f
    case 0x6e: // n
    case 0x72: // r
    case 0x74: // t
      return i + 2;
    case 0x75: { // u
      const unit = hex4(buf, i + 2, end);
      if (unit < 0) return -1;
      if (unit >= 0xdc00 && unit <= 0xdfff) return -1; // a lone low surrogate
      if (unit < 0xd800 || unit > 0xdbff) return i + 6;
      if (i + 7 >= end || buf[i + 6] !== BACKSLASH || buf[i + 7] !== 0x75) return -1;
      const low = hex4(buf, i + 8, end);
      if (low < 0xdc00 || low > 0xdfff) return -1;
      return i + 12;
    }
    default:
      return -1;
  }
}

/** Reads the number at buf[i] per `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; end index or -1. */
function scanNumber(buf: Uint8Array, i: number, end: number): number {
  if (buf[i] === MINUS) i++;
  if (i >= end) return -1;
  if (buf[i] === DIGIT_0) {
    i++;
  } else if (isDigit(buf[i])) {
    i++;
    while (i < end && isDigit(buf[i])) i++;
  } else {
    return -1;
  }
  if (i < end && buf[i] === DOT) {
    i++;
    if (i >= end || !isDigit(buf[i])) return -1;
    while (i < end && isDigit(buf[i])) i++;
  }
  if (i < end && (buf[i] === LOWER_E || buf[i] === UPPER_E)) {
    i++;
    if (i < end && (buf[i] === PLUS || buf[i] === MINUS)) i++;
    if (i >= end || !isDigit(buf[i])) return -1;
    while (i < end && isDigit(buf[i])) i++;
  }
  return i;
}

/** A growable byte area that unescaped names are written into (UTF-8 bytes). */
class Scratch {
  bytes: Buffer = Buffer.alloc(256);
  length = 0;

  /**
   * Appends the unescaped bytes of the string content buf[start..end), which the walk has validated;
   * returns where they start. An unescaped string is never longer than its escaped form.
   */
  unescape(buf: Uint8Array, start: number, end: number): number {
    if (this.length + (end - start) > this.bytes.length) {
      const grown = Buffer.alloc(Math.max(this.bytes.length * 2, this.length + (end - start)));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    const out = this.bytes;
    const from = this.length;
    let o = from;
    let i = start;
    while (i < end) {
      const b = buf[i];
      if (b !== BACKSLASH) {
        out[o++] = b;
        i++;
        continue;
      }
      const x = buf[i + 1];
      i += 2;
      switch (x) {
        case 0x62: out[o++] = 0x08; continue; // \b
        case 0x66: out[o++] = 0x0c; continue; // \f
        case 0x6e: out[o++] = 0x0a; continue; // \n
        case 0x72: out[o++] = 0x0d; continue; // \r
        case 0x74: out[o++] = 0x09; continue; // \t
        case 0x75: break; // \uXXXX below
        default: out[o++] = x; continue; // \" \\ \/
      }
      let cp = hex4(buf, i, end);
      i += 4;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        // The walk checked that a \uDC00-\uDFFF escape follows.
        cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(buf, i + 2, end) - 0xdc00);
        i += 6;
      }
      if (cp < 0x80) {
        out[o++] = cp;
      } else if (cp < 0x800) {
        out[o++] = 0xc0 | (cp >> 6);
        out[o++] = 0x80 | (cp & 0x3f);
      } else if (cp < 0x10000) {
        out[o++] = 0xe0 | (cp >> 12);
        out[o++] = 0x80 | ((cp >> 6) & 0x3f);
        out[o++] = 0x80 | (cp & 0x3f);
      } else {
        out[o++] = 0xf0 | (cp >> 18);
        out[o++] = 0x80 | ((cp >> 12) & 0x3f);
        out[o++] = 0x80 | ((cp >> 6) & 0x3f);
        out[o++] = 0x80 | (cp & 0x3f);
      }
    }
    this.length = o;
    return from;
  }
}

// ---------------------------------------------------------------------------------------------------
// What walk() captures for the classifier

// Value types, from a value's first byte.
const T_OBJECT = 1;
const T_ARRAY = 2;
const T_STRING = 3;
const T_NUMBER = 4;
const T_LITERAL = 5; // true or false
const T_NULL = 6;

function valueType(b: number): number {
  switch (b) {
    case OPEN_BRACE: return T_OBJECT;
    case OPEN_BRACKET: return T_ARRAY;
    case QUOTE: return T_STRING;
    case 0x74: return T_LITERAL;
    case 0x66: return T_LITERAL;
    case 0x6e: return T_NULL;
    default: return T_NUMBER; // or invalid, which the walk rejects
  }
}

// Roles of the containers the walk captures from. Other containers are only validated.
const ROLE_NONE = 0;
const ROLE_MESSAGE = 1; // a message object: the top-level object or an object element of a batch
const ROLE_BATCH = 2; // the top-level array
const ROLE_PARAMS = 3; // the object value of a message's (first) "params" member
const ROLE_ERROR = 4; // the object value of a message's (first) "error" member

// Fields a capture counts, by member name (unescaped): of a message object, of its params object
// (the routed names of section 6) and of its error object (check 6).
const FIELD_JSONRPC = 0;
const FIELD_ID = 1;
const FIELD_METHOD = 2;
const FIELD_PARAMS = 3;
const FIELD_RESULT = 4;
const FIELD_ERROR = 5;
const FIELD_NAME = 6; // params "name" (tools, prompts)
const FIELD_URI = 7; // params "uri" (resources)
const FIELD_CODE = 8; // error "code"
const FIELD_MESSAGE = 9; // error "message"
const FIELD_ARGUMENTS = 10; // params "arguments"
const FIELD_META = 11; // params "_meta"
const FIELD_PARAMS_OTHER = 12; // params members that are none of the above (counted only)
const FIELD_COUNT = 13;

/** The params field each name table routes by (spec section 6). */
const TABLE_FIELDS = [FIELD_NAME, FIELD_URI, FIELD_NAME];

/** The FIELD_* of a message member name bytes[start..end), or -1. */
function messageField(b: Uint8Array, start: number, end: number): number {
  switch (end - start) {
    case 2: // id
      return b[start] === 0x69 && b[start + 1] === 0x64 ? FIELD_ID : -1;
    case 5: // error
      return b[start] === 0x65 && b[start + 1] === 0x72 && b[start + 2] === 0x72 && b[start + 3] === 0x6f && b[start + 4] === 0x72
        ? FIELD_ERROR
        : -1;
    case 6: {
      const c = b[start];
      if (c === 0x6d) { // method
        return b[start + 1] === 0x65 && b[start + 2] === 0x74 && b[start + 3] === 0x68 && b[start + 4] === 0x6f && b[start + 5] === 0x64
          ? FIELD_METHOD
          : -1;
      }
      if (c === 0x70) { // params
        return b[start + 1] === 0x61 && b[start + 2] === 0x72 && b[start + 3] === 0x61 && b[start + 4] === 0x6d && b[start + 5] === 0x73
          ? FIELD_PARAMS
          : -1;
      }
      if (c === 0x72) { // result
        return b[start + 1] === 0x65 && b[start + 2] === 0x73 && b[start + 3] === 0x75 && b[start + 4] === 0x6c && b[start + 5] === 0x74
          ? FIELD_RESULT
          : -1;
      }
      return -1;
    }
    case 7: // jsonrpc
      return b[start] === 0x6a && b[start + 1] === 0x73 && b[start + 2] === 0x6f && b[start + 3] === 0x6e &&
        b[start + 4] === 0x72 && b[start + 5] === 0x70 && b[start + 6] === 0x63
        ? FIELD_JSONRPC
        : -1;
    default:
      return -1;
  }
}

/** The FIELD_* of a params member name ("name", "uri", "arguments", "_meta"), else FIELD_PARAMS_OTHER. */
function paramsField(b: Uint8Array, start: number, end: number): number {
  switch (end - start) {
    case 4:
      return b[start] === 0x6e && b[start + 1] === 0x61 && b[start + 2] === 0x6d && b[start + 3] === 0x65 ? FIELD_NAME : FIELD_PARAMS_OTHER;
    case 3:
      return b[start] === 0x75 && b[start + 1] === 0x72 && b[start + 2] === 0x69 ? FIELD_URI : FIELD_PARAMS_OTHER;
    case 5:
      return b[start] === 0x5f && b[start + 1] === 0x6d && b[start + 2] === 0x65 && b[start + 3] === 0x74 && b[start + 4] === 0x61
        ? FIELD_META
        : FIELD_PARAMS_OTHER;
    case 9:
      return b[start] === 0x61 && b[start + 1] === 0x72 && b[start + 2] === 0x67 && b[start + 3] === 0x75 && b[start + 4] === 0x6d &&
        b[start + 5] === 0x65 && b[start + 6] === 0x6e && b[start + 7] === 0x74 && b[start + 8] === 0x73
        ? FIELD_ARGUMENTS
        : FIELD_PARAMS_OTHER;
    default:
      return FIELD_PARAMS_OTHER;
  }
}

/** The FIELD_* of an error member name ("code" or "message"), or -1. */
function errorField(b: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length === 4) {
    return b[start] === 0x63 && b[start + 1] === 0x6f && b[start + 2] === 0x64 && b[start + 3] === 0x65 ? FIELD_CODE : -1;
  }
  if (length === 7) {
    return b[start] === 0x6d && b[start + 1] === 0x65 && b[start + 2] === 0x73 && b[start + 3] === 0x73 &&
      b[start + 4] === 0x61 && b[start + 5] === 0x67 && b[start + 6] === 0x65
      ? FIELD_MESSAGE
      : -1;
  }
  return -1;
}

// A capture: one message object (stride CAP_STRIDE in `caps`). Per field, 4 ints at
// CAP_FIELDS + field * 4: how often the name occurs, then the type and span of its first value.
const CAP_OTHERS_FIRST = 0; // names of its other members: others[FIRST .. LAST) (OTHER_STRIDE each)
const CAP_OTHERS_LAST = 1;
const CAP_FIELDS = 2;
const F_COUNT = 0;
const F_TYPE = 1;
const F_START = 2;
const F_END = 3;
const CAP_STRIDE = CAP_FIELDS + FIELD_COUNT * 4;

// The name of a member that is none of the fields, for the duplicate check (stride OTHER_STRIDE).
const OTHER_START = 0; // unescaped name: input bytes, or scratch bytes when OTHER_SCRATCH is 1
const OTHER_END = 1;
const OTHER_SCRATCH = 2;
const OTHER_STRIDE = 3;

// An element of a batch (stride ELEM_STRIDE in `elems`).
const ELEM_START = 0;
const ELEM_END = 1;
const ELEM_CAP = 2; // its capture when the element is an object, else -1
const ELEM_STRIDE = 3;

function grow(table: Int32Array, needed: number): Int32Array {
  if (needed <= table.length) return table;
  const grown = new Int32Array(Math.max(table.length * 2, needed));
  grown.set(table);
  return grown;
}

// ---------------------------------------------------------------------------------------------------
// Engine

export class JsEngine implements Engine {
  private readonly router: JsRouter;
  private readonly maxMessageBytes: number;
  private readonly maxDepth: number;
  private readonly maxBatch: number;
  private readonly allowBatch: boolean;

  // Outputs of the last call.
  private out: Int32Array = new Int32Array(STRIDE * 16);
  private count = 0;
  private replyBytes = Buffer.alloc(1024);
  private replyLength = 0;
  private carriedLine: Buffer = EMPTY;
  /** Member names by key id for readArguments, kept for the engine's life. */
  private readonly keys = new KeyTable();
  /** The call's last META bytes (META_REPEATED), copied. */
  private lastMeta: Buffer | undefined;

  // Stream state (spec section 3).
  private pieces: Buffer[] = []; // the unterminated line, one copy per chunk it arrived in
  private piecesLength = 0;
  private discarding = false; // inside a too_large line: drop bytes up to the next LF
  private firstLine = true; // the next line starts the stream (BOM rule)

  // Reply tails by reason: `,"error":{"code":..,"message":".."}}`, messages filled in for these limits.
  private readonly tails: Uint8Array[];

  // The buffer being scanned: whether its lines are known to be valid UTF-8 (checked per chunk), the
  // next quote and the next backslash at or after the last place each was looked for (buffer length:
  // none; so long strings cost linear time however many escapes they hold), and an Int32Array view of
  // its aligned words for hasControlByte().
  private utf8Checked = false;
  private quoteAt = -1;
  private backslashAt = -1;
  private wordsOf: Uint8Array | null = null;
  private words: Int32Array = new Int32Array(0);
  private wordsStart = 0; // buffer index of words[0]

  // Walk state, indexed by depth (the top-level value is depth 1).
  private readonly levelIsObject: Uint8Array;
  private readonly levelRole: Uint8Array;
  private readonly levelCap: Int32Array; // the capture a MESSAGE, PARAMS or ERROR container belongs to
  private readonly levelField: Int32Array; // where the current member's value is captured (caps index), or -1
  private readonly levelFieldId: Int8Array; // FIELD_* of the current member, or -1
  private readonly levelElem: Int32Array; // the batch element being read, or -1

  // What the walk captured.
  private topType = 0;
  private caps: Int32Array = new Int32Array(CAP_STRIDE * 4);
  private capCount = 0;
  private others: Int32Array = new Int32Array(OTHER_STRIDE * 16);
  private otherCount = 0;
  private elems: Int32Array = new Int32Array(ELEM_STRIDE * 16);
  private elemCount = 0;
  private batchOverflow = false; // more than maxBatch elements (later ones are not recorded)
  private escaped = false; // set by readString(): the string had a backslash escape
  private readonly scratch = new Scratch();

  constructor(router: JsRouter, limits: EngineLimits) {
    this.router = router;
    this.maxMessageBytes = limits.maxMessageBytes;
    this.maxDepth = limits.maxDepth;
    this.maxBatch = limits.maxBatch;
    this.allowBatch = limits.allowBatch;
    this.tails = WIRE_CODES.map((code, reason) =>
      reason === R_OK ? new Uint8Array(0) : errorReplyTail(code, formatReasonMessage(reason, limits)),
    );
    this.levelIsObject = new Uint8Array(this.maxDepth + 1);
    this.levelRole = new Uint8Array(this.maxDepth + 1);
    this.levelCap = new Int32Array(this.maxDepth + 1);
    this.levelField = new Int32Array(this.maxDepth + 1);
    this.levelFieldId = new Int8Array(this.maxDepth + 1);
    this.levelElem = new Int32Array(this.maxDepth + 1);
  }

  get records(): Int32Array {
    return this.out;
  }

  carried(): Uint8Array {
    return this.carriedLine;
  }

  replies(): Uint8Array {
    return this.replyBytes.subarray(0, this.replyLength);
  }

  readArguments(source: Uint8Array): ArgumentsRead {
    return readArguments(this.out, this.count, source, this.carriedLine, this.keys);
  }

  get readsArguments(): boolean {
    return false;
  }

  idText(source: Uint8Array): string | null {
    return idText(this.out, this.count, source, this.carriedLine);
  }

  get readsIds(): boolean {
    return false;
  }

  reset(): void {
    this.startCall();
    this.resetStream();
  }

  // --- framing (spec section 3) ---------------------------------------------------------------------

  feed(chunk: Uint8Array): number {
    this.startCall();
    const buf = toBuffer(chunk);
    const length = buf.length;
    let pos = 0;
    if (length === 0) return 0;
    if (this.discarding) {
      // The rest of a too_large line, already reported.
      const lf = buf.indexOf(LF);
      if (lf < 0) return 0;
      this.discarding = false;
      this.firstLine = false;
      pos = lf + 1;
    } else if (this.piecesLength > 0) {
      // The first LF of this chunk completes the carried line; the carried bytes are not searched again.
      const lf = buf.indexOf(LF);
      const lineLength = this.piecesLength + (lf < 0 ? length : lf);
      if (lineLength > this.maxMessageBytes) {
        this.dropPieces();
        this.emitTooLarge();
        if (lf < 0) {
          this.discarding = true;
          return this.count;
        }
        this.firstLine = false;
        pos = lf + 1;
      } else if (lf < 0) {
        this.pieces.push(Buffer.from(buf)); // a copy: the caller may reuse its chunk
        this.piecesLength += length;
        return 0;
      } else {
        this.pieces.push(buf.subarray(0, lf));
        const line = Buffer.concat(this.pieces, lineLength);
        this.dropPieces();
        this.carriedLine = line;
        this.useBuffer(false);
        this.line(line, 0, line.length, F_SRC_CARRY);
        pos = lf + 1;
      }
    }
    // Whole lines of this chunk, then its unterminated tail. One UTF-8 check covers every whole line.
    const lastLf = buf.lastIndexOf(LF);
    this.useBuffer(lastLf > pos && isUtf8(buf.subarray(pos, lastLf)));
    while (pos < length) {
      const lf = buf.indexOf(LF, pos);
      const lineEnd = lf < 0 ? length : lf;
      if (lineEnd - pos > this.maxMessageBytes) {
        this.emitTooLarge();
        if (lf < 0) {
          this.discarding = true;
          break;
        }
        this.firstLine = false;
      } else if (lf < 0) {
        this.pieces.push(Buffer.from(buf.subarray(pos)));
        this.piecesLength = length - pos;
        break;
      } else {
        this.line(buf, pos, lf, 0);
      }
      pos = lineEnd + 1;
    }
    this.wordsOf = null; // no reference to the caller's chunk is kept
    return this.count;
  }

  end(): number {
    this.startCall();
    if (!this.discarding && this.piecesLength > 0) {
      const line = Buffer.concat(this.pieces, this.piecesLength);
      this.carriedLine = line;
      this.useBuffer(false);
      this.line(line, 0, line.length, F_SRC_CARRY);
    }
    this.resetStream();
    return this.count;
  }

  scan(message: Uint8Array): number {
    this.startCall();
    const buf = toBuffer(message);
    if (buf.length > this.maxMessageBytes) {
      this.emitTooLarge();
      return this.count;
    }
    let start = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    let end = buf.length;
    while (start < end && isWs(buf[start])) start++;
    while (end > start && isWs(buf[end - 1])) end--;
    this.useBuffer(false);
    // An empty or whitespace-only body is invalid JSON; its span is empty, after the whitespace.
    if (start === end) this.emitInvalid(buf, 0, start, end, R_INVALID_JSON, -1, -1);
    else this.message(buf, start, end, 0);
    this.wordsOf = null;
    return this.count;
  }

  private startCall(): void {
    this.lastMeta = undefined;
    this.count = 0;
    this.replyLength = 0;
    this.carriedLine = EMPTY;
  }

  private resetStream(): void {
    this.dropPieces();
    this.discarding = false;
    this.firstLine = true;
  }

  private dropPieces(): void {
    this.pieces = [];
    this.piecesLength = 0;
  }

  /** Starts scanning the messages of `buf`; `utf8Checked`: its whole lines are valid UTF-8. */
  private useBuffer(utf8Checked: boolean): void {
    this.utf8Checked = utf8Checked;
    this.quoteAt = -1;
    this.backslashAt = -1;
    this.wordsOf = null;
  }

  /** One complete line buf[start..end) (LF excluded, length within the limit). */
  private line(buf: Buffer, start: number, end: number, flags: number): void {
    if (this.firstLine) {
      this.firstLine = false;
      if (end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
    }
    while (start < end && isWs(buf[start])) start++;
    while (end > start && isWs(buf[end - 1])) end--;
    // A line of whitespace (or nothing) is no message.
    if (start < end) this.message(buf, start, end, flags);
  }

  // --- one message (spec section 4) -----------------------------------------------------------------

  /** One message buf[start..end), non-empty, without surrounding whitespace. */
  private message(buf: Buffer, start: number, end: number, flags: number): void {
    if (!this.utf8Checked && !isUtf8(buf.subarray(start, end))) {
      this.emitInvalid(buf, flags, start, end, R_INVALID_UTF8, -1, -1);
      return;
    }
    let reason = this.walk(buf, start, end);
    if (reason === R_TOO_DEEP && stage1Error(buf, start, end)) reason = R_INVALID_JSON;
    if (reason !== R_OK) {
      this.emitInvalid(buf, flags, start, end, reason, -1, -1);
      return;
    }
    this.classifyTop(buf, start, end, flags);
  }

  /**
   * Reads the string at buf[i] (a quote) and returns the index after its closing quote, or -1 when it
   * is not a valid string before `end` (a bad escape, an escaped lone surrogate, a byte below 0x20, no
   * closing quote). Sets this.escaped when it has a backslash escape.
   */
  private readString(buf: Buffer, i: number, end: number): number {
    let escaped = false;
    i++;
    for (;;) {
      // Byte by byte for a while: most strings are short.
      const stop = i + SHORT_STRING < end ? i + SHORT_STRING : end;
      while (i < stop) {
        const b = buf[i];
        if (b === QUOTE) {
          this.escaped = escaped;
          return i + 1;
        }
        if (b === BACKSLASH) {
          i = escapeEnd(buf, i, end);
          if (i < 0) return -1;
          escaped = true;
        } else if (b < 0x20) {
          return -1;
        } else {
          i++;
        }
      }
      if (i >= end) return -1;
      // A long string: the next quote and the next backslash by memchr, control bytes by words.
      let quote = this.quoteAt;
      if (quote < i) {
        quote = buf.indexOf(QUOTE, i);
        if (quote < 0) quote = buf.length;
        this.quoteAt = quote;
      }
      if (quote >= end) return -1;
      let backslash = this.backslashAt;
      if (backslash < i) {
        backslash = buf.indexOf(BACKSLASH, i);
        if (backslash < 0) backslash = buf.length;
        this.backslashAt = backslash;
      }
      const next = quote < backslash ? quote : backslash;
      if (this.hasControlByte(buf, i, next)) return -1;
      if (next === quote) {
        this.escaped = escaped;
        return quote + 1;
      }
      i = escapeEnd(buf, next, end);
      if (i < 0) return -1;
      escaped = true;
    }
  }

  /**
   * Whether buf[from..to) has a byte below 0x20. Four bytes at a time through an Int32Array view of the
   * buffer's aligned words: `(w - 0x20202020) & ~w & 0x80808080` is non-zero exactly when some byte of w
   * is below 0x20 (a byte of 0x80 or more has its top bit set in w, so it is cleared by ~w; a borrow
   * only runs past a byte that is itself below 0x20). Which byte of the word comes first does not matter.
   */
  private hasControlByte(buf: Buffer, from: number, to: number): boolean {
    let i = from;
    if (to - i >= 16) {
      if (this.wordsOf !== buf) this.makeWords(buf);
      const words = this.words;
      // Bytes before the first aligned word.
      const aligned = this.wordsStart + ((i - this.wordsStart + 3) & ~3);
      for (; i < aligned; i++) if (buf[i] < 0x20) return true;
      let w = (i - this.wordsStart) >> 2;
      const wordsEnd = (to - this.wordsStart) >> 2;
      for (; w + 3 < wordsEnd; w += 4) {
        const a = words[w];
        const b = words[w + 1];
        const c = words[w + 2];
        const d = words[w + 3];
        const found = (((a - 0x20202020) | 0) & ~a) | (((b - 0x20202020) | 0) & ~b) | (((c - 0x20202020) | 0) & ~c) | (((d - 0x20202020) | 0) & ~d);
        if ((found & 0x80808080) !== 0) return true;
      }
      for (; w < wordsEnd; w++) {
        const a = words[w];
        if ((((a - 0x20202020) | 0) & ~a & 0x80808080) !== 0) return true;
      }
      i = this.wordsStart + (w << 2);
    }
    for (; i < to; i++) if (buf[i] < 0x20) return true;
    return false;
  }

  private makeWords(buf: Buffer): void {
    const first = (buf.byteOffset + 3) & ~3; // in buf.buffer
    const count = Math.max(0, (buf.byteOffset + buf.length - first) >> 2);
    this.words = new Int32Array(buf.buffer, first, count);
    this.wordsStart = first - buf.byteOffset;
    this.wordsOf = buf;
  }

  /**
   * Validates buf[start..end) as RFC 8259 JSON within maxDepth, in document order (spec section 4
   * step 3), and captures for the classifier what sections 5 and 6 read from message objects, their
   * params and error objects, and the elements of a top-level array. Returns a Reason (ok,
   * invalid_json, too_deep).
   */
  private walk(buf: Buffer, start: number, end: number): number {
    const maxDepth = this.maxDepth;
    const isObject = this.levelIsObject;
    const role = this.levelRole;
    const capOf = this.levelCap;
    const fieldAt = this.levelField;
    const fieldId = this.levelFieldId;
    const elemOf = this.levelElem;
    this.capCount = 0;
    this.otherCount = 0;
    this.elemCount = 0;
    this.batchOverflow = false;
    this.scratch.length = 0;
    this.topType = valueType(buf[start]);

    let depth = 0;
    let i = start;
    // Each turn of this loop reads one value at i (whitespace already skipped), then closes the
    // containers it completes, then reads the separator and, in an object, the next member name.
    for (;;) {
      if (i >= end) return R_INVALID_JSON;
      const c = buf[i];

      // Capture where this value starts, and pick the role it has if it is a container.
      let childRole = ROLE_NONE;
      let childCap = -1;
      if (depth === 0) {
        if (c === OPEN_BRACE) {
          childRole = ROLE_MESSAGE;
          childCap = this.newCapture();
        } else if (c === OPEN_BRACKET) {
          childRole = ROLE_BATCH;
        }
      } else {
        const parentRole = role[depth];
        if (parentRole === ROLE_BATCH) {
          if (this.elemCount === this.maxBatch) {
            this.batchOverflow = true;
            elemOf[depth] = -1;
          } else {
            const e = this.elemCount++;
            if (this.elemCount * ELEM_STRIDE > this.elems.length) this.elems = grow(this.elems, this.elemCount * ELEM_STRIDE);
            const at = e * ELEM_STRIDE;
            this.elems[at + ELEM_START] = i;
            elemOf[depth] = e;
            if (c === OPEN_BRACE) {
              childRole = ROLE_MESSAGE;
              childCap = this.newCapture();
            }
            this.elems[at + ELEM_CAP] = childCap;
          }
        } else if (parentRole !== ROLE_NONE) {
          const at = fieldAt[depth];
          if (at >= 0) {
            const caps = this.caps;
            caps[at + F_TYPE] = valueType(c);
            caps[at + F_START] = i;
            if (c === OPEN_BRACE && parentRole === ROLE_MESSAGE) {
              const field = fieldId[depth];
              if (field === FIELD_PARAMS) {
                childRole = ROLE_PARAMS;
                childCap = capOf[depth];
              } else if (field === FIELD_ERROR) {
                childRole = ROLE_ERROR;
                childCap = capOf[depth];
              }
            }
          }
        }
      }

      // Read the value. Containers open here and continue at their first member or element.
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth === maxDepth) return R_TOO_DEEP;
        depth++;
        isObject[depth] = c === OPEN_BRACE ? 1 : 0;
        role[depth] = childRole;
        capOf[depth] = childCap;
        fieldAt[depth] = -1;
        i++;
        while (i < end && isWs(buf[i])) i++;
        if (i < end && buf[i] === (c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET)) {
          // An empty container: close it below like any other.
        } else if (c === OPEN_BRACE) {
          i = this.memberName(buf, i, end, depth);
          if (i < 0) return R_INVALID_JSON;
          continue;
        } else {
          continue;
        }
      } else if (c === QUOTE) {
        i = this.readString(buf, i, end);
        if (i < 0) return R_INVALID_JSON;
      } else if (c === MINUS || isDigit(c)) {
        i = scanNumber(buf, i, end);
        if (i < 0) return R_INVALID_JSON;
      } else if (c === 0x74) {
        // true
        if (i + 4 > end || buf[i + 1] !== 0x72 || buf[i + 2] !== 0x75 || buf[i + 3] !== 0x65) return R_INVALID_JSON;
        i += 4;
      } else if (c === 0x66) {
        // false
        if (i + 5 > end || buf[i + 1] !== 0x61 || buf[i + 2] !== 0x6c || buf[i + 3] !== 0x73 || buf[i + 4] !== 0x65) {
          return R_INVALID_JSON;
        }
        i += 5;
      } else if (c === 0x6e) {
        // null
        if (i + 4 > end || buf[i + 1] !== 0x75 || buf[i + 2] !== 0x6c || buf[i + 3] !== 0x6c) return R_INVALID_JSON;
        i += 4;
      } else {
        return R_INVALID_JSON;
      }

      // A value ends at i. Capture its end, then close every container this completes (an empty
      // container arrives here with i at its closing bracket).
      let closing = c === OPEN_BRACE || c === OPEN_BRACKET; // only for the empty container case
      for (;;) {
        if (closing) {
          // buf[i] closes the container at `depth`.
          i++;
          if (role[depth] === ROLE_MESSAGE) this.caps[capOf[depth] * CAP_STRIDE + CAP_OTHERS_LAST] = this.otherCount;
          depth--;
          closing = false;
        }
        // The value just read is a child of the container at `depth` (or the top-level value).
        if (depth === 0) {
          while (i < end && isWs(buf[i])) i++;
          return i === end ? R_OK : R_INVALID_JSON;
        }
        const parentRole = role[depth];
        if (parentRole === ROLE_BATCH) {
          if (elemOf[depth] >= 0) this.elems[elemOf[depth] * ELEM_STRIDE + ELEM_END] = i;
        } else if (parentRole !== ROLE_NONE && fieldAt[depth] >= 0) {
          this.caps[fieldAt[depth] + F_END] = i;
        }
        let s = buf[i];
        if (s !== COMMA && s !== CLOSE_BRACE && s !== CLOSE_BRACKET) {
          while (i < end && isWs(buf[i])) i++;
          if (i >= end) return R_INVALID_JSON;
          s = buf[i];
        } else if (i >= end) {
          return R_INVALID_JSON;
        }
        if (s === COMMA) {
          i++;
          while (i < end && isWs(buf[i])) i++;
          if (isObject[depth] === 1) {
            i = this.memberName(buf, i, end, depth);
            if (i < 0) return R_INVALID_JSON;
          }
          break; // read the next value
        }
        if (s === (isObject[depth] === 1 ? CLOSE_BRACE : CLOSE_BRACKET)) {
          closing = true;
          continue;
        }
        return R_INVALID_JSON;
      }
    }
  }

  /**
   * Reads `"name"` `:` at i (inside the object at `depth`) and, in a captured object, counts the
   * member and says where its value is captured. Returns the index of the member's value (whitespace
   * skipped), or -1 on invalid JSON.
   */
  private memberName(buf: Buffer, i: number, end: number, depth: number): number {
    if (i >= end || buf[i] !== QUOTE) return -1;
    const nameStart = i + 1;
    const after = this.readString(buf, i, end);
    if (after < 0) return -1;
    const parentRole = this.levelRole[depth];
    if (parentRole !== ROLE_NONE) {
      const nameEnd = after - 1;
      // The unescaped name: the raw bytes, or (rarely) the scratch bytes.
      let bytes: Uint8Array = buf;
      let keyStart = nameStart;
      let keyEnd = nameEnd;
      if (this.escaped) {
        keyStart = this.scratch.unescape(buf, nameStart, nameEnd);
        keyEnd = this.scratch.length;
        bytes = this.scratch.bytes;
      }
      const field =
        parentRole === ROLE_MESSAGE
          ? messageField(bytes, keyStart, keyEnd)
          : parentRole === ROLE_PARAMS
            ? paramsField(bytes, keyStart, keyEnd)
            : errorField(bytes, keyStart, keyEnd);
      if (field >= 0) {
        const at = this.levelCap[depth] * CAP_STRIDE + CAP_FIELDS + field * 4;
        const count = this.caps[at + F_COUNT]++;
        // Only the first occurrence is captured (a second one decides the outcome by its count).
        this.levelField[depth] = count === 0 ? at : -1;
        this.levelFieldId[depth] = field;
      } else {
        this.levelField[depth] = -1;
        this.levelFieldId[depth] = -1;
        if (parentRole === ROLE_MESSAGE) {
          const o = this.otherCount++;
          if (this.otherCount * OTHER_STRIDE > this.others.length) this.others = grow(this.others, this.otherCount * OTHER_STRIDE);
          const at = o * OTHER_STRIDE;
          this.others[at + OTHER_START] = keyStart;
          this.others[at + OTHER_END] = keyEnd;
          this.others[at + OTHER_SCRATCH] = this.escaped ? 1 : 0;
        }
      }
    }
    i = after;
    if (buf[i] !== COLON) {
      while (i < end && isWs(buf[i])) i++;
      if (i >= end || buf[i] !== COLON) return -1;
    } else if (i >= end) {
      return -1;
    }
    i++;
    while (i < end && isWs(buf[i])) i++;
    return i;
  }

  private newCapture(): number {
    const m = this.capCount++;
    if (this.capCount * CAP_STRIDE > this.caps.length) this.caps = grow(this.caps, this.capCount * CAP_STRIDE);
    const caps = this.caps;
    const at = m * CAP_STRIDE;
    caps[at + CAP_OTHERS_FIRST] = this.otherCount;
    caps[at + CAP_OTHERS_LAST] = this.otherCount;
    for (let f = at + CAP_FIELDS; f < at + CAP_STRIDE; f += 4) caps[f + F_COUNT] = 0;
    return m;
  }

  // --- classification (spec sections 5 and 6) -------------------------------------------------------

  private classifyTop(buf: Buffer, start: number, end: number, flags: number): void {
    if (this.topType === T_OBJECT) {
      this.classifyMessage(buf, 0, start, end, flags);
      return;
    }
    if (this.topType !== T_ARRAY) {
      this.emitInvalid(buf, flags, start, end, R_NOT_OBJECT, -1, -1);
      return;
    }
    if (!this.allowBatch) {
      this.emitInvalid(buf, flags, start, end, R_BATCH_NOT_ALLOWED, -1, -1);
    } else if (this.elemCount === 0) {
      this.emitInvalid(buf, flags, start, end, R_EMPTY_BATCH, -1, -1);
    } else if (this.batchOverflow) {
      this.emitInvalid(buf, flags, start, end, R_BATCH_TOO_LARGE, -1, -1);
    } else {
      this.emit(K_BATCH, flags, start, end, -1, -1, -1, -1, -1, -1, this.elemCount, -1, -1, -1, 0, 0);
      const elementFlags = flags | F_IN_BATCH;
      for (let e = 0; e < this.elemCount; e++) {
        const at = e * ELEM_STRIDE;
        const m = this.elems[at + ELEM_CAP];
        const elementStart = this.elems[at + ELEM_START];
        const elementEnd = this.elems[at + ELEM_END];
        if (m >= 0) this.classifyMessage(buf, m, elementStart, elementEnd, elementFlags);
        else this.emitInvalid(buf, elementFlags, elementStart, elementEnd, R_NOT_OBJECT, -1, -1);
      }
    }
  }

  /** Section 5 checks 1 to 7 on captured message `m` = buf[start..end), then section 6 routing. */
  private classifyMessage(buf: Buffer, m: number, start: number, end: number, flags: number): void {
    const caps = this.caps;
    const base = m * CAP_STRIDE + CAP_FIELDS;
    const jsonrpc = base + FIELD_JSONRPC * 4;
    const id = base + FIELD_ID * 4;
    const method = base + FIELD_METHOD * 4;
    const params = base + FIELD_PARAMS * 4;
    const result = base + FIELD_RESULT * 4;
    const error = base + FIELD_ERROR * 4;
    const idCount = caps[id + F_COUNT];
    const idType = idCount > 0 ? caps[id + F_TYPE] : 0;

    // The id an invalid record's reply reuses: the raw string or number of an id that occurs once.
    let replyIdStart = -1;
    let replyIdEnd = -1;
    if (idCount === 1 && (idType === T_STRING || idType === T_NUMBER)) {
      replyIdStart = caps[id + F_START];
      replyIdEnd = caps[id + F_END];
    }

    // 1. duplicate member names
    let reason = R_OK;
    if (this.hasDuplicateNames(buf, m)) reason = R_DUPLICATE_KEY;
    // 2. version
    else if (caps[jsonrpc + F_COUNT] === 0 || !this.isVersion(buf, caps[jsonrpc + F_TYPE], caps[jsonrpc + F_START], caps[jsonrpc + F_END])) {
      reason = R_BAD_VERSION;
    }
    // 3. id type
    else if (idCount > 0 && idType !== T_STRING && idType !== T_NUMBER && idType !== T_NULL) reason = R_BAD_ID;
    if (reason !== R_OK) {
      this.emitInvalid(buf, flags, start, end, reason, replyIdStart, replyIdEnd);
      return;
    }

    const hasMethod = caps[method + F_COUNT] > 0;
    const hasResult = caps[result + F_COUNT] > 0;
    const hasError = caps[error + F_COUNT] > 0;
    // 4. shape
    if (hasMethod && !hasResult && !hasError) {
      // 5. request or notification
      const hasParams = caps[params + F_COUNT] > 0;
      const paramsType = hasParams ? caps[params + F_TYPE] : 0;
      if (caps[method + F_TYPE] !== T_STRING) reason = R_BAD_METHOD;
      else if (hasParams && paramsType !== T_OBJECT && paramsType !== T_ARRAY) reason = R_BAD_PARAMS;
      else if (idType === T_NULL) reason = R_BAD_ID;
      if (reason !== R_OK) {
        this.emitInvalid(buf, flags, start, end, reason, replyIdStart, replyIdEnd);
        return;
      }
      // 6 (routing): method slot, then the routed name in params.
      const methodStart = caps[method + F_START] + 1;
      const methodEnd = caps[method + F_END] - 1;
      const methodEscaped = this.hasBackslash(buf, methodStart, methodEnd);
      const methods = this.router.methods;
      const route = methodEscaped ? this.findUnescaped(methods, buf, methodStart, methodEnd) : methods.find(buf, methodStart, methodEnd);
      const table = route < 0 ? -1 : methods.tableAt(route);
      let nameSlot = -1;
      let nameStart = -1;
      let nameEnd = -1;
      let nameEscaped = false;
      if (table >= 0 && paramsType === T_OBJECT) {
        // 7. the routed name field must occur at most once in params.
        const field = base + TABLE_FIELDS[table] * 4;
        const count = caps[field + F_COUNT];
        if (count > 1) {
          this.emitInvalid(buf, flags, start, end, R_DUPLICATE_KEY, replyIdStart, replyIdEnd);
          return;
        }
        if (count === 1 && caps[field + F_TYPE] === T_STRING) {
          nameStart = caps[field + F_START] + 1;
          nameEnd = caps[field + F_END] - 1;
          nameEscaped = this.hasBackslash(buf, nameStart, nameEnd);
          const names = this.router.names[table];
          nameSlot = nameEscaped ? this.slotUnescaped(names, buf, nameStart, nameEnd) : names.slot(buf, nameStart, nameEnd);
        }
      }
      let recordFlags = flags;
      if (methodEscaped) recordFlags |= F_METHOD_ESCAPED;
      if (nameEscaped) recordFlags |= F_NAME_ESCAPED;
      recordFlags |= (idCount === 0 ? IDK_NONE : idType === T_STRING ? IDK_STRING : IDK_NUMBER) << ID_SHIFT;
      this.emit(
        idCount > 0 ? K_REQUEST : K_NOTIFICATION,
        recordFlags,
        start,
        end,
        idCount > 0 ? caps[id + F_START] : -1,
        idCount > 0 ? caps[id + F_END] : -1,
        methodStart,
        methodEnd,
        hasParams ? caps[params + F_START] : -1,
        hasParams ? caps[params + F_END] : -1,
        route < 0 ? -1 : methods.slotAt(route),
        nameSlot,
        nameStart,
        nameEnd,
        0,
        0,
      );
      if (paramsType === T_OBJECT) this.spanParams(buf, base, table, nameStart >= 0);
      return;
    }
    if (hasMethod || hasResult === hasError) reason = R_BAD_SHAPE;
    // 6. responses. A response needs an id; a result needs a non-null one.
    else if (idCount === 0 || (hasResult && idType === T_NULL)) reason = R_BAD_ID;
    else if (hasError && !this.isErrorObject(buf, m)) reason = R_BAD_ERROR;
    if (reason !== R_OK) {
      this.emitInvalid(buf, flags, start, end, reason, replyIdStart, replyIdEnd);
      return;
    }
    const body = hasResult ? result : error;
    const idKind = idType === T_STRING ? IDK_STRING : idType === T_NUMBER ? IDK_NUMBER : IDK_NULL;
    this.emit(
      hasResult ? K_RESPONSE : K_ERROR_RESPONSE,
      flags | (idKind << ID_SHIFT),
      start,
      end,
      caps[id + F_START],
      caps[id + F_END],
      -1,
      -1,
      caps[body + F_START],
      caps[body + F_END],
      -1,
      -1,
      -1,
      -1,
      0,
      0,
    );
  }

  /**
   * Check 1: whether two members of message `m` have the same unescaped name. The envelope names are
   * counted as they are met; the other names are compared with each other (they cannot equal an
   * envelope name, which would have been counted as one).
   */
  private hasDuplicateNames(buf: Buffer, m: number): boolean {
    const caps = this.caps;
    const base = m * CAP_STRIDE;
    for (let f = base + CAP_FIELDS; f <= base + CAP_FIELDS + FIELD_ERROR * 4; f += 4) if (caps[f + F_COUNT] > 1) return true;
    const first = caps[base + CAP_OTHERS_FIRST];
    const last = caps[base + CAP_OTHERS_LAST];
    const count = last - first;
    if (count < 2) return false;
    const others = this.others;
    const scratch = this.scratch.bytes;
    if (count > 16) {
      const seen = new Set<string>();
      for (let k = first; k < last; k++) {
        const at = k * OTHER_STRIDE;
        const source = others[at + OTHER_SCRATCH] === 1 ? scratch : buf;
        seen.add(source.toString('latin1', others[at + OTHER_START], others[at + OTHER_END]));
      }
      return seen.size !== count;
    }
    for (let a = first; a < last; a++) {
      const at = a * OTHER_STRIDE;
      const aSource = others[at + OTHER_SCRATCH] === 1 ? scratch : buf;
      const aStart = others[at + OTHER_START];
      const length = others[at + OTHER_END] - aStart;
      for (let b = a + 1; b < last; b++) {
        const bt = b * OTHER_STRIDE;
        const bStart = others[bt + OTHER_START];
        if (others[bt + OTHER_END] - bStart !== length) continue;
        const bSource = others[bt + OTHER_SCRATCH] === 1 ? scratch : buf;
        let k = 0;
        while (k < length && aSource[aStart + k] === bSource[bStart + k]) k++;
        if (k === length) return true;
      }
    }
    return false;
  }

  /** Check 2: a string value buf[start..end) (quotes included) whose unescaped content is `2.0`. */
  private isVersion(buf: Buffer, type: number, start: number, end: number): boolean {
    if (type !== T_STRING) return false;
    if (end - start === 5 && buf[start + 1] === 0x32 && buf[start + 2] === DOT && buf[start + 3] === 0x30) return true;
    if (!this.hasBackslash(buf, start + 1, end - 1)) return false;
    const from = this.scratch.unescape(buf, start + 1, end - 1);
    const b = this.scratch.bytes;
    return this.scratch.length - from === 3 && b[from] === 0x32 && b[from + 1] === DOT && b[from + 2] === 0x30;
  }

  /**
   * Check 6 for the error member of message `m`: an object with an integer `code` (an RFC number with
   * no fraction and no exponent) and a string `message`. A `code` or `message` that occurs twice
   * fails the check (which one would a reader believe?).
   */
  private isErrorObject(buf: Buffer, m: number): boolean {
    const caps = this.caps;
    const base = m * CAP_STRIDE + CAP_FIELDS;
    if (caps[base + FIELD_ERROR * 4 + F_TYPE] !== T_OBJECT) return false;
    const code = base + FIELD_CODE * 4;
    const message = base + FIELD_MESSAGE * 4;
    if (caps[code + F_COUNT] !== 1 || caps[message + F_COUNT] !== 1) return false;
    if (caps[message + F_TYPE] !== T_STRING || caps[code + F_TYPE] !== T_NUMBER) return false;
    for (let i = caps[code + F_START]; i < caps[code + F_END]; i++) {
      const b = buf[i];
      if (b === DOT || b === LOWER_E || b === UPPER_E) return false;
    }
    return true;
  }

  private hasBackslash(buf: Buffer, start: number, end: number): boolean {
    for (let i = start; i < end; i++) if (buf[i] === BACKSLASH) return true;
    return false;
  }

  /** table.find() for the unescaped form of string content buf[start..end). */
  private findUnescaped(table: ByteTable, buf: Buffer, start: number, end: number): number {
    const from = this.scratch.unescape(buf, start, end);
    return table.find(this.scratch.bytes, from, this.scratch.length);
  }

  /** table.slot() for the unescaped form of string content buf[start..end). */
  private slotUnescaped(table: ByteTable, buf: Buffer, start: number, end: number): number {
    const from = this.scratch.unescape(buf, start, end);
    return table.slot(this.scratch.bytes, from, this.scratch.length);
  }

  // --- output -----------------------------------------------------------------------------------

  /**
   * ARGS, META and PARAMS_SPANNED of the request or notification just emitted, whose params is an
   * object (section 7): params is spanned when its members are the routed one (captured as NAME),
   * "arguments" and "_meta", none of them twice.
   */
  private spanParams(buf: Buffer, base: number, table: number, named: boolean): void {
    const caps = this.caps;
    const out = this.out;
    const at = (this.count - 1) * STRIDE;
    const args = base + FIELD_ARGUMENTS * 4;
    const meta = base + FIELD_META * 4;
    if (caps[args + F_COUNT] === 1) {
      out[at + 16] = caps[args + F_START];
      out[at + 17] = caps[args + F_END];
    }
    if (caps[meta + F_COUNT] === 1) {
      out[at + 18] = caps[meta + F_START];
      out[at + 19] = caps[meta + F_END];
      // META_REPEATED: the same bytes as the call's previous META (a copy: no chunk is kept past the call).
      const bytes = buf.subarray(caps[meta + F_START], caps[meta + F_END]);
      if (this.lastMeta !== undefined && this.lastMeta.equals(bytes)) out[at + 1] |= F_META_REPEATED;
      else this.lastMeta = Buffer.from(bytes);
    }
    if (caps[base + FIELD_PARAMS_OTHER * 4 + F_COUNT] !== 0 || caps[args + F_COUNT] > 1 || caps[meta + F_COUNT] > 1) return;
    const routed = table >= 0 && named ? TABLE_FIELDS[table] : -1;
    if (caps[base + FIELD_NAME * 4 + F_COUNT] !== 0 && routed !== FIELD_NAME) return;
    if (caps[base + FIELD_URI * 4 + F_COUNT] !== 0 && routed !== FIELD_URI) return;
    out[at + 1] |= F_PARAMS_SPANNED;
  }

  private emit(
    kind: number,
    flags: number,
    start: number,
    end: number,
    idStart: number,
    idEnd: number,
    methodStart: number,
    methodEnd: number,
    bodyStart: number,
    bodyEnd: number,
    slot: number,
    nameSlot: number,
    nameStart: number,
    nameEnd: number,
    code: number,
    reason: number,
  ): void {
    const at = this.count * STRIDE;
    if (at + STRIDE > this.out.length) this.out = grow(this.out, at + STRIDE);
    const out = this.out;
    out[at] = kind;
    out[at + 1] = flags;
    out[at + 2] = start;
    out[at + 3] = end;
    out[at + 4] = idStart;
    out[at + 5] = idEnd;
    out[at + 6] = methodStart;
    out[at + 7] = methodEnd;
    out[at + 8] = bodyStart;
    out[at + 9] = bodyEnd;
    out[at + 10] = slot;
    out[at + 11] = nameSlot;
    out[at + 12] = nameStart;
    out[at + 13] = nameEnd;
    out[at + 14] = code;
    out[at + 15] = reason;
    out[at + 16] = -1;
    out[at + 17] = -1;
    out[at + 18] = -1;
    out[at + 19] = -1;
    this.count++;
  }

  /**
   * An invalid record for buf[start..end) with its reply appended to replies(). The reply reuses the
   * raw id buf[idStart..idEnd) when idStart >= 0, else its id is null.
   */
  private emitInvalid(buf: Buffer, flags: number, start: number, end: number, reason: number, idStart: number, idEnd: number): void {
    const tail = this.tails[reason];
    const idLength = idStart >= 0 ? idEnd - idStart : REPLY_NULL_ID.length;
    const replyStart = this.replyLength;
    const replyEnd = replyStart + REPLY_HEAD.length + idLength + tail.length;
    if (replyEnd > this.replyBytes.length) {
      const grown = Buffer.alloc(Math.max(this.replyBytes.length * 2, replyEnd));
      this.replyBytes.copy(grown, 0, 0, this.replyLength);
      this.replyBytes = grown;
    }
    const replies = this.replyBytes;
    replies.set(REPLY_HEAD, replyStart);
    let at = replyStart + REPLY_HEAD.length;
    if (idStart >= 0) buf.copy(replies, at, idStart, idEnd);
    else replies.set(REPLY_NULL_ID, at);
    at += idLength;
    replies.set(tail, at);
    this.replyLength = replyEnd;
    const idKind = idStart < 0 ? IDK_NULL : buf[idStart] === QUOTE ? IDK_STRING : IDK_NUMBER;
    this.emit(
      K_INVALID,
      flags | F_BODY_IS_REPLY | (idKind << ID_SHIFT),
      start,
      end,
      idStart,
      idEnd,
      -1,
      -1,
      replyStart,
      replyEnd,
      -1,
      -1,
      -1,
      -1,
      WIRE_CODES[reason],
      reason,
    );
  }

  private emitTooLarge(): void {
    this.emitInvalid(EMPTY, 0, -1, -1, R_TOO_LARGE, -1, -1);
  }
}
