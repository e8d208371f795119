// The pure-JS twin of the native JSON-RPC engine: NDJSON framing, a validating JSON scanner and the
// JSON-RPC classification, per docs/jsonrpc-engine.md (sections 3 to 7 are quoted below by number).
// It is the reference implementation: the fallback when no addon loads, the oracle of the
// differential test and the "pure JS" column of the benchmarks. It writes the same records, carried
// bytes and reply bytes as the native engine.
//
// One message goes through these steps (spec section 4):
//   isUtf8 (step 1) -> walk() validates in document order and records the members the classifier
//   needs (step 3) -> only when walk() says too_deep, stage1Error() looks for the lexical errors of
//   step 2, which simdjson would have reported first -> classifyMessage() (section 5) -> records.

import { Buffer, isUtf8 } from 'node:buffer';
import { Reason, REASON_WIRE_CODES, formatReasonMessage } from './errors.js';
import {
  FLAG_BODY_IS_REPLY,
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
}

// ---------------------------------------------------------------------------------------------------
// Router

/**
 * Router keys are the UTF-8 bytes of a name held one byte per char (latin1), so a span of the input
 * becomes a key without UTF-8 decoding and an escaped name becomes one after unescaping to bytes.
 */
function routerKey(name: string): string {
  return Buffer.from(name, 'utf8').toString('latin1');
}

interface MethodRoute {
  slot: number;
  table: number; // -1: no name table
}

/** Method -> slot (and name table), and name -> slot per table. Changes are seen by the next scan. */
export class JsRouter implements Router {
  readonly methods = new Map<string, MethodRoute>();
  readonly names: readonly [Map<string, number>, Map<string, number>, Map<string, number>] = [
    new Map(),
    new Map(),
    new Map(),
  ];

  setMethod(method: string, slot: number, table?: NameTable): void {
    this.methods.set(routerKey(method), { slot, table: table ?? -1 });
  }

  deleteMethod(method: string): boolean {
    return this.methods.delete(routerKey(method));
  }

