// HTTP/1.1 request heads (RFC 9112), read for the Streamable HTTP fast lane (src/transport/http-lane.ts).
// A parser reads one head from a byte range and describes it in a shared Int32Array of offsets: no
// strings and no objects per request. The fast lane answers only the heads it fully understands and
// hands everything else, refusals included, to node:http, so a refusal here is only a reason to hand off;
// what it must never do is accept a head that could be read two ways (request smuggling).
//
// Layout of `fields` after parse() (offsets are absolute positions in the buffer passed in):
//   [HEAD_STATUS]          > 0: length of the head in bytes, through its blank line (leading empty lines
//                          included); 0: incomplete (no blank line yet, and under maxHeadBytes);
//                          < 0: -(HTTP status) of a refusal: -400 malformed, -431 too large, -505 version
//   [HEAD_METHOD]          METHOD_* (methods are case-sensitive: "get" is METHOD_OTHER)
//   [HEAD_TARGET_START/END] the request-target
//   [HEAD_VERSION]         minor version of HTTP/1.x (0 or 1)
//   [HEAD_CONTENT_LENGTH]  -1 absent, else its value; CONTENT_LENGTH_TOO_BIG above 2^31 - 1
//   [HEAD_FLAGS]           FLAG_* below
//   [HEAD_COUNT]           number of header lines; then, from HEAD_FIELDS, FIELD_STRIDE ints per line:
//                          known-header id (HEADER_*; 0 other), name start, name end, value start, value end
//                          (the value without its surrounding spaces and tabs)
// When the status is not > 0 the other fields are unspecified.

export const HEAD_STATUS = 0;
export const HEAD_METHOD = 1;
export const HEAD_TARGET_START = 2;
export const HEAD_TARGET_END = 3;
export const HEAD_VERSION = 4;
export const HEAD_CONTENT_LENGTH = 5;
export const HEAD_FLAGS = 6;
export const HEAD_COUNT = 7;
export const HEAD_FIELDS = 8;
export const FIELD_STRIDE = 5;

/** Most header lines in a head; more is -431 (node:http's default limit is 2000; nothing real sends 100). */
export const MAX_HEADERS = 100;
/** Length of `fields`. */
export const HEAD_FIELDS_LENGTH = HEAD_FIELDS + MAX_HEADERS * FIELD_STRIDE;
/** Default largest head in bytes, as node:http's --max-http-header-size. */
export const DEFAULT_MAX_HEAD_BYTES = 16 * 1024;
/** HEAD_CONTENT_LENGTH of a Content-Length above 2^31 - 1. */
export const CONTENT_LENGTH_TOO_BIG = -2;

export const METHOD_OTHER = 0;
export const METHOD_GET = 1;
export const METHOD_POST = 2;
export const METHOD_DELETE = 3;
export const METHOD_HEAD = 4;
export const METHOD_OPTIONS = 5;
export const METHOD_PUT = 6;
export const METHOD_PATCH = 7;

/** Transfer-Encoding is present (with Content-Length too, the head is refused: -400). */
export const FLAG_TRANSFER_ENCODING = 1;
/** The last transfer coding is chunked. */
export const FLAG_CHUNKED = 2;
/** Connection lists "close". */
export const FLAG_CLOSE = 4;
/** Connection lists "keep-alive". */
export const FLAG_KEEP_ALIVE = 8;
/** Connection lists "upgrade", or an Upgrade header is present. */
export const FLAG_UPGRADE = 16;
/** An Expect header is present. */
export const FLAG_EXPECT = 32;

/** Known header names (matched case-insensitively), in the order of KNOWN_HEADERS. */
export const HEADER_OTHER = 0;
export const HEADER_HOST = 1;
export const HEADER_CONTENT_TYPE = 2;
export const HEADER_CONTENT_LENGTH = 3;
export const HEADER_TRANSFER_ENCODING = 4;
export const HEADER_CONNECTION = 5;
export const HEADER_ACCEPT = 6;
export const HEADER_ORIGIN = 7;
export const HEADER_AUTHORIZATION = 8;
export const HEADER_MCP_SESSION_ID = 9;
export const HEADER_MCP_PROTOCOL_VERSION = 10;
export const HEADER_MCP_METHOD = 11;
export const HEADER_MCP_NAME = 12;
export const HEADER_LAST_EVENT_ID = 13;
export const HEADER_EXPECT = 14;
export const HEADER_UPGRADE = 15;

/** Lower-case names of the known headers; index = HEADER_* id (0 is unused). */
export const KNOWN_HEADERS: readonly string[] = [
  '',
  'host',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'accept',
  'origin',
  'authorization',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
  'expect',
  'upgrade',
];

/**
 * The rules, beyond the grammar of RFC 9112 (request-line = method SP request-target SP HTTP-version;
 * field-line = field-name ":" OWS field-value OWS; lines end in CRLF, a bare CR or LF is malformed):
 * - leading empty lines (CRLF) before the request line are skipped (RFC 9112 section 2.2);
 * - method: 1*tchar; request-target: 1*(VCHAR / obs-text); version HTTP/1.0 or HTTP/1.1, another
 *   well-formed HTTP/d.d is -505;
 * - field-name: 1*tchar directly followed by ":" (whitespace before the colon is -400); a line starting
 *   with SP or HTAB (obs-fold) is -400; field-value bytes: HTAB, SP, VCHAR, obs-text (0x80-0xFF);
 * - Content-Length: 1*DIGIT; repeated lines must have equal values; a list ("1, 1") is -400;
 * - Transfer-Encoding together with Content-Length is -400;
 * - Host: exactly one in HTTP/1.1 (none or several: -400), at most one in HTTP/1.0;
 * - more than MAX_HEADERS lines, or no blank line within maxHeadBytes, is -431.
 */
export interface HeadParser {
  readonly implementation: 'native' | 'js';
  /** The description of the last parse (layout above); one array, reused. */
  readonly fields: Int32Array;
  /** Parses the head starting at buf[start], reading no further than buf[end - 1]; returns fields[HEAD_STATUS]. */
  parse(buf: Uint8Array, start: number, end: number): number;
}

export interface HeadParserOptions {
  /** Largest head in bytes (default DEFAULT_MAX_HEAD_BYTES). */
  maxHeadBytes?: number;
  /** 'auto' (default): native when the addon loads, else js. */
  implementation?: 'native' | 'js' | 'auto';
}
