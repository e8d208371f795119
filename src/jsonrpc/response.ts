// Response writers (docs/jsonrpc-engine.md section 8): JSON-RPC response text that reuses the raw id
// token of the request as written (`"a\u0062"` stays escaped, `1.50` stays `1.50`).
//
// The writers return strings, not Buffers. A reply is a few short pieces; V8 joins them as a rope
// without copying, `JSON.stringify` escapes the message in native code, and the transport's single
// `write(reply + '\n')` encodes the whole line once, straight into the socket's buffer. A Buffer
// writer would allocate, measure and copy every piece and then the transport would copy again.
// The one byte-level writer, `errorReplyTail`, feeds the engines' replies() buffer, where bytes are
// what is needed.

/** The raw bytes of an id token, as a string or as UTF-8 bytes (a span of the input). */
export type RawId = string | Uint8Array;

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

function idText(idRaw: RawId | null): string {
  if (idRaw === null) return 'null';
  if (typeof idRaw === 'string') return idRaw;
  return decoder.decode(idRaw);
}

function checkCode(code: number): void {
  if (!Number.isSafeInteger(code)) {
    throw new RangeError(`Expected an integer for code but received ${String(code)} of type ${typeof code}`);
  }
}

/** `{"jsonrpc":"2.0","id":<idRaw>,"result":<resultJson>}`. `resultJson` must already be JSON text. */
export function writeResult(idRaw: RawId, resultJson: string): string {
  return '{"jsonrpc":"2.0","id":' + idText(idRaw) + ',"result":' + resultJson + '}';
}

/**
 * `{"jsonrpc":"2.0","id":<idRaw>,"error":{"code":<code>,"message":<message as a JSON string>[,"data":<dataJson>]}}`.
 * `idRaw` null writes `null` (errors about messages whose id could not be read). `dataJson` must
 * already be JSON text. The message is escaped like `JSON.stringify`.
 */
export function writeError(idRaw: RawId | null, code: number, message: string, dataJson?: string): string {
  checkCode(code);
  const data = dataJson === undefined ? '' : ',"data":' + dataJson;
  return (
    '{"jsonrpc":"2.0","id":' + idText(idRaw) + ',"error":{"code":' + code + ',"message":' +
    JSON.stringify(message) + data + '}}'
  );
}

/** The bytes before the id in every reply the engines write: `{"jsonrpc":"2.0","id":`. */
export const REPLY_HEAD: Uint8Array = new TextEncoder().encode('{"jsonrpc":"2.0","id":');

/** The id bytes of a reply whose id could not be reused. */
export const REPLY_NULL_ID: Uint8Array = new TextEncoder().encode('null');

/**
 * The bytes after the id in an error reply without data: `,"error":{"code":<code>,"message":"..."}}`.
 * REPLY_HEAD + id + this tail equals writeError(id, code, message).
 */
export function errorReplyTail(code: number, message: string): Uint8Array {
  checkCode(code);
  return new TextEncoder().encode(',"error":{"code":' + code + ',"message":' + JSON.stringify(message) + '}}');
}