  setName(table: NameTable, name: string, slot: number): void {
    this.names[table].set(routerKey(name), slot);
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

function bytesEqual(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
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

/** Whether the string content buf[start..end) (valid JSON) unescapes to exactly the ASCII `text`. */
function contentIs(scratch: Scratch, buf: Uint8Array, start: number, end: number, text: Uint8Array): boolean {
  if (bytesEqual(buf, start, end, text, 0, text.length)) return true;
  if (buf.indexOf(BACKSLASH, start) < 0 || buf.indexOf(BACKSLASH, start) >= end) return false;
  const at = scratch.unescape(buf, start, end);
  return bytesEqual(scratch.bytes, at, scratch.length, text, 0, text.length);
}

/** A growable byte area that unescaped names are written into (UTF-8 bytes). */
class Scratch {
  bytes: Buffer = Buffer.alloc(256);
  length = 0;

  clear(): void {
    this.length = 0;
  }

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
// What walk() records for the classifier

// Value types, from a value's first byte.
const T_OBJECT = 1;
const T_ARRAY = 2;
const T_STRING = 3;
const T_NUMBER = 4;
const T_LITERAL_TRUE = 5;
const T_LITERAL_FALSE = 6;
const T_NULL = 7;

function valueType(b: number): number {
  switch (b) {
    case OPEN_BRACE: return T_OBJECT;
    case OPEN_BRACKET: return T_ARRAY;
    case QUOTE: return T_STRING;
    case 0x74: return T_LITERAL_TRUE;
    case 0x66: return T_LITERAL_FALSE;
    case 0x6e: return T_NULL;
    default: return T_NUMBER; // or invalid, which the walk rejects
  }
}

// Roles of the containers the walk records. Other containers are only validated.
const ROLE_NONE = 0;
const ROLE_MESSAGE = 1; // a message object: the top-level object or an object element of a batch
const ROLE_BATCH = 2; // the top-level array
const ROLE_INNER = 3; // the object value of a message's "params" or "error" member

// Member names the classifier looks for, as unescaped bytes.
const NAME_OTHER = 0;
const NAME_JSONRPC = 1;
const NAME_ID = 2;
const NAME_METHOD = 3;
const NAME_PARAMS = 4;
const NAME_RESULT = 5;
const NAME_ERROR = 6;
const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
const KNOWN_NAMES = [
  ascii('jsonrpc'),
  ascii('id'),
  ascii('method'),
  ascii('params'),
  ascii('result'),
  ascii('error'),
];
const TEXT_VERSION = ascii('2.0');
const TEXT_CODE = ascii('code');
const TEXT_MESSAGE = ascii('message');
/** The params field each name table routes by (spec section 6). */
const TABLE_FIELDS = [ascii('name'), ascii('uri'), ascii('name')];

function knownName(bytes: Uint8Array, start: number, end: number): number {
  for (let n = 0; n < KNOWN_NAMES.length; n++) {
    const known = KNOWN_NAMES[n];
    if (bytesEqual(bytes, start, end, known, 0, known.length)) return n + 1;
  }
  return NAME_OTHER;
}

// A message object (stride MSG_STRIDE in `msgs`).
const MSG_FIRST = 0; // its members: mems[MSG_FIRST .. MSG_LAST)
const MSG_LAST = 1;
const MSG_PARAMS_FIRST = 2; // members of its params object: inner[.. ..), or -1
const MSG_PARAMS_LAST = 3;
const MSG_ERROR_FIRST = 4; // members of its error object: inner[.. ..), or -1
const MSG_ERROR_LAST = 5;
const MSG_STRIDE = 6;

// A member of a message object (stride MEM_STRIDE in `mems`).
const MEM_NAME_START = 0; // raw name content
const MEM_NAME_END = 1;
const MEM_KEY_START = 2; // unescaped name: input bytes when MEM_KEY_SCRATCH is 0, else scratch bytes
const MEM_KEY_END = 3;
const MEM_KEY_SCRATCH = 4;
const MEM_KNOWN = 5; // NAME_* of the unescaped name
const MEM_VALUE_START = 6;
const MEM_VALUE_END = 7;
const MEM_VALUE_TYPE = 8;
const MEM_STRIDE = 9;

// A member of a params or error object (stride INNER_STRIDE in `inner`).
const INNER_NAME_START = 0; // raw name content
const INNER_NAME_END = 1;
const INNER_NAME_ESCAPED = 2;
const INNER_VALUE_START = 3;
const INNER_VALUE_END = 4;
const INNER_VALUE_TYPE = 5;
const INNER_STRIDE = 6;

// An element of a batch (stride ELEM_STRIDE in `elems`).
const ELEM_START = 0;
const ELEM_END = 1;
const ELEM_MSG = 2; // message index when the element is an object, else -1
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
  private out: Int32Array = new Int32Array(RECORD_STRIDE * 16);
  private count = 0;
  private replyBytes = Buffer.alloc(1024);
  private replyLength = 0;
  private carriedLine: Buffer = EMPTY;

  // Stream state (spec section 3).
  private pieces: Buffer[] = []; // the unterminated line, one copy per chunk it arrived in
  private piecesLength = 0;
  private discarding = false; // inside a too_large line: drop bytes up to the next LF
  private firstLine = true; // the next line starts the stream (BOM rule)

  // Reply tails by reason: `,"error":{"code":..,"message":".."}}`, messages filled in for these limits.
  private readonly tails: Uint8Array[];

  // Walk state, indexed by depth (the top-level value is depth 1).
  private readonly levelIsObject: Uint8Array;
  private readonly levelRole: Uint8Array;
  private readonly levelEntry: Int32Array; // the member / element being read, in its table, or -1
  private readonly levelMsg: Int32Array; // the message a MESSAGE or INNER container belongs to

  // What the walk recorded.
  private topType = 0;
  private msgs: Int32Array = new Int32Array(MSG_STRIDE * 4);
  private msgCount = 0;
  private mems: Int32Array = new Int32Array(MEM_STRIDE * 16);
  private memCount = 0;
  private inner: Int32Array = new Int32Array(INNER_STRIDE * 16);
  private innerCount = 0;
  private elems: Int32Array = new Int32Array(ELEM_STRIDE * 16);
  private elemCount = 0;
  private batchOverflow = false; // more than maxBatch elements (later ones are not recorded)
  private readonly scratch = new Scratch();

  constructor(router: JsRouter, limits: EngineLimits) {
    this.router = router;
    this.maxMessageBytes = limits.maxMessageBytes;
    this.maxDepth = limits.maxDepth;
    this.maxBatch = limits.maxBatch;
    this.allowBatch = limits.allowBatch;
    this.tails = REASON_WIRE_CODES.map((code, reason) =>
      reason === Reason.ok ? new Uint8Array(0) : errorReplyTail(code, formatReasonMessage(reason, limits)),
    );
    this.levelIsObject = new Uint8Array(this.maxDepth + 1);
    this.levelRole = new Uint8Array(this.maxDepth + 1);
    this.levelEntry = new Int32Array(this.maxDepth + 1);
    this.levelMsg = new Int32Array(this.maxDepth + 1);
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
        this.line(line, 0, line.length, FLAG_SRC_CARRY);
        pos = lf + 1;
      }
    }
    // Whole lines of this chunk, then its unterminated tail.
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
    return this.count;
  }

  end(): number {
    this.startCall();
    if (!this.discarding && this.piecesLength > 0) {
      const line = Buffer.concat(this.pieces, this.piecesLength);
      this.carriedLine = line;
      this.line(line, 0, line.length, FLAG_SRC_CARRY);
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
    // An empty or whitespace-only body is invalid JSON; its span is empty, after the whitespace.
    if (start === end) this.emitInvalid(buf, 0, start, end, Reason.invalid_json, -1, -1);
    else this.message(buf, start, end, 0);
    return this.count;
  }

  private startCall(): void {
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
    if (!isUtf8(buf.subarray(start, end))) {
      this.emitInvalid(buf, flags, start, end, Reason.invalid_utf8, -1, -1);
      return;
    }
    let reason = this.walk(buf, start, end);
    if (reason === Reason.too_deep && stage1Error(buf, start, end)) reason = Reason.invalid_json;
    if (reason !== Reason.ok) {
      this.emitInvalid(buf, flags, start, end, reason, -1, -1);
      return;
    }
    this.classifyTop(buf, start, end, flags);
  }

  /**
   * Validates buf[start..end) as RFC 8259 JSON within maxDepth, in document order (spec section 4
   * step 3), and records for the classifier the members of message objects, of their params and
   * error objects, and the elements of a top-level array. Returns a Reason (ok, invalid_json, too_deep).
   */
  private walk(buf: Buffer, start: number, end: number): number {
    const maxDepth = this.maxDepth;
    const isObject = this.levelIsObject;
    const role = this.levelRole;
    const entry = this.levelEntry;
    const owner = this.levelMsg;
    this.msgCount = 0;
    this.memCount = 0;
    this.innerCount = 0;
    this.elemCount = 0;
    this.batchOverflow = false;
    this.scratch.clear();
    this.topType = valueType(buf[start]);

    let depth = 0;
    let i = start;
    // Each turn of this loop reads one value at i (whitespace already skipped), then closes the
    // containers it completes, then reads the separator and, in an object, the next member name.
    for (;;) {
      if (i >= end) return Reason.invalid_json;
      const c = buf[i];

      // Record where this value starts, and pick the role it has if it is a container.
      let childRole = ROLE_NONE;
      let childMsg = -1;
      if (depth === 0) {
        if (c === OPEN_BRACE) {
          childRole = ROLE_MESSAGE;
          childMsg = this.newMessage();
        } else if (c === OPEN_BRACKET) {
          childRole = ROLE_BATCH;
        }
      } else {
        const parentRole = role[depth];
        if (parentRole === ROLE_MESSAGE) {
          const at = entry[depth] * MEM_STRIDE;
          const mems = this.mems;
          mems[at + MEM_VALUE_START] = i;
          mems[at + MEM_VALUE_TYPE] = valueType(c);
          const known = mems[at + MEM_KNOWN];
          if (c === OPEN_BRACE && (known === NAME_PARAMS || known === NAME_ERROR)) {
            childRole = ROLE_INNER;
            childMsg = owner[depth];
            const m = childMsg * MSG_STRIDE;
            const field = known === NAME_PARAMS ? MSG_PARAMS_FIRST : MSG_ERROR_FIRST;
            this.msgs[m + field] = this.innerCount;
            this.msgs[m + field + 1] = this.innerCount;
          }
        } else if (parentRole === ROLE_BATCH) {
          if (this.elemCount === this.maxBatch) {
            this.batchOverflow = true;
            entry[depth] = -1;
          } else {
            const e = this.elemCount++;
            this.elems = grow(this.elems, this.elemCount * ELEM_STRIDE);
            this.elems[e * ELEM_STRIDE + ELEM_START] = i;
            this.elems[e * ELEM_STRIDE + ELEM_MSG] = -1;
            entry[depth] = e;
            if (c === OPEN_BRACE) {
              childRole = ROLE_MESSAGE;
              childMsg = this.newMessage();
              this.elems[e * ELEM_STRIDE + ELEM_MSG] = childMsg;
            }
          }
        } else if (parentRole === ROLE_INNER) {
          const at = entry[depth] * INNER_STRIDE;
          this.inner[at + INNER_VALUE_START] = i;
          this.inner[at + INNER_VALUE_TYPE] = valueType(c);
        }
      }

      // Read the value. Containers open here and continue at their first member or element.
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth === maxDepth) return Reason.too_deep;
        depth++;
        isObject[depth] = c === OPEN_BRACE ? 1 : 0;
        role[depth] = childRole;
        owner[depth] = childMsg;
        entry[depth] = -1;
        i++;
        while (i < end && isWs(buf[i])) i++;
        if (i < end && buf[i] === (c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET)) {
          // An empty container: close it below like any other.
        } else if (c === OPEN_BRACE) {
          i = this.memberName(buf, i, end, depth);
          if (i < 0) return Reason.invalid_json;
          continue;
        } else {
          continue;
        }
      } else if (c === QUOTE) {
        i = scanString(buf, i, end);
        if (i < 0) return Reason.invalid_json;
      } else if (c === MINUS || isDigit(c)) {
        i = scanNumber(buf, i, end);
        if (i < 0) return Reason.invalid_json;
      } else if (c === 0x74) {
        // true
        if (i + 4 > end || buf[i + 1] !== 0x72 || buf[i + 2] !== 0x75 || buf[i + 3] !== 0x65) return Reason.invalid_json;
        i += 4;
      } else if (c === 0x66) {
        // false
        if (i + 5 > end || buf[i + 1] !== 0x61 || buf[i + 2] !== 0x6c || buf[i + 3] !== 0x73 || buf[i + 4] !== 0x65) {
          return Reason.invalid_json;
        }
        i += 5;
      } else if (c === 0x6e) {
        // null
        if (i + 4 > end || buf[i + 1] !== 0x75 || buf[i + 2] !== 0x6c || buf[i + 3] !== 0x6c) return Reason.invalid_json;
        i += 4;
      } else {
        return Reason.invalid_json;
      }

      // A value ends at i. Record its end, then close every container this completes (an empty
      // container arrives here with i at its closing bracket).
      let closing = c === OPEN_BRACE || c === OPEN_BRACKET; // only for the empty container case
      for (;;) {
        if (closing) {
          // buf[i] closes the container at `depth`.
          i++;
          const closedRole = role[depth];
          if (closedRole === ROLE_MESSAGE) {
            this.msgs[owner[depth] * MSG_STRIDE + MSG_LAST] = this.memCount;
          } else if (closedRole === ROLE_INNER) {
            // MSG_*_LAST sits right after MSG_*_FIRST; find which list this container filled.
            const m = owner[depth] * MSG_STRIDE;
            const parentAt = entry[depth - 1] * MEM_STRIDE;
            const field = this.mems[parentAt + MEM_KNOWN] === NAME_PARAMS ? MSG_PARAMS_LAST : MSG_ERROR_LAST;
            this.msgs[m + field] = this.innerCount;
          }
          depth--;
          closing = false;
        }
        // The value just read is a child of the container at `depth` (or the top-level value).
        if (depth === 0) {
          while (i < end && isWs(buf[i])) i++;
          return i === end ? Reason.ok : Reason.invalid_json;
        }
        const parentRole = role[depth];
        if (parentRole === ROLE_MESSAGE) {
          this.mems[entry[depth] * MEM_STRIDE + MEM_VALUE_END] = i;
        } else if (parentRole === ROLE_BATCH) {
          if (entry[depth] >= 0) this.elems[entry[depth] * ELEM_STRIDE + ELEM_END] = i;
        } else if (parentRole === ROLE_INNER) {
          this.inner[entry[depth] * INNER_STRIDE + INNER_VALUE_END] = i;
        }
        while (i < end && isWs(buf[i])) i++;
        if (i >= end) return Reason.invalid_json;
        const s = buf[i];
        if (s === COMMA) {
          i++;
          while (i < end && isWs(buf[i])) i++;
          if (isObject[depth] === 1) {
            i = this.memberName(buf, i, end, depth);
            if (i < 0) return Reason.invalid_json;
          }
          break; // read the next value
        }
        if (s === (isObject[depth] === 1 ? CLOSE_BRACE : CLOSE_BRACKET)) {
          closing = true;
          continue;
        }
        return Reason.invalid_json;
      }
    }
  }

