// Response writers (docs/jsonrpc-engine.md section 8): JSON-RPC response bytes that reuse the raw id token
// of the request as written (`"a\u0062"` stays escaped, `1.50` stays `1.50`). src/jsonrpc/response.ts
// writes the same bytes. Output is appended to a std::string; no newline (the transport frames).
#ifndef FASTERMCP_NATIVE_CORE_RESPONSE_H_
#define FASTERMCP_NATIVE_CORE_RESPONSE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/errors.h"
#include "core/limits.h"

namespace mcp::jsonrpc {

/// The raw id written when a reply cannot name the message it answers.
inline constexpr std::string_view kNullId = "null";

/// Appends `text` as a JSON string, quotes included, escaped exactly as JSON.stringify escapes a
/// well-formed string: \" \\ \b \f \n \r \t, other bytes below 0x20 as \u00xx (lowercase hex), every
/// other byte as is. Bytes that are not well-formed UTF-8 are copied as they are.
void append_json_string(std::string* out, std::string_view text);

/// `{"jsonrpc":"2.0","id":<raw_id>,"result":<result_json>}`; both arguments must already be JSON text.
void append_result_response(std::string* out, std::string_view raw_id, std::string_view result_json);

/// `{"jsonrpc":"2.0","id":<raw_id>,"error":{"code":<code>,"message":<message as a JSON string>[,"data":<data_json>]}}`.
/// An empty `data_json` writes no "data" member; otherwise it must already be JSON text.
void append_error_response(std::string* out, std::string_view raw_id, int64_t code, std::string_view message,
                           std::string_view data_json = {});

/// The engine's reply to an invalid record: an error response with the reason's wire code and its message
/// with the placeholder filled from `limits`. `raw_id` is the raw id token, or kNullId.
void append_error_reply(std::string* out, std::string_view raw_id, Reason reason, const Limits& limits);

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_RESPONSE_H_
