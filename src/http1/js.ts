// The pure-JS twin of the native HTTP/1.1 head parser (native/core/http1.cc): same rules, same fields
// (src/http1/types.ts). It works on bytes and writes offsets; it makes no strings.
import {
  CONTENT_LENGTH_TOO_BIG,
  DEFAULT_MAX_HEAD_BYTES,
  FIELD_STRIDE,
  FLAG_CHUNKED,
  FLAG_CLOSE,
  FLAG_EXPECT,
  FLAG_KEEP_ALIVE,
  FLAG_TRANSFER_ENCODING,
  FLAG_UPGRADE,
  HEAD_CONTENT_LENGTH,
  HEAD_COUNT,
  HEAD_FIELDS,
  HEAD_FIELDS_LENGTH,
  HEAD_FLAGS,
  HEAD_METHOD,
  HEAD_STATUS,
  HEAD_TARGET_END,
  HEAD_TARGET_START,
  HEAD_VERSION,
  HEADER_CONNECTION,
  HEADER_CONTENT_LENGTH,
  HEADER_EXPECT,
  HEADER_HOST,
  HEADER_TRANSFER_ENCODING,
  HEADER_UPGRADE,
  KNOWN_HEADERS,
  MAX_HEADERS,
  METHOD_OTHER,
} from './types.js';
import type { HeadParser } from './types.js';

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const COMMA = 44;

/** tchar of RFC 9110 section 5.6.2. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

/** Bytes allowed in a field value: HTAB, SP, VCHAR, obs-text. */
const VALUE_BYTE = new Uint8Array(256);
VALUE_BYTE[HTAB] = 1;
for (let c = 0x20; c <= 0xff; c++) if (c !== 0x7f) VALUE_BYTE[c] = 1;

/** Methods with an id, by their bytes (case-sensitive). */
const METHODS: readonly (readonly [number, Uint8Array])[] = ['GET', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PUT', 'PATCH'].map(
  (m, i) => [i + 1, Buffer.from(m, 'latin1')] as const,
);

/** Known header names grouped by length, as lower-case bytes. */
const KNOWN_BY_LENGTH: (readonly (readonly [number, Uint8Array])[])[] = [];
KNOWN_HEADERS.forEach((name, id) => {
  if (id === 0) return;
  (KNOWN_BY_LENGTH[name.length] ??= [] as (readonly [number, Uint8Array])[]);
  (KNOWN_BY_LENGTH[name.length] as (readonly [number, Uint8Array])[]).push([id, Buffer.from(name, 'latin1')]);
});

function equalBytes(buf: Uint8Array, start: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}

/** Case-insensitive against a lower-case name of letters and '-' ('|0x20' cannot turn a tchar into either). */
function equalLower(buf: Uint8Array, start: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if ((buf[start + i]! | 0x20) !== expected[i]) return false;
  return true;
}

function methodId(buf: Uint8Array, start: number, end: number): number {
  for (const [id, bytes] of METHODS) if (bytes.length === end - start && equalBytes(buf, start, bytes)) return id;
  return METHOD_OTHER;
}

function headerId(buf: Uint8Array, start: number, end: number): number {
  const candidates = KNOWN_BY_LENGTH[end - start];
  if (candidates !== undefined) for (const [id, bytes] of candidates) if (equalLower(buf, start, bytes)) return id;
  return 0;
}

/** Connection tokens of a value, as flags. */
function connectionFlags(buf: Uint8Array, start: number, end: number): number {
  let flags = 0;
  let i = start;
  while (i < end) {
    while (i < end && (buf[i] === SP || buf[i] === HTAB || buf[i] === COMMA)) i++;
    let j = i;
    while (j < end && buf[j] !== COMMA) j++;
    let e = j;
    while (e > i && (buf[e - 1] === SP || buf[e - 1] === HTAB)) e--;
    if (e - i === 5 && equalLower(buf, i, CLOSE)) flags |= FLAG_CLOSE;
    else if (e - i === 10 && equalLower(buf, i, KEEP_ALIVE)) flags |= FLAG_KEEP_ALIVE;
    else if (e - i === 7 && equalLower(buf, i, UPGRADE)) flags |= FLAG_UPGRADE;
    i = j;
  }
  return flags;
}

const CLOSE = Buffer.from('close');
const KEEP_ALIVE = Buffer.from('keep-alive');
const UPGRADE = Buffer.from('upgrade');
const CHUNKED = Buffer.from('chunked');
const HTTP_SLASH = Buffer.from('HTTP/');

/** True when the last transfer coding of a Transfer-Encoding value is chunked. */
function endsChunked(buf: Uint8Array, start: number, end: number): boolean {
  let e = end;
  let s = e;
  while (s > start && buf[s - 1] !== COMMA) s--;
  while (s < e && (buf[s] === SP || buf[s] === HTAB)) s++;
  while (e > s && (buf[e - 1] === SP || buf[e - 1] === HTAB)) e--;
  return e - s === 7 && equalLower(buf, s, CHUNKED);
}

const TOO_BIG = 2 ** 31 - 1;

/** Finds CR LF CR LF in buf[from, end); returns the index of its first CR, or -1. */
function blankLine(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i + 3 < end; i++) {
    // Step on LF: the byte after a line's CR.
    if (buf[i + 3] !== LF) {
      continue;
    }
    if (buf[i] === CR && buf[i + 1] === LF && buf[i + 2] === CR) return i;
  }
  return -1;
}

export class JsHeadParser implements HeadParser {
  readonly implementation = 'js' as const;
  readonly fields = new Int32Array(HEAD_FIELDS_LENGTH);
  private readonly maxHeadBytes: number;