  /**
   * Reads `"name"` `:` at i (inside the object at `depth`) and records the member when the object is
   * recorded. Returns the index of the member's value (whitespace skipped), or -1 on invalid JSON.
   */
  private memberName(buf: Buffer, i: number, end: number, depth: number): number {
    if (i >= end || buf[i] !== QUOTE) return -1;
    const nameStart = i + 1;
    const after = scanString(buf, i, end);
    if (after < 0) return -1;
    const nameEnd = after - 1;
    const parentRole = this.levelRole[depth];
    if (parentRole === ROLE_MESSAGE) {
      const index = this.memCount++;
      this.mems = grow(this.mems, this.memCount * MEM_STRIDE);
      const at = index * MEM_STRIDE;
      const mems = this.mems;
      mems[at + MEM_NAME_START] = nameStart;
      mems[at + MEM_NAME_END] = nameEnd;
      const slash = buf.indexOf(BACKSLASH, nameStart);
      if (slash < 0 || slash >= nameEnd) {
        mems[at + MEM_KEY_START] = nameStart;
        mems[at + MEM_KEY_END] = nameEnd;
        mems[at + MEM_KEY_SCRATCH] = 0;
        mems[at + MEM_KNOWN] = knownName(buf, nameStart, nameEnd);
      } else {
        const keyStart = this.scratch.unescape(buf, nameStart, nameEnd);
        mems[at + MEM_KEY_START] = keyStart;
        mems[at + MEM_KEY_END] = this.scratch.length;
        mems[at + MEM_KEY_SCRATCH] = 1;
        mems[at + MEM_KNOWN] = knownName(this.scratch.bytes, keyStart, this.scratch.length);
      }
      mems[at + MEM_VALUE_START] = -1;
      mems[at + MEM_VALUE_END] = -1;
      this.levelEntry[depth] = index;
    } else if (parentRole === ROLE_INNER) {
      const index = this.innerCount++;
      this.inner = grow(this.inner, this.innerCount * INNER_STRIDE);
      const at = index * INNER_STRIDE;
      this.inner[at + INNER_NAME_START] = nameStart;
      this.inner[at + INNER_NAME_END] = nameEnd;
      const slash = buf.indexOf(BACKSLASH, nameStart);
      this.inner[at + INNER_NAME_ESCAPED] = slash >= 0 && slash < nameEnd ? 1 : 0;
      this.levelEntry[depth] = index;
    }
    i = after;
    while (i < end && isWs(buf[i])) i++;
    if (i >= end || buf[i] !== COLON) return -1;
    i++;
    while (i < end && isWs(buf[i])) i++;
    return i;
  }

