// Why an incoming message is rejected: reason codes (the REASON field of a record), their JSON-RPC wire
// codes and reply messages (docs/jsonrpc-engine.md section 8). src/jsonrpc/errors.ts mirrors these
// tables and a pin test compares them with the addon's `reasons` / `reasonMessages` exports.
#ifndef FASTERMCP_NATIVE_CORE_ERRORS_H_
#define FASTERMCP_NATIVE_CORE_ERRORS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/limits.h"

namespace mcp::jsonrpc {

/// JSON-RPC wire codes the engine sends.
inline constexpr int32_t kParseError = -32700;
inline constexpr int32_t kInvalidRequest = -32600;

enum class Reason : uint8_t {
  kOk = 0,                ///< a valid record
  kInvalidUtf8 = 1,       ///< -32700: the message is not valid UTF-8
  kInvalidJson = 2,       ///< -32700: the message is not RFC 8259 JSON
  kTooDeep = 3,           ///< -32700: a container opens deeper than maxDepth
  kTooLarge = 4,          ///< -32600: the message is longer than maxMessageBytes
  kNotObject = 5,         ///< -32600: a message (or batch element) that is not an object
  kDuplicateKey = 6,      ///< -32600: a top-level member name twice, or a routed name field twice in params
  kBadVersion = 7,        ///< -32600: "jsonrpc" missing, not a string, or not "2.0"
  kBadId = 8,             ///< -32600: "id" not a string or a number (or null where null is not allowed)
  kBadShape = 9,          ///< -32600: not a request, a notification or a response
  kBadMethod = 10,        ///< -32600: "method" is not a string
  kBadParams = 11,        ///< -32600: "params" is not an object or an array
  kBadError = 12,         ///< -32600: "error" lacks an integer "code" or a string "message"
  kEmptyBatch = 13,       ///< -32600: []
  kBatchNotAllowed = 14,  ///< -32600: an array while allowBatch is false
  kBatchTooLarge = 15,    ///< -32600: more than maxBatch elements
};

inline constexpr std::size_t kReasonCount = 16;

/// The reason's name as the spec and the vectors spell it ("invalid_json"); "" for a value out of range.
std::string_view reason_name(Reason reason) noexcept;

/// The reply message template with its placeholders as written ({maxDepth}, {maxMessageBytes},
/// {maxBatch}); "" for kOk and for a value out of range.
std::string_view reason_template(Reason reason) noexcept;

/// -32700, -32600, or 0 for kOk.
int32_t wire_code(Reason reason) noexcept;

/// Looks a reason up by name; false when no reason has that name.
bool reason_from_name(std::string_view name, Reason* reason) noexcept;

/// Appends the reply message for `reason` with its placeholder filled from `limits` (plain text, not
/// JSON-escaped).
void append_reason_message(std::string* out, Reason reason, const Limits& limits);

}  // namespace mcp::jsonrpc

#endif  // FASTERMCP_NATIVE_CORE_ERRORS_H_