  constructor(maxHeadBytes = DEFAULT_MAX_HEAD_BYTES) {
    this.maxHeadBytes = maxHeadBytes;
  }

  parse(buf: Uint8Array, start: number, end: number): number {
    const f = this.fields;
    const result = this.read(buf, start, end);
    f[HEAD_STATUS] = result;
    return result;
  }

  private read(buf: Uint8Array, start: number, end: number): number {
    const f = this.fields;
    let p = start;
    while (p + 1 < end && buf[p] === CR && buf[p + 1] === LF) p += 2;
    const limit = Math.min(end, start + this.maxHeadBytes);
    // With no header lines the request line's own CRLF starts the blank line: "GET / HTTP/1.0\r\n\r\n".
    const blank = blankLine(buf, p, limit);
    if (blank < 0) return end - start >= this.maxHeadBytes ? -431 : 0;
    const headEnd = blank + 4;
    // request-line
    let i = p;
    while (i < blank && TCHAR[buf[i]!] === 1) i++;
    if (i === p || buf[i] !== SP) return -400;
    f[HEAD_METHOD] = methodId(buf, p, i);
    const targetStart = ++i;
    while (i < blank && buf[i]! > SP && buf[i] !== 0x7f) i++;
    if (i === targetStart || buf[i] !== SP) return -400;
    f[HEAD_TARGET_START] = targetStart;
    f[HEAD_TARGET_END] = i;
    i++;
    // HTTP-version = "HTTP/" DIGIT "." DIGIT, then CRLF
    if (i + 10 > headEnd || !equalBytes(buf, i, HTTP_SLASH)) return -400;
    const major = buf[i + 5]! - 48;
    const minor = buf[i + 7]! - 48;
    if (major < 0 || major > 9 || buf[i + 6] !== 46 || minor < 0 || minor > 9 || buf[i + 8] !== CR || buf[i + 9] !== LF) return -400;
    if (major !== 1 || minor > 1) return -505;
    f[HEAD_VERSION] = minor;
    i += 10;
    // field lines, up to the blank line
    let count = 0;
    let flags = 0;
    let contentLength = -1;
    // The first Content-Length's digits without leading zeros: equal values have equal digits, also
    // above 2^31 - 1, where the values themselves all read CONTENT_LENGTH_TOO_BIG.
    let lengthDigits = 0;
    let lengthDigitsEnd = 0;
    let hosts = 0;
    while (i < headEnd - 2) {
      if (count === MAX_HEADERS) return -431;
      const nameStart = i;
      while (TCHAR[buf[i]!] === 1) i++;
      if (i === nameStart || buf[i] !== COLON) return -400; // includes obs-fold and space before ':'
      const nameEnd = i++;
      while (buf[i] === SP || buf[i] === HTAB) i++;
      const valueStart = i;
      while (VALUE_BYTE[buf[i]!] === 1) i++;
      if (buf[i] !== CR || buf[i + 1] !== LF) return -400;
      let valueEnd = i;
      while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
      i += 2;
      const id = headerId(buf, nameStart, nameEnd);
      const at = HEAD_FIELDS + count * FIELD_STRIDE;
      f[at] = id;
      f[at + 1] = nameStart;
      f[at + 2] = nameEnd;
      f[at + 3] = valueStart;
      f[at + 4] = valueEnd;
      count++;
      switch (id) {
        case HEADER_HOST:
          hosts++;
          break;
        case HEADER_CONTENT_LENGTH: {
          if (valueEnd === valueStart) return -400;
          let n = 0;
          let digits = valueStart;
          for (let k = valueStart; k < valueEnd; k++) {
            const d = buf[k]! - 48;
            if (d < 0 || d > 9) return -400;
            if (n === 0 && d === 0) digits = k + 1;
            n = n * 10 + d;
            if (n > TOO_BIG) n = TOO_BIG + 1; // saturate: stays "too big" whatever follows
          }
          if (digits === valueEnd) digits = valueEnd - 1; // "0", "000": keep one zero
          if (contentLength !== -1) {
            const length = valueEnd - digits;
            if (length !== lengthDigitsEnd - lengthDigits) return -400;
            for (let k = 0; k < length; k++) if (buf[digits + k] !== buf[lengthDigits + k]) return -400;
          } else {
            lengthDigits = digits;
            lengthDigitsEnd = valueEnd;
          }
          contentLength = n > TOO_BIG ? CONTENT_LENGTH_TOO_BIG : n;
          break;
        }
        case HEADER_TRANSFER_ENCODING:
          flags |= FLAG_TRANSFER_ENCODING;
          if (endsChunked(buf, valueStart, valueEnd)) flags |= FLAG_CHUNKED;
          else flags &= ~FLAG_CHUNKED;
          break;
        case HEADER_CONNECTION:
          flags |= connectionFlags(buf, valueStart, valueEnd);
          break;
        case HEADER_EXPECT:
          flags |= FLAG_EXPECT;
          break;
        case HEADER_UPGRADE:
          flags |= FLAG_UPGRADE;
          break;
      }
    }
    if ((flags & FLAG_TRANSFER_ENCODING) !== 0 && contentLength !== -1) return -400;
    if (hosts > 1 || (hosts === 0 && f[HEAD_VERSION] === 1)) return -400;
    f[HEAD_CONTENT_LENGTH] = contentLength;
    f[HEAD_FLAGS] = flags;
    f[HEAD_COUNT] = count;
    return headEnd - start;
  }
}