  private newMessage(): number {
    const m = this.msgCount++;
    this.msgs = grow(this.msgs, this.msgCount * MSG_STRIDE);
    const at = m * MSG_STRIDE;
    this.msgs[at + MSG_FIRST] = this.memCount;
    this.msgs[at + MSG_LAST] = this.memCount;
    this.msgs[at + MSG_PARAMS_FIRST] = -1;
    this.msgs[at + MSG_PARAMS_LAST] = -1;
    this.msgs[at + MSG_ERROR_FIRST] = -1;
    this.msgs[at + MSG_ERROR_LAST] = -1;
    return m;
  }

  // --- classification (spec sections 5 and 6) -------------------------------------------------------

  private classifyTop(buf: Buffer, start: number, end: number, flags: number): void {
    if (this.topType === T_OBJECT) {
      this.classifyMessage(buf, 0, start, end, flags);
      return;
    }
    if (this.topType !== T_ARRAY) {
      this.emitInvalid(buf, flags, start, end, Reason.not_object, -1, -1);
      return;
    }
    if (!this.allowBatch) {
      this.emitInvalid(buf, flags, start, end, Reason.batch_not_allowed, -1, -1);
    } else if (this.elemCount === 0) {
      this.emitInvalid(buf, flags, start, end, Reason.empty_batch, -1, -1);
    } else if (this.batchOverflow) {
      this.emitInvalid(buf, flags, start, end, Reason.batch_too_large, -1, -1);
    } else {
      this.emit(KIND_BATCH, flags, start, end, -1, -1, -1, -1, -1, -1, this.elemCount, -1, -1, -1, 0, 0);
      const elementFlags = flags | FLAG_IN_BATCH;
      for (let e = 0; e < this.elemCount; e++) {
        const at = e * ELEM_STRIDE;
        const m = this.elems[at + ELEM_MSG];
        const elementStart = this.elems[at + ELEM_START];
        const elementEnd = this.elems[at + ELEM_END];
        if (m >= 0) this.classifyMessage(buf, m, elementStart, elementEnd, elementFlags);
        else this.emitInvalid(buf, elementFlags, elementStart, elementEnd, Reason.not_object, -1, -1);
      }
    }
  }

