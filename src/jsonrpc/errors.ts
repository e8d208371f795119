// Reasons an incoming message is rejected, their JSON-RPC wire codes and reply messages
// (docs/jsonrpc-engine.md section 8). Mirrors native/core/errors.h; test/unit/errors-pin.test.ts checks
// that the addon's `reasons` and `reasonMessages` equal these tables.

/** Reason codes, the REASON field of a record. */
export const Reason = {
  ok: 0,
  invalid_utf8: 1, ///< -32700: not valid UTF-8
  invalid_json: 2, ///< -32700: not RFC 8259 JSON
  too_deep: 3, ///< -32700: nests deeper than maxDepth
  too_large: 4, ///< -32600: longer than maxMessageBytes
  not_object: 5, ///< -32600: a message (or batch element) that is not an object
  duplicate_key: 6, ///< -32600: a top-level member name twice, or a routed name field twice in params
  bad_version: 7, ///< -32600: "jsonrpc" is not "2.0"
  bad_id: 8, ///< -32600: "id" is not a string or a number (or null where null is not allowed)
  bad_shape: 9, ///< -32600: not a request, notification or response
  bad_method: 10, ///< -32600: "method" is not a string
  bad_params: 11, ///< -32600: "params" is not an object or an array
  bad_error: 12, ///< -32600: "error" lacks an integer "code" or a string "message"
  empty_batch: 13, ///< -32600: []
  batch_not_allowed: 14, ///< -32600: an array while allowBatch is false
  batch_too_large: 15, ///< -32600: more than maxBatch elements
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];
export type ReasonName = keyof typeof Reason;

/** Reason names by code. */
export const REASON_NAMES: readonly ReasonName[] = [
  'ok',
  'invalid_utf8',
  'invalid_json',
  'too_deep',
  'too_large',
  'not_object',
  'duplicate_key',
  'bad_version',
  'bad_id',
  'bad_shape',
  'bad_method',
  'bad_params',
  'bad_error',
  'empty_batch',
  'batch_not_allowed',
  'batch_too_large',
];

/** JSON-RPC wire codes. */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;

/** Wire code by reason code. */
export const REASON_WIRE_CODES: readonly number[] = [
  0,
  PARSE_ERROR,
  PARSE_ERROR,
  PARSE_ERROR,
  INVALID_REQUEST,
  INVALID_REQUEST,
  INVALID_REQUEST,
  INVALID_REQUEST,
  INVALID_REQUEST,
  INVALID_REQUEST,
  INVALID_REQUEST,
  INVALID_REQUEST,
  INVALID_REQUEST,
  INVALID_REQUEST,
  INVALID_REQUEST,
  INVALID_REQUEST,
];

/** Message templates by reason code; placeholders as written in the spec. */
export const REASON_MESSAGES: readonly string[] = [
  '',
  'Parse error: message is not valid UTF-8',
  'Parse error: message is not valid JSON',
  'Parse error: message nests deeper than {maxDepth} levels',
  'Invalid Request: message exceeds {maxMessageBytes} bytes',
  'Invalid Request: a JSON-RPC message must be an object',
  'Invalid Request: duplicate member name',
  'Invalid Request: "jsonrpc" must be "2.0"',
  'Invalid Request: "id" must be a string or a number',
  'Invalid Request: expected "method", or exactly one of "result" and "error"',
  'Invalid Request: "method" must be a string',
  'Invalid Request: "params" must be an object or an array',
  'Invalid Request: "error" must be an object with an integer "code" and a string "message"',
  'Invalid Request: empty batch',
  'Invalid Request: batches are not supported',
  'Invalid Request: batch exceeds {maxBatch} messages',
];

/** The limits a message template can mention. */
export interface ReasonLimits {
  maxMessageBytes: number;
  maxDepth: number;
  maxBatch: number;
}

/** The reply message for `reason` under `limits`, placeholders filled in. */
export function formatReasonMessage(reason: number, limits: ReasonLimits): string {
  const template = REASON_MESSAGES[reason];
  if (template === undefined || reason === Reason.ok) {
    throw new RangeError(`Expected a reason code from 1 to ${REASON_MESSAGES.length - 1} but received ${reason}`);
  }
  return template
    .replace('{maxMessageBytes}', String(limits.maxMessageBytes))
    .replace('{maxDepth}', String(limits.maxDepth))
    .replace('{maxBatch}', String(limits.maxBatch));
}