  /** Section 5 checks 1 to 7 on message object `m` = buf[start..end), then section 6 routing. */
  private classifyMessage(buf: Buffer, m: number, start: number, end: number, flags: number): void {
    const msgs = this.msgs;
    const mems = this.mems;
    const first = msgs[m * MSG_STRIDE + MSG_FIRST];
    const last = msgs[m * MSG_STRIDE + MSG_LAST];

    // Find the members the checks need; count the ids for the reply id rule.
    let jsonrpc = -1;
    let id = -1;
    let idCount = 0;
    let method = -1;
    let params = -1;
    let result = -1;
    let error = -1;
    for (let k = first; k < last; k++) {
      switch (mems[k * MEM_STRIDE + MEM_KNOWN]) {
        case NAME_JSONRPC: jsonrpc = k; break;
        case NAME_ID: id = k; idCount++; break;
        case NAME_METHOD: method = k; break;
        case NAME_PARAMS: params = k; break;
        case NAME_RESULT: result = k; break;
        case NAME_ERROR: error = k; break;
      }
    }
    // The id an invalid record's reply reuses: the raw string or number of an id that occurs once.
    let replyIdStart = -1;
    let replyIdEnd = -1;
    const idType = id >= 0 ? mems[id * MEM_STRIDE + MEM_VALUE_TYPE] : 0;
    if (idCount === 1 && (idType === T_STRING || idType === T_NUMBER)) {
      replyIdStart = mems[id * MEM_STRIDE + MEM_VALUE_START];
      replyIdEnd = mems[id * MEM_STRIDE + MEM_VALUE_END];
    }
    const reject = (reason: number): void => this.emitInvalid(buf, flags, start, end, reason, replyIdStart, replyIdEnd);

    // 1. duplicate member names
    if (this.hasDuplicateNames(buf, first, last)) return reject(Reason.duplicate_key);
    // 2. version
    if (jsonrpc < 0 || !this.stringValueIs(buf, jsonrpc, TEXT_VERSION)) return reject(Reason.bad_version);
    // 3. id type
    if (id >= 0 && idType !== T_STRING && idType !== T_NUMBER && idType !== T_NULL) return reject(Reason.bad_id);
    // 4. shape
    if (method >= 0 && result < 0 && error < 0) {
      // 5. request or notification
      if (mems[method * MEM_STRIDE + MEM_VALUE_TYPE] !== T_STRING) return reject(Reason.bad_method);
      const paramsType = params >= 0 ? mems[params * MEM_STRIDE + MEM_VALUE_TYPE] : 0;
      if (params >= 0 && paramsType !== T_OBJECT && paramsType !== T_ARRAY) return reject(Reason.bad_params);
      if (idType === T_NULL) return reject(Reason.bad_id);
      // 6 (routing): method slot, then the routed name in params.
      const methodStart = mems[method * MEM_STRIDE + MEM_VALUE_START] + 1;
      const methodEnd = mems[method * MEM_STRIDE + MEM_VALUE_END] - 1;
      const methodEscaped = this.hasBackslash(buf, methodStart, methodEnd);
      const route = this.router.methods.get(this.key(buf, methodStart, methodEnd, methodEscaped));
      let nameSlot = -1;
      let nameStart = -1;
      let nameEnd = -1;
      let nameEscaped = false;
      if (route !== undefined && route.table >= 0 && paramsType === T_OBJECT) {
        // 7. the routed name field must occur at most once in params.
        const field = TABLE_FIELDS[route.table];
        const found = this.findInner(buf, msgs[m * MSG_STRIDE + MSG_PARAMS_FIRST], msgs[m * MSG_STRIDE + MSG_PARAMS_LAST], field);
        if (found === -2) return reject(Reason.duplicate_key);
        if (found >= 0 && this.inner[found * INNER_STRIDE + INNER_VALUE_TYPE] === T_STRING) {
          nameStart = this.inner[found * INNER_STRIDE + INNER_VALUE_START] + 1;
          nameEnd = this.inner[found * INNER_STRIDE + INNER_VALUE_END] - 1;
          nameEscaped = this.hasBackslash(buf, nameStart, nameEnd);
          nameSlot = this.router.names[route.table].get(this.key(buf, nameStart, nameEnd, nameEscaped)) ?? -1;
        }
      }
      let recordFlags = flags;
      if (methodEscaped) recordFlags |= FLAG_METHOD_ESCAPED;
      if (nameEscaped) recordFlags |= FLAG_NAME_ESCAPED;
      const idStart = id >= 0 ? mems[id * MEM_STRIDE + MEM_VALUE_START] : -1;
      const idEnd = id >= 0 ? mems[id * MEM_STRIDE + MEM_VALUE_END] : -1;
      recordFlags |= (id < 0 ? ID_NONE : idType === T_STRING ? ID_STRING : ID_NUMBER) << ID_KIND_SHIFT;
      this.emit(
        id >= 0 ? KIND_REQUEST : KIND_NOTIFICATION,
        recordFlags,
        start,
        end,
        idStart,
        idEnd,
        methodStart,
        methodEnd,
        params >= 0 ? mems[params * MEM_STRIDE + MEM_VALUE_START] : -1,
        params >= 0 ? mems[params * MEM_STRIDE + MEM_VALUE_END] : -1,
        route === undefined ? -1 : route.slot,
        nameSlot,
        nameStart,
        nameEnd,
        0,
        0,
      );
      return;
    }
    if (method >= 0 || (result >= 0) === (error >= 0)) return reject(Reason.bad_shape);

    // 6. responses. A response needs an id; a result needs a non-null one.
    if (id < 0 || (result >= 0 && idType === T_NULL)) return reject(Reason.bad_id);
    if (error >= 0 && !this.isErrorObject(buf, m, error)) return reject(Reason.bad_error);
    const body = result >= 0 ? result : error;
    const idKind = idType === T_STRING ? ID_STRING : idType === T_NUMBER ? ID_NUMBER : ID_NULL;
    this.emit(
      result >= 0 ? KIND_RESPONSE : KIND_ERROR_RESPONSE,
      flags | (idKind << ID_KIND_SHIFT),
      start,
      end,
      mems[id * MEM_STRIDE + MEM_VALUE_START],
      mems[id * MEM_STRIDE + MEM_VALUE_END],
      -1,
      -1,
      mems[body * MEM_STRIDE + MEM_VALUE_START],
      mems[body * MEM_STRIDE + MEM_VALUE_END],
      -1,
      -1,
      -1,
      -1,
      0,
      0,
    );
  }

  /** Whether two members of mems[first..last) have the same unescaped name. */
  private hasDuplicateNames(buf: Buffer, first: number, last: number): boolean {
    const mems = this.mems;
    const scratch = this.scratch.bytes;
    const count = last - first;
    if (count > 16) {
      const seen = new Set<string>();
      for (let k = first; k < last; k++) {
        const at = k * MEM_STRIDE;
        const source = mems[at + MEM_KEY_SCRATCH] === 1 ? scratch : buf;
        seen.add(source.toString('latin1', mems[at + MEM_KEY_START], mems[at + MEM_KEY_END]));
      }
      return seen.size !== count;
    }
    for (let a = first; a < last; a++) {
      const at = a * MEM_STRIDE;
      const aSource = mems[at + MEM_KEY_SCRATCH] === 1 ? scratch : buf;
      for (let b = a + 1; b < last; b++) {
        const bt = b * MEM_STRIDE;
        const bSource = mems[bt + MEM_KEY_SCRATCH] === 1 ? scratch : buf;
        if (
          bytesEqual(aSource, mems[at + MEM_KEY_START], mems[at + MEM_KEY_END], bSource, mems[bt + MEM_KEY_START], mems[bt + MEM_KEY_END])
        ) {
          return true;
        }
      }
    }
    return false;
  }

  /** Whether message member `k` is a string whose unescaped content is `text`. */
  private stringValueIs(buf: Buffer, k: number, text: Uint8Array): boolean {
    const at = k * MEM_STRIDE;
    if (this.mems[at + MEM_VALUE_TYPE] !== T_STRING) return false;
    return contentIs(this.scratch, buf, this.mems[at + MEM_VALUE_START] + 1, this.mems[at + MEM_VALUE_END] - 1, text);
  }

  /**
   * The member of inner[first..last) named `name` (unescaped): its index, -1 when absent, -2 when it
   * occurs more than once.
   */
  private findInner(buf: Buffer, first: number, last: number, name: Uint8Array): number {
    let found = -1;
    for (let k = first; k < last; k++) {
      const at = k * INNER_STRIDE;
      const nameStart = this.inner[at + INNER_NAME_START];
      const nameEnd = this.inner[at + INNER_NAME_END];
      const matches =
        this.inner[at + INNER_NAME_ESCAPED] === 1
          ? contentIs(this.scratch, buf, nameStart, nameEnd, name)
          : bytesEqual(buf, nameStart, nameEnd, name, 0, name.length);
      if (!matches) continue;
      if (found >= 0) return -2;
      found = k;
    }
    return found;
  }

  /**
   * Check 6 for `error` member `k` of message `m`: an object with an integer `code` (an RFC number with
   * no fraction and no exponent) and a string `message`. A `code` or `message` that occurs twice
   * fails the check (which one would a reader believe?).
   */
  private isErrorObject(buf: Buffer, m: number, k: number): boolean {
    if (this.mems[k * MEM_STRIDE + MEM_VALUE_TYPE] !== T_OBJECT) return false;
    const first = this.msgs[m * MSG_STRIDE + MSG_ERROR_FIRST];
    const last = this.msgs[m * MSG_STRIDE + MSG_ERROR_LAST];
    const code = this.findInner(buf, first, last, TEXT_CODE);
    const message = this.findInner(buf, first, last, TEXT_MESSAGE);
    if (code < 0 || message < 0) return false;
    if (this.inner[message * INNER_STRIDE + INNER_VALUE_TYPE] !== T_STRING) return false;
    if (this.inner[code * INNER_STRIDE + INNER_VALUE_TYPE] !== T_NUMBER) return false;
    for (let i = this.inner[code * INNER_STRIDE + INNER_VALUE_START]; i < this.inner[code * INNER_STRIDE + INNER_VALUE_END]; i++) {
      const b = buf[i];
      if (b === DOT || b === LOWER_E || b === UPPER_E) return false;
    }
    return true;
  }

  private hasBackslash(buf: Buffer, start: number, end: number): boolean {
    const at = buf.indexOf(BACKSLASH, start);
    return at >= 0 && at < end;
  }

  /** The router key (unescaped UTF-8 bytes as latin1) of string content buf[start..end). */
  private key(buf: Buffer, start: number, end: number, escaped: boolean): string {
    if (!escaped) return buf.toString('latin1', start, end);
    const from = this.scratch.unescape(buf, start, end);
    return this.scratch.bytes.toString('latin1', from, this.scratch.length);
  }

  // --- output -----------------------------------------------------------------------------------

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
    const at = this.count * RECORD_STRIDE;
    if (at + RECORD_STRIDE > this.out.length) this.out = grow(this.out, at + RECORD_STRIDE);
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
    const idKind = idStart < 0 ? ID_NULL : buf[idStart] === QUOTE ? ID_STRING : ID_NUMBER;
    const code = REASON_WIRE_CODES[reason];
    this.emit(
      KIND_INVALID,
      flags | FLAG_BODY_IS_REPLY | (idKind << ID_KIND_SHIFT),
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
      code,
      reason,
    );
  }

  private emitTooLarge(): void {
    this.emitInvalid(EMPTY, 0, -1, -1, Reason.too_large, -1, -1);
  }
}

// ---------------------------------------------------------------------------------------------------
// Tokens

/**
 * Reads the string token at buf[i] (a quote): escapes must be RFC escapes, a \uD800-\uDBFF escape must
 * be followed by a \uDC00-\uDFFF escape and a low one must not stand alone, and no byte is below 0x20.
 * Returns the index after the closing quote, or -1.
 */
function scanString(buf: Uint8Array, i: number, end: number): number {
  i++;
  while (i < end) {
    const b = buf[i];
    if (b === QUOTE) return i + 1;
    if (b < 0x20) return -1;
    if (b !== BACKSLASH) {
      i++;
      continue;
    }
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
        i += 2;
        continue;
      case 0x75: { // u
        const unit = hex4(buf, i + 2, end);
        if (unit < 0) return -1;
        if (unit >= 0xdc00 && unit <= 0xdfff) return -1; // a lone low surrogate
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (i + 7 >= end || buf[i + 6] !== BACKSLASH || buf[i + 7] !== 0x75) return -1;
          const low = hex4(buf, i + 8, end);
          if (low < 0xdc00 || low > 0xdfff) return -1;
          i += 12;
        } else {
          i += 6;
        }
        continue;
      }
      default:
        return -1;
    }
  }
  return -1;
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
